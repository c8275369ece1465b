"""The HTTP side: route by the spec, validate, call the handler, render.

The branch runs on aiohttp's low-level server, without aiohttp's router: the
spec does the routing, from the raw request target, so a trailing slash never
causes a redirect, percent-encoded names are decoded exactly once, and every
answer, even one to a request that is not valid HTTP, is a problem document.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import re
import signal
import uuid
from functools import partial
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from aiohttp import web
from aiohttp.abc import AbstractAccessLogger
from aiohttp.http_exceptions import LineTooLong
from aiohttp.web_protocol import RequestHandler

from . import (
    docs,  # noqa: F401  (importing it binds the getDocs handler)
    faults,
)
from .branch import Branch
from .handlers import HANDLERS, Reply, schedule
from .idempotency import replay_or_run
from .problems import (
    InjectedFault,
    InternalError,
    MalformedRequest,
    MethodNotAllowed,
    NotFound,
    PayloadTooLarge,
    Problem,
)
from .supervisor import deadline
from .validation import Inputs

log = logging.getLogger("cyme.branch")
access_log = logging.getLogger("cyme.branch.access")

MAX_BODY = 1024 * 1024
# Body fields may travel in the query string; leave them room, within reason.
MAX_REQUEST_LINE = 64 * 1024
MAX_HEADER = 16 * 1024
_COMMON = {"Access-Control-Allow-Origin": "*"}


def check_handlers(branch: Branch) -> None:
    missing = set(branch.spec.operations) - set(HANDLERS)
    if missing:
        raise RuntimeError(f"operations without a handler: {sorted(missing)}")


class _ProblemRequestHandler(RequestHandler):
    """aiohttp's connection handler, answering unparseable HTTP with a problem."""

    def handle_error(
        self,
        request: web.BaseRequest,
        status: int = 500,
        exc: BaseException | None = None,
        message: str | None = None,
    ) -> web.StreamResponse:
        if request.writer.output_size > 0:
            raise ConnectionError("a response was sent already")
        # aiohttp's own message quotes the request; it may hold a broker URL.
        log.warning("refused a malformed request: %s", type(exc).__name__ if exc else status)
        problem: Problem
        if isinstance(exc, LineTooLong):
            problem = MalformedRequest(
                f"The request line or a header is too long (at most {MAX_REQUEST_LINE} "
                f"and {MAX_HEADER} bytes); send large values in the body."
            )
        elif status < 500:
            problem = MalformedRequest("The request is not valid HTTP/1.1.")
        else:
            problem = InternalError("The branch failed to handle the request; see its log.")
        response = problem_response(problem, "/")
        response.headers["X-Request-Id"] = request_id(None)
        response.force_close()
        return response


class _Server(web.Server):
    def __call__(self) -> RequestHandler:
        return _ProblemRequestHandler(self, loop=self._loop, **self._kwargs)


async def serve(branch: Branch, host: str, port: int, shutdown_timeout: float = 30.0) -> None:
    """Serve until SIGTERM or SIGINT, then finish the requests in flight."""
    check_handlers(branch)
    await branch.start()
    server = _Server(
        partial(dispatch, branch),
        access_log_class=AccessLogger,
        access_log=access_log,
        max_line_size=MAX_REQUEST_LINE,
        max_field_size=MAX_HEADER,
    )
    runner = web.ServerRunner(server, shutdown_timeout=shutdown_timeout)
    try:
        await runner.setup()
        await web.TCPSite(runner, host, port).start()
        stopping = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, stopping.set)
        log.info("serving on http://%s:%d/", host, port)
        await stopping.wait()
        log.info("stopping: finishing the requests in flight")
    finally:
        await runner.cleanup()
        await branch.stop()


def split_target(target: str) -> tuple[str, str]:
    """The raw path and query of a request target (origin- or absolute-form)."""
    if target.startswith(("http://", "https://")):
        parts = urlsplit(target)
        return parts.path or "/", parts.query
    path, _, query = target.partition("?")
    return path, query


def _segments(path: str) -> tuple[list[str], bool]:
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


# Visible ASCII, no spaces: an id can then not forge fields of the access log.
_REQUEST_ID = re.compile(r"[!-~]{1,128}")


def request_id(sent: str | None) -> str:
    """The request's id: the caller's when it is sane, else a new one."""
    if sent and _REQUEST_ID.fullmatch(sent):
        return sent
    return uuid.uuid4().hex


async def dispatch(branch: Branch, request: web.BaseRequest) -> web.StreamResponse:
    rid = request_id(request.headers.get("X-Request-Id"))
    path, query = split_target(request.message.path)
    try:
        response = await _serve(branch, request, path, query)
    except Problem as problem:
        response = problem_response(problem, path)
    except _Dropped:
        # Close the connection without a word: the client sees it reset.
        if request.transport is not None:
            request.transport.abort()
        access_log.info("method=%s path=%s status=dropped request_id=%s", request.method, path, rid)
        raise asyncio.CancelledError from None
    except Exception:
        log.exception("%s %s failed (request_id=%s)", request.method, path, rid)
        response = problem_response(
            InternalError("The branch failed to handle the request; see its log."), path
        )
    response.headers["X-Request-Id"] = rid
    return response


