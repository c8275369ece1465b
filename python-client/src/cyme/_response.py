"""Response metadata: `RawResponse`, and the recording that `with_raw_response` reads.

Resource methods return models, not responses. To reach the status, the
headers or the request id of a call without giving every method a second
form, the base client records each answer it gets into the recorder of the
current context, when there is one: `with_raw_response` installs one around
the call it runs. A `ContextVar` keeps that per thread and per asyncio task
(a task started inside the call inherits the recorder, so its answers count
too).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Generic, TypeVar

import httpx

from . import _constants as C
from ._exceptions import safe_url

__all__ = ["RawResponse", "record", "recording"]

T = TypeVar("T")


@dataclass(frozen=True)
class RawResponse(Generic[T]):
    """What a call returned, and the last HTTP answer it got.

    >>> raw = client.with_raw_response(client.apps.get, "pycon")
    >>> raw.data.name, raw.status_code, raw.request_id
    """

    data: T
    """The call's own value: the model, list or text it returned."""

    status_code: int
    headers: httpx.Headers

    request_id: str | None
    """The branch's X-Request-Id, which its log names too."""

    method: str

    url: str
    """The request's URL without user info or query string."""


class Recorder:
    """The last answer received in one `recording()` block."""

    response: httpx.Response | None = None

    def raw(self, data: T) -> RawResponse[T]:
        response = self.response
        if response is None:
            raise RuntimeError("with_raw_response: the call sent no request")
        request = response.request
        return RawResponse(
            data=data,
            status_code=response.status_code,
            headers=response.headers,
            request_id=response.headers.get(C.REQUEST_ID_HEADER),
            method=request.method,
            url=safe_url(request.url),
        )


_recorder: ContextVar[Recorder | None] = ContextVar("cyme_recorder", default=None)


@contextmanager
def recording() -> Iterator[Recorder]:
    """Record the answers received in this block (and this context) into a new `Recorder`."""
    recorder = Recorder()
    token = _recorder.set(recorder)
    try:
        yield recorder
    finally:
        _recorder.reset(token)


def record(response: httpx.Response) -> None:
    """Keep `response` as the last answer of the current recording, if any."""
    recorder = _recorder.get()
    if recorder is not None:
        recorder.response = response
