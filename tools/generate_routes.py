"""Generate both SDKs' route tables from openapi.yaml.

    python tools/generate_routes.py [ROOT]

writes

    python-client/src/cyme/_routes.py    ROUTES, the Python SDK's table
    python-client/src/cyme/_calls.py     the Python SDK's typed `call()`
    ruby-client/lib/cyme/routes.rb       Cyme::ROUTES, the Ruby SDK's table
    ruby-client/sig/cyme/routes.rbs      its RBS signature, and Client#call's: one
                                         overload per operation, typed from the spec

(with ROOT, the same paths under ROOT instead of the repository: the drift
gate, tools/check_generated.py, compares them with the committed files).

A route is what an SDK needs to send one operation and read its answer: the
operationId, the method, the path template and its parameters, the query
parameters that are not body fields, the body's fields, the header
parameters, the kind of the success answer, every status the spec documents,
and the SDK method that performs it (the operation's `x-sdk-method`, the
same name in both SDKs). Both SDKs' resources send every request through
their table, and a new operation in openapi.yaml can be called through it
(`client.call("getInstance", app=..., instance=...)`) as soon as this
generator has run.

Why a generator of our own: OpenAPI generators write whole SDKs, each in its
own style, and none writes a plain table of routes for two languages at
once. This one reads the spec with PyYAML and writes data, nothing else, so
the hand-written SDKs stay in charge of how a call looks; the one exception
is `_calls.py`, the overloads that type Python's `call()` (each operationId's
keywords from the schemas of its parameters and fields, its result from the
kind of its answer). The emitters of each language are kept apart
(`python_table`, `python_calls`, `ruby_table`) over one reading of the spec
(`read_routes`).
"""

from __future__ import annotations

import hashlib
import json
import keyword
import re
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from python_format import ruff_clean

ROOT = Path(__file__).resolve().parents[1]
SPEC = ROOT / "openapi.yaml"
PYTHON_OUTPUT = Path("python-client/src/cyme/_routes.py")
PYTHON_CALLS_OUTPUT = Path("python-client/src/cyme/_calls.py")
RUBY_OUTPUT = Path("ruby-client/lib/cyme/routes.rb")
RBS_OUTPUT = Path("ruby-client/sig/cyme/routes.rbs")
HTTP_METHODS = ("get", "put", "post", "delete", "patch", "head", "options", "trace")
SDK_METHOD = re.compile(r"^[A-Z][A-Za-z]*\.[a-z][a-z0-9_]*$")
JSON = "application/json"


@dataclass(frozen=True)
class Field:
    """A parameter or a body field: its name, and whether it must be given."""

    name: str
    required: bool
    schema: dict[str, Any]


@dataclass(frozen=True)
class Route:
    """One operation of the spec, as an SDK sends it."""

    operation_id: str
    method: str
    path: str
    path_params: tuple[Field, ...]
    query_params: tuple[Field, ...]
    body_fields: tuple[Field, ...] | None  # None: the operation takes no body
    headers: tuple[Field, ...]
    response: str
    statuses: tuple[int, ...]
    sdk_method: str
    summary: str


