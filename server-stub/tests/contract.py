"""Helpers shared by the tests: the contract validator and assertions.

`ContractValidator` checks every response against `openapi.yaml` with the
`jsonschema` library, which neither the branch (jsonschema-rs) nor
schemathesis uses, so a bug in the branch's own validation cannot hide itself.

The branches themselves are `cyme_branch.testing.LiveBranch` processes.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote

import httpx
import yaml
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

SPEC_PATH = Path(__file__).resolve().parents[2] / "openapi.yaml"
SPEC_URI = "urn:cyme:openapi"
HTTP_METHODS = ("get", "put", "post", "delete", "patch", "head", "options", "trace")


def load_spec() -> dict[str, Any]:
    return yaml.safe_load(SPEC_PATH.read_text(encoding="utf-8"))


def _pointer_token(token: str) -> str:
    return token.replace("~", "~0").replace("/", "~1")


@dataclass(frozen=True)
class Route:
    template: str
    segments: tuple[str, ...]
    item: dict[str, Any]

    @property
    def methods(self) -> set[str]:
        return {m.upper() for m in self.item if m in HTTP_METHODS}

    def match(self, segments: list[str]) -> dict[str, str] | None:
        if len(segments) != len(self.segments):
            return None
        params = {}
        for pattern, value in zip(self.segments, segments, strict=True):
            if pattern.startswith("{"):
                params[pattern[1:-1]] = unquote(value)
            elif pattern != value:
                return None
        return params


class ContractViolation(AssertionError):
    pass


class ContractValidator:
    """Validates an `httpx.Response` against the operation it was sent to."""

    def __init__(self, spec: dict[str, Any] | None = None) -> None:
        self.spec = spec if spec is not None else load_spec()
        resource = Resource.from_contents(self.spec, default_specification=DRAFT202012)
        self.registry = Registry().with_resource(SPEC_URI, resource)
        routes = [
            Route(template, tuple(s for s in template.split("/") if s), item)
            for template, item in self.spec["paths"].items()
        ]
        # Literal segments win over parameters, the way the branch routes
        # `/ping` before `/{app}`.
        self.routes = sorted(routes, key=lambda r: [s.startswith("{") for s in r.segments])
        # The problem types of each status (403 has two).
        self.problem_types: dict[int, set[str]] = {}
        for status, urn in re.findall(
            r"^\| (\d{3}) \| `(urn:[^`]+)` \|", self.spec["info"]["description"], re.M
        ):
            self.problem_types.setdefault(int(status), set()).add(urn)
        self._validators: dict[str, Draft202012Validator] = {}

    # -- lookups ---------------------------------------------------------

    def find_route(self, raw_path: str) -> tuple[Route, dict[str, str]] | None:
        """The route a path belongs to; a trailing slash is optional."""
        path = raw_path.split("?", 1)[0]
        if path != "/" and path.endswith("/"):
            path = path[:-1]
        segments = path.split("/")[1:] if path != "/" else []
        if any(s == "" for s in segments):
            return None
        for route in self.routes:
            params = route.match(segments)
            if params is not None:
                return route, params
        return None

    def schema_validator(self, pointer: str) -> Draft202012Validator:
        if pointer not in self._validators:
            ref = f"{SPEC_URI}#{quote(pointer, safe='/~')}"
            self._validators[pointer] = Draft202012Validator(
                {"$ref": ref},
                registry=self.registry,
                format_checker=Draft202012Validator.FORMAT_CHECKER,
            )
        return self._validators[pointer]

    def schema_errors(self, pointer: str, instance: Any) -> list[str]:
        errors = self.schema_validator(pointer).iter_errors(instance)
        return [f"{'/'.join(map(str, e.absolute_path)) or '<root>'}: {e.message}" for e in errors]

    # -- validation ------------------------------------------------------

    def validate(self, response: httpx.Response) -> None:
        """Raise `ContractViolation` when the response breaks the contract."""
        request = response.request
        raw_path = request.url.raw_path.decode("ascii")
        problems = self._problems(request.method, raw_path, response)
        if problems:
            body = response.text
            if len(body) > 2000:
                body = body[:2000] + "..."
            shown = raw_path if len(raw_path) <= 300 else raw_path[:300] + "..."
            raise ContractViolation(
                f"{request.method} {shown} -> {response.status_code} "
                f"breaks openapi.yaml:\n  - " + "\n  - ".join(problems) + f"\nbody: {body}"
            )

    def _problems(self, method: str, raw_path: str, response: httpx.Response) -> list[str]:
        status = response.status_code
        # 304 answers a conditional read (documented per operation, below).
        if 300 <= status < 400 and status != 304:
            return [
                f"the branch never redirects, got {status} to {response.headers.get('location')}"
            ]
        found = self.find_route(raw_path)
        # A refusal of where the request comes from (403, openapi.yaml's
        # "Browsers") comes before routing: on any path, with any method.
        if found is None:
            problems = self._problem_document(response)
            if status not in (403, 404):
                problems.append(f"no route matches the path, expected 404, got {status}")
            return problems
        route, _params = found
        if method.lower() not in route.item:
            if method.upper() in ("HEAD", "OPTIONS"):
                return []  # not part of the contract
            problems = self._problem_document(response)
            if status == 403:
                return problems
            if status != 405:
                problems.append(f"{method} is not an operation of {route.template}: expected 405")
            return problems + self._allow_header(route, response)
        problems = self._problem_document(response) if status >= 400 else []
        pointer = f"/paths/{_pointer_token(route.template)}/{method.lower()}/responses"
        responses = route.item[method.lower()]["responses"]
        key = str(status) if str(status) in responses else "default"
        if status < 400 and key == "default":
            # `default` documents errors only; a success must be listed by its code.
            return [*problems, f"success status {status} is not documented for this operation"]
        definition = responses[key]
        pointer += f"/{key}"
        if "$ref" in definition:
            pointer = definition["$ref"][1:]
            definition = self._resolve(definition["$ref"])
        if status == 405:
            problems += self._allow_header(route, response)
        content = definition.get("content")
        if not content:
            return problems
        media_type = response.headers.get("content-type", "").split(";")[0].strip().lower()
        if media_type not in content:
            return [*problems, f"content type {media_type!r} is not one of {sorted(content)}"]
        schema_pointer = f"{pointer}/content/{_pointer_token(media_type)}/schema"
        if media_type.endswith("json"):
            try:
                body = response.json()
            except ValueError as exc:
                return [*problems, f"body is not JSON: {exc}"]
        elif media_type.endswith("yaml"):
            try:
                body = yaml.safe_load(response.text)
            except yaml.YAMLError as exc:
                return [*problems, f"body is not YAML: {exc}"]
        else:
            body = response.text
        problems += self.schema_errors(schema_pointer, body)
        return problems

    def _problem_document(self, response: httpx.Response) -> list[str]:
        """Every error, documented or not, is an RFC 9457 problem document."""
        status = response.status_code
        if status < 400:
            return [f"expected an error status, got {status}"]
        media_type = response.headers.get("content-type", "").split(";")[0].strip().lower()
        if media_type != "application/problem+json":
            return [f"an error must be application/problem+json, got {media_type!r}"]
        try:
            body = response.json()
        except ValueError as exc:
            return [f"problem body is not JSON: {exc}"]
        problems = self.schema_errors("/components/schemas/Problem", body)
        if problems:
            return problems
        if body["status"] != status:
            problems.append(f"problem status {body['status']} differs from HTTP status {status}")
        expected_types = self.problem_types.get(status)
        if expected_types and body["type"] not in expected_types:
            problems.append(
                f"problem type for {status} must be {' or '.join(sorted(expected_types))}, "
                f"got {body['type']}"
            )
        if status == 422 and not body.get("errors"):
            problems.append("a 422 problem must list the invalid fields in `errors`")
        if "Traceback" in response.text:
            problems.append("a problem must never carry a traceback")
        return problems

    def _allow_header(self, route: Route, response: httpx.Response) -> list[str]:
        allow = response.headers.get("allow")
        if allow is None:
            return ["a 405 must carry an Allow header"]
        allowed = {m.strip().upper() for m in allow.split(",") if m.strip()}
        extra = allowed - route.methods - {"HEAD", "OPTIONS"}
        missing = route.methods - allowed
        if extra or missing:
            return [f"Allow: {allow!r} does not match {sorted(route.methods)}"]
        return []

    def _resolve(self, ref: str) -> dict[str, Any]:
        node: Any = self.spec
        for token in ref[2:].split("/"):
            node = node[token.replace("~1", "/").replace("~0", "~")]
        return node


def contract_client(base_url: str, validator: ContractValidator, **kwargs: Any) -> httpx.Client:
    """An httpx client that fails on any response breaking the contract."""

    def check(response: httpx.Response) -> None:
        response.read()
        validator.validate(response)

    kwargs.setdefault("timeout", 30.0)
    return httpx.Client(base_url=base_url, event_hooks={"response": [check]}, **kwargs)


def iter_operations(spec: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            if method in HTTP_METHODS:
                yield path, method, operation


# -- assertions shared by the tests ------------------------------------------


def unique(prefix: str) -> str:
    """A name no other test uses, so tests can share one branch."""
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def assert_problem(
    response: httpx.Response,
    status: int,
    *,
    field: str | None = None,
    location: str | None = None,
) -> dict[str, Any]:
    """The response is a problem with this status naming `field` (for 422)."""
    assert response.status_code == status, (
        f"{response.request.method} {response.request.url} -> "
        f"expected {status}, got {response.status_code}: {response.text}"
    )
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["status"] == status
    if field is not None:
        named = [(e["location"], e["field"]) for e in body.get("errors", [])]
        wanted = [n for n in named if n[1] == field and location in (None, n[0])]
        assert wanted, f"expected an error on {location or '*'}.{field}, got {named}"
    return body


# What an instance's worker is doing: observed, not kept (a restarted branch
# has new workers); `snapshot` leaves it out.
OBSERVED = ("state", "since", "pid", "processes", "restarts", "last_exit")


def snapshot(client: httpx.Client, app: str) -> dict[str, Any]:
    """Everything the branch was told about an app, to compare before and after."""
    state: dict[str, Any] = {"apps": sorted(client.get("/").json())}
    got = client.get(f"/{app}")
    state["app"] = got.json() if got.status_code == 200 else got.status_code
    if got.status_code != 200:
        return state
    instances = {}
    for name in sorted(client.get(f"/{app}/instances").json()):
        base = f"/{app}/instances/{name}"
        instance = client.get(base).json()
        instances[name] = {
            "instance": {k: v for k, v in instance.items() if k not in OBSERVED},
            "autoscale": client.get(f"{base}/autoscale").json(),
            "consumers": sorted(c["name"] for c in client.get(f"{base}/queues").json()),
        }
    state["instances"] = instances
    state["queues"] = {
        name: client.get(f"/{app}/queues/{name}").json()
        for name in sorted(client.get(f"/{app}/queues").json())
    }
    return state
