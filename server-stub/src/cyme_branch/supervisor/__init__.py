"""What the branch asks of whatever runs its worker instances.

The branch keeps the desired state (in the store) and tells a supervisor
about every change. A supervisor owns the instance's directory and its
worker; the branch never touches a worker itself. The simulated supervisor
is the default; the Celery one (`celery.py`) runs real workers behind the
same interface.

Every wait for a worker is bounded by a deadline: the branch opens one per
request (and per round of its supervisor loop) with `deadline()`, and a
supervisor asks `time_left()` before each wait, so a request is answered
within the branch's control timeout however many steps it takes.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from contextvars import ContextVar
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from ..store import Instance, Queue
from .lifecycle import Lifecycle
from .tasks import TaskRunner

_DEADLINE: ContextVar[float | None] = ContextVar("cyme_branch_deadline", default=None)


class deadline:
    """No wait for a worker inside this block ends later than `seconds` from now."""

    __slots__ = ("_seconds", "_token")

    def __init__(self, seconds: float) -> None:
        self._seconds = seconds

    def __enter__(self) -> None:
        self._token = _DEADLINE.set(time.monotonic() + self._seconds)

    def __exit__(self, *exc_info: object) -> None:
        _DEADLINE.reset(self._token)


def time_left(default: float) -> float:
    """Seconds left before the current deadline (`default` outside any)."""
    end = _DEADLINE.get()
    return default if end is None else end - time.monotonic()


@dataclass(frozen=True)
class QueueDecl:
    """A queue as a worker consumes it."""

    name: str
    exchange: str
    exchange_type: str
    routing_key: str
    options: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def of(cls, queue: Queue) -> QueueDecl:
        return cls(
            queue.name, queue.exchange, queue.exchange_type, queue.routing_key, queue.options
        )

    @classmethod
    def private(cls, instance: str) -> QueueDecl:
        """The queue `dq.<name>` every instance consumes, to be addressed directly."""
        name = f"dq.{instance}"
        return cls(name, name, "direct", name)


@dataclass(frozen=True)
class WorkerSpec:
    """Everything needed to run one instance."""

    name: str
    app: str
    broker: str  # unmasked: only a supervisor sees it
    pool: str
    arguments: str
    extra_config: dict[str, Any]
    min_concurrency: int
    max_concurrency: int
    queues: tuple[QueueDecl, ...]
    directory: Path
    # False once the instance was disabled: the supervisor leaves it stopped.
    enabled: bool = True
    # The app's result backend (unmasked), for the worker's results; None: none.
    backend: str | None = None

    @classmethod
    def of(cls, instance: Instance, root: Path) -> WorkerSpec:
        app = instance.app
        arguments = " ".join(a for a in (app.arguments, instance.arguments) if a)
        return cls(
            name=instance.name,
            app=app.name,
            broker=instance.effective_broker,
            pool=instance.pool,
            arguments=arguments,
            extra_config={**app.extra_config, **instance.extra_config},
            min_concurrency=instance.min_concurrency,
            max_concurrency=instance.max_concurrency,
            queues=tuple(QueueDecl.of(q) for q in instance.queues),
            directory=root / instance.name,
            enabled=instance.is_enabled,
            backend=app.backend,
        )

    def __repr__(self) -> str:
        # The broker's and backend's URLs may hold passwords: keep them out of
        # reprs and logs.
        return f"WorkerSpec(name={self.name!r}, app={self.app!r})"


@dataclass(frozen=True)
class Depth:
    """A queue's depth on its broker, as `GET /{app}/queues/{queue}` shows it.

    `consumers` is None when the broker does not count them (Redis): the
    branch counts its own running workers that consume the queue instead.
    With `error`, the depth could not be read, and says why.
    """

    messages: int | None
    consumers: int | None = None
    error: str | None = None


class Supervisor(Protocol):
    """Runs the worker instances of a branch."""

    kind: str
    # Sends the apps' Celery tasks, follows and revokes them (tasks.py).
    tasks: TaskRunner

    async def start(self, spec: WorkerSpec) -> None:
        """Create the instance's directory and start its worker."""

    async def resume(self, specs: Sequence[WorkerSpec]) -> None:
        """Bring up the stored instances when the branch starts."""

    async def reconcile(self, spec: WorkerSpec) -> None:
        """Make the worker match its stored spec: restart it if it died,
        correct its pool bounds and its consumers."""

    async def stop(self, name: str) -> None:
        """Stop the worker (a warm shutdown) and remove its directory."""

    async def autoscale(self, name: str, max_: int, min_: int) -> None:
        """Set the bounds of the worker's pool."""

    async def add_consumer(self, name: str, queue: QueueDecl) -> None:
        """Make the worker consume from a queue (or follow its new declaration)."""

    async def cancel_consumer(self, name: str, queue: str) -> None:
        """Make the worker stop consuming from a queue."""

    async def stats(self, name: str) -> dict[str, Any]:
        """The worker's reply to `inspect stats`."""

    async def active_queues(self, name: str) -> list[dict[str, Any]]:
        """The worker's reply to `inspect active_queues`."""

    async def close(self) -> None:
        """Stop supervising, and stop the workers (their directories stay)."""

    # -- what the workers are doing, and the levers (see lifecycle.py) ----------

    def observe(self, name: str) -> Lifecycle | None:
        """What the instance's worker is doing now (None: it has no worker record
        yet). Cheap, and without waiting: a worker that exited shows it here."""

    async def restart(self, spec: WorkerSpec) -> None:
        """A warm restart: the worker finishes its tasks and exits, a new one starts."""

    async def disable(self, name: str) -> None:
        """A warm shutdown; the worker stays stopped (its directory stays)."""

    async def enable(self, spec: WorkerSpec) -> None:
        """Start the worker of a disabled or failed instance again."""

    def inject_exit(self, name: str, *, signal: int | None, code: int | None) -> None:
        """A fault (`Cyme-Fault: kill=...` or `exit=...`): the worker dies now."""

    def inject_depth(self, app: str, queue: str, messages: int | None) -> None:
        """A fault (`Cyme-Fault: depth=...`): the queue's depth from now on (None: unreadable)."""

    async def queue_depths(self, app: str, broker: str, queues: Sequence[str]) -> dict[str, Depth]:
        """The depth of some queues of an app on its broker, within the current deadline."""


def active_queue(queue: QueueDecl) -> dict[str, Any]:
    """A queue as Celery's `active_queues` describes it: what simulated workers
    answer, and what a worker that is not running will consume."""
    options = queue.options
    return {
        "name": queue.name,
        "exchange": {
            "name": queue.exchange,
            "type": queue.exchange_type,
            "arguments": None,
            "durable": bool(options.get("exchange_durable", True)),
            "passive": False,
            "auto_delete": False,
            "delivery_mode": None,
            "no_declare": False,
        },
        "routing_key": queue.routing_key,
        "queue_arguments": _mapping(options.get("queue_arguments")),
        "binding_arguments": _mapping(options.get("binding_arguments")),
        "consumer_arguments": _mapping(options.get("consumer_arguments")),
        "durable": bool(options.get("durable", True)),
        "exclusive": bool(options.get("exclusive", False)),
        "auto_delete": bool(options.get("auto_delete", False)),
        "no_ack": bool(options.get("no_ack", False)),
        "alias": None,
        "bindings": [],
        "no_declare": None,
        "expires": None,
        "message_ttl": None,
        "max_length": None,
        "max_length_bytes": None,
        "max_priority": None,
    }


def _mapping(value: Any) -> dict[str, Any] | None:
    return value if isinstance(value, dict) else None