class SpecReader:
    """The spec with local `$ref`s followed on demand."""

    def __init__(self, spec: dict[str, Any]) -> None:
        self.spec = spec

    def deref(self, node: Any) -> Any:
        while isinstance(node, dict) and "$ref" in node:
            target: Any = self.spec
            for token in node["$ref"][2:].split("/"):
                target = target[token.replace("~1", "/").replace("~0", "~")]
            node = target
        return node

    def ref_name(self, node: Any) -> str | None:
        if isinstance(node, dict) and "$ref" in node:
            return str(node["$ref"]).rsplit("/", 1)[-1]
        return None

    def response(self, op: dict[str, Any]) -> str:
        """The success answer: a schema's name, `Consumer[]` for a list, a JSON type, or `text`;
        alternatives joined with `|`. A 202 is the answer only of an operation that
        answers nothing else (sendTask); elsewhere it is the `Scheduled` of `nowait`."""
        responses = op["responses"]
        for status in ("200", "201", "202"):
            if status not in responses:
                continue
            content = self.deref(responses[status]).get("content", {})
            if JSON not in content:
                return "text"
            return self.kind(content[JSON]["schema"])
        raise ValueError(f"{op['operationId']} documents no 200, 201 or 202")

    def kind(self, schema: dict[str, Any]) -> str:
        name = self.ref_name(schema)
        resolved = self.deref(schema)
        choices = resolved.get("anyOf") or resolved.get("oneOf")
        if choices:
            # One answer or another (names, or the objects with `details`):
            # `string[]|Instance[]`, told apart by the JSON that comes.
            return "|".join(self.kind(choice) for choice in choices)
        if resolved.get("type") == "array":
            return self.kind(resolved["items"]) + "[]"
        if resolved.get("type") == "object":
            if name is None:
                raise ValueError("an object answer must be a component schema")
            return name
        # A scalar answer, or a list of names: the JSON type is what matters.
        return str(resolved.get("type") or self.deref(resolved.get("allOf", [{}])[0])["type"])

    def field(self, raw: dict[str, Any]) -> Field:
        param = self.deref(raw)
        schema = param.get("schema") or param["content"][JSON]["schema"]
        return Field(param["name"], bool(param.get("required", False)), self.deref(schema))


def read_routes(spec: dict[str, Any]) -> list[Route]:
    """Every operation of the spec, in the spec's order."""
    reader = SpecReader(spec)
    routes = []
    for template, item in spec["paths"].items():
        for method in HTTP_METHODS:
            if method not in item:
                continue
            op = item[method]
            # The path item's parameters, then the operation's, which win.
            params: dict[tuple[str, str], Field] = {}
            for raw in [*item.get("parameters", []), *op.get("parameters", [])]:
                where = str(reader.deref(raw)["in"])
                field = reader.field(raw)
                params[(field.name, where)] = field
            body: tuple[Field, ...] | None = None
            if "requestBody" in op:
                content = reader.deref(op["requestBody"])["content"][JSON]
                schema = reader.deref(content["schema"])
                required = set(schema.get("required", []))
                body = tuple(
                    Field(name, name in required, reader.deref(prop))
                    for name, prop in schema.get("properties", {}).items()
                )
            body_names = {f.name for f in body or ()}
            names = [segment[1:-1] for segment in re.findall(r"\{[^}]+\}", template)]
            path_params = tuple(params[(name, "path")] for name in names)
            query = tuple(
                f for (n, where), f in params.items() if where == "query" and n not in body_names
            )
            headers = tuple(f for (_, where), f in params.items() if where == "header")
            sdk_method = op.get("x-sdk-method", "")
            if not SDK_METHOD.match(sdk_method):
                raise ValueError(
                    f"{op['operationId']}: x-sdk-method must name Class.method, not {sdk_method!r}"
                )
            statuses = tuple(sorted(int(s) for s in op["responses"] if s.isdigit()))
            routes.append(
                Route(
                    operation_id=op["operationId"],
                    method=method.upper(),
                    path=template,
                    path_params=path_params,
                    query_params=query,
                    body_fields=body,
                    headers=headers,
                    response=reader.response(op),
                    statuses=statuses,
                    sdk_method=sdk_method,
                    summary=" ".join(str(op.get("summary", "")).split()),
                )
            )
    return routes


def header(comment: str, digest: str) -> list[str]:
    return [
        f"{comment} Generated by tools/generate_routes.py from openapi.yaml; do not edit.",
        f"{comment} openapi.yaml sha256: {digest}",
    ]


# -- Python ---------------------------------------------------------------------


def _py_names(fields: tuple[Field, ...] | None) -> str:
    if fields is None:
        return "None"
    inner = ", ".join(f'"{f.name}"' for f in fields)
    return f"({inner},)" if len(fields) == 1 else f"({inner})"


