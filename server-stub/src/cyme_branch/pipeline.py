"""How a request is served: the steps, in order, declared once in `PIPELINE`.

A step is one of two kinds:

- `Step(name, bind)`: `bind(branch, call_next)` returns what serves a
  request at its place, an async function of the request's `Exchange` that
  does its part around `call_next` (or answers without calling it);
- `Check(name, bind)`: `bind(branch)` returns a plain function of the
  `Exchange` that looks at it, fills it in or raises a problem, and lets
  the request go on (it returns None), or answers it at once (it returns
  the `Answer`: a CORS preflight).

Either `bind` may return None: the step has nothing to do on this branch (no
token: no authentication). `build()` chains the steps once, when the branch
starts; checks in a row become one call, so a request costs little more
than the work of its steps.

To add a step (metrics per operation, say), write its function and put one
line for it in `PIPELINE`, at its place in the order.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import os
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import parse_qsl, unquote

from aiohttp import web

from . import etags, faults
from .browsers import (
    EXPOSE_HEADERS,
    ORIGIN,
    REQUEST_METHOD,
    REQUEST_PRIVATE_NETWORK,
    SEC_FETCH_SITE,
    preflight_headers,
    request_authority,
)
from .handlers import HANDLERS, PAGES
from .idempotency import fingerprint
from .metrics import measure
from .problems import (
    InjectedFault,
    InternalError,
    MalformedRequest,
    MethodNotAllowed,
    NotFound,
    PayloadTooLarge,
    Problem,
)
from .rendering import COMMON_HEADERS, Answer, render, render_problem
from .spec import Operation, Route
from .supervisor import deadline as worker_deadline
from .validation import Inputs

if TYPE_CHECKING:
    from .branch import Branch

log = logging.getLogger("cyme.branch")
access_log = logging.getLogger("cyme.branch.access")

MAX_BODY = 1024 * 1024
REQUEST_ID = "X-Request-Id"
# Routing results remembered, at most, for paths of at most ROUTE_KEPT_LENGTH
# characters; more are forgotten all at once.
ROUTES_KEPT = 4096
ROUTE_KEPT_LENGTH = 512


class Exchange:
    """One request on its way through the pipeline: what the steps found out."""

    __slots__ = (
        "body",
        "inputs",
        "legacy_nowait",
        "method",
        "operation",
        "origin",
        "path",
        "path_values",
        "query",
        "request",
        "request_id",
        "route",
    )

    request: web.BaseRequest
    path: str  # the raw path: the `instance` of a problem
    query: str  # the raw query string
    request_id: str
    method: str  # the request's method; GET for HEAD
    route: Route | None  # None: no path of the spec matches
    operation: Operation | None  # None: the route has no such method, or not routed yet
    origin: str | None  # the Origin of a web page the branch serves, None without one
    path_values: dict[str, str]  # the path's parameters, decoded
    legacy_nowait: bool  # the path had the original branch's `!` segment
    body: bytes
    inputs: Inputs

    def __init__(self, request: web.BaseRequest, path: str, query: str) -> None:
        self.request = request
        self.path = path
        self.query = query
        self.request_id = ""
        self.body = b""
        self.operation = None
        self.origin = None


Endpoint = Callable[[Exchange], Awaitable[Answer]]
CheckFunction = Callable[[Exchange], Answer | None]


@dataclass(frozen=True)
class Step:
    """A step around the rest of the pipeline."""

    name: str
    bind: Callable[[Branch, Endpoint], Endpoint | None]


@dataclass(frozen=True)
class Check:
    """A step that looks at the request, and raises a problem, lets it go on or answers it."""

    name: str
    bind: Callable[[Branch], CheckFunction | None]


# -- the steps, outermost first -------------------------------------------------


# Visible ASCII, no spaces: an id can then not forge fields of the access log.
_SANE_ID = re.compile(r"[!-~]{1,128}")


class RequestIds:
    """Ids for requests that bring none: unique, and cheap to make (a random
    prefix per process, then a counter), 32 hex digits like a UUID's."""

    def __init__(self) -> None:
        self._prefix = os.urandom(8).hex()
        self._count = itertools.count(1)

    def __call__(self, sent: str | None) -> str:
        """The caller's id when it is sane, else a new one."""
        if sent and _SANE_ID.fullmatch(sent):
            return sent
        return f"{self._prefix}{next(self._count):016x}"


request_ids = RequestIds()


def request_id(branch: Branch, call_next: Endpoint) -> Endpoint:
    """Every answer carries X-Request-Id: the caller's, or a new one."""

    async def step(x: Exchange) -> Answer:
        x.request_id = rid = request_ids(x.request.headers.get(REQUEST_ID))
        answer = await call_next(x)
        answer.headers[REQUEST_ID] = rid
        return answer

    return step


