"""Retries: Retry-After, backoff, and POSTs made safe by their Idempotency-Key."""

from __future__ import annotations

import email.utils
import time

import httpx
import pytest
import respx
from conftest import APP_JSON, INSTANCE_JSON, Api, unique

import cyme
from cyme import InternalServerError
from cyme._base_client import BaseClient, parse_retry_after


def fault(value: str) -> dict[str, str]:
    return {"Cyme-Fault": f"{value}; id={unique('fault')}"}


def test_retry_after_is_honoured(api: Api) -> None:
    started = time.monotonic()
    assert api.run(api.client.ping(extra_headers=fault("status=503; retry-after=1; times=2")))
    assert time.monotonic() - started >= 2.0


def test_too_few_retries_raise(client: cyme.Client) -> None:
    headers = fault("status=503; retry-after=1; times=2")
    with pytest.raises(InternalServerError):
        client.ping(max_retries=1, extra_headers=headers)


@pytest.mark.parametrize("named", [True, False])
def test_post_retried_with_one_key_creates_one_instance(api: Api, named: bool) -> None:
    app = api.run(api.client.add(unique("app")))
    name = unique("w") if named else None
    # `after`: the branch creates the instance, then the answer is lost. Only
    # the key reused by the retry keeps it from making a second one (or 409).
    headers = fault("status=503; retry-after=0; times=1; after")
    instance = api.run(app.instances.add(name, extra_headers=headers))
    assert api.run(app.instances.all_names()) == [instance.name]
    api.run(app.delete())


def test_dropped_connection_is_retried(api: Api) -> None:
    app = api.run(api.client.add(unique("app")))
    instance = api.run(app.instances.add(extra_headers=fault("drop; after")))
    assert api.run(app.instances.all_names()) == [instance.name]
    api.run(app.delete())


@respx.mock
def test_same_idempotency_key_on_every_retry() -> None:
    route = respx.post("http://branch.test/app/instances").mock(
        side_effect=[
            httpx.Response(503, headers={"Retry-After": "0"}),
            httpx.Response(502, headers={"Retry-After": "0"}),
            httpx.Response(201, json=INSTANCE_JSON),
        ]
    )
    with cyme.Client("http://branch.test") as client:
        app = cyme.App.bind(client, APP_JSON)
        assert app.instances.add().name == "w1"
    keys = {call.request.headers["Idempotency-Key"] for call in route.calls}
    assert len(route.calls) == 3
    assert len(keys) == 1


@respx.mock
def test_retry_after_as_http_date(monkeypatch: pytest.MonkeyPatch) -> None:
    slept: list[float] = []
    monkeypatch.setattr(time, "sleep", slept.append)
    when = email.utils.formatdate(time.time() + 30, usegmt=True)
    respx.get("http://branch.test/ping").mock(
        side_effect=[
            httpx.Response(429, headers={"Retry-After": when}),
            httpx.Response(200, json={"ok": "pong"}),
        ]
    )
    with cyme.Client("http://branch.test") as client:
        assert client.ping() == "pong"
    assert 27 <= slept[0] <= 30


@respx.mock
def test_retry_after_is_capped_and_404_not_retried(monkeypatch: pytest.MonkeyPatch) -> None:
    slept: list[float] = []
    monkeypatch.setattr(time, "sleep", slept.append)
    respx.get("http://branch.test/ping").mock(
        side_effect=[
            httpx.Response(503, headers={"Retry-After": "3600"}),
            httpx.Response(404, json={"type": "x", "title": "Not found", "status": 404}),
        ]
    )
    with cyme.Client("http://branch.test") as client, pytest.raises(cyme.NotFoundError):
        client.ping()
    assert slept == [cyme.MAX_RETRY_AFTER]


def test_backoff_grows_with_jitter_and_is_capped() -> None:
    for attempt in range(8):
        delay = BaseClient._retry_delay(attempt, None)
        full = min(cyme.INITIAL_RETRY_DELAY * 2**attempt, cyme.MAX_RETRY_DELAY)
        assert full * (1 - cyme.RETRY_JITTER) <= delay <= full


def test_parse_retry_after() -> None:
    assert parse_retry_after("2") == 2.0
    assert parse_retry_after("-1") == 0.0
    assert parse_retry_after("soon") is None
    assert parse_retry_after(None) is None


def test_post_without_key_is_not_retried() -> None:
    request = httpx.Request("POST", "http://branch.test/x")
    response = httpx.Response(503, request=request)
    assert not BaseClient._should_retry(request, response, 0, 2)
    request.headers["Idempotency-Key"] = "k"
    assert BaseClient._should_retry(request, response, 0, 2)
    assert not BaseClient._should_retry(request, response, 2, 2)