def python_table(routes: list[Route], digest: str) -> str:
    lines = [
        *header("#", digest),
        '"""The route table: every operation of openapi.yaml, as the SDK sends it.',
        "",
        "`ROUTES[operation_id]` names the method, the path template and its",
        "parameters, the query parameters that are not body fields, the body's",
        "fields (None when the operation takes no body), the header parameters,",
        "the kind of the success answer (a schema's name such as `Instance`,",
        "`Consumer[]` for a list of them, a JSON type such as `string[]`, or",
        "`text`; `string[]|Instance[]` for one or the other, told apart by the",
        "JSON that comes), every documented status, and the SDK method that",
        "performs the operation (`x-sdk-method`).",
        '"""',
        "",
        "from __future__ import annotations",
        "",
        "from dataclasses import dataclass",
        "",
        '__all__ = ["ROUTES", "Route"]',
        "",
        "",
        "@dataclass(frozen=True)",
        "class Route:",
        '    """One operation of openapi.yaml."""',
        "",
        "    operation_id: str",
        "    method: str",
        "    path: str",
        "    path_params: tuple[str, ...]",
        "    query_params: tuple[str, ...]",
        "    body_fields: tuple[str, ...] | None",
        "    headers: tuple[str, ...]",
        "    response: str",
        "    statuses: tuple[int, ...]",
        "    sdk_method: str",
        "",
        "",
        "ROUTES: dict[str, Route] = {",
    ]
    for r in routes:
        statuses = ", ".join(str(s) for s in r.statuses)
        statuses = f"({statuses},)" if len(r.statuses) == 1 else f"({statuses})"
        lines += [
            f'    "{r.operation_id}": Route(',
            f'        operation_id="{r.operation_id}",',
            f'        method="{r.method}",',
            f'        path="{r.path}",',
            f"        path_params={_py_names(r.path_params)},",
            f"        query_params={_py_names(r.query_params)},",
            f"        body_fields={_py_names(r.body_fields)},",
            f"        headers={_py_names(r.headers)},",
            f'        response="{r.response}",',
            f"        statuses={statuses},",
            f'        sdk_method="{r.sdk_method}",',
            "    ),",
        ]
    lines.append("}")
    return "\n".join(lines) + "\n"


PY_SCALARS = {
    "string": "str",
    "integer": "int",
    "number": "float",
    "boolean": "bool",
    "null": "None",
}
# Names the generated signature of `call()` uses itself.
PY_RESERVED = {"self", "operation_id", "request_options"}


def py_annotation(reader: SpecReader, schema: Any) -> str:
    """The type of an argument, from its schema: what a caller may pass."""
    schema = reader.deref(schema)
    if "enum" in schema:
        return "Literal[" + ", ".join(json.dumps(value) for value in schema["enum"]) + "]"
    if "allOf" in schema:
        return py_annotation(reader, schema["allOf"][0])
    if "type" not in schema:
        return "Any"  # any JSON value (a task's arguments)
    kinds = schema.get("type", "object")
    kinds = [kinds] if isinstance(kinds, str) else kinds
    parts = []
    for kind in kinds:
        if kind == "array":
            parts.append(f"Sequence[{py_annotation(reader, schema.get('items', {}))}]")
        elif kind == "object":
            values = schema.get("additionalProperties")
            value = py_annotation(reader, values) if isinstance(values, dict) and values else "Any"
            parts.append(f"Mapping[str, {value}]")
        else:
            parts.append(PY_SCALARS[kind])
    return " | ".join(parts)


def py_parameter(reader: SpecReader, field: Field) -> str:
    """`name: type` for a required argument, with a default for an optional one."""
    annotation = py_annotation(reader, field.schema)
    if field.required:
        return f"{field.name}: {annotation}"
    default = reader.deref(field.schema).get("default")
    if annotation in ("bool", "int", "str") and isinstance(default, bool | int | str):
        value = json.dumps(default) if isinstance(default, str) else repr(default)
        return f"{field.name}: {annotation} = {value}"
    if "None" not in annotation.split(" | "):
        annotation += " | None"
    return f"{field.name}: {annotation} = None"


def py_kind(kind: str) -> str:
    """The Python type of one kind of answer."""
    item, many = kind.removesuffix("[]"), kind.endswith("[]")
    if item == "text":
        return "str"
    result = PY_SCALARS.get(item, f"types.{item}")
    return f"list[{result}]" if many else result


def scheduled(route: Route) -> bool:
    """Whether the operation may answer a `Scheduled`: a 202 to a change asked not to
    wait (a sent task's 202 is its own answer)."""
    return 202 in route.statuses and any(field.name == "nowait" for field in route.query_params)


