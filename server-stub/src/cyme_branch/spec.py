"""The contract, loaded once: routes and request validators from openapi.yaml.

Everything the branch knows about its URLs comes from the spec: a path that
is not in ``openapi.yaml`` cannot be routed, and a handler is bound to an
``operationId``, not to a URL (as connexion does).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

HTTP_METHODS = ("get", "put", "post", "delete", "patch", "head", "options", "trace")
FORM = "application/x-www-form-urlencoded"
JSON = "application/json"


@dataclass(frozen=True)
class Param:
    """A path or query parameter of an operation."""

    name: str
    location: str
    required: bool
    schema: dict[str, Any]
    # True for parameters declared with `content: application/json`: their
    # value is JSON text (`?extra_config={"a":1}`).
    json_text: bool


@dataclass(frozen=True)
class Operation:
    operation_id: str
    method: str
    template: str
    params: tuple[Param, ...]
    body_schema: dict[str, Any] | None
    # Body fields sent as JSON text in a form body (the spec's `encoding`).
    form_json_fields: frozenset[str] = frozenset()
    # `security: []`: answered without a token.
    public: bool = False

    def takes(self, location: str, name: str) -> bool:
        """Whether the operation declares this parameter."""
        return any(p.location == location and p.name == name for p in self.params)

    @property
    def body_fields(self) -> frozenset[str]:
        if self.body_schema is None:
            return frozenset()
        return frozenset(self.body_schema.get("properties", {}))


@dataclass
class Route:
    """One path of the spec: its segments (None for a template) and methods."""

    template: str
    segments: tuple[str | None, ...]
    names: tuple[str, ...]
    operations: dict[str, Operation] = field(default_factory=dict)

    def match(self, parts: list[str]) -> bool:
        if len(parts) != len(self.segments):
            return False
        return all(
            seg is None or seg == part for seg, part in zip(self.segments, parts, strict=True)
        )

    def values(self, parts: list[str]) -> dict[str, str]:
        """The path parameters of a matching path, by name."""
        slots = [part for seg, part in zip(self.segments, parts, strict=True) if seg is None]
        return dict(zip(self.names, slots, strict=True))

    @property
    def allowed(self) -> list[str]:
        methods = set(self.operations)
        if "GET" in methods:
            methods.add("HEAD")
        return sorted(methods)


class Spec:
    """The parsed spec with every `$ref` resolved."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.document: dict[str, Any] = yaml.safe_load(text)
        self.routes: list[Route] = []
        by_length: dict[int, list[Route]] = {}
        for template, item in self.document["paths"].items():
            route = self._route(template, item)
            self.routes.append(route)
            by_length.setdefault(len(route.segments), []).append(route)
        # Literal segments win over templates, leftmost first: `/ping` is
        # tried before `/{app}`, `/branches/{branch}` before `/{app}/queues`.
        for routes in by_length.values():
            routes.sort(key=lambda r: tuple(seg is None for seg in r.segments))
        self._by_length = by_length

    @classmethod
    def load(cls, path: Path | None = None) -> Spec:
        if path is not None:
            return cls(path.read_text(encoding="utf-8"))
        ref = resources.files("cyme_branch").joinpath("openapi.yaml")
        return cls(ref.read_text(encoding="utf-8"))

    @property
    def operations(self) -> dict[str, Operation]:
        return {op.operation_id: op for route in self.routes for op in route.operations.values()}

    def schema(self, name: str) -> dict[str, Any]:
        """A component schema, resolved."""
        resolved: dict[str, Any] = self.resolve(self.document["components"]["schemas"][name])
        return resolved

    def html_operations(self) -> set[str]:
        """The operationIds that answer an HTML page (a `text/html` response)."""
        found = set()
        for item in self.document["paths"].values():
            for method in HTTP_METHODS:
                if method in item:
                    responses = self.resolve(item[method].get("responses", {}))
                    if any("text/html" in (r.get("content") or {}) for r in responses.values()):
                        found.add(item[method]["operationId"])
        return found

    def conditional_operations(self) -> set[str]:
        """The operationIds that answer 304 to `If-None-Match` (etags.py)."""
        found = set()
        for item in self.document["paths"].values():
            for method in HTTP_METHODS:
                if method in item and "304" in item[method].get("responses", {}):
                    found.add(item[method]["operationId"])
        return found

    def find(self, parts: list[str]) -> Route | None:
        for route in self._by_length.get(len(parts), ()):
            if route.match(parts):
                return route
        return None

    def resolve(self, node: Any) -> Any:
        """Return `node` with every local `$ref` replaced by its target."""
        if isinstance(node, list):
            return [self.resolve(item) for item in node]
        if not isinstance(node, dict):
            return node
        if "$ref" in node:
            target = self._pointer(node["$ref"])
            merged = {k: v for k, v in node.items() if k != "$ref"}
            resolved = self.resolve(target)
            if merged and isinstance(resolved, dict):
                # OpenAPI 3.1 allows siblings of $ref (a description); keep
                # the target's keywords and let the siblings annotate it.
                return {**resolved, **self.resolve(merged)}
            return resolved
        return {key: self.resolve(value) for key, value in node.items()}

    def _pointer(self, ref: str) -> Any:
        if not ref.startswith("#/"):
            raise ValueError(f"only local references are supported: {ref}")
        node: Any = self.document
        for token in ref[2:].split("/"):
            node = node[token.replace("~1", "/").replace("~0", "~")]
        return copy.deepcopy(node)

    def _route(self, template: str, item: dict[str, Any]) -> Route:
        parts = [p for p in template.strip("/").split("/") if p]
        segments = tuple(None if p.startswith("{") else p for p in parts)
        names = tuple(p[1:-1] for p in parts if p.startswith("{"))
        route = Route(template, segments, names)
        shared = self.resolve(item.get("parameters", []))
        for method in HTTP_METHODS:
            if method not in item:
                continue
            raw = item[method]
            params = {(p["name"], p["in"]): p for p in shared}
            own = self.resolve(raw.get("parameters", []))
            params.update({(p["name"], p["in"]): p for p in own})
            body_schema = None
            form_json: frozenset[str] = frozenset()
            if "requestBody" in raw:
                content = self.resolve(raw["requestBody"])["content"]
                body_schema = content[JSON]["schema"]
                encoding = content.get(FORM, {}).get("encoding", {})
                form_json = frozenset(
                    name for name, enc in encoding.items() if enc.get("contentType") == JSON
                )
            route.operations[method.upper()] = Operation(
                operation_id=raw["operationId"],
                method=method.upper(),
                template=template,
                params=tuple(_param(p) for p in params.values()),
                body_schema=body_schema,
                form_json_fields=form_json,
                public=raw.get("security") == [],
            )
        return route


def _param(raw: dict[str, Any]) -> Param:
    if "content" in raw:
        return Param(
            raw["name"],
            raw["in"],
            raw.get("required", False),
            raw["content"][JSON]["schema"],
            json_text=True,
        )
    return Param(raw["name"], raw["in"], raw.get("required", False), raw["schema"], json_text=False)
