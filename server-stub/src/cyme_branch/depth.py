"""Queue depth: the messages an app's queues hold on its broker, and their consumers.

The supervisor reads the broker (supervisor.queue_depths: a passive declare
on AMQP, the lengths of the queue's lists on Redis; nothing for simulated
workers but what a fault set), within the deadline of the request, and
never fails for it: a broker out of reach gives null counts and the reason.
Where the broker keeps no consumer count (Redis), the consumers are this
branch's instances whose worker runs and consumes the queue.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from .supervisor import Depth

if TYPE_CHECKING:
    from .branch import Branch
    from .store import App, Queue


async def read(branch: Branch, app: App, queues: Sequence[str]) -> dict[str, Depth]:
    """The depth of these queues of `app`, with the consumers counted where the
    broker does not count them."""
    if not queues:
        return {}
    found = await branch.supervisor.queue_depths(app.name, app.broker, queues)
    for name, depth in found.items():
        if depth.error is None and depth.consumers is None:
            found[name] = Depth(depth.messages, running_consumers(branch, app.name, name))
    return found


def running_consumers(branch: Branch, app: str, queue: str) -> int:
    """This branch's instances whose worker runs and consumes the queue."""
    observe = branch.supervisor.observe
    count = 0
    for name in branch.store.consumers_of(app, queue):
        life = observe(name)
        if life is not None and life.running:
            count += 1
    return count


def public(queue: Queue, depth: Depth | None) -> dict[str, Any]:
    """A queue's declaration with its depth, as `GET /{app}/queues/{queue}` answers it."""
    if depth is None:
        depth = Depth(None, None, "The depth was not read.")
    return {
        **queue.public(),
        "messages": depth.messages,
        "consumers": depth.consumers if depth.error is None else None,
        "depth_error": depth.error,
    }
