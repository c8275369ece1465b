"""Schemathesis hooks for rules of the contract that openapi.yaml cannot state as a schema.

Loaded through `hooks` in `schemathesis.toml`. They run before each request is
sent, in every phase, and only reshape the request so that it means what the
contract says; no check is switched off and no failure is dropped here.
"""

from __future__ import annotations

import json
import uuid
from typing import Any
from urllib.parse import urlencode

import schemathesis

FORM = "application/x-www-form-urlencoded"
# Object (and array) fields of form bodies travel as JSON text: the spec's form
# encodings say `extra_config: {contentType: application/json}`, and so for
# `options`, and a task's `args` and `kwargs`.
JSON_FORM_FIELDS = ("extra_config", "options", "args", "kwargs")
# Routes of the branch that `{app}` can spell; the spec leaves them out of AppName.
BRANCH_ROUTES = {"ping", "branches", "openapi.yaml", "docs", "ui", "metrics", "operations"}


@schemathesis.hook
def before_call(context, case, kwargs: dict[str, Any]) -> None:
    _keep_valid_cases_valid(case)
    _one_idempotency_key_per_request(case)
    _stay_on_the_operation(case)
    _encode_form_objects_as_json(case, kwargs)


def _keep_valid_cases_valid(case) -> None:
    """A field given in both the query and the body must have one value, else 422;
    `?branch=` goes with `scope=cluster` only.

    The schema describes query and body separately, so a schema-valid case can
    give two different values. For such cases the body's value is kept and the
    query copy dropped; the case stays schema-valid and becomes contract-valid.
    """
    meta = case.meta
    if not (meta and meta.generation.mode.is_positive):
        return
    if isinstance(case.body, dict) and case.query:
        for name in [name for name in case.query if name in case.body]:
            del case.query[name]
    # `branch` names the member that takes an instance, with scope=cluster only
    # (422 otherwise); the schema cannot tie one parameter to another's value.
    if case.query and "branch" in case.query and case.query.get("scope") != "cluster":
        del case.query["branch"]


def _one_idempotency_key_per_request(case) -> None:
    """A client makes a new Idempotency-Key for every request it means as new.

    Generated cases reuse the spec's example key for different requests, which
    the contract refuses with 422 (a key names one request). Valid cases get a
    fresh key; invalid ones keep theirs, to test the header's validation.
    """
    meta = case.meta
    positive = meta and meta.generation.mode.is_positive
    if positive and case.headers and "Idempotency-Key" in case.headers:
        case.headers["Idempotency-Key"] = str(uuid.uuid4())


def _stay_on_the_operation(case) -> None:
    """`GET /{app}` with app=ping is `GET /ping`, another operation that answers 200.

    Negative tests of getApp draw those names because the schema excludes them.
    They are replaced by `admin`, which the schema excludes too but which is no
    route, so the request still tests getApp with a forbidden name.
    """
    if (
        case.operation.path == "/{app}"
        and case.method.upper() == "GET"
        and case.path_parameters.get("app") in BRANCH_ROUTES
    ):
        case.path_parameters["app"] = "admin"


def _encode_form_objects_as_json(case, kwargs: dict[str, Any]) -> None:
    """Send object fields of form bodies as JSON text, as the spec's `encoding` says.

    Schemathesis 4.32 ignores `encoding.contentType` for form bodies and explodes
    an object into top-level keys (`extra_config={"a": 1}` goes out as `a=1`),
    and an array into repeated keys, which are different requests. A null has
    no form spelling (Schemathesis sends the text `null`): in a valid case, a
    field that is null is left out, which is what a form that means no value
    does; an invalid case keeps the text, lest leaving out its one unknown
    field make it valid. The generated
    body is left untouched (so the case keeps its positive or negative
    meaning); only the wire form is replaced.
    """
    body = case.body
    if not (case.media_type or "").startswith(FORM) or not isinstance(body, dict):
        return
    as_json = any(name in body and not isinstance(body[name], str) for name in JSON_FORM_FIELDS)
    if not as_json and None not in body.values():
        return
    meta = case.meta
    positive = bool(meta and meta.generation.mode.is_positive)
    pairs: list[tuple[str, str]] = []
    for name, value in body.items():
        if value is None and positive:
            continue
        if name in JSON_FORM_FIELDS and not isinstance(value, str):
            pairs.append((name, json.dumps(value)))
        elif isinstance(value, list):
            pairs.extend((name, _wire(item)) for item in value)
        else:
            pairs.append((name, _wire(value)))
    kwargs["data"] = urlencode(pairs)


def _wire(value: Any) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value)
