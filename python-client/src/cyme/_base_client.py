"""The base client: one operation of the route table, sent over HTTP with retries.

A call goes: resource method -> `_request(operation_id, path=, query=,
body=, cast_to=)` -> `BaseClient._build_request` (the route's method and
path, the body's fields, the headers) -> `_send`, which retries as
`BaseClient._should_retry` and `_retry_delay` decide -> `_process_response`
raises the error of a 4xx or 5xx, or makes the result with `cast_to`.

`BaseClient` holds the settings and every decision that needs no I/O;
`SyncAPIClient` and `AsyncAPIClient` add the send loop, the only code that
differs by `await`. This module knows the route table and the models, never
a resource: resources (`cyme.resources`) sit on top of it, and the clients
(`cyme._client`) on top of them.
"""

from __future__ import annotations

import copy
import email.utils
import functools
import logging
import os
import random
import re
import ssl
import time
import uuid
from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Any, Generic, Literal, ParamSpec, TypeVar, cast, overload
from urllib.parse import quote, urlsplit, urlunsplit

import httpx

from . import _constants as C
from ._exceptions import (
    STATUS_ERRORS,
    APIConnectionError,
    APIStatusError,
    APITimeoutError,
    InternalServerError,
    safe_url,
)
from ._http import SDK_HEADERS, CaFile, DefaultAsyncHttpxClient, DefaultHttpxClient, tls_verify
from ._options import REQUEST_OPTIONS, RequestOptions
from ._response import RawResponse, record, recording
from ._routes import ROUTES, Route

if TYPE_CHECKING:
    from typing_extensions import Self

    from .types import Scheduled

__all__ = [
    "AsyncAPIClient",
    "BaseClient",
    "SyncAPIClient",
    "escape_segment",
    "normalize_base_url",
    "parse_retry_after",
]

T = TypeVar("T")
P = ParamSpec("P")
HttpClientT = TypeVar("HttpClientT", httpx.Client, httpx.AsyncClient)
logger = logging.getLogger("cyme")


def _configure_logging() -> None:
    """CYME_LOG=debug (or info) prints the SDK's log to stderr."""
    level = os.environ.get("CYME_LOG", "").upper()
    if level in ("DEBUG", "INFO") and not logger.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(asctime)s %(name)s %(levelname)s %(message)s"))
        logger.addHandler(handler)
        logger.setLevel(level)


def normalize_base_url(url: str) -> str:
    """`http://:8000` (the talk's form) means localhost; no trailing slash."""
    if "://" not in url:
        url = "http://" + url
    parts = urlsplit(url)
    netloc = parts.netloc
    if not parts.hostname:
        netloc = netloc.rsplit("@", 1)[-1]
        netloc = "localhost" + (netloc if netloc.startswith(":") else "")
    return urlunsplit((parts.scheme, netloc, parts.path.rstrip("/"), "", ""))


# What quote() leaves as it is: a name of the branch's pattern (letters, digits
# and `_ @ : - .`) needs no escaping, and is returned without a copy.
_UNESCAPED = re.compile(r"[A-Za-z0-9_.~@:-]+")


def escape_segment(segment: str) -> str:
    """One path segment, escaped so that it cannot add segments or a query."""
    if _UNESCAPED.fullmatch(segment) and segment not in (".", ".."):
        return segment
    escaped = quote(segment, safe="@:")
    # `.` and `..` would be resolved as relative paths on the way.
    return escaped.replace(".", "%2E") if escaped in (".", "..") else escaped


def parse_retry_after(value: str | None) -> float | None:
    """Retry-After in seconds, from seconds or an HTTP date; None when absent or bad."""
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        seconds = None
    if seconds is not None:
        return max(0.0, seconds)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def _query_value(value: Any) -> Any:
    """JSON's spelling of a boolean, which is what the branch reads in a query."""
    return ("true" if value else "false") if isinstance(value, bool) else value


