"""The simulated branch's tasks: three demo tasks run in the branch's process.

Simulated workers have no broker. So that a client can see a task through
every state without Celery, the simulated branch runs the tasks of the
repository's example project (`examples/proj/tasks.py`) itself, each as an
asyncio task: `proj.tasks.add(x, y)`, `proj.tasks.sleep(seconds)` (STARTED
for that long) and `proj.tasks.fail(message)` (a `ValueError`). Any other
task name stays PENDING, as on a broker with no worker for it.

As a real worker would, a demo task waits for its `countdown` or `eta`, is
REVOKED when it expires before it runs or is revoked (a running one only
with `terminate`), and stores its states in its app's backend: here a
dictionary per backend URL, so that apps sharing a backend share results,
and an app without one keeps none.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import sys
import time
import traceback
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from .tasks import PENDING, TaskMessage, TaskMeta, check_readable, exception_result, iso, plain

log = logging.getLogger("cyme.branch")

# Results kept per backend, at most; the oldest are forgotten first (as a
# real backend expires them).
KEPT = 10_000


def add(x: Any, y: Any) -> Any:
    return x + y


async def sleep(seconds: Any) -> Any:
    await asyncio.sleep(seconds)
    return seconds


def fail(message: Any = "proj.tasks.fail failed, as asked") -> Any:
    raise ValueError(message)


DemoTask = Callable[..., Any]
# The demo tasks, by the names the example project gives them.
DEMO_TASKS: dict[str, DemoTask] = {
    "proj.tasks.add": add,
    "proj.tasks.sleep": sleep,
    "proj.tasks.fail": fail,
}


# Revoked ids remembered at most, as a worker does (Celery's REVOKES_MAX).
REVOKES_KEPT = 50_000


def revoked(reason: str) -> dict[str, Any]:
    """The result of a revoked task: Celery's `TaskRevokedError(reason)`, as it keeps it."""
    return {
        "exc_type": "TaskRevokedError",
        "exc_message": [reason],
        "exc_module": "celery.exceptions",
    }


@dataclass
class _Task:
    message: TaskMessage
    store: OrderedDict[str, _Task] | None  # its backend's results; None: it has none
    meta: TaskMeta = PENDING
    done: asyncio.Event = field(default_factory=asyncio.Event)
    running: asyncio.Task[None] | None = None
    revoked: bool = False


class DemoTasks:
    """The simulated branch's `TaskRunner`."""

    def __init__(self) -> None:
        self._stores: dict[str, OrderedDict[str, _Task]] = {}
        self._tasks: dict[str, _Task] = {}  # in flight, by id
        # Ids revoked before they were sent, as workers keep them.
        self._revoked: dict[str, None] = {}
        self._worker = {"pid": os.getpid(), "hostname": f"simulated@{socket.gethostname()}"}

    def check_backend(self, url: str) -> None:
        check_readable(url)

    async def send(self, broker: str, backend: str | None, message: TaskMessage) -> None:
        function = DEMO_TASKS.get(message.name)
        if function is None:
            return  # no worker knows it: it stays PENDING
        store = None
        if backend is not None:
            store = self._stores.setdefault(backend, OrderedDict())
        task = _Task(message, store)
        self._tasks[message.id] = task
        if message.id in self._revoked:
            self._finish(task, "REVOKED", revoked("revoked"))
            return
        task.running = asyncio.create_task(self._run(task, function))

    async def meta(self, backend: str, task_id: str, *, wait: float) -> TaskMeta:
        task = self._stored(backend, task_id)
        if task is None:
            await asyncio.sleep(wait)  # nothing will come: as a backend that never has it
            task = self._stored(backend, task_id)
            return PENDING if task is None else task.meta
        if not task.meta.ready and wait > 0:
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(task.done.wait(), wait)
        return task.meta

    async def revoke(
        self, broker: str, backend: str | None, task_id: str, *, terminate: bool, signal: str
    ) -> None:
        task = self._tasks.get(task_id)
        if task is None:
            self._revoked[task_id] = None  # a worker discards it when it comes
            if len(self._revoked) > REVOKES_KEPT:
                del self._revoked[next(iter(self._revoked))]
            return
        if task.meta.ready:
            return
        if task.meta.state == "STARTED" and not terminate:
            return  # a running task is only stopped by terminate, as in Celery
        task.revoked = True
        if task.running is not None:
            task.running.cancel()
        reason = "terminated" if task.meta.state == "STARTED" else "revoked"
        self._finish(task, "REVOKED", revoked(reason))
        log.info("task %s %s (%s)", task_id, reason, signal if terminate else "no signal")

    async def close(self) -> None:
        running = [t.running for t in self._tasks.values() if t.running is not None]
        for each in running:
            each.cancel()
        await asyncio.gather(*running, return_exceptions=True)
        self._tasks.clear()

    def _stored(self, backend: str, task_id: str) -> _Task | None:
        """The task as the backend knows it, or will: one in flight stores its states there."""
        store = self._stores.get(backend)
        if store is None:
            return None
        found = store.get(task_id)
        if found is None:
            flying = self._tasks.get(task_id)
            found = flying if flying is not None and flying.store is store else None
        return found

    # -- a demo task's life ------------------------------------------------------------

    async def _run(self, task: _Task, function: DemoTask) -> None:
        message = task.message
        with contextlib.suppress(asyncio.CancelledError):
            start = _start(message)
            expires = _deadline(message.expires)
            if expires is not None and expires < start:
                await asyncio.sleep(max(expires - time.time(), 0))
                self._finish(task, "REVOKED", revoked("expired"))
                return
            await asyncio.sleep(max(start - time.time(), 0))
            self._store(task, TaskMeta("STARTED", dict(self._worker)))
            try:
                value = function(*message.args, **message.kwargs)
                if isinstance(value, Awaitable):
                    value = await value
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                lines = traceback.format_exception(*sys.exc_info())
                self._finish(task, "FAILURE", exception_result(exc), "".join(lines))
                return
            self._finish(task, "SUCCESS", plain(value))

    def _finish(self, task: _Task, state: str, result: Any, trace: str | None = None) -> None:
        now = iso(datetime.now(timezone.utc))
        self._store(task, TaskMeta(state, result, now, trace))
        task.done.set()
        self._tasks.pop(task.message.id, None)

    @staticmethod
    def _store(task: _Task, meta: TaskMeta) -> None:
        task.meta = meta
        store = task.store
        if store is None:
            return  # its app has no backend: the state goes nowhere
        store[task.message.id] = task
        store.move_to_end(task.message.id)
        while len(store) > KEPT:
            store.popitem(last=False)


def _start(message: TaskMessage) -> float:
    """When the task may run, as a time.time()."""
    if message.eta is not None:
        return message.eta.timestamp()
    return time.time() + (message.countdown or 0)


def _deadline(expires: float | datetime | None) -> float | None:
    if expires is None:
        return None
    if isinstance(expires, datetime):
        return expires.timestamp()
    return time.time() + expires
