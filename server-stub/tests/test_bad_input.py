"""Bad input is refused with the right problem, changes nothing, and the branch keeps serving."""

from __future__ import annotations

import json
from typing import Any, NamedTuple

import httpx
import pytest
from contract import assert_problem, snapshot, unique

MIB = 1024 * 1024
JSON = {"content-type": "application/json"}
TEXT = {"content-type": "text/plain"}


class Bad(NamedTuple):
    method: str
    path: str  # {app} and {inst} are filled in
    kwargs: dict[str, Any]
    status: int
    field: str | None = None
    location: str | None = None


CASES = {
    # 400: the body cannot be parsed
    "malformed-json": Bad("PUT", "/{app}", {"content": b'{"broker": ', "headers": JSON}, 400),
    "malformed-json-autoscale": Bad(
        "PUT", "/{app}/instances/{inst}/autoscale", {"content": b"{min=4}", "headers": JSON}, 400
    ),
    "json-array": Bad("PUT", "/{app}", {"content": b"[1, 2]", "headers": JSON}, 400),
    "json-number": Bad(
        "PUT", "/{app}/instances/{inst}/autoscale", {"content": b"4", "headers": JSON}, 400
    ),
    "json-string": Bad("POST", "/{app}/instances", {"content": b'"x"', "headers": JSON}, 400),
    "json-null": Bad("PUT", "/{app}/queues/celery", {"content": b"null", "headers": JSON}, 400),
    "bad-utf8": Bad(
        "PUT", "/{app}", {"content": b'{"arguments": "\xff\xfe"}', "headers": JSON}, 400
    ),
    "malformed-json-post-app": Bad("POST", "/{app}", {"content": b"{,}", "headers": JSON}, 400),
    "malformed-json-named-instance": Bad(
        "POST", "/{app}/instances/never-made", {"content": b'{"pool": }', "headers": JSON}, 400
    ),
    "json-array-post-autoscale": Bad(
        "POST", "/{app}/instances/{inst}/autoscale", {"content": b"[4, 10]", "headers": JSON}, 400
    ),
    "malformed-json-post-queue": Bad(
        "POST", "/{app}/queues/celery", {"content": b"{'a': 1}", "headers": JSON}, 400
    ),
    # 415: neither JSON nor a form
    "text-plain": Bad(
        "PUT",
        "/{app}",
        {"content": b"broker=amqp://", "headers": {"content-type": "text/plain"}},
        415,
    ),
    "text-plain-instance": Bad(
        "POST",
        "/{app}/instances",
        {"content": b"x", "headers": {"content-type": "text/plain"}},
        415,
    ),
    "xml-autoscale": Bad(
        "PUT",
        "/{app}/instances/{inst}/autoscale",
        {"content": b"<min>4</min>", "headers": {"content-type": "application/xml"}},
        415,
    ),
    "text-plain-named-instance": Bad(
        "POST", "/{app}/instances/never-made", {"content": b"pool=solo", "headers": TEXT}, 415
    ),
    "text-plain-queue": Bad(
        "PUT", "/{app}/queues/images", {"content": b"{}", "headers": TEXT}, 415
    ),
    "multipart-app": Bad("POST", "/{app}", {"files": {"arguments": (None, "--x")}}, 415),
    # 413: over 1 MiB
    "huge-json": Bad("PUT", "/{app}", {"json": {"arguments": "x" * (MIB + 10)}}, 413),
    "huge-form": Bad("POST", "/{app}/instances", {"data": {"arguments": "x" * (MIB + 10)}}, 413),
    "huge-chunked": Bad(
        "PUT", "/{app}", {"content": [b'{"arguments": "', b"x" * MIB, b'"}'], "headers": JSON}, 413
    ),
    "huge-queue": Bad(
        "PUT", "/{app}/queues/celery", {"content": b" " * (MIB + 1), "headers": JSON}, 413
    ),
    "huge-named-instance": Bad(
        "POST", "/{app}/instances/never-made", {"json": {"arguments": "x" * (MIB + 10)}}, 413
    ),
    "huge-autoscale": Bad(
        "PUT", "/{app}/instances/{inst}/autoscale", {"data": {"min": "1" * (MIB + 10)}}, 413
    ),
    # 422: wrong types and values, named
    "min-not-int": Bad(
        "PUT", "/{app}/instances/{inst}/autoscale", {"json": {"min": "x"}}, 422, "min", "body"
    ),
    "min-over-max": Bad(
        "PUT", "/{app}/instances/{inst}/autoscale", {"json": {"min": 8, "max": 5}}, 422, "min"
    ),
    "min-negative": Bad(
        "PUT", "/{app}/instances/{inst}/autoscale", {"json": {"min": -1}}, 422, "min", "body"
    ),
    "max-huge": Bad(
        "PUT", "/{app}/instances/{inst}/autoscale", {"json": {"max": 100000}}, 422, "max", "body"
    ),
    "unknown-field": Bad("PUT", "/{app}", {"json": {"colour": "red"}}, 422, "colour", "body"),
    "unknown-form-field": Bad(
        "POST", "/{app}/instances", {"data": {"colour": "red"}}, 422, "colour", "body"
    ),
    "bad-broker-form": Bad("PUT", "/{app}", {"data": {"broker": "nope"}}, 422, "broker", "body"),
    "query-body-disagree": Bad(
        "PUT",
        "/{app}/queues/celery",
        {"params": {"exchange": "a"}, "json": {"exchange": "b"}},
        422,
        "exchange",
    ),
    # 404: unknown app
    "unknown-app-instance": Bad("POST", "/no-such-app/instances", {}, 404),
    "unknown-app-queue": Bad("PUT", "/no-such-app/queues/celery", {}, 404),
    "unknown-app-delete": Bad("DELETE", "/no-such-app", {}, 404),
}