@functools.lru_cache(maxsize=256)
def _parsed_url(url: str) -> httpx.URL:
    """`url` parsed, once for the calls to the same URL (an httpx.URL does not change).

    Given the text, httpx parses and checks it on every request: about 10 µs,
    as much as the rest of the SDK's work on a call.
    """
    return httpx.URL(url)


def _identity(data: Any) -> Any:
    return data


@functools.cache
def _required_keys(kind: str) -> frozenset[str]:
    """The keys every answer of a schema has: its model's required fields, by wire name."""
    from . import types  # noqa: PLC0415 - deferred as in response_parser

    fields = getattr(types, kind).model_fields
    return frozenset(f.alias or name for name, f in fields.items() if f.is_required())


def _fits(kind: str, data: Any) -> bool:
    """Whether JSON data has the shape of a kind of answer (`Instance[]`, `string[]`...).

    An object fits a schema when it has the schema's required keys: so an
    `App` and the `ClusterChange` of `scope=cluster` (`App|ClusterChange`)
    are told apart, as Ruby's Requestor#fits? does.
    """
    if kind.endswith("[]"):
        return isinstance(data, list) and all(_fits(kind[:-2], item) for item in data)
    if kind[:1].isupper():
        return isinstance(data, dict) and _required_keys(kind) <= data.keys()
    return not isinstance(data, dict | list)


@functools.cache
def response_parser(kind: str) -> Callable[[Any], Any]:
    """How `call()` makes its result of an answer of a route's `response` kind.

    `Instance` is validated as `types.Instance`, `Consumer[]` as a list of
    `types.Consumer`; JSON scalars, lists of them and `text` come as they are.
    For one kind or another (`string[]|Instance[]`), the first the JSON fits.
    """
    if "|" in kind:
        choices = [(choice, response_parser(choice)) for choice in kind.split("|")]

        def either(data: Any) -> Any:
            for choice, parse in choices:
                if _fits(choice, data):
                    return parse(data)
            return data

        return either
    if kind.endswith("[]"):
        item = response_parser(kind[:-2])
        return lambda data: [item(each) for each in data]
    if kind[:1].islower():  # a JSON type (`string`, `integer`) or `text`
        return _identity
    # Deferred: the models (and pydantic) load with the first call, not with `import cyme`.
    from . import types  # noqa: PLC0415

    model: Callable[[Any], Any] = getattr(types, kind).model_validate
    return model


def _split_arguments(
    route: Route, arguments: Mapping[str, Any]
) -> tuple[dict[str, str], dict[str, Any], dict[str, Any] | None, RequestOptions]:
    """`call()`'s keywords, sorted by the route into path, query, body and options."""
    path: dict[str, str] = {}
    query: dict[str, Any] = {}
    body: dict[str, Any] = {}
    options: dict[str, Any] = {}
    fields = route.body_fields or ()
    for name, value in arguments.items():
        if name in route.path_params:
            path[name] = value
        elif name in route.query_params:
            query[name] = value
        elif name in fields:
            body[name] = value
        elif name in REQUEST_OPTIONS:
            options[name] = value
        else:
            raise TypeError(f"{route.operation_id} takes no argument {name!r}")
    missing = [name for name in route.path_params if name not in path]
    if missing:
        raise TypeError(f"{route.operation_id} needs the path parameter(s) {', '.join(missing)}")
    return path, query, None if route.body_fields is None else body, cast("RequestOptions", options)


def _unverified(exc: BaseException) -> ssl.SSLCertVerificationError | None:
    """The failed certificate check behind a connection error, if that is what it is
    (under httpx's and httpcore's errors, or aiohttp's)."""
    found = None
    seen: BaseException | None = exc
    for _ in range(8):  # the deepest: aiohttp's error is one too, without the details
        if seen is None:
            break
        if isinstance(seen, ssl.SSLCertVerificationError):
            found = seen
        seen = seen.__cause__ or seen.__context__
    return found


