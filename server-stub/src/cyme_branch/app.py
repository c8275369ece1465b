"""The HTTP side: aiohttp's low-level server, the pipeline, the access log.

The branch runs on aiohttp's low-level server, without aiohttp's router: the
spec does the routing (pipeline.py), from the raw request target, so a
trailing slash never causes a redirect, percent-encoded names are decoded
exactly once, and every answer, even one to a request that is not valid
HTTP, is a problem document.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import signal
import ssl
from collections.abc import Awaitable, Callable
from urllib.parse import urlsplit

from aiohttp import web
from aiohttp.abc import AbstractAccessLogger
from aiohttp.http_exceptions import LineTooLong
from aiohttp.web_protocol import RequestHandler

from .branch import Branch
from .logs import access_writer
from .pipeline import REQUEST_ID, Endpoint, Exchange, access_log, build, request_ids
from .problems import InternalError, MalformedRequest, Problem
from .rendering import Answer, render_problem

log = logging.getLogger("cyme.branch")

# Body fields may travel in the query string; leave them room, within reason.
MAX_REQUEST_LINE = 64 * 1024
MAX_HEADER = 16 * 1024


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
        answer = render_problem(problem, "/")
        answer.headers[REQUEST_ID] = request_ids(None)
        response = to_response(answer)
        response.force_close()
        return response


class _Server(web.Server):
    def __call__(self) -> RequestHandler:
        return _ProblemRequestHandler(self, loop=self._loop, **self._kwargs)


def split_target(target: str) -> tuple[str, str]:
    """The raw path and query of a request target (origin- or absolute-form)."""
    if target.startswith(("http://", "https://")):
        parts = urlsplit(target)
        return parts.path or "/", parts.query
    path, _, query = target.partition("?")
    return path, query


def to_response(answer: Answer) -> web.Response:
    return web.Response(body=answer.body, status=answer.status, headers=answer.headers)


def handler(branch: Branch) -> Callable[[web.BaseRequest], Awaitable[web.StreamResponse]]:
    """aiohttp's request handler: the pipeline, from the raw request target."""
    pipeline: Endpoint = build(branch)

    async def handle(request: web.BaseRequest) -> web.StreamResponse:
        path, query = split_target(request.raw_path)
        return to_response(await pipeline(Exchange(request, path, query)))

    return handle


async def serve(
    branch: Branch,
    host: str,
    port: int,
    shutdown_timeout: float = 30.0,
    ready: Callable[[Branch], None] | None = None,
    *,
    ssl_context: ssl.SSLContext | None = None,
) -> None:
    """Serve until SIGTERM or SIGINT, then finish the requests in flight.

    Port 0 is a free port, chosen by the system; once listening, the branch's
    config holds the real one, and `ready(branch)` is called. With
    `ssl_context` (cli.tls_context) it serves HTTPS.
    """
    await branch.start()
    server = _Server(
        handler(branch),
        access_log_class=AccessLogger,
        access_log=access_log,
        max_line_size=MAX_REQUEST_LINE,
        max_field_size=MAX_HEADER,
    )
    runner = web.ServerRunner(server, shutdown_timeout=shutdown_timeout)
    try:
        await runner.setup()
        await web.TCPSite(runner, host, port, ssl_context=ssl_context).start()
        if port == 0:
            branch.config = dataclasses.replace(branch.config, port=runner.addresses[0][1])
        branch.listening()
        stopping = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, stopping.set)
        log.info("serving on %s/", branch.url)
        if ready is not None:
            ready(branch)
        await stopping.wait()
        log.info("stopping: finishing the requests in flight")
    finally:
        await runner.cleanup()
        await branch.stop()


class AccessLogger(AbstractAccessLogger):
    """One line per request: method, path, status, duration and request id.

    The query string and the headers are left out on purpose: they may carry
    a broker URL or a token. The lines go straight to the branch's log
    handler when it is the only one (see logs.py).
    """

    def __init__(self, logger: logging.Logger, log_format: str) -> None:
        super().__init__(logger, log_format)
        self._writer = access_writer(logger)

    def log(self, request: web.BaseRequest, response: web.StreamResponse, time: float) -> None:
        path, _ = split_target(request.raw_path)
        rid = response.headers.get(REQUEST_ID, "-")
        if self._writer is not None:
            self._writer.access(
                f"method={request.method} path={path} status={response.status}"
                f" duration_ms={time * 1000:.1f} request_id={rid}"
            )
            return
        self.logger.info(
            "method=%s path=%s status=%d duration_ms=%.1f request_id=%s",
            request.method,
            path,
            response.status,
            time * 1000,
            rid,
        )
