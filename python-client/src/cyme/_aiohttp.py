"""`DefaultAioHttpClient`: `AsyncClient`'s requests sent by aiohttp (`pip install 'cyme[aiohttp]'`).

httpx's own asyncio transport (httpcore on anyio) spends several times the CPU
of aiohttp on each request, so a program fanning calls out with asyncio gets
a fraction of what the branch can serve (docs/benchmarks.md). httpx-aiohttp
keeps httpx's client, and with it everything the SDK does (requests, retries,
errors, `with_raw_response`), and hands the bytes to aiohttp:

    async with DefaultAioHttpClient() as http, AsyncClient(url, http_client=http) as cyme:
        ...

It is not `AsyncClient`'s default, even with the extra installed, because an
installed package should not change what a program does: aiohttp arrives as a
dependency of many others; tools that mock httpx (respx) see nothing of
aiohttp, so a test suite would reach the network instead; and aiohttp speaks
no HTTP/2 and has no write timeout. Asking for it is one keyword.

This module is loaded when `cyme.DefaultAioHttpClient` is first looked up, so
`import cyme` does not load aiohttp. httpx-aiohttp makes and closes the
aiohttp session from httpx's settings (TLS, proxies, limits); the request
itself is sent here, so that a call means the same on both transports:

- the URL goes as httpx made it: given a string, aiohttp (yarl) decodes
  `%2E%2E` in a path and resolves it as `..`, so that deleting the instance
  `..` of an app would delete the app;
- errors are httpx's own: httpx-aiohttp reports every aiohttp connection
  error (refused, reset, closed without an answer) as `httpx.ConnectTimeout`,
  which the SDK would raise as `APITimeoutError`, and lets an answer aiohttp
  cannot parse escape as an aiohttp exception;
- retries are the SDK's alone: aiohttp sends a GET, PUT or DELETE once more,
  unseen, when the connection drops, which `max_retries=0` would not stop;
- `Limits(max_connections=None)` is no limit, as in httpx (aiohttp's
  `limit=0`), rather than aiohttp's default of 100.

How the SDK's settings map onto aiohttp's (per request, from `httpx.Timeout`):

| httpx | aiohttp |
|---|---|
| `Timeout.connect` | `ClientTimeout.sock_connect`: to open a connection |
| `Timeout.read` | `ClientTimeout.sock_read`: between two reads of the answer |
| `Timeout.pool` | `ClientTimeout.connect`: to get a connection, waiting for a free one included |
| `Timeout.write` | none: aiohttp writes without a deadline (the SDK's bodies are small JSON) |
| `Limits.max_connections` | `TCPConnector(limit=)` |
| `Limits.keepalive_expiry` | `TCPConnector(keepalive_timeout=)` |
| `Limits.max_keepalive_connections` | none: aiohttp keeps every idle connection |

so `DEFAULT_CONNECTION_LIMITS` keeps every connection alive on httpx's
transport too. aiohttp ends a timeout of more than 5 s on the next whole
second of the event loop's clock, which groups its timers: up to a second
late, where httpx's is on time.
"""

from __future__ import annotations

import asyncio
import functools
import ssl
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import httpx
import httpx_aiohttp
import yarl

from . import _constants as C
from ._http import DefaultAsyncHttpxClient

__all__ = ["AiohttpTransport", "DefaultAioHttpClient"]

Cert = str | tuple[str, str] | tuple[str, str, str] | None
"""A client certificate, as `httpx.AsyncClient(cert=)` takes it."""

# aiohttp's errors, most specific first, and the httpx error httpx's own
# transport raises for the same event; a timeout stays a timeout, and nothing
# else becomes one. Any other aiohttp error is an answer that is not HTTP.
_ERRORS: tuple[tuple[type[BaseException], type[httpx.TransportError]], ...] = (
    (aiohttp.ConnectionTimeoutError, httpx.ConnectTimeout),  # connect, or a free connection
    (aiohttp.SocketTimeoutError, httpx.ReadTimeout),
    (asyncio.TimeoutError, httpx.ReadTimeout),
    (aiohttp.ClientProxyConnectionError, httpx.ProxyError),
    (aiohttp.ClientHttpProxyError, httpx.ProxyError),
    (aiohttp.ClientConnectorError, httpx.ConnectError),  # refused, unresolved
    (aiohttp.ServerDisconnectedError, httpx.RemoteProtocolError),  # closed, no answer
    (aiohttp.ClientPayloadError, httpx.RemoteProtocolError),  # a body cut short
    (aiohttp.InvalidURL, httpx.UnsupportedProtocol),
    (aiohttp.NonHttpUrlClientError, httpx.UnsupportedProtocol),
    (aiohttp.ClientConnectionError, httpx.ReadError),  # reset
)
_CAUGHT = (aiohttp.ClientError, asyncio.TimeoutError)


def _httpx_error(error: BaseException, request: httpx.Request) -> httpx.TransportError:
    """The httpx error to raise for an aiohttp error (one of `_CAUGHT`)."""
    message = str(error) or type(error).__name__
    for aiohttp_error, httpx_error in _ERRORS:
        if isinstance(error, aiohttp_error):
            return httpx_error(message, request=request)
    return httpx.RemoteProtocolError(message, request=request)


# The calls of a program go to a few URLs over and over: each is made once.
@functools.lru_cache(maxsize=256)
def _aiohttp_url(url: str) -> yarl.URL:
    """`url` as aiohttp is to send it: as it is (encoded=True), `%2E%2E` included."""
    return yarl.URL(url, encoded=True)