def py_result(route: Route) -> str:
    """The type of `call()`'s result: the answer's model, or `Scheduled` for a nowait 202."""
    result = " | ".join(py_kind(kind) for kind in route.response.split("|"))
    return result + (" | types.Scheduled" if scheduled(route) else "")


def py_call_arguments(route: Route) -> list[Field]:
    """The keywords of an operation: path parameters, then query parameters and body
    fields, the required before the optional; each name a Python identifier, once."""
    fields = [*route.path_params, *route.query_params, *(route.body_fields or ())]
    names = [f.name for f in fields]
    for name in names:
        if not name.isidentifier() or keyword.iskeyword(name) or name in PY_RESERVED:
            raise ValueError(f"{route.operation_id}: {name!r} cannot be a keyword of call()")
    if len(set(names)) != len(names):
        raise ValueError(f"{route.operation_id}: a parameter and a body field share a name")
    rest = fields[len(route.path_params) :]
    return [
        *route.path_params,
        *(f for f in rest if f.required),
        *(f for f in rest if not f.required),
    ]


def py_overload(reader: SpecReader, route: Route, asynchronous: bool) -> list[str]:
    arguments = [py_parameter(reader, field) for field in py_call_arguments(route)]
    # 86: with its indent and quotes, a line of the docstring fits in 100.
    doc = textwrap.wrap(f"{route.summary} (`{route.method} {route.path}`).", 86)
    doc[0] = '"""' + doc[0]
    doc[-1] += '"""'
    return [
        "    @overload",
        f"    {'async ' if asynchronous else ''}def call(",
        "        self,",
        f'        operation_id: Literal["{route.operation_id}"],',
        "        /,",
        *(["        *,"] if arguments else []),
        *(f"        {argument}," for argument in arguments),
        "        **request_options: Unpack[RequestOptions],",
        f"    ) -> {py_result(route)}:",
        *(f"        {line}" for line in doc),
        "",
    ]


def python_calls(routes: list[Route], spec: dict[str, Any], digest: str) -> str:
    reader = SpecReader(spec)
    classes: list[str] = []
    for cls, base, asynchronous in (
        ("SyncCalls", "SyncAPIClient", False),
        ("AsyncCalls", "AsyncAPIClient", True),
    ):
        client = "AsyncClient" if asynchronous else "Client"
        classes += [
            "",
            "",
            f"class {cls}({base}):",
            f'    """`call()` for `{client}`: any operation by its operationId."""',
            "",
        ]
        for route in routes:
            classes += py_overload(reader, route, asynchronous)
        prefix, wait = ("async ", "await ") if asynchronous else ("", "")
        classes += [
            f"    {prefix}def call(self, operation_id: str, /, **arguments: Any) -> Any:",
            '        """Send the operation `operation_id` of openapi.yaml and return its result.',
            "",
            "        The keywords are the operation's path parameters, query parameters",
            "        and body fields, by their names in the spec, and the per-call",
            "        options (`timeout=`, `max_retries=`, `extra_headers=`,",
            "        `idempotency_key=`). The result is the answer's model (or list,",
            "        or text), or a `Scheduled` when a change asked not to wait.",
            "",
            f'        >>> {wait}client.call("getInstance", app="pycon", instance="w1")',
            '        """',
            f"        return {wait}self._call(operation_id, arguments)",
        ]
    text = "\n".join(classes)
    collections = [name for name in ("Mapping", "Sequence") if f"{name}[" in text]
    lines = [
        *header("#", digest),
        '"""`call()`: every operation of openapi.yaml by its operationId, typed.',
        "",
        "One overload per operationId types its keywords (the path parameters, the",
        "query parameters and the body's fields, by their names in the spec) and its",
        "result (the model of its answer, or `Scheduled` when it takes nowait).",
        "`SyncCalls` and `AsyncCalls` give the method to `Client` and `AsyncClient`;",
        "the base client sends the operation through the route table (`ROUTES`).",
        '"""',
        "",
        "from __future__ import annotations",
        "",
        "from typing import TYPE_CHECKING, Any, Literal, overload",
        "",
        "from ._base_client import AsyncAPIClient, SyncAPIClient",
        "",
        "if TYPE_CHECKING:",
        *([f"    from collections.abc import {', '.join(collections)}", ""] if collections else []),
        "    from typing_extensions import Unpack",
        "",
        "    from . import types",
        "    from ._options import RequestOptions",
        "",
        '__all__ = ["AsyncCalls", "SyncCalls"]',
    ]
    return "\n".join(lines) + "\n" + text + "\n"


