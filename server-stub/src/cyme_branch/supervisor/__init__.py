"""What the branch asks of whatever runs its worker instances.

The branch keeps the desired state (in the store) and tells a supervisor
about every change. A supervisor owns the instance's directory and its
worker; the branch never touches a worker itself. The simulated supervisor
is the default; a Celery one runs real workers behind the same interface.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from ..store import Instance, Queue


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
        )

    def __repr__(self) -> str:
        # The broker URL may hold a password: keep it out of reprs and logs.
        return f"WorkerSpec(name={self.name!r}, app={self.app!r})"


class Supervisor(Protocol):
    """Runs the worker instances of a branch."""

    kind: str

    async def start(self, spec: WorkerSpec) -> None:
        """Create the instance's directory and start its worker."""

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
        """Stop supervising; workers of a simulated branch end with it."""