@pytest.fixture
def populated(client: httpx.Client, app: str) -> tuple[str, str]:
    """An app with a queue and an instance that consumes it and autoscales."""
    client.put(f"/{app}", json={"broker": "redis://localhost:6379/0"})
    client.put(f"/{app}/queues/celery")
    name = unique("w")
    client.post(f"/{app}/instances/{name}")
    client.put(f"/{app}/instances/{name}/autoscale", json={"min": 2, "max": 6})
    client.put(f"/{app}/instances/{name}/queues/celery")
    return app, name


def send(client: httpx.Client, app: str, inst: str, case: Bad) -> httpx.Response:
    path = case.path.format(app=app, inst=inst)
    return client.request(case.method, path, **case.kwargs)


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_bad_input_is_refused_and_changes_nothing(
    client: httpx.Client, populated: tuple[str, str], case: Bad
):
    app, inst = populated
    before = snapshot(client, app)
    instances_before = sorted(client.get(f"/{app}/instances").json())

    response = send(client, app, inst, case)

    assert_problem(response, case.status, field=case.field, location=case.location)
    assert snapshot(client, app) == before
    assert sorted(client.get(f"/{app}/instances").json()) == instances_before
    assert client.get("/ping").json() == {"ok": "pong"}


BAD_NAMES = {
    "slash": "a%2Fb",
    "dot-dot": "a..b",
    "encoded-dot-dot": "%2E%2E",
    "leading-dot": ".a",
    "trailing-dot": "a.",
    "space": "a%20b",
    "control": "a%01b",
    "newline": "a%0Ab",
    "tab": "a%09b",
    "nul": "a%00b",
    "delete-char": "a%7Fb",
    "non-ascii": "caf%C3%A9",
    "too-long": "x" * 129,
}


