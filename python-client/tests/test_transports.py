"""A call means the same on `AsyncClient`'s two transports, httpx's own and aiohttp's.

The other tests run through every kind of client already (the `api`
fixture); these take what only a transport decides: the path it sends; what
an answer that never came, or came broken, is raised as; which timeout and
which connection limit stop a call; who closes what; and what `import cyme`
loads.
"""

from __future__ import annotations

import asyncio
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator

import httpx
import pytest
import respx
from conftest import Api, unique
from cyme_branch.testing import LiveBranch

import cyme
from cyme import APIConnectionError, APITimeoutError, UnprocessableEntityError
from cyme._aiohttp import AiohttpTransport


def fault(value: str) -> dict[str, str]:
    return {"Cyme-Fault": f"{value}; id={unique('fault')}"}


@pytest.fixture
def answering(request: pytest.FixtureRequest) -> Iterator[str]:
    """A listener that reads a request and sends `request.param` (bytes), then closes."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    payload: bytes = request.param

    def serve() -> None:
        while True:
            try:
                conn, _ = listener.accept()
            except OSError:
                return  # closed
            with conn:
                conn.recv(65536)
                conn.sendall(payload)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    listener.close()


@pytest.mark.parametrize(
    "answering",
    [
        b"",
        b"not HTTP at all\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 90\r\n\r\n{",
    ],
    ids=["closed", "garbage", "cut-short"],
    indirect=True,
)
def test_no_answer_or_a_broken_one_is_a_connection_error(api: Api, answering: str) -> None:
    """httpx raises RemoteProtocolError for both; httpx-aiohttp a ConnectTimeout for the
    first and aiohttp's own ClientResponseError for the second, which the SDK would
    raise as APITimeoutError and as no error of its own."""
    client = api.make(answering, max_retries=0)
    with pytest.raises(APIConnectionError) as caught:
        api.run(client.ping())
    assert type(caught.value) is APIConnectionError


def test_a_dropped_connection_is_retried_by_the_sdk_alone(api: Api) -> None:
    """aiohttp would resend the GET itself, unseen: the fault's one drop would be
    absorbed, and `max_retries=0` would not hold."""
    with pytest.raises(APIConnectionError) as caught:
        api.run(api.client.ping(max_retries=0, extra_headers=fault("drop; times=1")))
    assert type(caught.value) is APIConnectionError
    assert api.run(api.client.ping(max_retries=1, extra_headers=fault("drop; times=1"))) == "pong"


@pytest.mark.parametrize("name", ["..", "."])
def test_a_name_of_dots_reaches_its_own_route(api: Api, name: str) -> None:
    """The path is sent as escaped (`%2E%2E`): aiohttp, given it as text, would resolve
    it, and the DELETE of the instance `..` would reach the app itself."""
    app = api.run(api.client.add(unique("app")))
    with pytest.raises(UnprocessableEntityError):
        api.run(app.instances.delete(name))
    assert api.run(api.client.get(app.name)) == app
    api.run(app.delete())


@pytest.fixture
def unaccepting() -> Iterator[str]:
    """A listener whose queue of connections is full: the kernel drops further
    connection attempts, so that connecting takes until the connect timeout."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(0)
    address = listener.getsockname()
    fillers = []
    for _ in range(3):
        filler = socket.socket()
        filler.setblocking(False)
        filler.connect_ex(address)
        fillers.append(filler)
    yield f"http://127.0.0.1:{address[1]}"
    for filler in fillers:
        filler.close()
    listener.close()


def test_connect_timeout(api: Api, unaccepting: str) -> None:
    client = api.make(unaccepting, max_retries=0, timeout=httpx.Timeout(30.0, connect=0.3))
    with pytest.raises(APITimeoutError):
        api.run(client.ping())


@pytest.mark.parametrize("kind", ["async", "aiohttp"])
def test_connection_limit_and_pool_timeout(branch: LiveBranch, kind: str) -> None:
    """One connection allowed: a second call waits for it, and gives up after the
    pool timeout (aiohttp's `connect`), on both transports."""
    limits = httpx.Limits(max_connections=1)
    http = cyme.DefaultAioHttpClient(limits=limits) if kind == "aiohttp" else None
    api = Api(kind, branch.url, http_client=http or httpx.AsyncClient(limits=limits))

    async def both() -> list[object]:
        holder = api.client.ping(extra_headers=fault("delay=1.5"))
        waiter = api.client.ping(timeout=httpx.Timeout(10.0, pool=0.3), max_retries=0)
        return list(await asyncio.gather(holder, waiter, return_exceptions=True))

    try:
        held, waited = api.run(both())
    finally:
        api.close()
    assert held == "pong"
    assert isinstance(waited, APITimeoutError)