def browser_headers(branch: Branch, call_next: Endpoint) -> Endpoint:
    """On the way back: CORS headers on every answer to a web page the branch
    serves (its origin allowed by the cross-site step), and on an HTML page
    (an operation of `PAGES`) its Content-Security-Policy and the headers
    that keep it from being framed or leaking its URL (browsers.Page).
    Every answer has `Vary: Origin` and `nosniff` already (rendering.py)."""
    pages = {op.operation_id: PAGES[op.operation_id] for op in _pages_of(branch)}

    async def step(x: Exchange) -> Answer:
        answer = await call_next(x)
        if x.origin is not None:
            answer.headers["Access-Control-Allow-Origin"] = x.origin
            answer.headers["Access-Control-Expose-Headers"] = EXPOSE_HEADERS
        op = x.operation
        if op is not None and answer.status == 200 and op.operation_id in pages:
            answer.headers.update(pages[op.operation_id](branch).headers)
        return answer

    return step


def _pages_of(branch: Branch) -> list[Operation]:
    """The operations that answer an HTML page: each must be in `PAGES`, so
    that none is served without its headers."""
    ops = branch.spec.operations
    html = branch.spec.html_operations()
    if html != set(PAGES):
        raise RuntimeError(
            f"openapi.yaml's HTML pages {sorted(html)} are not PAGES {sorted(PAGES)}"
        )
    return [ops[op_id] for op_id in sorted(html)]


class Dropped(Exception):
    """A fault asked for the connection to be dropped."""


def errors(branch: Branch, call_next: Endpoint) -> Endpoint:
    """A problem raised below is answered as a problem document; anything else
    as a 500 (logged with its traceback); a dropped connection is dropped."""

    async def step(x: Exchange) -> Answer:
        try:
            return await call_next(x)
        except Problem as problem:
            return render_problem(problem, x.path)
        except Dropped:
            # Close the connection without a word: the client sees it reset.
            if x.request.transport is not None:
                x.request.transport.abort()
            access_log.info(
                "method=%s path=%s status=dropped request_id=%s",
                x.request.method,
                x.path,
                x.request_id,
            )
            raise asyncio.CancelledError from None
        except Exception:
            log.exception("%s %s failed (request_id=%s)", x.request.method, x.path, x.request_id)
            failed = InternalError("The branch failed to handle the request; see its log.")
            return render_problem(failed, x.path)

    return step


def segments(path: str) -> tuple[list[str], bool]:
    """The decoded segments of a path, and whether it had the legacy `!` segment."""
    parts = path.split("/")[1:]
    if parts and parts[-1] == "":
        parts.pop()  # the optional trailing slash
    legacy_nowait = "!" in parts
    if legacy_nowait:
        # The original branch's nowait: `/{app}/instances/!/{name}`.
        parts.remove("!")
    try:
        return [unquote(p, errors="strict") for p in parts], legacy_nowait
    except UnicodeDecodeError:
        raise MalformedRequest("The path is not valid percent-encoded UTF-8.") from None


def routing(branch: Branch) -> CheckFunction:
    """The path against the spec's paths: a trailing slash is optional and a
    `!` segment means nowait; HEAD is GET without the body (RFC 9110).
    Unknown paths and methods are refused later, after auth and faults."""
    spec = branch.spec
    known: dict[str, tuple[Route | None, dict[str, str], bool]] = {}

    def find(path: str) -> tuple[Route | None, dict[str, str], bool]:
        if not path.startswith("/"):
            raise NotFound("No route for this request target.")
        parts, legacy_nowait = segments(path)
        route = spec.find(parts)
        found = (route, route.values(parts) if route is not None else {}, legacy_nowait)
        if len(path) <= ROUTE_KEPT_LENGTH:
            if len(known) >= ROUTES_KEPT:
                known.clear()
            known[path] = found
        return found

    def check(x: Exchange) -> None:
        x.route, values, x.legacy_nowait = known.get(x.path) or find(x.path)
        x.path_values = dict(values)
        method = x.request.method
        x.method = "GET" if method == "HEAD" else method
        x.operation = x.route.operations.get(x.method) if x.route is not None else None

    return check


def check_host(branch: Branch) -> CheckFunction | None:
    """DNS rebinding: the Host must be a name the branch answers to (browsers.py);
    a branch with a token and no --allow-host has no such rule."""
    policy = branch.browsers
    if policy.hosts is None:
        return None
    check_authority = policy.check_host

    def check(x: Exchange) -> None:
        request = x.request
        check_authority(request_authority(request.raw_path, request.headers))

    return check


