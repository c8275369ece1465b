"""Cyme-Fault: injected failures, for clients to test their retries against.

Observed with plain httpx clients: an injected 500 is a problem of type
`injected-fault`, which the contract client would take for a real bug.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import httpx
import pytest
from contract import unique

from cyme_branch.testing import LiveBranch

FAULT_TYPE = "urn:cyme:problem:injected-fault"

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def faulty(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveBranch]:
    with LiveBranch(
        tmp_path_factory.mktemp("faulty-branch"), "faulty", fault_injection=True
    ) as live:
        yield live


@pytest.fixture
def http(faulty: LiveBranch) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=faulty.url, timeout=5) as client:
        yield client


def fault(settings: str) -> dict[str, str]:
    return {"Cyme-Fault": settings}


def assert_fault(response: httpx.Response, status: int) -> dict:
    assert response.status_code == status, (
        f"expected {status}, got {response.status_code}: {response.text}"
    )
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["type"] == FAULT_TYPE
    assert body["status"] == status
    assert body["title"]
    assert response.headers.get("x-request-id")
    return body


def test_503_twice_then_success(http: httpx.Client):
    headers = fault(f"status=503; retry-after=2; times=2; id={unique('f')}")
    for _ in range(2):
        response = http.get("/", headers=headers)
        assert_fault(response, 503)
        assert response.headers.get("retry-after") == "2"
    third = http.get("/", headers=headers)
    assert third.status_code == 200, third.text
    assert isinstance(third.json(), list)
    assert http.get("/", headers=headers).status_code == 200


def test_429_has_a_default_retry_after(http: httpx.Client):
    headers = fault(f"status=429; id={unique('f')}")
    response = http.get("/branches", headers=headers)
    assert_fault(response, 429)
    assert response.headers.get("retry-after") == "1"
    assert http.get("/branches", headers=headers).json() == ["faulty"]


def test_503_has_a_default_retry_after(http: httpx.Client):
    response = http.get("/", headers=fault(f"status=503; id={unique('f')}"))
    assert_fault(response, 503)
    assert response.headers.get("retry-after") == "1"


def test_500(http: httpx.Client):
    headers = fault(f"status=500; id={unique('f')}")
    response = http.get("/", headers=headers)
    assert_fault(response, 500)
    assert "retry-after" not in response.headers
    assert "Traceback" not in response.text
    assert http.get("/", headers=headers).status_code == 200


def test_an_injected_status_does_not_do_the_work(http: httpx.Client):
    app = unique("app")
    assert http.put(f"/{app}").status_code == 201
    try:
        headers = fault(f"status=503; times=1; id={unique('f')}")
        assert_fault(http.post(f"/{app}/instances", headers=headers), 503)
        assert http.get(f"/{app}/instances").json() == []
        created = http.post(f"/{app}/instances", headers=headers)
        assert created.status_code == 201
        assert http.get(f"/{app}/instances").json() == [created.json()["name"]]
    finally:
        http.delete(f"/{app}")


def test_delay_then_a_normal_answer(http: httpx.Client):
    started = time.monotonic()
    response = http.get("/branches", headers=fault(f"delay=1; id={unique('f')}"))
    elapsed = time.monotonic() - started
    assert response.status_code == 200
    assert response.json() == ["faulty"]
    assert elapsed >= 1.0, f"answered after {elapsed:.2f}s"
    assert elapsed < 3.0, f"answered after {elapsed:.2f}s"


def test_delay_with_a_status(http: httpx.Client):
    started = time.monotonic()
    response = http.get("/", headers=fault(f"delay=0.5; status=502; id={unique('f')}"))
    assert time.monotonic() - started >= 0.5
    assert_fault(response, 502)


def test_drop_closes_the_connection(faulty: LiveBranch, http: httpx.Client):
    headers = fault(f"drop; id={unique('f')}")
    with pytest.raises((httpx.RemoteProtocolError, httpx.ReadError)):
        httpx.get(f"{faulty.url}/branches", headers=headers, timeout=5)
    # times defaults to 1: the retry is served, and so is everyone else.
    assert httpx.get(f"{faulty.url}/branches", headers=headers, timeout=5).status_code == 200
    assert http.get("/ping").json() == {"ok": "pong"}
    assert faulty.proc is not None
    assert faulty.proc.poll() is None


def test_different_ids_are_independent(http: httpx.Client):
    a = fault(f"status=503; times=1; id={unique('a')}")
    b = fault(f"status=503; times=1; id={unique('b')}")
    assert_fault(http.get("/", headers=a), 503)
    assert_fault(http.get("/", headers=b), 503)
    assert http.get("/", headers=a).status_code == 200
    assert http.get("/", headers=b).status_code == 200


def test_the_id_defaults_to_the_whole_header(http: httpx.Client):
    # Used once per branch: without an id, the header's value names the fault.
    first = fault("status=503; retry-after=3")
    second = fault("status=503; retry-after=4")
    assert_fault(http.get("/", headers=first), 503)
    assert_fault(http.get("/", headers=second), 503)
    assert http.get("/", headers=first).status_code == 200
    assert http.get("/", headers=second).status_code == 200


def test_without_the_flag_the_header_is_ignored(branch: LiveBranch):
    for settings in ("status=503", "status=500; times=5", "drop", "delay=3"):
        started = time.monotonic()
        response = httpx.get(f"{branch.url}/branches", headers=fault(settings), timeout=5)
        assert response.status_code == 200, f"{settings}: {response.text}"
        assert time.monotonic() - started < 2.5, "delay=3 was obeyed"


def test_after_fails_once_the_work_is_done(faulty: LiveBranch):
    """`after`: the request is handled, then its answer lost; a key makes the retry safe."""
    with httpx.Client(base_url=faulty.url, timeout=5) as http:
        app = unique("app")
        assert http.put(f"/{app}").status_code == 201
        lost = {"Cyme-Fault": f"status=503; after; id={unique('f')}"}
        assert http.post(f"/{app}/instances", headers=lost).status_code == 503
        assert len(http.get(f"/{app}/instances").json()) == 1, "the work was done"
        keyed = {"Cyme-Fault": f"drop; after; id={unique('f')}", "Idempotency-Key": unique("k")}
        with pytest.raises(httpx.TransportError):
            http.post(f"/{app}/instances", headers=keyed)
        retried = http.post(f"/{app}/instances", headers=keyed)
        assert retried.status_code == 201
        assert retried.headers["Idempotent-Replayed"] == "true"
        assert len(http.get(f"/{app}/instances").json()) == 2
        bad = {"Cyme-Fault": "after; delay=0.1"}
        assert http.get("/", headers=bad).status_code == 400
