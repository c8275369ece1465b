"""Celery tasks as a supervisor sends, follows and revokes them.

Every supervisor has a `TaskRunner` (`supervisor.tasks`): the Celery one
(celery_tasks.py) publishes messages on an app's broker with Celery's own
`send_task` and reads results with Celery's result backends; the simulated
one (demo_tasks.py) runs a few demo tasks in the branch's process and keeps
their results in memory. The HTTP side (`cyme_branch.tasks`) checks the
request, and gets from here a `TaskMeta`: a task as its backend has it,
ready to be answered.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Protocol

from ..problems import invalid

# The states after which nothing happens to a task any more (Celery's READY_STATES).
READY_STATES = frozenset({"SUCCESS", "FAILURE", "REVOKED"})
# States whose result is an exception (Celery's EXCEPTION_STATES).
EXCEPTION_STATES = frozenset({"FAILURE", "REVOKED", "RETRY"})
# Seconds between two reads of a task that is not done yet, growing from the
# first to the last by a quarter each time: a task done in a few
# milliseconds is seen within one more, a long one costs ten reads a second.
FIRST_POLL = 0.001
LAST_POLL = 0.1
POLL_GROWTH = 1.25
# Result backends whose results no other process can read.
UNREADABLE_BACKENDS = {
    "rpc": "rpc:// sends each result back to the process that sent the task: "
    "the branch could not read it; use a backend that keeps results, such as redis://",
}


@dataclass(frozen=True)
class TaskMessage:
    """A task to send: its id and name, and how to send it (as `apply_async` takes it)."""

    id: str
    name: str
    args: list[Any]
    kwargs: dict[str, Any]
    queue: str | None = None
    routing_key: str | None = None
    countdown: float | None = None
    eta: datetime | None = None
    expires: float | datetime | None = None
    priority: int | None = None


@dataclass(frozen=True)
class TaskMeta:
    """A task as its result backend has it."""

    state: str
    result: Any = None
    date_done: str | None = None  # ISO 8601, UTC
    traceback: str | None = None

    @property
    def ready(self) -> bool:
        return self.state in READY_STATES


PENDING = TaskMeta("PENDING")


class TaskRunner(Protocol):
    """What sends tasks for an app, follows them and revokes them."""

    def check_backend(self, url: str) -> None:
        """Raise a 422 for a result backend URL this branch cannot read."""

    async def send(self, broker: str, backend: str | None, message: TaskMessage) -> None:
        """Publish the task's message, within the current deadline (a problem
        says whether it went out)."""

    async def meta(self, backend: str, task_id: str, *, wait: float) -> TaskMeta:
        """The task as the backend has it, once it is done or `wait` seconds
        have passed."""

    async def revoke(
        self, broker: str, backend: str | None, task_id: str, *, terminate: bool, signal: str
    ) -> None:
        """Broadcast Celery's `revoke` to the workers on the broker."""

    async def close(self) -> None:
        """Stop: tasks in flight are dropped (simulated), threads let go (Celery)."""


def check_readable(url: str) -> None:
    """422 for a backend no other process can read (rpc://)."""
    scheme = url.partition("://")[0].lower()
    for kind, why in UNREADABLE_BACKENDS.items():
        if scheme == kind or scheme.startswith(f"{kind}+"):
            raise invalid("body", "backend", why)


def exception_result(exc: BaseException) -> dict[str, Any]:
    """An exception as Celery keeps it in a backend with the JSON serializer."""
    kind = type(exc)
    return {
        "exc_type": kind.__qualname__,
        "exc_message": plain(list(exc.args)),
        "exc_module": kind.__module__,
    }


def plain(value: Any) -> Any:
    """A result as JSON can carry it: what JSON cannot is given as its repr."""
    try:
        return json.loads(json.dumps(value, allow_nan=False))
    except (TypeError, ValueError, RecursionError):
        return repr(value)


def iso(when: datetime | str | None) -> str | None:
    """A time as the API shows it: ISO 8601 in UTC, with `Z`."""
    if when is None:
        return None
    if isinstance(when, str):
        try:
            when = parse_datetime(text := when)
        except ValueError:
            return text
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)  # Celery's times are UTC
    return when.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")


def parse_datetime(text: str) -> datetime:
    """An ISO 8601 date and time (`Z` for UTC too, which Python 3.10 does not read)."""
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    return datetime.fromisoformat(text)