def cross_site(branch: Branch) -> CheckFunction:
    """A request from a web page must come from an origin the branch serves:
    its own, or one given with --allow-origin (browsers.py). Programs send
    neither Origin nor Sec-Fetch-Site, and pass at the cost of two lookups."""
    check_origin = branch.browsers.check_origin

    def check(x: Exchange) -> None:
        request = x.request
        headers = request.headers
        if ORIGIN in headers or SEC_FETCH_SITE in headers:
            x.origin = check_origin(headers, request_authority(request.raw_path, headers))

    return check


def preflight(branch: Branch) -> CheckFunction:
    """A CORS preflight (OPTIONS with Origin and Access-Control-Request-Method)
    from an allowed origin is answered 204 here, before auth: browsers send no
    token with one. Any other OPTIONS goes on, to its 401, 404 or 405."""
    methods = {op.method for op in branch.spec.operations.values()} | {"HEAD"}
    plain = {**COMMON_HEADERS, **preflight_headers(methods, private_network=False)}
    private = {**COMMON_HEADERS, **preflight_headers(methods, private_network=True)}

    def check(x: Exchange) -> Answer | None:
        if x.origin is None or x.request.method != "OPTIONS":
            return None
        headers = x.request.headers
        if REQUEST_METHOD not in headers:
            return None
        asks_private = headers.get(REQUEST_PRIVATE_NETWORK) == "true"
        return Answer(204, (private if asks_private else plain).copy(), b"")

    return check


def authenticate(branch: Branch) -> CheckFunction | None:
    """The bearer token, on every operation but the public ones (`/ping`, and
    `/metrics` with --metrics-public)."""
    auth = branch.auth
    if not auth.enabled:
        return None
    public = {"getMetrics"} if branch.config.metrics_public else set()

    def check(x: Exchange) -> None:
        op = x.operation
        if op is None or not (op.public or op.operation_id in public):
            auth.check(x.request.headers.get("Authorization"))

    return check


def _fail(fault: faults.Fault) -> None:
    if fault.drop:
        raise Dropped
    if fault.status is not None:
        raise InjectedFault(fault.status, fault.retry_after)


def inject_faults(branch: Branch, call_next: Endpoint) -> Endpoint | None:
    """The fault a `Cyme-Fault` header asks for, with --allow-fault-injection:
    a worker killed or a queue filled, then a delay, then a failure now, or
    after the work is done (the answer lost)."""
    injector = branch.faults
    if injector is None:
        return None

    async def step(x: Exchange) -> Answer:
        fault = injector.take(x.request.headers.get(faults.HEADER))
        if fault is None:
            return await call_next(x)
        faults.upset(branch.supervisor, fault, x.path_values)
        if fault.delay:
            await asyncio.sleep(fault.delay)
        if not fault.after:
            _fail(fault)
            return await call_next(x)
        answer = await call_next(x)
        _fail(fault)
        return answer

    return step


def operation(branch: Branch) -> CheckFunction:
    """An unknown path is 404, another method 405 (with Allow); nowait (or `!`)
    is refused on a GET, and `!` on an operation that cannot be asked not to wait."""

    def check(x: Exchange) -> None:
        if x.route is None:
            raise NotFound(f"No route for {x.path}.")
        op = x.operation
        if op is None:
            raise MethodNotAllowed(x.request.method, x.route.allowed)
        if x.legacy_nowait or _asks_nowait(x.query):
            if x.method == "GET":
                raise MalformedRequest("A GET has nothing to wait for: drop nowait (or '!').")
            if x.legacy_nowait and not op.takes("query", "nowait"):
                raise MalformedRequest(f"{op.operation_id} cannot be asked not to wait.")

    return check


def _asks_nowait(query: str) -> bool:
    return bool(query) and any(
        name == "nowait" for name, _ in parse_qsl(query, keep_blank_values=True)
    )


def read_body(branch: Branch, call_next: Endpoint) -> Endpoint:
    """The body of an operation that takes one: at most 1 MiB."""

    async def step(x: Exchange) -> Answer:
        assert x.operation is not None
        if x.operation.body_schema is not None:
            x.body = await _read(x.request)
        return await call_next(x)

    return step


async def _read(request: web.BaseRequest) -> bytes:
    length = request.content_length
    if length is not None and length > MAX_BODY:
        raise PayloadTooLarge(f"The request body is larger than {MAX_BODY} bytes.")
    chunks: list[bytes] = []
    total = 0
    while True:
        chunk = await request.content.readany()
        if not chunk:
            return b"".join(chunks)
        total += len(chunk)
        if total > MAX_BODY:
            raise PayloadTooLarge(f"The request body is larger than {MAX_BODY} bytes.")
        chunks.append(chunk)


