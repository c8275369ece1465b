"""Remote control commands of the branch's own, run inside the workers it starts.

The Celery supervisor starts every worker with `--include
cyme_branch.worker_commands` (the worker runs the branch's own Python), so
that this module is imported by the worker, and its commands join Celery's
(`@control_command` registers them with the worker's control panel).

`cyme_autoscale` is Celery's `autoscale`, and then the pool grown (or
shrunk) to the new bounds at once. Celery's `Autoscaler.update(max, min)`
asks the pool to `grow(n)`, but billiard's `grow()` only raises the count of
processes the pool should have: they are forked by `maintain_pool()`, which
a prefork worker runs from a timer every 5 seconds. So the pool of a worker
told `min=4` showed its new processes up to 5 seconds later; here
`maintain_pool()` runs right away (in the worker's own thread, where the
timer would run it). Pools without processes (threads, solo...) have
nothing to maintain.
"""

from __future__ import annotations

from typing import Any

from celery.worker.control import control_command, ok

COMMAND = "cyme_autoscale"


@control_command(  # type: ignore[untyped-decorator]  # Celery is untyped
    args=[("max", int), ("min", int)],
    signature="[max [min]]",
)
def cyme_autoscale(state: Any, max: int | None = None, min: int | None = None) -> Any:
    """Set the autoscale bounds, and fork (or stop) the pool's processes now."""
    consumer = state.consumer
    autoscaler = consumer.controller.autoscaler
    if not autoscaler:
        raise ValueError("Autoscale not enabled")
    max_, min_ = autoscaler.update(max, min)
    maintain = getattr(consumer.pool, "maintain_pool", None)
    if callable(maintain):
        maintain()
    return ok(f"autoscale now max={max_} min={min_}")
