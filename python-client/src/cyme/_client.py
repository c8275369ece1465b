"""The clients: `BaseClient` holds every decision, `Client` and `AsyncClient` the I/O.

A call goes: resource method -> `Operation` (or a flow of them) ->
`BaseClient._build_request` -> send -> `BaseClient._retry_delay` decides
whether to try again -> `BaseClient._process_response` makes a model or
raises. `Client._send` and `AsyncClient._send` are the only two copies of
that loop, and differ only by `await`.
"""

from __future__ import annotations

import copy
import email.utils
import logging
import os
import random
import time
import uuid
from collections.abc import Awaitable, Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast
from urllib.parse import quote, urlsplit, urlunsplit

import httpx

from . import _constants as C
from ._async_client import AsyncClientMethods
from ._exceptions import (
    STATUS_ERRORS,
    APIConnectionError,
    APIStatusError,
    APITimeoutError,
    InternalServerError,
    safe_url,
)
from ._operation import Flow, Operation, RequestOptions, names
from ._version import __version__

if TYPE_CHECKING:
    from typing_extensions import Unpack

    from .resources import App, Apps
    from .types import Branch

T = TypeVar("T")
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


def escape_segment(segment: str) -> str:
    """One path segment, escaped so that it cannot add segments or a query."""
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