def test_limits_map_onto_aiohttp() -> None:
    """httpx's None is no limit, aiohttp's 0; the SDK's defaults reach the connector."""

    async def connectors() -> list[tuple[int, float | None]]:
        found = []
        for limits in (cyme.DEFAULT_CONNECTION_LIMITS, httpx.Limits(max_connections=None)):
            transport = AiohttpTransport(limits=limits)
            session = transport.get_client()
            connector = session.connector
            assert connector is not None
            found.append((connector.limit, connector._keepalive_timeout))
            await session.close()
        return found

    assert asyncio.run(connectors()) == [(100, 5.0), (0, 5.0)]


def test_defaults_of_the_aiohttp_client() -> None:
    http = cyme.DefaultAioHttpClient()
    assert isinstance(http, cyme.DefaultAsyncHttpxClient)
    assert http.timeout == cyme.DEFAULT_TIMEOUT
    assert isinstance(http._transport, AiohttpTransport)
    assert http._transport.limits == cyme.DEFAULT_CONNECTION_LIMITS
    proxied = cyme.DefaultAioHttpClient(proxy="http://127.0.0.1:9")
    assert all(isinstance(t, AiohttpTransport) for t in proxied._mounts.values())
    assert proxied._mounts


def test_the_given_client_is_closed_by_its_owner(branch: LiveBranch) -> None:
    async def main() -> tuple[bool, bool]:
        async with cyme.DefaultAioHttpClient() as http:
            async with cyme.AsyncClient(branch.url, http_client=http) as client:
                assert await client.ping() == "pong"
            after_client = http.is_closed
        return after_client, http.is_closed

    assert asyncio.run(main()) == (False, True)


def test_import_loads_aiohttp_only_when_asked() -> None:
    code = (
        "import sys, cyme\n"
        "cyme.AsyncClient('http://:8000')\n"
        "assert 'aiohttp' not in sys.modules and 'httpx_aiohttp' not in sys.modules\n"
        "assert 'DefaultAioHttpClient' in dir(cyme)\n"
        "cyme.DefaultAioHttpClient\n"
        "assert 'aiohttp' in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_without_the_extra_the_error_says_how_to_get_it() -> None:
    code = (
        "import sys\n"
        "sys.modules['httpx_aiohttp'] = None\n"  # as if it were not installed
        "import cyme\n"
        "try:\n"
        "    cyme.DefaultAioHttpClient\n"
        "except ModuleNotFoundError as exc:\n"
        "    print(exc)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "pip install 'cyme[aiohttp]'" in done.stdout
    assert "httpx_aiohttp" in done.stdout


def test_the_sdk_makes_its_default_clients() -> None:
    assert isinstance(cyme.Client("http://:1")._http, cyme.DefaultHttpxClient)
    assert isinstance(cyme.AsyncClient("http://:1")._http, cyme.DefaultAsyncHttpxClient)
    limits = cyme.DefaultHttpxClient()._transport._pool  # type: ignore[attr-defined]
    assert limits._max_connections == limits._max_keepalive_connections == 100


def cookie_answers(route: respx.Route) -> None:
    route.mock(
        side_effect=[
            httpx.Response(200, json={"ok": "pong"}, headers={"Set-Cookie": "session=abc; Path=/"}),
            httpx.Response(200, json={"ok": "pong"}),
            httpx.Response(200, json={"ok": "pong"}),
        ]
    )


def test_a_cookie_an_answer_sets_is_kept_and_sent() -> None:
    """The clients read Set-Cookie only where there is one, and then as httpx does."""
    with respx.mock(base_url="http://branch.test") as mock:
        route = mock.get("/ping")
        cookie_answers(route)
        with cyme.DefaultHttpxClient() as http:
            http.get("http://branch.test/ping")
            http.get("http://branch.test/ping")
            assert http.cookies["session"] == "abc"
            http.cookies = {"other": "1"}  # replaced, still read only when set
            http.get("http://branch.test/ping")
        sent = [call.request.headers.get("cookie") for call in route.calls]
        assert sent == [None, "session=abc", "other=1"]


def test_a_cookie_on_the_async_clients() -> None:
    async def main(http: httpx.AsyncClient) -> str:
        async with http:
            await http.get("http://branch.test/ping")
            return http.cookies["session"]

    with respx.mock(base_url="http://branch.test") as mock:
        cookie_answers(mock.get("/ping"))
        assert asyncio.run(main(cyme.DefaultAsyncHttpxClient())) == "abc"


@pytest.mark.parametrize(
    "answering",
    [b"HTTP/1.1 200 OK\r\nSet-Cookie: session=abc\r\nContent-Length: 0\r\n\r\n"],
    indirect=True,
)
def test_a_cookie_on_aiohttp(answering: str) -> None:
    async def main() -> str:
        async with cyme.DefaultAioHttpClient() as http:
            await http.get(answering)
            return http.cookies["session"]

    assert asyncio.run(main()) == "abc"
