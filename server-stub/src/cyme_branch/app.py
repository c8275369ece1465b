"""The HTTP side: route by the spec, validate, call the handler, render.

aiohttp serves a single catch-all route; the spec does the routing, so a
trailing slash never causes a redirect and percent-encoded names are
decoded exactly once, from the raw request target.
"""

from __future__ import annotations

import json
import logging
from typing import Any
from urllib.parse import unquote, urlsplit

from aiohttp import web
from aiohttp.abc import AbstractAccessLogger

from .branch import Branch
from .handlers import HANDLERS, Reply
from .problems import (
    InternalError,
    MalformedRequest,
    MethodNotAllowed,
    NotFound,
    PayloadTooLarge,
    Problem,
)

log = logging.getLogger("cyme.branch")
access_log = logging.getLogger("cyme.branch.access")

MAX_BODY = 1024 * 1024
BRANCH: web.AppKey[Branch] = web.AppKey("branch", Branch)
_COMMON = {"Access-Control-Allow-Origin": "*"}


def create_app(branch: Branch) -> web.Application:
    missing = set(branch.spec.operations) - set(HANDLERS)
    if missing:
        raise RuntimeError(f"operations without a handler: {sorted(missing)}")
    app = web.Application(client_max_size=MAX_BODY)
    app[BRANCH] = branch
    app.router.add_route("*", "/{tail:.*}", dispatch)

    async def start(_: web.Application) -> None:
        await branch.start()

    async def stop(_: web.Application) -> None:
        await branch.stop()

    app.on_startup.append(start)
    app.on_cleanup.append(stop)
    return app


def split_target(target: str) -> tuple[str, str]:
    """The raw path and query of a request target (origin- or absolute-form)."""
    if target.startswith(("http://", "https://")):
        parts = urlsplit(target)
        return parts.path or "/", parts.query
    path, _, query = target.partition("?")
    return path, query


def _segments(path: str) -> list[str]:
    parts = path.split("/")[1:]
    if parts and parts[-1] == "":
        parts.pop()  # the optional trailing slash
    try:
        return [unquote(p, errors="strict") for p in parts]
    except UnicodeDecodeError:
        raise MalformedRequest("The path is not valid percent-encoded UTF-8.") from None


async def dispatch(request: web.Request) -> web.StreamResponse:
    branch = request.app[BRANCH]
    path, query = split_target(request.message.path)
    try:
        if not path.startswith("/"):
            raise NotFound("No route for this request target.")
        parts = _segments(path)
        route = branch.spec.find(parts)
        if route is None:
            raise NotFound(f"No route for {path}.")
        op = route.operations.get(request.method)
        if op is None:
            raise MethodNotAllowed(request.method, route.allowed)
        path_values = route.values(parts)
        body = await _read_body(request) if op.body_schema is not None else b""
        inputs = branch.validator.validate(
            op, path_values, query, request.headers.get("Content-Type"), body
        )
        reply = await HANDLERS[op.operation_id](branch, inputs)
        return _render(reply)
    except Problem as problem:
        return problem_response(problem, path)
    except Exception:
        log.exception("%s %s failed", request.method, path)
        return problem_response(
            InternalError("The branch failed to handle the request; see its log."), path
        )


async def _read_body(request: web.Request) -> bytes:
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
        status=problem.status,
        headers=headers,
    )


class AccessLogger(AbstractAccessLogger):
    """One line per request: method, path, status, duration.

    The query string is left out on purpose: it may carry a broker URL.
    """

    def log(self, request: web.BaseRequest, response: web.StreamResponse, time: float) -> None:
        path, _ = split_target(request.message.path)
        self.logger.info("%s %s %s %.1fms", request.method, path, response.status, time * 1000)