class _Dropped(Exception):
    """A fault asked for the connection to be dropped."""


async def _serve(
    branch: Branch, request: web.BaseRequest, path: str, query: str
) -> web.StreamResponse:
    """Route, authenticate, inject faults, validate, then run the operation."""
    if not path.startswith("/"):
        raise NotFound("No route for this request target.")
    parts, legacy_nowait = _segments(path)
    route = branch.spec.find(parts)
    # HEAD is GET without the body (RFC 9110); aiohttp leaves the body out.
    method = "GET" if request.method == "HEAD" else request.method
    op = route.operations.get(method) if route is not None else None
    if op is None or not op.public:
        branch.auth.check(request.headers.get("Authorization"))
    fault = await _inject(branch, request) if branch.faults is not None else None
    if route is None:
        raise NotFound(f"No route for {path}.")
    if op is None:
        raise MethodNotAllowed(request.method, route.allowed)
    nowait_asked = legacy_nowait or any(
        name == "nowait" for name, _ in parse_qsl(query, keep_blank_values=True)
    )
    if nowait_asked and method == "GET":
        raise MalformedRequest("A GET has nothing to wait for: drop nowait (or '!').")
    if legacy_nowait and not op.takes("query", "nowait"):
        raise MalformedRequest(f"{op.operation_id} cannot be asked not to wait.")
    body = await _read_body(request) if op.body_schema is not None else b""
    inputs = branch.validator.validate(op, route.values(parts), query, request.headers, body)
    if legacy_nowait:
        inputs.query["nowait"] = True

    async def run() -> web.Response:
        try:
            # Whatever the operation waits for, a worker gets this long in all.
            with deadline(branch.config.control_timeout):
                if inputs.query.get("nowait"):
                    reply = await schedule(branch, op.operation_id, op.template, inputs)
                else:
                    reply = await HANDLERS[op.operation_id](branch, inputs)
        except Problem as problem:
            return problem_response(problem, path)
        return _render(reply)

    key = inputs.headers.get("Idempotency-Key")
    if key is not None and method == "POST":
        response = await replay_or_run(branch, key, _fingerprint(op.operation_id, inputs), run)
    else:
        response = await run()
    if fault is not None:
        _fail(fault)  # an `after` fault: the work is done, the answer is lost
    return response


async def _inject(branch: Branch, request: web.BaseRequest) -> faults.Fault | None:
    """Serve the fault a request asked for; return it when it comes after handling."""
    assert branch.faults is not None
    fault = branch.faults.take(request.headers.get(faults.HEADER))
    if fault is None:
        return None
    if fault.delay:
        await asyncio.sleep(fault.delay)
    if fault.after:
        return fault
    _fail(fault)
    return None


def _fail(fault: faults.Fault) -> None:
    if fault.drop:
        raise _Dropped
    if fault.status is not None:
        raise InjectedFault(fault.status, fault.retry_after)


def _fingerprint(operation_id: str, inputs: Inputs) -> str:
    """What makes two requests the same request, for an Idempotency-Key."""
    same = {"op": operation_id, "path": inputs.path, "query": inputs.query, "body": inputs.body}
    text = json.dumps(same, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


async def _read_body(request: web.BaseRequest) -> bytes:
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


def _render(reply: Reply) -> web.Response:
    headers = {**_COMMON, **reply.headers, "Content-Type": reply.content_type}
    if isinstance(reply.body, str):
        data = reply.body.encode("utf-8")
    else:
        data = json.dumps(reply.body, separators=(",", ":")).encode("utf-8")
    return web.Response(body=data, status=reply.status, headers=headers)


def problem_response(problem: Problem, path: str) -> web.Response:
    body: dict[str, Any] = problem.body(path)
    headers = {**_COMMON, **problem.headers, "Content-Type": "application/problem+json"}
    return web.Response(
        body=json.dumps(body, separators=(",", ":")).encode("utf-8"),
        status=problem.http_status,
        headers=headers,
    )


class AccessLogger(AbstractAccessLogger):
    """One line per request: method, path, status, duration and request id.

    The query string and the headers are left out on purpose: they may carry
    a broker URL or a token.
    """

    def log(self, request: web.BaseRequest, response: web.StreamResponse, time: float) -> None:
        path, _ = split_target(request.message.path)
        self.logger.info(
            "method=%s path=%s status=%d duration_ms=%.1f request_id=%s",
            request.method,
            path,
            response.status,
            time * 1000,
            response.headers.get("X-Request-Id", "-"),
        )