NAME_PATHS = {
    "put-app": ("PUT", "/{bad}", "app"),
    "get-app": ("GET", "/{bad}", "app"),
    "delete-app": ("DELETE", "/{bad}", "app"),
    "list-instances": ("GET", "/{bad}/instances", "app"),
    "list-queues": ("GET", "/{bad}/queues", "app"),
    "create-instance": ("POST", "/{app}/instances/{bad}", "instance"),
    "get-instance": ("GET", "/{app}/instances/{bad}", "instance"),
    "delete-instance": ("DELETE", "/{app}/instances/{bad}", "instance"),
    "get-autoscale": ("GET", "/{app}/instances/{bad}/autoscale", "instance"),
    "put-autoscale": ("PUT", "/{app}/instances/{bad}/autoscale", "instance"),
    "stats": ("GET", "/{app}/instances/{bad}/stats", "instance"),
    "consumers": ("GET", "/{app}/instances/{bad}/queues", "instance"),
    "put-queue": ("PUT", "/{app}/queues/{bad}", "queue"),
    "get-queue": ("GET", "/{app}/queues/{bad}", "queue"),
    "delete-queue": ("DELETE", "/{app}/queues/{bad}", "queue"),
    "put-consumer": ("PUT", "/{app}/instances/{inst}/queues/{bad}", "queue"),
    "delete-consumer": ("DELETE", "/{app}/instances/{inst}/queues/{bad}", "queue"),
    "get-branch": ("GET", "/branches/{bad}", "branch"),
}


@pytest.mark.parametrize("bad", BAD_NAMES.values(), ids=BAD_NAMES.keys())
@pytest.mark.parametrize(("method", "path", "field"), NAME_PATHS.values(), ids=NAME_PATHS.keys())
def test_invalid_names_are_422_on_the_path_field(
    client: httpx.Client, populated: tuple[str, str], bad: str, method: str, path: str, field: str
):
    app, inst = populated
    before = snapshot(client, app)
    response = client.request(method, path.format(app=app, inst=inst, bad=bad))
    assert_problem(response, 422, field=field, location="path")
    assert snapshot(client, app) == before
    assert client.get("/ping").status_code == 200


@pytest.mark.parametrize("name", ["admin", "openapi.json"])
def test_reserved_app_names_are_refused(client: httpx.Client, name: str):
    apps = client.get("/").json()
    for method in ("PUT", "POST"):
        assert_problem(client.request(method, f"/{name}"), 422, field="app", location="path")
    assert_problem(client.get(f"/{name}"), 422, field="app", location="path")
    assert client.get("/").json() == apps


@pytest.mark.parametrize("name", ["ping", "branches", "openapi.yaml", "docs", "ui"])
def test_writes_on_branch_routes_are_405(client: httpx.Client, name: str):
    apps = client.get("/").json()
    for method in ("PUT", "POST", "DELETE"):
        response = client.request(method, f"/{name}")
        assert_problem(response, 405)
        allowed = {m.strip() for m in response.headers["allow"].split(",")}
        assert allowed - {"HEAD", "OPTIONS"} == {"GET"}
    assert client.get("/").json() == apps
    assert client.get(f"/{name}").status_code == 200


def test_form_object_field_must_be_json(client: httpx.Client, app: str):
    before = snapshot(client, app)
    response = client.put(f"/{app}", data={"extra_config": "not json"})
    assert_problem(response, 422, field="extra_config", location="body")
    assert snapshot(client, app) == before


def test_a_body_of_exactly_1_mib_is_read(client: httpx.Client, app: str):
    body = b'{"arguments": "--exact"}'
    response = client.put(f"/{app}", content=body.ljust(MIB), headers=JSON)
    assert response.status_code == 200
    assert response.json()["arguments"] == "--exact"
    refused = client.put(f"/{app}", content=body.ljust(MIB + 1), headers=JSON)
    assert_problem(refused, 413)
    assert client.get(f"/{app}").json()["arguments"] == "--exact"


def test_invalid_utf8_in_the_query_is_refused(client: httpx.Client, app: str):
    """`?arguments=%FF` is not text; it must not be stored as a replacement character."""
    before = snapshot(client, app)
    response = client.put(f"/{app}?arguments=%FF")
    assert response.status_code in (400, 422), response.text
    assert snapshot(client, app) == before


def test_a_long_but_valid_query_gets_a_json_answer(client: httpx.Client, app: str):
    """extra_config may hold 64 values of 1024 characters, and the query may carry it.

    The branch should take it; if it refuses a URL this long, it must say so
    with a problem document (the `client` fixture checks that), not plain text.
    """
    extra_config = {f"setting_{i}": "v" * 200 for i in range(40)}
    response = client.put(f"/{app}", params={"extra_config": json.dumps(extra_config)})
    assert response.status_code in (200, 414), response.text
    if response.status_code == 200:
        assert response.json()["extra_config"] == extra_config