def validate(branch: Branch) -> CheckFunction:
    """Path, query, headers and body against the operation's schemas: every
    bad field named in one 422, so nothing reaches an operation unchecked."""
    validator = branch.validator

    def check(x: Exchange) -> None:
        assert x.operation is not None
        x.inputs = validator.validate(
            x.operation, x.path_values, x.query, x.request.headers, x.body
        )
        if x.legacy_nowait:
            x.inputs.query["nowait"] = True

    return check


def idempotency(branch: Branch, call_next: Endpoint) -> Endpoint:
    """A POST with an Idempotency-Key seen before gets the first answer again."""

    async def step(x: Exchange) -> Answer:
        key = x.inputs.headers.get("Idempotency-Key")
        if key is None or x.method != "POST":
            return await call_next(x)
        assert x.operation is not None
        inputs = x.inputs
        same = fingerprint(x.operation.operation_id, inputs.path, inputs.query, inputs.body)
        return await branch.idempotency.replay_or_run(key, same, lambda: call_next(x))

    return step


def problems(branch: Branch, call_next: Endpoint) -> Endpoint:
    """An operation's problem is its answer: rendered here, inside idempotency,
    a retry with the same key gets it again."""

    async def step(x: Exchange) -> Answer:
        try:
            return await call_next(x)
        except Problem as problem:
            return render_problem(problem, x.path)

    return step


def deadline(branch: Branch, call_next: Endpoint) -> Endpoint:
    """Whatever the operation waits for, a worker gets --control-timeout in all."""
    seconds = branch.config.control_timeout

    async def step(x: Exchange) -> Answer:
        with worker_deadline(seconds):
            return await call_next(x)

    return step


def conditional(branch: Branch, call_next: Endpoint) -> Endpoint | None:
    """The reads that declare a 304 (etags.py): their 200 carries an ETag, and
    the same answer to a request that sent it in If-None-Match is a 304."""
    ops = branch.spec.conditional_operations()
    if not ops:
        return None

    async def step(x: Exchange) -> Answer:
        answer = await call_next(x)
        assert x.operation is not None
        if answer.status == 200 and x.operation.operation_id in ops:
            return etags.tagged(answer, x.request.headers.get(etags.IF_NONE_MATCH))
        return answer

    return step


def handler(branch: Branch, call_next: Endpoint) -> Endpoint:
    """The operation bound to the operationId (handlers.py): its check and its
    effect, or with nowait its check and a 202; its reply rendered."""
    missing = set(branch.spec.operations) - set(HANDLERS)
    if missing:
        raise RuntimeError(f"operations without a handler: {sorted(missing)}")

    async def step(x: Exchange) -> Answer:
        op = x.operation
        assert op is not None
        reply = await HANDLERS[op.operation_id].run(branch, op.operation_id, op.template, x.inputs)
        return render(reply)

    return step


PIPELINE: tuple[Step | Check, ...] = (
    Step("request id", request_id),
    Step("metrics", measure),
    Step("browser headers", browser_headers),
    Step("errors", errors),
    Check("host", check_host),
    Check("cross-site", cross_site),
    Check("preflight", preflight),
    Check("routing", routing),
    Check("auth", authenticate),
    Step("faults", inject_faults),
    Check("operation", operation),
    Step("body", read_body),
    Check("validation", validate),
    Step("idempotency", idempotency),
    Step("problems", problems),
    Step("deadline", deadline),
    Step("conditional reads", conditional),
    Step("handler", handler),
)


async def _unanswered(x: Exchange) -> Answer:
    raise RuntimeError("no step answered the request")


def _checks(checks: list[CheckFunction], call_next: Endpoint) -> Endpoint:
    """Checks in a row, as one step; the first that answers ends it."""
    if len(checks) == 1:
        (only,) = checks

        async def one(x: Exchange) -> Answer:
            answer = only(x)
            if answer is not None:
                return answer
            return await call_next(x)

        return one

    async def several(x: Exchange) -> Answer:
        for check in checks:
            answer = check(x)
            if answer is not None:
                return answer
        return await call_next(x)

    return several


def build(branch: Branch, steps: tuple[Step | Check, ...] = PIPELINE) -> Endpoint:
    """The steps chained, each calling the next; those with nothing to do left out."""
    call: Endpoint = _unanswered
    checks: list[CheckFunction] = []  # in a row, after `call`
    for step in reversed(steps):
        if isinstance(step, Check):
            check = step.bind(branch)
            if check is not None:
                checks.insert(0, check)
            continue
        bound = step.bind(branch, _checks(checks, call) if checks else call)
        if bound is not None:  # else the step is left out, and the checks go on
            call, checks = bound, []
    return _checks(checks, call) if checks else call
