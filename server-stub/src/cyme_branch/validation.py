"""Request validation against the spec, before any handler runs.

A request's inputs come from three places: the path, the query string and
the body (JSON or form-encoded). Body fields may also be given in the query
string, as the original branch read them. This module turns the raw request
into validated Python values, or raises a problem naming every bad field.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

import jsonschema_rs

from .problems import FieldError, MalformedRequest, UnsupportedMediaType, ValidationFailed
from .spec import FORM, Operation, Param, Spec

_INTEGER = re.compile(r"-?[0-9]+")
_NUMBER = re.compile(r"-?[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?")


@dataclass
class Inputs:
    """The validated inputs of one request."""

    path: dict[str, str]
    body: dict[str, Any] = field(default_factory=dict)
    query: dict[str, Any] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)


# Path values found valid, remembered at most (then forgotten all at once): a
# value is valid or not for good, and most requests name the same few.
VALID_KEPT = 4096
VALID_KEPT_LENGTH = 256


class RequestValidator:
    """Validators for every operation of a spec, compiled once."""

    def __init__(self, spec: Spec) -> None:
        self._params: dict[tuple[str, str, str], Any] = {}
        self._bodies: dict[str, Any] = {}
        self._schemas: dict[tuple[str, str, str], dict[str, Any]] = {}
        self._headers: dict[str, tuple[Param, ...]] = {}
        self._valid_paths: set[tuple[str, str, str]] = set()
        for op in spec.operations.values():
            for param in op.params:
                key = (op.operation_id, param.location, param.name)
                self._params[key] = jsonschema_rs.validator_for(param.schema)
                self._schemas[key] = param.schema
            if op.body_schema is not None:
                self._bodies[op.operation_id] = jsonschema_rs.validator_for(op.body_schema)
                self._schemas[(op.operation_id, "body", "")] = op.body_schema
            self._headers[op.operation_id] = tuple(p for p in op.params if p.location == "header")
        self._phrases = _pattern_phrases(spec)

    def validate(
        self,
        op: Operation,
        path: dict[str, str],
        query: str,
        headers: Mapping[str, str],
        body: bytes,
    ) -> Inputs:
        errors = self._path(op, path)
        inputs = Inputs(path=path)
        for param in self._headers[op.operation_id]:
            if param.name not in headers:
                continue
            key = (op.operation_id, "header", param.name)
            value = headers[param.name]
            if not value.isascii():
                # aiohttp hands other bytes over as surrogates, which no schema takes.
                errors.append(FieldError("header", param.name, "must be ASCII"))
            elif self._params[key].is_valid(value):
                inputs.headers[param.name] = value
            else:
                errors.extend(
                    self._errors(self._params[key], value, param.schema, "header", param.name)
                )
        origin: dict[str, str] = {}
        if op.body_schema is not None:
            inputs.body = self._parse_body(op, headers.get("Content-Type"), body)
            origin = dict.fromkeys(inputs.body, "body")

        if query:
            errors.extend(self._query(op, query, inputs, origin))
        if op.body_schema is not None:
            validator = self._bodies[op.operation_id]
            if not validator.is_valid(inputs.body):
                schema = self._schemas[(op.operation_id, "body", "")]
                for error in self._errors(validator, inputs.body, schema, "body", ""):
                    top = error.field.split(".", 1)[0]
                    location = origin.get(top, "body")
                    errors.append(FieldError(location, error.field, error.message))
        if errors:
            raise ValidationFailed(errors)
        return inputs

    def _path(self, op: Operation, path: dict[str, str]) -> list[FieldError]:
        errors: list[FieldError] = []
        valid = self._valid_paths
        for name, value in path.items():
            key = (op.operation_id, name, value)
            if key in valid:
                continue
            validator = self._params[op.operation_id, "path", name]
            if validator.is_valid(value):
                if len(value) <= VALID_KEPT_LENGTH:
                    if len(valid) >= VALID_KEPT:
                        valid.clear()
                    valid.add(key)
            else:
                schema = self._schemas[op.operation_id, "path", name]
                errors.extend(self._errors(validator, value, schema, "path", name))
        return errors

    def _query(
        self, op: Operation, query: str, inputs: Inputs, origin: dict[str, str]
    ) -> list[FieldError]:
        """Take the declared query parameters; body fields join the body."""
        errors: list[FieldError] = []
        declared = {p.name: p for p in op.params if p.location == "query"}
        seen: set[str] = set()
        try:
            pairs = parse_qsl(query, keep_blank_values=True, errors="strict")
        except UnicodeDecodeError:
            raise MalformedRequest("The query string is not valid percent-encoded UTF-8.") from None
        for name, raw in pairs:
            param = declared.get(name)
            if param is None:
                continue  # unknown query parameters are ignored, like cache busters
            if name in seen:
                errors.append(FieldError("query", name, "is given more than once"))
                continue
            seen.add(name)
            try:
                value = _decode_text(raw, param.schema, json_text=param.json_text)
            except ValueError as exc:
                errors.append(FieldError("query", name, str(exc)))
                continue
            if name in op.body_fields:
                if name in inputs.body and inputs.body[name] != value:
                    errors.append(
                        FieldError(
                            "query", name, "is given in both the query and the body, differently"
                        )
                    )
                    continue
                inputs.body[name] = value
                origin[name] = "query"
                continue
            key = (op.operation_id, "query", name)
            validator = self._params[key]
            if validator.is_valid(value):
                inputs.query[name] = value
            else:
                errors.extend(self._errors(validator, value, param.schema, "query", name))
        return errors

    def _parse_body(self, op: Operation, content_type: str | None, body: bytes) -> dict[str, Any]:
        if not body:
            return {}
        mime = (content_type or "").split(";", 1)[0].strip().lower()
        if mime == "application/json" or mime.endswith("+json"):
            return _parse_json(body)
        if mime == FORM:
            return _parse_form(op, body)
        shown = f"'{mime}'" if mime else "a body without a Content-Type"
        raise UnsupportedMediaType(f"Send application/json or {FORM}, not {shown}.")

    def _errors(
        self, validator: Any, value: Any, schema: dict[str, Any], location: str, name: str
    ) -> list[FieldError]:
        found: list[FieldError] = []
        for error in validator.iter_errors(value):
            steps = [str(step) for step in error.instance_path]
            keyword, context = _keyword(schema, list(error.schema_path))
            if keyword == "additionalProperties":
                for extra in error.kind.as_dict().get("unexpected", []):
                    found.append(
                        FieldError(location, _join(name, *steps, extra), "is not a known field")
                    )
                continue
            message = self._message(keyword, context)
            found.append(FieldError(location, _join(name, *steps), message))
        return found

    def _message(self, keyword: str, schema: dict[str, Any]) -> str:
        """Explain a failed keyword without repeating the value (it may be secret)."""
        value: Any = schema.get(keyword)
        if keyword == "pattern":
            return self._phrases.get(str(value), f"must match the pattern {value}")
        explain = _EXPLAIN.get(keyword)
        return explain(value) if explain else "is invalid"


def _types(value: Any) -> str:
    types = value if isinstance(value, list) else [value]
    return "must be " + " or ".join(_ARTICLE.get(t, str(t)) for t in types)


_EXPLAIN: dict[str, Callable[[Any], str]] = {
    "type": _types,
    "minLength": lambda v: "must not be empty" if v == 1 else f"must be at least {v} characters",
    "maxLength": lambda v: f"must be at most {v} characters",
    "minimum": lambda v: f"must be at least {v}",
    "maximum": lambda v: f"must be at most {v}",
    "enum": lambda v: "must be one of " + ", ".join(str(x) for x in v),
    "maxProperties": lambda v: f"must have at most {v} entries",
    "maxItems": lambda v: f"must have at most {v} items",
    "not": lambda _: "is reserved: the branch serves a route of its own there",
}

_ARTICLE = {
    "integer": "an integer",
    "number": "a number",
    "string": "a string",
    "boolean": "a boolean",
    "object": "an object",
    "array": "an array",
    "null": "null",
}


def _pattern_phrases(spec: Spec) -> dict[str, str]:
    """Human wording for the spec's patterns, keyed by the pattern itself."""
    schemas = spec.document["components"]["schemas"]
    return {
        schemas["Name"]["pattern"]: (
            "must be 1 to 128 letters, digits or '_@:-', in segments separated by "
            "single dots (no '/', no '..', no spaces)"
        ),
        schemas["BrokerUrl"]["pattern"]: "must be a URL such as amqp://host//, without spaces",
        schemas["Arguments"]["pattern"]: "must not contain control characters",
        schemas["ExchangeName"]["pattern"]: "may only hold letters, digits and '_.:@-'",
        schemas["RoutingKey"]["pattern"]: "must not contain spaces or control characters",
        spec.document["components"]["parameters"]["IdempotencyKey"]["schema"]["pattern"]: (
            "must be printable ASCII characters, without spaces"
        ),
        schemas["ExtraConfig"]["propertyNames"]["pattern"]: (
            "keys must be lowercase Celery setting names (a-z, 0-9 and _)"
        ),
        schemas["TaskName"]["pattern"]: (
            "must be a dotted name of identifiers, such as proj.tasks.add"
        ),
        schemas["TaskId"]["pattern"]: "must be letters, digits and '_@:.-', such as a UUID",
        schemas["TaskKwargs"]["propertyNames"]["pattern"]: (
            "keys must be Python identifiers (letters, digits and _)"
        ),
    }