@functools.lru_cache(maxsize=64)
def _client_timeout(
    connect: float | None, read: float | None, pool: float | None
) -> aiohttp.ClientTimeout:
    """aiohttp's timeouts for httpx's (the table in this module's docstring)."""
    return aiohttp.ClientTimeout(sock_connect=connect, sock_read=read, connect=pool)


class _ResponseStream(httpx.AsyncByteStream):
    """An aiohttp answer's body, for httpx, read as it arrives."""

    def __init__(self, response: aiohttp.ClientResponse, request: httpx.Request) -> None:
        self._response = response
        self._request = request

    async def __aiter__(self) -> AsyncIterator[bytes]:
        try:
            async for chunk in self._response.content.iter_any():
                yield chunk
        except _CAUGHT as exc:
            raise _httpx_error(exc, self._request) from exc

    async def aclose(self) -> None:
        # Back to the pool when the body was read whole; closed otherwise.
        self._response.release()


class AiohttpTransport(httpx_aiohttp.AiohttpTransport):
    """httpx-aiohttp's transport, sending each request as httpx made it (see the module)."""

    def __init__(
        self, *, limits: httpx.Limits = C.DEFAULT_CONNECTION_LIMITS, **kwargs: Any
    ) -> None:
        if limits.max_connections is None:
            # Left out, aiohttp would allow 100; its 0 is httpx's None, no limit.
            limits = httpx.Limits(
                max_connections=0,
                max_keepalive_connections=limits.max_keepalive_connections,
                keepalive_expiry=limits.keepalive_expiry,
            )
        super().__init__(limits=limits, **kwargs)

    def get_client(self) -> aiohttp.ClientSession:
        session = super().get_client()
        # aiohttp resends an idempotent request once when its connection drops,
        # before the SDK sees anything; its own test client turns that off so.
        session._retry_connection = False
        return session

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if not isinstance(self.client, aiohttp.ClientSession):
            self.client = self.get_client()
        timeout = request.extensions.get("timeout", {})
        proxy = self.proxy
        body = await request.aread()
        try:
            response = await self.client.request(
                request.method,
                _aiohttp_url(str(request.url)),
                headers=request.headers.multi_items(),
                data=body or None,
                allow_redirects=False,  # httpx follows them, when asked to
                auto_decompress=False,  # httpx decodes the body
                timeout=_client_timeout(
                    timeout.get("connect"), timeout.get("read"), timeout.get("pool")
                ),
                server_hostname=request.extensions.get("sni_hostname"),
                proxy=str(proxy.url) if proxy else None,
                proxy_auth=aiohttp.BasicAuth(*proxy.auth) if proxy and proxy.auth else None,
                proxy_headers=proxy.headers.multi_items() if proxy else None,
            )
            stream: httpx.AsyncByteStream
            if response.content.is_eof():
                # The whole body came with the head, as a branch's small answers
                # do: it is handed over at once, and the connection freed.
                stream = httpx.ByteStream(response.content.read_nowait())
                response.release()
            else:
                stream = _ResponseStream(response, request)
        except _CAUGHT as exc:
            raise _httpx_error(exc, request) from exc
        extensions: dict[str, Any] = {"http_version": b"HTTP/1.1"}
        if response.reason:
            extensions["reason_phrase"] = response.reason.encode()
        return httpx.Response(
            status_code=response.status,
            headers=response.raw_headers,
            stream=stream,
            request=request,
            extensions=extensions,
        )


class DefaultAioHttpClient(DefaultAsyncHttpxClient):
    """An `httpx.AsyncClient` whose requests aiohttp sends, with the SDK's defaults.

    Give it to `AsyncClient(http_client=...)` for wire-speed concurrency. It
    is `DefaultAsyncHttpxClient` (the SDK's timeout and limits, cookies read
    only from answers that set one, `verify=` and `ca_file=` for a branch that
    serves HTTPS) on `AiohttpTransport`, and takes the keywords of
    `httpx.AsyncClient`. Its owner closes it (`async with`, or
    `aclose()`): `AsyncClient` does not close a client it was given, which may
    serve several.
    """

    # httpx makes its transports, the one for every URL and one per proxy (from
    # `proxy=` or the environment), in these two methods; httpx-aiohttp's own
    # client overrides them the same way. Their signatures are httpx's.
    def _init_transport(  # noqa: PLR0917
        self,
        verify: ssl.SSLContext | str | bool = True,
        cert: Cert = None,
        trust_env: bool = True,
        http1: bool = True,
        http2: bool = False,
        limits: httpx.Limits = C.DEFAULT_CONNECTION_LIMITS,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> httpx.AsyncBaseTransport:
        if transport is not None:
            return transport
        return AiohttpTransport(
            verify=verify, cert=cert, trust_env=trust_env, http1=http1, http2=http2, limits=limits
        )

    def _init_proxy_transport(  # noqa: PLR0917
        self,
        proxy: httpx.Proxy,
        verify: ssl.SSLContext | str | bool = True,
        cert: Cert = None,
        trust_env: bool = True,
        http1: bool = True,
        http2: bool = False,
        limits: httpx.Limits = C.DEFAULT_CONNECTION_LIMITS,
    ) -> httpx.AsyncBaseTransport:
        return AiohttpTransport(
            verify=verify,
            cert=cert,
            trust_env=trust_env,
            http1=http1,
            http2=http2,
            limits=limits,
            proxy=proxy,
        )