# -- Ruby -------------------------------------------------------------------------


def ruby_method(sdk_method: str) -> str:
    """`Apps.get` as the gem names it: collections (plural names) live in Cyme::Resources."""
    owner, method = sdk_method.split(".")
    prefix = "Resources::" if owner.endswith("s") else ""
    return f"{prefix}{owner}#{method}"


def _rb_names(fields: tuple[Field, ...] | None) -> str:
    if fields is None:
        return "nil"
    return "%w[" + " ".join(f.name for f in fields) + "].freeze" if fields else "[].freeze"


def ruby_table(routes: list[Route], digest: str) -> str:
    lines = [
        "# frozen_string_literal: true",
        "",
        *header("#", digest),
        "",
        "module Cyme",
        "  # One operation of openapi.yaml, as the SDK sends it: its method, path",
        "  # template and parameters, the query parameters that are not body fields,",
        "  # the body's fields (nil when it takes no body), the header parameters,",
        "  # the kind of the success answer (a schema's name such as `Instance`,",
        "  # `Consumer[]` for a list of them, a JSON type such as `string[]`, or",
        "  # `text`; `string[]|Instance[]` for one or the other, told apart by the",
        "  # JSON that comes), every documented status, and the SDK method that",
        "  # performs it (`x-sdk-method`, as the gem names it).",
        "  Route = Struct.new(",
        "    :operation_id, :http_method, :path, :path_params, :query_params,",
        "    :body_fields, :headers, :response, :statuses, :sdk_method,",
        "    keyword_init: true",
        "  )",
        "",
        "  # Every operation of openapi.yaml, by operationId.",
        "  ROUTES = {",
    ]
    for i, r in enumerate(routes):
        comma = "," if i < len(routes) - 1 else ""
        statuses = "[" + ", ".join(str(s) for s in r.statuses) + "].freeze"
        lines += [
            f'    "{r.operation_id}" => Route.new(',
            f'      operation_id: "{r.operation_id}",',
            f'      http_method: "{r.method}",',
            f'      path: "{r.path}",',
            f"      path_params: {_rb_names(r.path_params)},",
            f"      query_params: {_rb_names(r.query_params)},",
            f"      body_fields: {_rb_names(r.body_fields)},",
            f"      headers: {_rb_names(r.headers)},",
            f'      response: "{r.response}",',
            f"      statuses: {statuses},",
            f'      sdk_method: "{ruby_method(r.sdk_method)}"',
            f"    ).freeze{comma}",
        ]
    lines += ["  }.freeze", "end"]
    return "\n".join(lines) + "\n"


# The RBS type of each JSON type, and of a `text` answer.
RBS_TYPES = {
    "string": "String",
    "integer": "Integer",
    "number": "Numeric",
    "boolean": "bool",
    "object": "Hash[String, untyped]",
    "null": "nil",
    "text": "String",
}


def rbs_type(reader: SpecReader, schema: dict[str, Any]) -> str:
    """A field's RBS type: its JSON type, through `$ref` and the first `allOf`."""
    schema = reader.deref(schema)
    if "type" not in schema and "allOf" in schema:
        return rbs_type(reader, schema["allOf"][0])
    kinds = schema.get("type", "any")
    names = [
        rbs_json_type(reader, schema, str(k))
        for k in (kinds if isinstance(kinds, list) else [kinds])
    ]
    return names[0] if len(names) == 1 else "(" + " | ".join(names) + ")"


def rbs_json_type(reader: SpecReader, schema: dict[str, Any], kind: str) -> str:
    if kind == "array":
        return f"Array[{rbs_type(reader, schema.get('items', {}))}]"
    return RBS_TYPES.get(kind, "untyped")