def _keyword(schema: dict[str, Any], path: list[Any]) -> tuple[str, dict[str, Any]]:
    """The failing keyword of a schema path and the schema holding it."""
    node: Any = schema
    holder: dict[str, Any] = schema
    for step in path[:-1]:
        node = node[step]
        if isinstance(node, dict):
            holder = node
    return str(path[-1]) if path else "", holder


def _join(*parts: str) -> str:
    return ".".join(p for p in parts if p)


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def _parse_int(text: str) -> int:
    # No field takes a number anywhere near this long; refuse it before
    # Python's own limit on converting long digit strings does, less clearly.
    if len(text) > 100:
        raise ValueError("a number has too many digits")
    return int(text)


def _parse_json(body: bytes) -> dict[str, Any]:
    try:
        data = json.loads(
            body.decode("utf-8"), parse_constant=_reject_constant, parse_int=_parse_int
        )
    except UnicodeDecodeError:
        raise MalformedRequest("The body is not valid UTF-8.") from None
    except json.JSONDecodeError as exc:
        raise MalformedRequest(
            f"The body is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}."
        ) from None
    except (ValueError, RecursionError) as exc:
        raise MalformedRequest(f"The body is not valid JSON: {exc}.") from None
    if not isinstance(data, dict):
        raise MalformedRequest("The body must be a JSON object.")
    return data


