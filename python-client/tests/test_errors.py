"""Every error class, each raised by a real answer of the branch where it can give one."""

from __future__ import annotations

import logging

import httpx
import pytest
from conftest import TOKEN, Api, unique
from cyme_branch.testing import LiveBranch, free_port

import cyme
from cyme import (
    APIConnectionError,
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    ConflictError,
    InternalServerError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    UnprocessableEntityError,
)


def fault(value: str) -> dict[str, str]:
    # A fault is counted per id; a unique id keeps tests apart.
    return {"Cyme-Fault": f"{value}; id={unique('fault')}"}


def test_not_found(api: Api) -> None:
    with pytest.raises(NotFoundError) as caught:
        api.run(api.client.get(unique("missing")))
    error = caught.value
    assert error.status_code == 404
    assert error.problem_type == "urn:cyme:problem:not-found"
    assert error.body is not None
    assert error.body["status"] == 404
    assert error.request_id
    assert error.method == "GET"
    assert error.url.startswith(api.client.base_url)


def test_conflict_and_unprocessable(api: Api) -> None:
    run = api.run
    app = run(api.client.add(unique("app")))
    instance = run(app.instances.add())
    with pytest.raises(ConflictError):
        run(app.instances.add(instance.name))
    with pytest.raises(ConflictError):
        run(instance.consumers.delete(f"dq.{instance.name}"))
    with pytest.raises(UnprocessableEntityError) as caught:
        run(instance.autoscale(min=11, max=10))
    assert caught.value.errors[0]["field"] == "min"
    run(app.delete())


def test_bad_request(client: cyme.Client) -> None:
    with pytest.raises(BadRequestError):
        client.ping(extra_headers=fault("status=400"))


@pytest.mark.parametrize(
    ("status", "cls"),
    [(429, RateLimitError), (500, InternalServerError), (503, InternalServerError),
     (405, APIStatusError), (418, APIStatusError)],
)  # fmt: skip
def test_status_classes(client: cyme.Client, status: int, cls: type[APIStatusError]) -> None:
    with pytest.raises(cls) as caught:
        client.with_options(max_retries=0).ping(extra_headers=fault(f"status={status}"))
    assert type(caught.value) is cls
    assert caught.value.status_code == status


def test_permission_denied(api: Api) -> None:
    """403: what a web page of another origin sends, or a request for a host name the
    branch does not answer to (DNS rebinding), is refused; it is not retried."""
    with pytest.raises(PermissionDeniedError) as caught:
        api.run(api.client.ping(extra_headers={"Origin": "http://evil.example"}))
    error = caught.value
    assert error.status_code == 403
    assert error.problem_type == "urn:cyme:problem:cross-site-request"
    assert error.request_id
    with pytest.raises(PermissionDeniedError) as caught:
        api.run(api.client.all_names(extra_headers={"Host": "attacker.example"}))
    assert caught.value.problem_type == "urn:cyme:problem:host-not-allowed"
    assert 403 not in cyme.RETRY_STATUSES


def test_authentication(token_branch: LiveBranch) -> None:
    with cyme.Client(token_branch.url) as anonymous, pytest.raises(AuthenticationError) as denied:
        anonymous.all_names()
    assert denied.value.headers["www-authenticate"] == 'Bearer realm="cyme"'
    with cyme.Client(token_branch.url, token=TOKEN) as client:
        assert client.branches == [token_branch.id]
        assert client.ping() == "pong"
    with cyme.Client(token_branch.url, token="wrong") as wrong:
        with pytest.raises(AuthenticationError) as caught:
            wrong.all_names()
        assert "wrong" not in str(caught.value)
        assert "wrong" not in repr(wrong)


def test_token_from_environment(token_branch: LiveBranch, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CYME_TOKEN", TOKEN)
    monkeypatch.setenv("CYME_URL", token_branch.url)
    with cyme.Client() as client:
        assert client.base_url == token_branch.url
        assert client.all_names() == []


def test_connection_error(api: Api) -> None:
    """A refused connection is no timeout, on aiohttp too (whose adapter says ConnectTimeout)."""
    client = api.make(f"http://127.0.0.1:{free_port()}", max_retries=0)
    with pytest.raises(APIConnectionError) as caught:
        api.run(client.ping())
    assert not isinstance(caught.value, APITimeoutError)
    assert caught.value.method == "GET"


@pytest.mark.parametrize("timeout", [0.5, httpx.Timeout(10.0, read=0.5)], ids=["float", "read"])
def test_timeout(api: Api, timeout: float | httpx.Timeout) -> None:
    with pytest.raises(APITimeoutError):
        api.run(api.client.ping(timeout=timeout, max_retries=0, extra_headers=fault("delay=2")))


def test_a_slow_answer_within_the_timeout(api: Api) -> None:
    """The setting of test_timeout is a bound, not a failure whatever the answer: a
    read timeout longer than the delay, with short connect and pool ones, waits."""
    timeout = httpx.Timeout(0.5, read=5.0)
    assert api.run(api.client.ping(timeout=timeout, max_retries=0, extra_headers=fault("delay=1")))


def test_secrets_stay_out_of_logs_and_errors(
    api: Api, branch: LiveBranch, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="cyme")
    client, run = api.make(branch.url, token="tok-abc123"), api.run
    app = run(client.add(unique("app"), broker="amqp://guest:pa55word@localhost//"))
    with pytest.raises(UnprocessableEntityError) as caught:
        run(client.add(app.name, broker="not a url pa55word"))
    run(client.ping(extra_headers=fault("status=503; retry-after=0")))
    run(app.delete())
    text = caplog.text + str(caught.value) + repr(caught.value) + repr(app) + repr(client)
    assert "pa55word" not in text
    assert "tok-abc123" not in text
    assert f"PUT {branch.url}/{app.name} -> 201" in caplog.text
    assert "retry 1 of GET" in caplog.text


def test_error_url_has_no_credentials() -> None:
    request = httpx.Request("GET", "http://user:pw@localhost:1/x?secret=1")
    error = APIConnectionError(request=request)
    assert "pw" not in str(error)
    assert "secret" not in str(error)
    assert error.url == "http://localhost:1/x"