def rbs_keyword(field: Field, name: str, reader: SpecReader) -> str:
    """`app: String`, or `?broker: String?` for a keyword that may be left out (or nil)."""
    kind = rbs_type(reader, field.schema)
    return f"{name}: {kind}" if field.required else f"?{name}: {kind.removesuffix('?')}?"


def rbs_kind(kind: str) -> str:
    """The RBS type of one kind of answer."""
    item = kind.removesuffix("[]")
    name = RBS_TYPES.get(item, f"Models::{item}")
    return f"Array[{name}]" if kind.endswith("[]") else name


def rbs_answer(route: Route) -> str:
    """What Client#call returns: the model, list or JSON value; a Scheduled too after a 202
    (the gem's own, bound to the client, which can `wait`)."""
    kinds = [rbs_kind(kind) for kind in route.response.split("|")]
    if scheduled(route):
        kinds.append("Scheduled")  # Cyme::Scheduled, bound to the client: #wait
    return kinds[0] if len(kinds) == 1 else "(" + " | ".join(kinds) + ")"


def rbs_call(route: Route, reader: SpecReader) -> str:
    """One overload of Client#call: the operationId as a literal type, then the keywords."""
    fields = [*route.path_params, *route.query_params, *(route.body_fields or ())]
    params = [f'"{route.operation_id}" operation_id']
    params += [rbs_keyword(f, f.name, reader) for f in fields]
    params += [rbs_keyword(f, ruby_header_keyword(f.name), reader) for f in route.headers]
    return f"({', '.join(params)}) -> {rbs_answer(route)}"


def ruby_header_keyword(header_name: str) -> str:
    """The keyword of a header parameter in Client#call: Idempotency-Key is idempotency_key."""
    return header_name.lower().replace("-", "_")


def rbs_table(routes: list[Route], digest: str, reader: SpecReader) -> str:
    calls = [rbs_call(r, reader) for r in routes]
    lines = [
        *header("#", digest),
        "",
        "module Cyme",
        "  class Route < Struct[untyped]",
        "    attr_accessor operation_id: String",
        "    attr_accessor http_method: String",
        "    attr_accessor path: String",
        "    attr_accessor path_params: Array[String]",
        "    attr_accessor query_params: Array[String]",
        "    attr_accessor body_fields: Array[String]?",
        "    attr_accessor headers: Array[String]",
        "    attr_accessor response: String",
        "    attr_accessor statuses: Array[Integer]",
        "    attr_accessor sdk_method: String",
        "",
        "    def self.new: (",
        "      operation_id: String, http_method: String, path: String,",
        "      path_params: Array[String], query_params: Array[String],",
        "      body_fields: Array[String]?, headers: Array[String], response: String,",
        "      statuses: Array[Integer], sdk_method: String",
        "    ) -> Route",
        "  end",
        "",
        "  ROUTES: Hash[String, Route]",
        "",
        "  # Client#call, one overload per operation of ROUTES: the operationId,",
        "  # the keywords by the spec's names and types, and the answer.",
        "  interface _Call",
        f"    def call: {calls[0]}",
        *(f"            | {call}" for call in calls[1:]),
        "  end",
        "end",
    ]
    return "\n".join(lines) + "\n"


# -- the files ----------------------------------------------------------------------


def render(spec_path: Path = SPEC) -> dict[Path, str]:
    """The text of every output file, by its path in the repository."""
    raw = spec_path.read_bytes()
    digest = hashlib.sha256(raw).hexdigest()
    spec = yaml.safe_load(raw)
    routes = read_routes(spec)
    # The Python ones through ruff, as the other generators' are: a long line
    # (a tuple of many fields, a Literal of many values) is folded as ruff folds it.
    return {
        PYTHON_OUTPUT: ruff_clean(python_table(routes, digest), ROOT / PYTHON_OUTPUT),
        PYTHON_CALLS_OUTPUT: ruff_clean(
            python_calls(routes, spec, digest), ROOT / PYTHON_CALLS_OUTPUT
        ),
        RUBY_OUTPUT: ruby_table(routes, digest),
        RBS_OUTPUT: rbs_table(routes, digest, SpecReader(spec)),
    }


def main(argv: list[str]) -> int:
    root = Path(argv[1]) if len(argv) > 1 else ROOT
    for path, text in render().items():
        target = root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
