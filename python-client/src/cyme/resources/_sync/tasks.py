# Generated from resources/_async/tasks.py by tools/generate_sync.py; do not edit.
"""Tasks: `app.tasks`, Celery tasks sent through an app's broker, and the task model.

`app.tasks.send("proj.tasks.add", args=[2, 3])` publishes the task on the
app's broker (`sendTask`) and returns it, bound to the client;
`task.wait(timeout=10)` follows it in the app's result backend (`getTask`,
whose `wait` holds each request until the task is done, 20 seconds at most)
and returns what the task returned, as Celery's `AsyncResult.get()` does. A
task that fails raises `TaskFailedError` (with the worker's traceback), one
revoked `TaskRevokedError`; `APITimeoutError` is raised once `timeout`
seconds have passed, and the task goes on all the same.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal

import httpx

from ... import types
from ..._exceptions import APITimeoutError, TaskFailedError, TaskRevokedError
from ._base import Bound, Resource

if TYPE_CHECKING:
    from typing_extensions import Unpack

    from ..._base_client import SyncAPIClient
    from ..._options import RequestOptions

Signal = Literal["SIGTERM", "SIGKILL", "SIGINT", "SIGQUIT", "SIGHUP", "SIGUSR1", "SIGUSR2"]

DEFAULT_WAIT = 60.0
WAIT_PER_REQUEST = 20.0  # the most the branch holds one request (`getTask`'s `wait`)
WAIT_MARGIN = 10.0  # beyond the wait, for the answer to come back


def _moment(value: datetime | str | float | None) -> str | float | None:
    """A time as the branch reads it: ISO 8601 for a datetime."""
    return value.isoformat() if isinstance(value, datetime) else value


class Task(types.Task, Bound):
    """A Celery task of an app: `state`, `result`, `date_done`, `traceback` as the
    app's result backend had them when it was fetched (a task just sent is
    PENDING), `wait()` for its result and `revoke()`.

    `task` and `queue` are those it was sent with (None when it was fetched
    by id).
    """

    app: str
    task: str | None = None
    queue: str | None = None
    date_done: datetime | None = None
    result: Any = None

    def __repr__(self) -> str:
        url = self.client.url_for(self.app, "tasks", self.id)
        return f"<{type(self).__name__}: {url!r} {self.state}>"

    def _path(self) -> dict[str, str]:
        return {"app": self.app, "task": self.id}

    def _request(self) -> httpx.Request:
        """The request that follows the task, as its errors name it."""
        return httpx.Request("GET", self.client.url_for(self.app, "tasks", self.id))

    def wait(self, timeout: float | None = DEFAULT_WAIT) -> Any:
        """Wait until the task is done and return what it returned (SUCCESS).

        Raises `TaskFailedError` when it failed (its `traceback` is the
        worker's), `TaskRevokedError` when it was revoked, and
        `APITimeoutError` once `timeout` seconds (None: no limit) have
        passed; the task goes on all the same.
        """
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            left = None if deadline is None else max(deadline - time.monotonic(), 0.0)
            wait = WAIT_PER_REQUEST if left is None else min(left, WAIT_PER_REQUEST)
            task = self.client._request(
                "getTask",
                path=self._path(),
                query={"wait": round(wait, 3), "traceback": True},
                cast_to=self._sibling_of,
                options={"timeout": wait + WAIT_MARGIN},
            )
            if task.state == "SUCCESS":
                return task.result
            if task.state == "FAILURE":
                raise TaskFailedError(task=task, request=self._request())
            if task.state == "REVOKED":
                raise TaskRevokedError(task=task, request=self._request())
            if deadline is not None and time.monotonic() >= deadline:
                raise APITimeoutError(
                    request=self._request(),
                    message=f"Task {self.id} was not done within {timeout:g} s ({task.state})",
                )

    def revoke(
        self,
        *,
        terminate: bool = False,
        signal: Signal | None = None,
        **options: Unpack[RequestOptions],
    ) -> types.TaskRevoked:
        """Revoke the task (`revokeTask`): a worker discards it if it has not started;
        with `terminate=True` a running one gets `signal` (SIGTERM by default)."""
        return self.client._request(
            "revokeTask",
            path=self._path(),
            query={"terminate": terminate or None, "signal": signal},
            cast_to=types.TaskRevoked.model_validate,
            options=options,
        )

    def _sibling_of(self, data: Any) -> Task:
        """The task as fetched again, with what this one knows besides."""
        return self._sibling({"app": self.app, "task": self.task, "queue": self.queue, **data})


class Tasks(Resource):
    """The Celery tasks of one app: sent on its broker, followed in its result backend."""

    def __init__(self, client: SyncAPIClient, app: str) -> None:
        super().__init__(client)
        self.app = app

    def __repr__(self) -> str:
        return f"<{type(self).__name__}: {self._client.url_for(self.app, 'tasks')!r}>"

    def _task(self, data: Any) -> Task:
        return Task.bind(self._client, {"app": self.app, **data})

    def send(
        self,
        task: str,
        args: Sequence[Any] | None = None,
        kwargs: Mapping[str, Any] | None = None,
        *,
        queue: str | None = None,
        routing_key: str | None = None,
        countdown: float | None = None,
        eta: datetime | str | None = None,
        expires: float | datetime | str | None = None,
        priority: int | None = None,
        **options: Unpack[RequestOptions],
    ) -> Task:
        """Send the task `task` (its name) on the app's broker (`sendTask`), as
        Celery's `send_task` does; it is PENDING. `eta` and `expires` take a
        datetime with its timezone (or ISO 8601 text), `expires` seconds too.

        A retry of the call sends nothing more: the SDK gives the POST an
        `Idempotency-Key`, and the branch answers the first send's task again.

        >>> app.tasks.send("proj.tasks.add", args=[2, 3]).wait(timeout=10)
        5
        """
        body = {
            "args": args,
            "kwargs": kwargs,
            "queue": queue,
            "routing_key": routing_key,
            "countdown": countdown,
            "eta": _moment(eta),
            "expires": _moment(expires),
            "priority": priority,
        }
        return self._client._request(
            "sendTask",
            path={"app": self.app, "task": task},
            body=body,
            cast_to=lambda data: self._task({"result": None, "date_done": None, **data}),
            options=options,
        )

    def get(
        self,
        id: str,
        *,
        wait: float | None = None,
        traceback: bool = False,
        **options: Unpack[RequestOptions],
    ) -> Task:
        """The task `id` as the app's result backend has it (`getTask`): an id it does
        not know is PENDING. `wait` seconds (20 at most) holds the answer until
        the task is done; `traceback=True` adds the traceback of one that failed.
        """
        return self._client._request(
            "getTask",
            path={"app": self.app, "task": id},
            query={"wait": wait, "traceback": traceback or None},
            cast_to=self._task,
            options=options,
        )