class BaseClient:
    """Everything the two clients share; it never does I/O."""

    _http: httpx.Client | httpx.AsyncClient
    _owns_http: bool
    _headers_on_http: bool

    def __init__(
        self,
        base_url: str | None = None,
        *,
        token: str | None = None,
        timeout: float | httpx.Timeout | None = None,
        max_retries: int | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        _configure_logging()
        self.base_url = normalize_base_url(
            base_url or os.environ.get("CYME_URL") or C.DEFAULT_BASE_URL
        )
        self._token = token if token is not None else os.environ.get("CYME_TOKEN") or None
        self.timeout = C.DEFAULT_TIMEOUT if timeout is None else httpx.Timeout(timeout)
        self.max_retries = C.DEFAULT_MAX_RETRIES if max_retries is None else max_retries
        self._headers = dict(headers or {})

    def __repr__(self) -> str:
        return f"<{type(self).__name__}: {self.base_url!r}>"

    def _copy(self, timeout: float | httpx.Timeout | None, max_retries: int | None) -> Any:
        """A client sharing this one's connections, with other defaults."""
        clone = copy.copy(self)
        if timeout is not None:
            clone.timeout = httpx.Timeout(timeout)
        if max_retries is not None:
            clone.max_retries = max_retries
        clone._owns_http = False
        clone._bind_resources()
        return clone

    def _bind_resources(self) -> None:  # pragma: no cover - abstract
        """Make the resources (`apps`) of this client, sync or async."""
        raise NotImplementedError

    # -- requests -------------------------------------------------------------

    def url_for(self, *segments: str) -> str:
        """The URL of a path given as raw segments (names are escaped here)."""
        return self.base_url + "/" + "/".join(escape_segment(s) for s in segments)

    def _default_headers(self) -> dict[str, str]:
        headers = {"Accept": "application/json", "User-Agent": f"cyme-python/{__version__}"}
        headers.update(self._headers)
        if self._token:
            headers["Authorization"] = f"Bearer {self._token}"
        return headers

    def _build_request(self, op: Operation[Any]) -> httpx.Request:
        # An httpx client made here carries the default headers itself: merging
        # them into every request would cost httpx about 2% of a call.
        headers = {} if self._headers_on_http else self._default_headers()
        if op.method == "POST":
            # Made once per call and sent again on every retry, so that the
            # branch does a retried POST only once.
            headers[C.IDEMPOTENCY_HEADER] = op.options.get("idempotency_key") or str(uuid.uuid4())
        headers.update(op.options.get("extra_headers") or {})
        timeout = op.options.get("timeout")
        return self._http.build_request(
            op.method,
            self.url_for(*op.path),
            params=dict(op.params) if op.params else None,
            json=dict(op.json) if op.json is not None else None,
            headers=headers,
            timeout=self.timeout if timeout is None else httpx.Timeout(timeout),
        )

    def _max_retries(self, op: Operation[Any]) -> int:
        return op.options.get("max_retries", self.max_retries)

    # -- retries --------------------------------------------------------------

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

    # -- responses ------------------------------------------------------------

    # The log helpers return early when the record would be dropped: making a
    # URL safe to log costs about a tenth of a call on a kept-alive connection.
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
    def _process_response(op: Operation[T], response: httpx.Response) -> T:
        if response.status_code >= 400:
            raise BaseClient._make_status_error(response)
        if response.status_code == 202:
            from .types import Scheduled  # noqa: PLC0415 - loaded by the first client

            return cast(T, Scheduled.model_validate(response.json()))
        return op.parse(response.text if op.text else response.json())

    @staticmethod
    def _connection_error(request: httpx.Request, exc: Exception) -> APIConnectionError:
        if isinstance(exc, httpx.TimeoutException):
            return APITimeoutError(request=request)
        return APIConnectionError(request=request)

    # -- the API at the top level: the branch -----------------------------------

    def _flow_branches(self) -> Operation[list[str]]:
        return Operation("listBranches", "GET", ("branches",), names)

    def _op_get_branch(self, id: str, options: RequestOptions) -> Operation[Branch]:
        from .types import Branch  # noqa: PLC0415 - loaded by the first client

        parse = Branch.model_validate
        return Operation("getBranch", "GET", ("branches", id), parse, options=options)

    def _op_ping(self, options: RequestOptions) -> Operation[str]:
        return Operation("ping", "GET", ("ping",), lambda data: str(data["ok"]), options=options)

    def _op_spec(self, options: RequestOptions) -> Operation[str]:
        return Operation("getOpenAPI", "GET", ("openapi.yaml",), str, text=True, options=options)

    def _op_docs(self, options: RequestOptions) -> Operation[str]:
        return Operation("getDocs", "GET", ("docs",), str, text=True, options=options)

    def _call(self, flow: Operation[T] | Flow[T]) -> T:  # pragma: no cover - abstract
        raise NotImplementedError


class Client(BaseClient):
    """A client of one branch, keeping its connection alive between calls.

    >>> cyme = Client("http://:8000")
    >>> app = cyme.add("pycon", broker="amqp://")
    """

    _http: httpx.Client
    apps: Apps

    def __init__(
        self,
        base_url: str | None = None,
        *,
        token: str | None = None,
        timeout: float | httpx.Timeout | None = None,
        max_retries: int | None = None,
        headers: Mapping[str, str] | None = None,
        http_client: httpx.Client | None = None,
    ) -> None:
        super().__init__(
            base_url, token=token, timeout=timeout, max_retries=max_retries, headers=headers
        )
        self._owns_http = self._headers_on_http = http_client is None
        self._http = http_client or httpx.Client(
            timeout=self.timeout, headers=self._default_headers()
        )
        self._bind_resources()

    def _bind_resources(self) -> None:
        # The resources, and with them the models and pydantic, load with the
        # first client rather than with `import cyme`.
        from .resources.apps import Apps  # noqa: PLC0415

        self.apps = Apps(self)

    def get_branch(self, id: str, **options: Unpack[RequestOptions]) -> Branch:
        """Describe this branch, or a neighbour by its id (`getBranch`)."""
        return self._call(self._op_get_branch(id, options))

    def ping(self, **options: Unpack[RequestOptions]) -> str:
        """Check that the branch is up; returns `"pong"` (`ping`)."""
        return self._call(self._op_ping(options))

    def spec(self, **options: Unpack[RequestOptions]) -> str:
        """The branch's openapi.yaml, as text (`getOpenAPI`)."""
        return self._call(self._op_spec(options))

    def docs(self, **options: Unpack[RequestOptions]) -> str:
        """The branch's HTML reference page (`getDocs`)."""
        return self._call(self._op_docs(options))

    @property
    def branches(self) -> list[str]:
        """Ids of this branch and of its neighbours (`listBranches`)."""
        return self._call(self._flow_branches())

    def add(
        self,
        name: str,
        broker: str | None = None,
        arguments: str | None = None,
        extra_config: Mapping[str, Any] | None = None,
        **options: Unpack[RequestOptions],
    ) -> App:
        """Create or update the app `name` (`putApp`); same as `client.apps.add`."""
        return self.apps.add(name, broker, arguments, extra_config, **options)

    def get(self, name: str, **options: Unpack[RequestOptions]) -> App:
        """The app `name` (`getApp`)."""
        return self.apps.get(name, **options)

    def all(self, **options: Unpack[RequestOptions]) -> list[App]:
        """Every app of the branch, fetched one by one."""
        return self.apps.all(**options)

    def all_names(self, **options: Unpack[RequestOptions]) -> list[str]:
        """The names of the branch's apps (`listApps`)."""
        return self.apps.all_names(**options)

    def delete(self, name: str, **options: Unpack[RequestOptions]) -> App:
        """Delete the app `name` with its instances and queues (`deleteApp`)."""
        return self.apps.delete(name, **options)

    def with_options(
        self, *, timeout: float | httpx.Timeout | None = None, max_retries: int | None = None
    ) -> Client:
        """This client with other defaults, sharing its connections."""
        return cast(Client, self._copy(timeout, max_retries))

    def close(self) -> None:
        if self._owns_http:
            self._http.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _call(self, flow: Operation[T] | Flow[T]) -> T:
        if isinstance(flow, Operation):
            return self._send(flow)
        try:
            op = next(flow)
            while True:
                op = flow.send(self._send(op))
        except StopIteration as stop:
            return cast(T, stop.value)

    def _send(self, op: Operation[T]) -> T:
        request = self._build_request(op)
        max_retries = self._max_retries(op)
        attempt = 0
        while True:
            self._log_request(request)
            try:
                response = self._http.send(request)
            except httpx.TransportError as exc:
                error = self._connection_error(request, exc)
                if not self._should_retry(request, None, attempt, max_retries):
                    raise error from exc
                delay = self._retry_delay(attempt, None)
                self._log_retry(request, attempt, delay, type(error).__name__)
            else:
                self._log_response(request, response)
                if not self._should_retry(request, response, attempt, max_retries):
                    return self._process_response(op, response)
                delay = self._retry_delay(attempt, response)
                self._log_retry(request, attempt, delay, str(response.status_code))
                response.close()
            time.sleep(delay)
            attempt += 1


class AsyncClient(AsyncClientMethods, BaseClient):
    """The asyncio client: the same methods as `Client`, to be awaited.

    Its resources are the generated async twins of the sync ones
    (`resources/_async.py`), so `await client.add(...)` is typed `AsyncApp`.

    >>> cyme = AsyncClient("http://:8000")
    >>> app = await cyme.add("pycon", broker="amqp://")
    >>> instance = await app.instances.add()
    """

    _http: httpx.AsyncClient

    def __init__(
        self,
        base_url: str | None = None,
        *,
        token: str | None = None,
        timeout: float | httpx.Timeout | None = None,
        max_retries: int | None = None,
        headers: Mapping[str, str] | None = None,
        http_client: httpx.AsyncClient | None = None,
    ) -> None:
        super().__init__(
            base_url, token=token, timeout=timeout, max_retries=max_retries, headers=headers
        )
        self._owns_http = self._headers_on_http = http_client is None
        self._http = http_client or httpx.AsyncClient(
            timeout=self.timeout, headers=self._default_headers()
        )
        self._bind_resources()

    def _bind_resources(self) -> None:
        from .resources._async import AsyncApps  # noqa: PLC0415 - see Client._bind_resources

        self.apps = AsyncApps(self)

    @property
    def branches(self) -> Awaitable[list[str]]:
        """Ids of this branch and of its neighbours (`listBranches`), to await."""
        return self._call(self._flow_branches())

    def with_options(
        self, *, timeout: float | httpx.Timeout | None = None, max_retries: int | None = None
    ) -> AsyncClient:
        """This client with other defaults, sharing its connections."""
        return cast(AsyncClient, self._copy(timeout, max_retries))

    async def aclose(self) -> None:
        if self._owns_http:
            await self._http.aclose()

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    # The resources call `_call` and return what it returns; here that is a
    # coroutine, which is what makes every resource method awaitable.
    async def _call(self, flow: Operation[T] | Flow[T]) -> T:  # type: ignore[override]
        if isinstance(flow, Operation):
            return await self._send(flow)
        try:
            op = next(flow)
            while True:
                op = flow.send(await self._send(op))
        except StopIteration as stop:
            return cast(T, stop.value)

    async def _send(self, op: Operation[T]) -> T:
        request = self._build_request(op)
        max_retries = self._max_retries(op)
        attempt = 0
        while True:
            self._log_request(request)
            try:
                response = await self._http.send(request)
            except httpx.TransportError as exc:
                error = self._connection_error(request, exc)
                if not self._should_retry(request, None, attempt, max_retries):
                    raise error from exc
                delay = self._retry_delay(attempt, None)
                self._log_retry(request, attempt, delay, type(error).__name__)
            else:
                self._log_response(request, response)
                if not self._should_retry(request, response, attempt, max_retries):
                    return self._process_response(op, response)
                delay = self._retry_delay(attempt, response)
                self._log_retry(request, attempt, delay, str(response.status_code))
                await response.aclose()
            # Imported here: a program already running AsyncClient has loaded
            # asyncio, and `import cyme` for the sync client is faster without it.
            import asyncio  # noqa: PLC0415

            await asyncio.sleep(delay)
            attempt += 1
