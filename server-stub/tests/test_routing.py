"""Trailing slashes, unsupported methods and unknown routes."""

from __future__ import annotations

import json
import socket

import httpx
import pytest
from contract import HTTP_METHODS, assert_problem, load_spec, snapshot, unique

from cyme_branch.testing import LiveBranch

SPEC_PATHS = {
    path: {m.upper() for m in item if m in HTTP_METHODS}
    for path, item in load_spec()["paths"].items()
}
TRY_METHODS = ("GET", "PUT", "POST", "DELETE", "PATCH", "OPTIONS")


@pytest.fixture
def world(client: httpx.Client, branch: LiveBranch, app: str) -> dict[str, str]:
    """Path parameters that all exist, so only the method can be wrong."""
    client.put(f"/{app}/queues/celery")
    name = client.post(f"/{app}/instances/{unique('w')}").json()["name"]
    client.put(f"/{app}/instances/{name}/queues/celery")
    # A change's id: the method is refused before the id is looked up.
    change = "0f5e0d8f6c1b4a3e9d2c7b6a5f4e3d2c"
    return {
        "app": app,
        "instance": name,
        "queue": "celery",
        "branch": branch.id,
        "operation": change,
        "task": "proj.tasks.add",  # a task's name, and an id as good as any
    }


def test_trailing_slash_everywhere(client: httpx.Client, branch: LiveBranch, app: str):
    """Each call with a trailing slash does what it does without one, with no redirect."""
    assert client.get("/ping/").json() == {"ok": "pong"}
    assert client.get("/branches/").json() == [branch.id]
    assert client.get(f"/branches/{branch.id}/").json()["id"] == branch.id
    assert app in client.get("/").json()
    assert client.get(f"/{app}/").json()["name"] == app
    assert client.put(f"/{app}/", json={"arguments": "-l INFO"}).status_code == 200

    created = client.post(f"/{app}/instances/")
    assert created.status_code == 201
    name = created.json()["name"]
    assert client.get(f"/{app}/instances/").json() == [name]
    named = client.post(f"/{app}/instances/{unique('w')}/")
    assert named.status_code == 201
    assert client.get(f"/{app}/instances/{name}/").json()["name"] == name

    autoscale = client.put(f"/{app}/instances/{name}/autoscale/?min=4&max=10")
    assert autoscale.json() == {"max": 10, "min": 4}
    assert client.get(f"/{app}/instances/{name}/autoscale/").json() == {"max": 10, "min": 4}
    assert len(client.get(f"/{app}/instances/{name}/stats/").json()["pool"]["processes"]) == 4

    assert client.put(f"/{app}/queues/celery/").status_code == 201
    assert client.get(f"/{app}/queues/").json() == ["celery"]
    assert client.get(f"/{app}/queues/celery/").json()["name"] == "celery"
    assert client.post(f"/{app}/instances/{name}/queues/celery/").status_code == 201
    assert len(client.get(f"/{app}/instances/{name}/queues/").json()) == 2
    assert client.delete(f"/{app}/instances/{name}/queues/celery/").status_code == 200
    assert client.delete(f"/{app}/queues/celery/").status_code == 200
    assert client.delete(f"/{app}/instances/{name}/").status_code == 200
    assert client.delete(f"/{app}/").status_code == 200
    assert_problem(client.get(f"/{app}/"), 404)


def test_openapi_yaml_with_trailing_slash(client: httpx.Client):
    assert client.get("/openapi.yaml/").text.startswith("openapi: 3.1")


@pytest.mark.parametrize(
    ("path", "method"),
    [
        (path, method)
        for path, methods in SPEC_PATHS.items()
        for method in TRY_METHODS
        if method not in methods
    ],
)
@pytest.mark.parametrize("slash", ["", "/"], ids=["bare", "slash"])
def test_unsupported_method_is_405_with_allow(
    client: httpx.Client, world: dict[str, str], path: str, method: str, slash: str
):
    url = path.format(**world)
    url = url + slash if url != "/" else url
    before = snapshot(client, world["app"])
    response = client.request(method, url)
    body = assert_problem(response, 405)
    assert body["type"] == "urn:cyme:problem:method-not-allowed"
    allowed = {m.strip() for m in response.headers["allow"].split(",")}
    assert allowed - {"HEAD", "OPTIONS"} == SPEC_PATHS[path]
    assert snapshot(client, world["app"]) == before


def test_unknown_method_on_unknown_route_is_404(client: httpx.Client):
    assert_problem(client.request("PATCH", "/a/b/c/d/e/f/g"), 404)


def test_head_answers_wherever_get_does(
    client: httpx.Client, branch: LiveBranch, world: dict[str, str]
):
    """HEAD is GET without a body (RFC 9110), and Allow says so."""
    app, name = world["app"], world["instance"]
    for path in ("/ping", "/", f"/{app}", f"/{app}/instances/{name}", f"/{app}/queues"):
        get, head = client.get(path), client.head(path)
        assert head.status_code == get.status_code == 200
        assert head.content == b""
        assert head.headers["content-type"] == get.headers["content-type"]
    assert httpx.head(f"{branch.url}/{app}/nope").status_code == 404
    put = client.put(f"/{app}/instances/{name}")
    assert "HEAD" in put.headers["allow"].split(", ")


def _raw_request(branch: LiveBranch, data: bytes) -> tuple[str, dict[str, str], bytes]:
    """Send bytes that are not valid HTTP and read the answer."""
    with socket.create_connection(("127.0.0.1", branch.port), timeout=5) as sock:
        sock.sendall(data)
        received = b""
        while chunk := sock.recv(65536):
            received += chunk
    head, _, body = received.partition(b"\r\n\r\n")
    status, *lines = head.decode("latin-1").split("\r\n")
    headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines)}
    return status, headers, body


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(b"GET /ping HTTP/1.1\r\nHost: x\r\nX-Bad: a\x00b\r\n\r\n", id="nul-in-header"),
        pytest.param(
            b"PUT /pycon?broker=amqp://u:s3cret@h//&x=" + b"a" * 70_000 + b" HTTP/1.1\r\n\r\n",
            id="request-line-too-long",
        ),
        pytest.param(
            b"GET /ping HTTP/1.1\r\nHost: x\r\nX-Big: " + b"b" * 20_000 + b"\r\n\r\n",
            id="header-too-long",
        ),
    ],
)
def test_malformed_http_gets_a_problem(branch: LiveBranch, data: bytes):
    """Even a request aiohttp cannot parse is answered with a problem, quoting nothing."""
    status, headers, body = _raw_request(branch, data)
    assert status.split()[1] == "400", status
    assert headers["content-type"] == "application/problem+json"
    problem = json.loads(body)
    assert problem["type"] == "urn:cyme:problem:malformed-request"
    assert b"s3cret" not in body
    assert "s3cret" not in branch.log_text()
    assert httpx.get(f"{branch.url}/ping").status_code == 200