def _route(operation_id: str) -> Route:
    try:
        return ROUTES[operation_id]
    except KeyError:
        raise ValueError(f"openapi.yaml has no operation {operation_id!r}") from None


class BaseClient(Generic[HttpClientT]):
    """The settings of a client of one branch, and every decision of a call; no I/O."""

    _http: HttpClientT
    _owns_http: bool
    _request_headers: httpx.Headers

    def __init__(
        self,
        base_url: str | None = None,
        *,
        token: str | None = None,
        timeout: float | httpx.Timeout | None = None,
        max_retries: int | None = None,
        headers: Mapping[str, str] | None = None,
        http_client: HttpClientT | None = None,
        verify: bool = True,
        ca_file: CaFile = None,
    ) -> None:
        """A client of the branch at `base_url` (default: $CYME_URL, else localhost:8000).

        `token` defaults to $CYME_TOKEN. Given `http_client`, the client
        sends through it and leaves closing it to its owner. For a branch
        that serves HTTPS, `ca_file` is the CA file to verify its
        certificate with instead of the system's, and `verify=False` turns
        the verification off (`_http.tls_verify`); they are the settings of
        the httpx client made here, so given `http_client`, give them to it.
        """
        _configure_logging()
        self.base_url = normalize_base_url(
            base_url or os.environ.get("CYME_URL") or C.DEFAULT_BASE_URL
        )
        self._token = token if token is not None else os.environ.get("CYME_TOKEN") or None
        self.timeout = C.DEFAULT_TIMEOUT if timeout is None else httpx.Timeout(timeout)
        self.max_retries = C.DEFAULT_MAX_RETRIES if max_retries is None else max_retries
        self._headers = dict(headers or {})
        if http_client is not None and (verify is not True or ca_file is not None):
            raise ValueError(
                "verify= and ca_file= are settings of the httpx client: give them to "
                "http_client (such as DefaultHttpxClient(ca_file=...))"
            )
        self._verify = tls_verify(verify, ca_file)
        self._owns_http = http_client is None
        self._http = self._make_http() if http_client is None else http_client
        # Each request carries the default headers that the httpx client does
        # not send already: none with the one made here, which carries them all;
        # the token and `headers=` with a Default*Client given (it carries
        # Accept and User-Agent), so that clients of other tokens can share it;
        # all of them with another. httpx merges each into every request (about
        # 5 µs of a call), from an httpx.Headers made once.
        carried = self._http.headers
        self._request_headers = httpx.Headers(
            {k: v for k, v in self._default_headers().items() if carried.get(k) != v}
        )
        self._bind_resources()

    def __repr__(self) -> str:
        # Only the URL: never the token.
        return f"<{type(self).__name__}: {self.base_url!r}>"

    def _make_http(self) -> HttpClientT:  # pragma: no cover - abstract
        """The httpx client this client makes when it is given none."""
        raise NotImplementedError

    def _bind_resources(self) -> None:
        """Make the resources (`client.apps`) of this client; the API clients do."""

    def with_options(
        self, *, timeout: float | httpx.Timeout | None = None, max_retries: int | None = None
    ) -> Self:
        """This client with other defaults, sharing its connections."""
        clone = copy.copy(self)
        if timeout is not None:
            clone.timeout = httpx.Timeout(timeout)
        if max_retries is not None:
            clone.max_retries = max_retries
        clone._owns_http = False
        clone._bind_resources()
        return clone

    def _connect(self, url: str, **settings: Any) -> Self:
        """A client of this class for another branch (a cluster member's `url`).

        It has this client's token, timeout, retries and headers, and sends
        through this client's connections, with their TLS settings (it need
        not be closed, and stops working when this one is closed);
        `settings` are the constructor's keywords (`token=`, `timeout=`...)
        to change. Given `verify=` or `ca_file=`, it makes connections of its
        own, to be closed.
        """
        defaults: dict[str, Any] = {
            # "" and not None: None would fall back to $CYME_TOKEN.
            "token": self._token or "",
            "timeout": self.timeout,
            "max_retries": self.max_retries,
            "headers": self._headers,
        }
        if not {"verify", "ca_file"} & settings.keys():
            defaults["http_client"] = self._http
        return type(self)(url, **{**defaults, **settings})

    # -- requests ---------------------------------------------------------------

    def url_for(self, *segments: str) -> str:
        """The URL of a path given as raw segments (names are escaped here)."""
        return self.base_url + "/" + "/".join(escape_segment(s) for s in segments)

    def _default_headers(self) -> dict[str, str]:
        headers = dict(SDK_HEADERS)
        headers.update(self._headers)
        if self._token:
            headers["Authorization"] = f"Bearer {self._token}"
        return headers

    def _build_request(
        self,
        route: Route,
        path: Mapping[str, str] | None,
        query: Mapping[str, Any] | None,
        body: Mapping[str, Any] | None,
        options: RequestOptions,
    ) -> httpx.Request:
        """The route's request: names escaped into its path; None values left out."""
        url = self.base_url + (
            route.path.format_map({k: escape_segment(v) for k, v in path.items()})
            if path
            else route.path
        )
        params = {k: _query_value(v) for k, v in query.items() if v is not None} if query else None
        json = None
        if route.body_fields is not None:
            # A field left out (None) keeps its value on the branch.
            json = {k: v for k, v in body.items() if v is not None} if body else {}
        headers = self._request_headers
        extra = options.get("extra_headers")
        if route.method == "POST" or extra:
            headers = headers.copy()  # the client's are shared by its calls and threads
            if route.method == "POST":
                # Made once per call and sent again on every retry, so that the
                # branch does a retried POST only once.
                key = options.get("idempotency_key") or str(uuid.uuid4())
                headers[C.IDEMPOTENCY_HEADER] = key
            if extra:
                headers.update(extra)
        timeout = options.get("timeout")
        return self._http.build_request(
            route.method,
            _parsed_url(url),
            params=params or None,
            json=json,
            headers=headers,
            timeout=self.timeout if timeout is None else httpx.Timeout(timeout),
        )

    # -- retries ----------------------------------------------------------------

    @staticmethod
    def _should_retry(
        request: httpx.Request, response: httpx.Response | None, attempt: int, max_retries: int
    ) -> bool:
        """The retry decision, for an answer or (response=None) for no answer at all."""
        if attempt >= max_retries:
            return False
        # A POST done twice would create twice: retry it only when the branch
        # can recognise the repeat by its Idempotency-Key.
        if request.method == "POST" and C.IDEMPOTENCY_HEADER not in request.headers:
            return False
        if response is None:
            return True  # refused, reset, dropped or timed out: nothing was answered
        return response.status_code in C.RETRY_STATUSES

    @staticmethod
    def _retry_delay(attempt: int, response: httpx.Response | None) -> float:
        """Seconds to wait before retry number attempt+1."""
        if response is not None:
            after = parse_retry_after(response.headers.get("retry-after"))
            if after is not None:
                return min(after, C.MAX_RETRY_AFTER)
        delay: float = min(C.INITIAL_RETRY_DELAY * 2.0**attempt, C.MAX_RETRY_DELAY)
        # Jitter spreads the retries of many clients hit by the same outage.
        return delay * (1 - C.RETRY_JITTER * random.random())  # noqa: S311

    def _max_retries(self, options: RequestOptions) -> int:
        return options.get("max_retries", self.max_retries)

    # The log helpers return early when the record would be dropped: making a
    # URL safe to log costs about a tenth of a call on a kept-alive connection.
    @staticmethod
    def _log_retry(request: httpx.Request, attempt: int, delay: float, why: str) -> None:
        if not logger.isEnabledFor(logging.DEBUG):
            return
        logger.debug(
            "retry %d of %s %s after %s in %.2fs",
            attempt + 1,
            request.method,
            safe_url(request.url),
            why,
            delay,
        )

    @staticmethod
    def _log_request(request: httpx.Request) -> None:
        if logger.isEnabledFor(logging.DEBUG):
            logger.debug("%s %s", request.method, safe_url(request.url))

    @staticmethod
    def _log_response(request: httpx.Request, response: httpx.Response) -> None:
        if not logger.isEnabledFor(logging.DEBUG):
            return
        logger.debug(
            "%s %s -> %d (request id %s)",
            request.method,
            safe_url(request.url),
            response.status_code,
            response.headers.get(C.REQUEST_ID_HEADER, "-"),
        )

    # -- responses --------------------------------------------------------------

    @staticmethod
    def _make_status_error(response: httpx.Response) -> APIStatusError:
        """The one place where an error status becomes an exception."""
        try:
            body = response.json()
        except ValueError:
            body = None
        problem = body if isinstance(body, dict) else None
        status = response.status_code
        title = (problem or {}).get("title") or response.reason_phrase
        detail = (problem or {}).get("detail")
        request = response.request
        message = f"{status} {title}: {request.method} {safe_url(request.url)}"
        if isinstance(detail, str):
            message += f": {detail}"
        cls = STATUS_ERRORS.get(status)
        if cls is None:
            cls = InternalServerError if status >= 500 else APIStatusError
        return cls(message, response=response, body=problem)

    @staticmethod
    def _connection_error(request: httpx.Request, exc: Exception) -> APIConnectionError:
        if isinstance(exc, httpx.TimeoutException):
            return APITimeoutError(request=request)
        unverified = _unverified(exc)
        if unverified is not None:
            reason = getattr(unverified, "verify_message", None) or "refused"
            return APIConnectionError(
                request=request,
                message=f"The branch's TLS certificate could not be verified ({reason}): "
                "trust the CA that signed it with ca_file=PATH (verify=False turns the "
                "check off, for tests only)",
            )
        if isinstance(exc, httpx.RemoteProtocolError) and request.url.scheme == "http":
            # What a branch serving HTTPS does to a request in plain HTTP.
            return APIConnectionError(
                request=request,
                message="Connection error, closed without an answer (a branch that "
                "serves HTTPS needs an https:// URL)",
            )
        return APIConnectionError(request=request)

    def _no_answer(
        self, request: httpx.Request, exc: httpx.TransportError, attempt: int, max_retries: int
    ) -> APIConnectionError:
        """The error of a request that got no answer: raised when it is not to be
        retried, returned when it is."""
        error = self._connection_error(request, exc)
        if _unverified(exc) is not None:
            # Another try would fail the same way; the message says why, without
            # the chain of the transport's exceptions (kept as __context__).
            raise error from None
        if not self._should_retry(request, None, attempt, max_retries):
            raise error from exc
        return error

    def _process_response(
        self, route: Route, response: httpx.Response, cast_to: Callable[[Any], T]
    ) -> T | Scheduled:
        """The call's result: an error raised, a `Scheduled` for the 202 of a change
        asked not to wait (a sent task's 202 is its answer), else `cast_to(body)`."""
        record(response)
        status = response.status_code
        if status >= 400:
            raise self._make_status_error(response)
        if status == 202 and "nowait" in route.query_params:
            return self._scheduled(response.json())
        return cast_to(response.text if route.response == "text" else response.json())

    def _scheduled(self, data: Any) -> Scheduled:
        """The answer to a change asked for with nowait (202). The clients make it one
        bound to themselves, whose `wait()` follows the change (resources/_async/scheduled.py)."""
        # Deferred like `response_parser`'s models; loaded by the first client anyway.
        from .types import Scheduled  # noqa: PLC0415

        return Scheduled.model_validate(data)


