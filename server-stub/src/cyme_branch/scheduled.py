"""The changes asked for with nowait, and where each stands: `GET /operations/{id}`.

A nowait request is answered 202 at once with a `Scheduled` naming an id,
and its effect runs right after (operations.py). Here each id keeps its
change's story: `pending` (waiting for the instance's lock), `running`,
then `succeeded` with the answer the request would have had without nowait
(status and body), or `failed` with its problem document. A change of many
steps (a rolling restart) says how far it has got with `progress()`.

They are kept in memory: a finished change for `KEEP_FOR` seconds, and at
most the last `KEEP_AT_MOST` finished ones; a branch that restarts forgets
them all (its id then answers 404). One that is pending or running is never
forgotten: the branch finishes its scheduled changes before it stops.
"""

from __future__ import annotations

import json
import time
import uuid
from collections import OrderedDict
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from .supervisor.lifecycle import utc

KEEP_FOR = 15 * 60.0
KEEP_AT_MOST = 1000


@dataclass
class Change:
    """One change asked for with nowait."""

    id: str
    operation: str  # its operationId
    target: str
    created: float
    state: str = "pending"
    started: float | None = None
    finished: float | None = None
    status: int | None = None
    result: Any = None
    problem: dict[str, Any] | None = None
    progress: dict[str, Any] | None = None
    finished_at: float = 0.0  # time.monotonic(), to forget it

    def public(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "operation": self.operation,
            "target": self.target,
            "state": self.state,
            "created": utc(self.created),
            "started": utc(self.started) if self.started is not None else None,
            "finished": utc(self.finished) if self.finished is not None else None,
            "status": self.status,
            "result": self.result,
            "problem": self.problem,
            "progress": self.progress,
        }


_current: ContextVar[Change | None] = ContextVar("cyme_scheduled_change", default=None)


def progress(done: int, total: int, current: str | None) -> None:
    """How far the change being run has got (nothing outside a nowait change)."""
    change = _current.get()
    if change is not None:
        change.progress = {"done": done, "total": total, "current": current}


def as_json(body: Any) -> Any:
    """A reply's body (rendered bytes, text or data) as JSON data."""
    if isinstance(body, bytes):
        return json.loads(body)
    return body


class ScheduledChanges:
    """The nowait changes of one branch, by id."""

    def __init__(self) -> None:
        self._changes: OrderedDict[str, Change] = OrderedDict()
        self._finished: OrderedDict[str, Change] = OrderedDict()  # oldest first

    def __len__(self) -> int:
        return len(self._changes)

    def new(self, operation: str, target: str) -> Change:
        self._forget()
        change = Change(uuid.uuid4().hex, operation, target, time.time())
        self._changes[change.id] = change
        return change

    def get(self, change_id: str) -> Change | None:
        self._forget()
        return self._changes.get(change_id)

    def running(self, change: Change) -> None:
        """It starts (it has the instance's lock); progress() now reports to it."""
        change.state = "running"
        change.started = time.time()
        _current.set(change)

    def succeeded(self, change: Change, status: int, body: Any) -> None:
        change.status, change.result = status, as_json(body)
        self._finish(change, "succeeded")

    def failed(self, change: Change, status: int, problem: dict[str, Any]) -> None:
        change.status, change.problem = status, problem
        self._finish(change, "failed")

    def _finish(self, change: Change, state: str) -> None:
        change.state = state
        change.finished = time.time()
        change.finished_at = time.monotonic()
        if change.progress is not None:
            change.progress = {**change.progress, "current": None}
        self._finished[change.id] = change
        self._forget()

    def _forget(self) -> None:
        """Drop the finished changes that are too old, or too many."""
        horizon = time.monotonic() - KEEP_FOR
        while self._finished:
            change_id, oldest = next(iter(self._finished.items()))
            if oldest.finished_at > horizon and len(self._finished) <= KEEP_AT_MOST:
                break
            del self._finished[change_id]
            self._changes.pop(change_id, None)
