"""The httpx clients the SDK sends through: `DefaultHttpxClient` and `DefaultAsyncHttpxClient`.

`Client` and `AsyncClient` make one of these when given no `http_client=`;
a program that wants its own settings (a proxy, TLS, other limits) and the
SDK's defaults makes one and passes it. `DefaultAioHttpClient`
(`cyme._aiohttp`) is the third, on aiohttp. Each is the httpx client of its
name with

- the SDK's defaults: `DEFAULT_TIMEOUT`, `DEFAULT_CONNECTION_LIMITS` and
  `SDK_HEADERS` (headers given to the client override them), which a client
  of the SDK then need not add to each request;
- `verify=` and `ca_file=`, the TLS settings of the SDK's clients (see
  `tls_verify`);
- cookies read from an answer only when it sets one. httpx reads every
  answer's headers through urllib's request and email's message classes, and
  under the cookie jar's lock, to find `Set-Cookie`: about 20 µs a call, a
  quarter of httpx's own work on a kept-alive connection, and a lock that the
  threads sharing a client take in turn. A branch sets no cookie, so a call
  to one skips it all; an answer that sets one is read as httpx would.
"""

from __future__ import annotations

import os
import ssl
from collections.abc import Mapping
from http.cookiejar import CookieJar
from types import MappingProxyType
from typing import Any

import httpx

from . import _constants as C
from ._version import __version__

__all__ = ["SDK_HEADERS", "DefaultAsyncHttpxClient", "DefaultHttpxClient", "tls_verify"]

SDK_HEADERS: Mapping[str, str] = MappingProxyType(
    {"Accept": "application/json", "User-Agent": f"cyme-python/{__version__}"}
)
"""The headers of every request of the SDK (with the token and `headers=` of a client)."""

CookieTypes = httpx.Cookies | CookieJar | dict[str, str] | list[tuple[str, str]] | None
"""What the `cookies=` of an httpx client takes."""

CaFile = str | os.PathLike[str] | None
"""A file of PEM certificates, the CAs to trust (`ca_file=`)."""


def tls_verify(
    verify: ssl.SSLContext | bool = True, ca_file: CaFile = None
) -> ssl.SSLContext | bool:
    """httpx's `verify=` for the SDK's `verify=` and `ca_file=`, the same options
    as the Ruby SDK's.

    `verify=True` checks the branch's certificate against the system's CAs
    (httpx's, with `SSL_CERT_FILE` and `SSL_CERT_DIR`); `ca_file` against the
    CAs of that file instead, such as the one that signed a branch's own
    certificate; `verify=False` not at all (for tests: anyone between the
    client and the branch could then read and change the requests, token
    included). An `ssl.SSLContext` is taken as it is.
    """
    if ca_file is None:
        return verify
    if verify is False:
        raise ValueError("ca_file= is a CA to verify the branch with: not with verify=False")
    if isinstance(verify, ssl.SSLContext):
        raise ValueError("ca_file= with an SSLContext: load it into the context instead")
    return ssl.create_default_context(cafile=os.fspath(ca_file))


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
    """An `httpx.Client` with the SDK's defaults, for `Client(http_client=...)`;
    `verify=` and `ca_file=` as `Client`'s (`tls_verify`)."""

    def __init__(
        self,
        *,
        timeout: float | httpx.Timeout | None = C.DEFAULT_TIMEOUT,
        limits: httpx.Limits = C.DEFAULT_CONNECTION_LIMITS,
        cookies: CookieTypes = None,
        headers: Mapping[str, str] | None = None,
        verify: ssl.SSLContext | bool = True,
        ca_file: CaFile = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(
            timeout=timeout,
            limits=limits,
            headers=_with_sdk(headers),
            verify=tls_verify(verify, ca_file),
            **kwargs,
        )
        self.cookies = cookies


class DefaultAsyncHttpxClient(_SdkCookies, httpx.AsyncClient):
    """An `httpx.AsyncClient` with the SDK's defaults, for `AsyncClient(http_client=...)`;
    `verify=` and `ca_file=` as `AsyncClient`'s (`tls_verify`)."""

    def __init__(
        self,
        *,
        timeout: float | httpx.Timeout | None = C.DEFAULT_TIMEOUT,
        limits: httpx.Limits = C.DEFAULT_CONNECTION_LIMITS,
        cookies: CookieTypes = None,
        headers: Mapping[str, str] | None = None,
        verify: ssl.SSLContext | bool = True,
        ca_file: CaFile = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(
            timeout=timeout,
            limits=limits,
            headers=_with_sdk(headers),
            verify=tls_verify(verify, ca_file),
            **kwargs,
        )
        self.cookies = cookies