class SyncAPIClient(BaseClient[httpx.Client]):
    """The base of `Client`: sends operations with blocking I/O."""

    def _make_http(self) -> httpx.Client:
        return DefaultHttpxClient(
            timeout=self.timeout, headers=self._default_headers(), verify=self._verify
        )

    @overload
    def _request(
        self,
        operation_id: str,
        *,
        cast_to: Callable[[Any], T],
        path: Mapping[str, str] | None = None,
        query: Mapping[str, Any] | None = None,
        body: Mapping[str, Any] | None = None,
        options: RequestOptions | None = None,
        nowait: Literal[False] = False,
    ) -> T: ...
    @overload
    def _request(
        self,
        operation_id: str,
        *,
        cast_to: Callable[[Any], T],
        path: Mapping[str, str] | None = None,
        query: Mapping[str, Any] | None = None,
        body: Mapping[str, Any] | None = None,
        options: RequestOptions | None = None,
        nowait: bool,
    ) -> T | Scheduled: ...
    def _request(
        self,
        operation_id: str,
        *,
        cast_to: Callable[[Any], T],
        path: Mapping[str, str] | None = None,
        query: Mapping[str, Any] | None = None,
        body: Mapping[str, Any] | None = None,
        options: RequestOptions | None = None,
        nowait: bool = False,
    ) -> T | Scheduled:
        """Send the operation `operation_id` of the route table and make its result.

        `path` fills the route's path template (raw names; they are escaped
        here), `query` and `body` hold its parameters and fields (None
        values are left out), `cast_to` makes the result of the decoded JSON
        body (or of the text, for a `text` route). With `nowait` the branch
        answers 202 at once, and the result is a `Scheduled`.
        """
        route = ROUTES[operation_id]
        options = options or {}
        if nowait:
            query = {**(query or {}), "nowait": True}
        request = self._build_request(route, path, query, body, options)
        return self._process_response(route, self._send(request, options), cast_to)

    def _call(self, operation_id: str, arguments: Mapping[str, Any]) -> Any:
        """`call()` without its types: the keywords sorted by the operation's route."""
        route = _route(operation_id)
        path, query, body, options = _split_arguments(route, arguments)
        return self._request(
            operation_id,
            path=path,
            query=query,
            body=body,
            options=options,
            cast_to=response_parser(route.response),
        )

    def _send(self, request: httpx.Request, options: RequestOptions) -> httpx.Response:
        """The answer to send `request` with retries; raises when none came."""
        max_retries = self._max_retries(options)
        attempt = 0
        while True:
            self._log_request(request)
            try:
                response = self._http.send(request)
            except httpx.TransportError as exc:
                error = self._no_answer(request, exc, attempt, max_retries)
                delay = self._retry_delay(attempt, None)
                self._log_retry(request, attempt, delay, type(error).__name__)
            else:
                self._log_response(request, response)
                if not self._should_retry(request, response, attempt, max_retries):
                    return response
                delay = self._retry_delay(attempt, response)
                self._log_retry(request, attempt, delay, str(response.status_code))
                response.close()
            time.sleep(delay)
            attempt += 1

    @staticmethod
    def _sleep(seconds: float) -> None:
        """Wait, as this client's resources do between two looks at a change."""
        time.sleep(seconds)

    def with_raw_response(
        self, fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs
    ) -> RawResponse[T]:
        """Call `fn(*args, **kwargs)`; return its value with its last HTTP answer.

        `fn` is any SDK call, or a function making several (the answer is
        the last one received):

        >>> raw = client.with_raw_response(client.apps.get, "pycon")
        >>> raw.data.name, raw.status_code, raw.request_id
        """
        with recording() as recorder:
            data = fn(*args, **kwargs)
        return recorder.raw(data)

    def close(self) -> None:
        """Close the connections, unless the httpx client was given by the caller."""
        if self._owns_http:
            self._http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class AsyncAPIClient(BaseClient[httpx.AsyncClient]):
    """The base of `AsyncClient`: sends operations with asyncio."""

    def _make_http(self) -> httpx.AsyncClient:
        # httpx's own transport; `http_client=DefaultAioHttpClient()` is aiohttp's
        # (cyme._aiohttp says why that one is not the default).
        return DefaultAsyncHttpxClient(
            timeout=self.timeout, headers=self._default_headers(), verify=self._verify
        )

    @overload
    async def _request(
        self,
        operation_id: str,
        *,
        cast_to: Callable[[Any], T],
        path: Mapping[str, str] | None = None,
        query: Mapping[str, Any] | None = None,
        body: Mapping[str, Any] | None = None,
        options: RequestOptions | None = None,
        nowait: Literal[False] = False,
    ) -> T: ...
    @overload
    async def _request(
        self,
        operation_id: str,
        *,
        cast_to: Callable[[Any], T],
        path: Mapping[str, str] | None = None,
        query: Mapping[str, Any] | None = None,
        body: Mapping[str, Any] | None = None,
        options: RequestOptions | None = None,
        nowait: bool,
    ) -> T | Scheduled: ...
    async def _request(
        self,
        operation_id: str,
        *,
        cast_to: Callable[[Any], T],
        path: Mapping[str, str] | None = None,
        query: Mapping[str, Any] | None = None,
        body: Mapping[str, Any] | None = None,
        options: RequestOptions | None = None,
        nowait: bool = False,
    ) -> T | Scheduled:
        """`SyncAPIClient._request`, awaited."""
        route = ROUTES[operation_id]
        options = options or {}
        if nowait:
            query = {**(query or {}), "nowait": True}
        request = self._build_request(route, path, query, body, options)
        return self._process_response(route, await self._send(request, options), cast_to)

    async def _call(self, operation_id: str, arguments: Mapping[str, Any]) -> Any:
        """`SyncAPIClient._call`, awaited."""
        route = _route(operation_id)
        path, query, body, options = _split_arguments(route, arguments)
        return await self._request(
            operation_id,
            path=path,
            query=query,
            body=body,
            options=options,
            cast_to=response_parser(route.response),
        )

    async def _send(self, request: httpx.Request, options: RequestOptions) -> httpx.Response:
        """`SyncAPIClient._send`, awaited."""
        max_retries = self._max_retries(options)
        attempt = 0
        while True:
            self._log_request(request)
            try:
                response = await self._http.send(request)
            except httpx.TransportError as exc:
                error = self._no_answer(request, exc, attempt, max_retries)
                delay = self._retry_delay(attempt, None)
                self._log_retry(request, attempt, delay, type(error).__name__)
            else:
                self._log_response(request, response)
                if not self._should_retry(request, response, attempt, max_retries):
                    return response
                delay = self._retry_delay(attempt, response)
                self._log_retry(request, attempt, delay, str(response.status_code))
                await response.aclose()
            # Deferred: a program already running AsyncClient has loaded
            # asyncio, and `import cyme` for the sync client is faster without it.
            import asyncio  # noqa: PLC0415

            await asyncio.sleep(delay)
            attempt += 1

    @staticmethod
    async def _sleep(seconds: float) -> None:
        """`SyncAPIClient._sleep`, awaited."""
        import asyncio  # noqa: PLC0415 - as in _send

        await asyncio.sleep(seconds)

    async def with_raw_response(
        self, fn: Callable[P, Awaitable[T]], /, *args: P.args, **kwargs: P.kwargs
    ) -> RawResponse[T]:
        """`SyncAPIClient.with_raw_response` for a call to await.

        >>> raw = await client.with_raw_response(client.apps.get, "pycon")
        """
        with recording() as recorder:
            data = await fn(*args, **kwargs)
        return recorder.raw(data)

    async def aclose(self) -> None:
        """Close the connections, unless the httpx client was given by the caller."""
        if self._owns_http:
            await self._http.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()
