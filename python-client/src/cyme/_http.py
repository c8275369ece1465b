"""The httpx clients the SDK sends through: `DefaultHttpxClient` and `DefaultAsyncHttpxClient`.

`Client` and `AsyncClient` make one of these when given no `http_client=`;
a program that wants its own settings (a proxy, TLS, other limits) and the
SDK's defaults makes one and passes it. `DefaultAioHttpClient`
(`cyme._aiohttp`) is the third, on aiohttp. Each is the httpx client of its
name with

- the SDK's defaults: `DEFAULT_TIMEOUT`, `DEFAULT_CONNECTION_LIMITS` and
  `SDK_HEADERS` (headers given to the client override them), which a client
  of the SDK then need not add to each request;
- cookies read from an answer only when it sets one. httpx reads every
  answer's headers through urllib's request and email's message classes, and
  under the cookie jar's lock, to find `Set-Cookie`: about 20 µs a call, a
  quarter of httpx's own work on a kept-alive connection, and a lock that the
  threads sharing a client take in turn. A branch sets no cookie, so a call
  to one skips it all; an answer that sets one is read as httpx would.
"""

from __future__ import annotations

from collections.abc import Mapping
from http.cookiejar import CookieJar
from types import MappingProxyType
from typing import Any

import httpx

from . import _constants as C
from ._version import __version__

__all__ = ["SDK_HEADERS", "DefaultAsyncHttpxClient", "DefaultHttpxClient"]

SDK_HEADERS: Mapping[str, str] = MappingProxyType(
    {"Accept": "application/json", "User-Agent": f"cyme-python/{__version__}"}
)
"""The headers of every request of the SDK (with the token and `headers=` of a client)."""

CookieTypes = httpx.Cookies | CookieJar | dict[str, str] | list[tuple[str, str]] | None
"""What the `cookies=` of an httpx client takes."""


def _with_sdk(headers: Mapping[str, str] | None) -> httpx.Headers:
    """`SDK_HEADERS`, and `headers` over them (whatever the case of their names)."""
    merged = httpx.Headers(SDK_HEADERS)
    merged.update(headers)
    return merged


class _Cookies(httpx.Cookies):
    """httpx's cookies, which look into an answer only when it sets one."""

    def extract_cookies(self, response: httpx.Response) -> None:
        # The jar would find no header to read (http.cookiejar's make_cookies).
        headers = response.headers
        if "set-cookie" in headers or "set-cookie2" in headers:
            super().extract_cookies(response)


class _SdkCookies:
    """The `cookies` of an httpx client, kept as `_Cookies` whatever is set."""

    _sdk_cookies: _Cookies

    @property
    def cookies(self) -> httpx.Cookies:
        return self._sdk_cookies

    @cookies.setter
    def cookies(self, cookies: CookieTypes) -> None:
        self._sdk_cookies = _Cookies(cookies)


class DefaultHttpxClient(_SdkCookies, httpx.Client):
    """An `httpx.Client` with the SDK's defaults, for `Client(http_client=...)`."""

    def __init__(
        self,
        *,
        timeout: float | httpx.Timeout | None = C.DEFAULT_TIMEOUT,
        limits: httpx.Limits = C.DEFAULT_CONNECTION_LIMITS,
        cookies: CookieTypes = None,
        headers: Mapping[str, str] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(timeout=timeout, limits=limits, headers=_with_sdk(headers), **kwargs)
        self.cookies = cookies


class DefaultAsyncHttpxClient(_SdkCookies, httpx.AsyncClient):
    """An `httpx.AsyncClient` with the SDK's defaults, for `AsyncClient(http_client=...)`."""

    def __init__(
        self,
        *,
        timeout: float | httpx.Timeout | None = C.DEFAULT_TIMEOUT,
        limits: httpx.Limits = C.DEFAULT_CONNECTION_LIMITS,
        cookies: CookieTypes = None,
        headers: Mapping[str, str] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(timeout=timeout, limits=limits, headers=_with_sdk(headers), **kwargs)
        self.cookies = cookies
