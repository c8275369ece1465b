"""X-Request-Id on every answer, and one access-log line per request."""

from __future__ import annotations

import re
import socket

import httpx
import pytest
from contract import unique
from live import access_lines, log_fields, wait_for_access_line

from cyme_branch.testing import LiveBranch

PRINTABLE_ID = re.compile(r"^[\x21-\x7e]{1,128}$")


def request_id(response: httpx.Response) -> str:
    rid = response.headers.get("x-request-id")
    assert rid, f"{response.request.method} {response.request.url.path}: no X-Request-Id"
    return rid


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/ping"),
        ("GET", "/"),
        ("GET", "/openapi.yaml"),
        ("GET", "/no/such/route/at/all"),  # 404
        ("PUT", "/ping"),  # 405
        ("GET", "/branches/a..b"),  # 422
        ("HEAD", "/"),
    ],
)
def test_every_answer_has_a_request_id(client: httpx.Client, method: str, path: str):
    assert PRINTABLE_ID.match(request_id(client.request(method, path)))


def test_generated_ids_differ(client: httpx.Client):
    ids = {request_id(client.get("/ping")) for _ in range(5)}
    assert len(ids) == 5


@pytest.mark.parametrize(
    "rid", ["abc-123", "x" * 128, "Ab0_~!#$%&'*+.^`|:@/[]{}"], ids=["short", "max", "symbols"]
)
def test_a_sent_id_is_echoed(client: httpx.Client, rid: str):
    response = client.get("/ping", headers={"X-Request-Id": rid})
    assert response.headers.get("x-request-id") == rid


def test_a_sent_id_is_echoed_on_errors(client: httpx.Client):
    rid = unique("err")
    response = client.get("/no-such-app-zz/instances", headers={"X-Request-Id": rid})
    assert response.status_code == 404
    assert response.headers.get("x-request-id") == rid


@pytest.mark.parametrize(
    "rid",
    ["x" * 129, "y" * 1000, b"abc\x01def", b"abc\x7fdef", b"abc\tdef", "caf\u00e9".encode()],
    ids=["129", "1000", "ctrl", "del", "tab", "non-ascii"],
)
def test_an_invalid_id_is_replaced(client: httpx.Client, branch: LiveBranch, rid: str | bytes):
    response = httpx.get(f"{branch.url}/ping", headers={"X-Request-Id": rid}, timeout=5)
    got = request_id(response)
    sent = rid.decode("latin-1") if isinstance(rid, bytes) else rid
    assert got != sent
    assert PRINTABLE_ID.match(got), repr(got)
    # A control character makes the header invalid HTTP: 400 is fair there.
    allowed = {200, 400} if sent in ("abc\x01def", "abc\x7fdef") else {200}
    assert response.status_code in allowed, response.text


def raw_request(branch: LiveBranch, data: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", branch.port), timeout=5) as sock:
        sock.sendall(data)
        chunks = []
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                break
            chunks.append(chunk)
    return b"".join(chunks)


def test_a_malformed_request_gets_a_request_id(branch: LiveBranch):
    answer = raw_request(branch, b"GET /ping HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n")
    head = answer.split(b"\r\n\r\n", 1)[0].decode("latin-1").lower()
    assert head.startswith(("http/1.1 400", "http/1.0 400")), head
    assert "\r\nx-request-id: " in head, head


def test_one_access_line_per_request(client: httpx.Client, branch: LiveBranch, app: str):
    sent = {
        ("GET", "/ping", 200): unique("rid"),
        ("PUT", f"/{app}/queues/q1", 201): unique("rid"),
        ("GET", "/no/such/route", 404): unique("rid"),
        ("DELETE", "/ping", 405): unique("rid"),
        ("POST", f"/{app}/instances", 201): unique("rid"),
    }
    for (method, path, status), rid in sent.items():
        response = client.request(method, path, headers={"X-Request-Id": rid})
        assert response.status_code == status
    last = list(sent.values())[-1]
    assert wait_for_access_line(branch, last), f"no access line for {last}:\n{branch.log_tail()}"
    log = branch.log_text()
    for (method, path, status), rid in sent.items():
        lines = access_lines(log, rid)
        assert len(lines) == 1, f"{method} {path}: {len(lines)} access lines:\n{lines}"
        fields = lines[0]
        assert fields["method"] == method, fields["_line"]
        assert fields["path"] == path, fields["_line"]
        assert fields["status"] == str(status), fields["_line"]
        assert re.fullmatch(r"\d+(\.\d+)?", fields["duration_ms"]), fields["_line"]


def test_a_generated_id_is_in_the_access_log(client: httpx.Client, branch: LiveBranch):
    rid = request_id(client.get("/ping"))
    lines = wait_for_access_line(branch, rid)
    assert len(lines) == 1, f"access lines for {rid}: {lines}\n{branch.log_tail()}"
    assert lines[0]["path"] == "/ping"


def test_access_lines_are_formatted_like_the_other_log_lines(client: httpx.Client, branch):
    rid = request_id(client.get("/ping"))
    lines = wait_for_access_line(branch, rid)
    assert len(lines) == 1, lines
    stamp = r"\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}: INFO\] "
    assert re.match(stamp + "method=GET path=/ping ", lines[0]["_line"]), lines[0]["_line"]
    started = next(line for line in branch.log_text().splitlines() if "serving on" in line)
    assert re.match(stamp + "serving on http://", started), started


def test_the_query_string_is_not_logged(client: httpx.Client, branch: LiveBranch):
    app = unique("app")
    secret = unique("s3cr3t")
    rid = unique("rid")
    response = client.put(
        f"/{app}?broker=amqp://user:{secret}@rabbit:5672//&arguments=--x={secret}",
        headers={"X-Request-Id": rid},
    )
    assert response.status_code == 201, response.text
    try:
        lines = wait_for_access_line(branch, rid)
        assert len(lines) == 1, lines
        assert lines[0]["path"] == f"/{app}", lines[0]["_line"]
        assert "?" not in lines[0]["_line"]
        log = branch.log_text()
        assert secret not in log, [line for line in log.splitlines() if secret in line]
    finally:
        client.delete(f"/{app}")


def test_the_access_log_carries_the_echoed_id_of_an_error(client: httpx.Client, branch: LiveBranch):
    rid = unique("rid")
    response = client.post("/no-such-app-zz/instances?nowait=true", headers={"X-Request-Id": rid})
    assert response.status_code == 404
    lines = wait_for_access_line(branch, rid)
    assert len(lines) == 1, lines
    assert lines[0]["status"] == "404"
    assert lines[0]["path"] == "/no-such-app-zz/instances"


def test_a_request_id_cannot_forge_access_log_fields(client: httpx.Client, branch: LiveBranch):
    """An id with spaces is either replaced or logged so that the fields still parse."""
    marker = unique("forge")
    sent = f"{marker} status=599 path=/forged method=DELETE"
    response = client.get("/ping", headers={"X-Request-Id": sent})
    assert response.status_code == 200
    rid = request_id(response)
    lines = wait_for_access_line(branch, rid)
    if not lines:  # logged another way: find it by the marker
        lines = [
            {**log_fields(line), "_line": line}
            for line in branch.log_text().splitlines()
            if marker in line
        ]
    assert len(lines) == 1, f"access lines for {rid!r}: {lines}"
    fields = lines[0]
    assert (fields["method"], fields["path"], fields["status"]) == ("GET", "/ping", "200"), (
        f"the request id rewrote the access line: {fields['_line']}"
    )
