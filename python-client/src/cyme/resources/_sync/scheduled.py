# Generated from resources/_async/scheduled.py by tools/generate_sync.py; do not edit.
"""Changes asked for with `nowait=True`: the `Scheduled` answer, and `wait()` to follow it.

A change asked not to wait answers 202 at once, with a `Scheduled` naming
the change (`id`); the branch makes it right after. `wait()` asks the branch
how it went (`GET /operations/{id}`, `getOperation`) until it is done, and
returns what the same call without `nowait` would have returned (an
`AsyncInstance` for `instances.add`, an `Autoscale` for `autoscale`...), or
raises the error it would have raised.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

import httpx

from ... import types
from ..._base_client import response_parser
from ..._exceptions import APITimeoutError
from ..._routes import ROUTES
from ._base import Bound

if TYPE_CHECKING:
    from typing_extensions import Unpack

    from ..._options import RequestOptions

FIRST_POLL = 0.05  # seconds before the first look again; then half as long again each time
LAST_POLL = 1.0
DEFAULT_WAIT = 60.0


class Scheduled(types.Scheduled, Bound):
    """A change the branch accepted and makes right after (`nowait=True`).

    >>> scheduled = instance.autoscale(min=4, max=10, nowait=True)
    >>> scheduled.wait(timeout=30)
    Autoscale(max=10, min=4)
    """

    def __repr__(self) -> str:
        return f"<{type(self).__name__}: {self.operation} {self.target!r} ({self.id})>"

    def status(self, **options: Unpack[RequestOptions]) -> types.Operation:
        """Where the change stands now (`getOperation`)."""
        return self.client._request(
            "getOperation",
            path={"operation": self.id},
            cast_to=types.Operation.model_validate,
            options=options,
        )

    def wait(self, timeout: float | None = DEFAULT_WAIT) -> Any:
        """Wait until the change is made; return its result, or raise its error.

        The result is what the call would have returned without `nowait`; the
        error is the one it would have raised (`ConflictError`,
        `InternalServerError`...). After `timeout` seconds (None: no limit)
        `APITimeoutError` is raised, and the change goes on all the same.
        """
        deadline = None if timeout is None else time.monotonic() + timeout
        pause = FIRST_POLL
        while True:
            change = self.status()
            if change.state == "succeeded":
                return self._result(change.result)
            if change.state == "failed":
                raise self._error(change)
            left = None if deadline is None else deadline - time.monotonic()
            if left is not None and left <= 0:
                raise APITimeoutError(
                    request=self._request(),
                    message=f"{self.operation} was not done within {timeout:g} s",
                )
            self.client._sleep(pause if left is None else min(pause, left))
            pause = min(pause * 1.5, LAST_POLL)

    def _result(self, data: Any) -> Any:
        """The change's answer, as the SDK's method would have returned it."""
        from .apps import App  # noqa: PLC0415 - they return Scheduled too
        from .instances import Instance  # noqa: PLC0415

        kind = ROUTES[self.operation].response
        bound: dict[str, type[Bound]] = {"App": App, "Instance": Instance}
        if kind in bound:
            return bound[kind].bind(self.client, data)
        return response_parser(kind)(data)

    def _request(self, path: str | None = None) -> httpx.Request:
        """The request the change stands for: its method, on its path (or its target)."""
        method = ROUTES[self.operation].method
        return httpx.Request(method, self.client.base_url + (path or self.target))

    def _error(self, change: types.Operation) -> Exception:
        """The error the change would have raised without nowait."""
        problem = change.problem.to_dict() if change.problem is not None else {}
        status = change.status or 500
        request = self._request(problem.get("instance"))
        response = httpx.Response(status, json=problem, request=request)
        return self.client._make_status_error(response)
