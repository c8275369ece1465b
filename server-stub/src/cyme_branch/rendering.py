"""Answers as they go on the wire: an operation's reply, or a problem, rendered."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from .operations import Reply
from .problems import Problem

# On every answer, even one to a request that is not HTTP (app.py): no
# content sniffing, and `Vary: Origin` because what a web page may read of
# an answer depends on its Origin (browsers.py; the Fetch standard's advice
# to caches, 3.2.5).
COMMON_HEADERS = {"Vary": "Origin", "X-Content-Type-Options": "nosniff"}
PROBLEM_TYPE = "application/problem+json"


@dataclass(slots=True)
class Answer:
    """Status, headers and body bytes: what a request is answered with."""

    status: int
    headers: dict[str, str]
    body: bytes


def to_json(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode("utf-8")


_JSON_HEADERS = {**COMMON_HEADERS, "Content-Type": "application/json"}


def render(reply: Reply) -> Answer:
    body = reply.body
    if isinstance(body, bytes):
        data = body
    elif isinstance(body, str):
        data = body.encode("utf-8")
    else:
        data = to_json(body)
    if not reply.headers and reply.content_type == "application/json":
        return Answer(reply.status, _JSON_HEADERS.copy(), data)
    headers = {**COMMON_HEADERS, **reply.headers, "Content-Type": reply.content_type}
    return Answer(reply.status, headers, data)


def render_problem(problem: Problem, path: str) -> Answer:
    """The RFC 9457 document of a problem; `path` is its `instance`."""
    headers = {**COMMON_HEADERS, **problem.headers, "Content-Type": PROBLEM_TYPE}
    return Answer(problem.http_status, headers, to_json(problem.body(path)))
