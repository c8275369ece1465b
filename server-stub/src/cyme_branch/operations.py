"""What an operation is: a check, then an effect.

Every operationId of openapi.yaml is bound (in `handlers.py`) to a `Handler`:

- its **check** reads the store and raises the problems the request can be
  refused with before anything changes (404: the app, instance or queue is
  missing; 409: the name is taken; 422: min above max, ...), and returns
  what it found;
- its **effect** gets that and does the work: a change to the store, then
  a call to the supervisor (or, for a read, the answer).

A plain request runs the check and then the effect, both under the
instance's lock for an operation that changes one instance (`serial`). A
`nowait` request runs the same check, is answered 202, and the effect runs
right after, behind the lock and the same check again: so a 202 means the
change will be made, not that it may fail unseen. The 202 names the change
(`id`), and `GET /operations/{id}` tells how it went (scheduled.py).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from .problems import InternalError, Problem
from .supervisor import deadline
from .validation import Inputs

if TYPE_CHECKING:
    from .branch import Branch
    from .scheduled import Change

log = logging.getLogger("cyme.branch")

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Reply:
    """What an operation answers. A `bytes` body is sent as it is (JSON
    rendered beforehand), a `str` is encoded, anything else is written as JSON."""

    status: int
    body: Any
    headers: Mapping[str, str] = field(default_factory=dict)
    content_type: str = "application/json"


def nothing(branch: Branch, inputs: Inputs) -> None:
    """The check of an operation that can always run."""


def template_target(template: str, path: Mapping[str, str]) -> str:
    """The 202's target: the operation's path, filled in."""
    return template.format(**path)


@dataclass(frozen=True, slots=True)
class Handler(Generic[T]):
    """An operation: `check` (may raise a problem, returns what it found),
    then `effect` (does the work with it)."""

    check: Callable[[Branch, Inputs], T]
    effect: Callable[[Branch, Inputs, T], Awaitable[Reply]]
    # It changes the instance named by the path: it runs, check and effect,
    # holding the branch's lock for that instance.
    serial: bool = False
    # Fills in what a request leaves to the branch (a new instance's name),
    # before the check: a nowait answer names it.
    complete: Callable[[Inputs], None] | None = None
    # The `target` of a nowait answer.
    target: Callable[[str, Mapping[str, str]], str] = template_target

    async def run(self, branch: Branch, operation_id: str, template: str, inputs: Inputs) -> Reply:
        """Serve a request: at once, or, with nowait, 202 and the effect right after."""
        if self.complete is not None:
            self.complete(inputs)
        if inputs.query.get("nowait"):
            return self.schedule(branch, operation_id, template, inputs)
        if self.serial:
            return await self.perform(branch, inputs)
        return await self.effect(branch, inputs, self.check(branch, inputs))

    async def perform(
        self, branch: Branch, inputs: Inputs, started: Callable[[], None] | None = None
    ) -> Reply:
        """The check, then the effect (under the instance's lock when serial);
        `started` is told when they begin (once the lock is taken)."""
        if self.serial:
            async with branch.instance_lock(inputs.path["instance"]):
                if started is not None:
                    started()
                return await self.effect(branch, inputs, self.check(branch, inputs))
        if started is not None:
            started()
        return await self.effect(branch, inputs, self.check(branch, inputs))

    def schedule(self, branch: Branch, operation_id: str, template: str, inputs: Inputs) -> Reply:
        """Check now, answer 202, and perform the operation right after."""
        self.check(branch, inputs)
        target = self.target(template, inputs.path)
        change = branch.scheduled.new(operation_id, target)
        task = asyncio.create_task(
            self._later(
                branch, operation_id, inputs, change, template_target(template, inputs.path)
            )
        )
        branch.background.add(task)
        task.add_done_callback(branch.background.discard)
        scheduled = {
            "ok": "operation scheduled",
            "operation": operation_id,
            "target": target,
            "id": change.id,
        }
        return Reply(202, scheduled)

    async def _later(
        self, branch: Branch, operation_id: str, inputs: Inputs, change: Change, path: str
    ) -> None:
        changes = branch.scheduled
        try:
            with deadline(branch.config.control_timeout):
                reply = await self.perform(branch, inputs, lambda: changes.running(change))
        except Problem as problem:
            log.warning("scheduled %s failed: %s", operation_id, problem.detail)
            changes.failed(change, problem.http_status, problem.body(path))
        except Exception:
            log.exception("scheduled %s failed", operation_id)
            failure = InternalError("The branch failed to make the change; see its log.")
            changes.failed(change, failure.http_status, failure.body(path))
        else:
            log.info("scheduled %s done", operation_id)
            changes.succeeded(change, reply.status, reply.body)