def _parse_form(op: Operation, body: bytes) -> dict[str, Any]:
    try:
        text = body.decode("utf-8")
        pairs = parse_qsl(text, keep_blank_values=True, errors="strict")
    except (UnicodeDecodeError, ValueError):
        raise MalformedRequest("The form body is not valid UTF-8.") from None
    assert op.body_schema is not None
    properties = op.body_schema.get("properties", {})
    data: dict[str, Any] = {}
    errors: list[FieldError] = []
    for name, raw in pairs:
        if name in data:
            errors.append(FieldError("body", name, "is given more than once"))
            continue
        try:
            data[name] = _decode_text(
                raw, properties.get(name, {}), json_text=name in op.form_json_fields
            )
        except ValueError as exc:
            errors.append(FieldError("body", name, str(exc)))
    if errors:
        raise ValidationFailed(errors)
    return data


def _decode_text(raw: str, schema: dict[str, Any], *, json_text: bool) -> Any:
    """Turn a query or form string into the value its schema expects."""
    if json_text:
        try:
            return json.loads(raw, parse_constant=_reject_constant, parse_int=_parse_int)
        except (ValueError, RecursionError):
            raise ValueError("must be JSON text") from None
    types = schema.get("type", [])
    types = types if isinstance(types, list) else [types]
    if "integer" in types and _INTEGER.fullmatch(raw):
        return int(raw)
    if "number" in types and _NUMBER.fullmatch(raw):
        return float(raw)
    if "boolean" in types and raw in ("true", "false"):
        return raw == "true"
    return raw
