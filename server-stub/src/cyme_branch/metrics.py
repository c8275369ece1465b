"""`GET /metrics`: the branch as Prometheus sees it, written by prometheus_client.

Two sources:

- `RequestMetrics`, filled by the pipeline's `metrics` step (`measure`):
  each answer counted by operationId and status, and its time in a
  histogram. The step is outside the error handling, so that every answer
  counts, problems included; it costs two clock reads and a few dict
  operations per request.
- `BranchCollector`, a prometheus_client `Collector` that reads the
  branch's state each time it is scraped: the instances (from the store)
  with what their workers are doing (from the supervisor), and the queues
  with their depth. Nothing is kept between scrapes, so the series of a
  deleted instance are gone from the next one.

A scrape first reads the depth of every queue (depth.py) without blocking
the event loop: each app's broker is asked at once, and within the
request's deadline, the control timeout, like `GET /{app}/queues/{queue}`
(with real workers a depth read in the last second is reused: see the
Celery supervisor). prometheus_client then writes the text format from the
collector.
"""

from __future__ import annotations

import asyncio
import time
from bisect import bisect_left
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client import exposition as _exposition
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    InfoMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector

from . import __version__, depth
from .supervisor import Depth
from .supervisor.lifecycle import STATES

if TYPE_CHECKING:
    from .branch import Branch
    from .pipeline import Endpoint, Exchange
    from .rendering import Answer

# The plain text format every Prometheus reads.
CONTENT_TYPE = getattr(_exposition, "CONTENT_TYPE_PLAIN_0_0_4", _exposition.CONTENT_TYPE_LATEST)
# Upper bounds of the request duration histogram, in seconds (+Inf follows).
BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
_LE = (*(f"{b:g}" for b in BUCKETS), "+Inf")


@dataclass
class _Requests:
    """The answers to one operation."""

    statuses: dict[int, int] = field(default_factory=dict)
    buckets: list[int] = field(default_factory=lambda: [0] * (len(BUCKETS) + 1))
    seconds: float = 0.0


class RequestMetrics:
    """Answers counted by operationId and status, with their durations."""

    def __init__(self) -> None:
        self.operations: dict[str, _Requests] = {}

    def record(self, operation: str, status: int, seconds: float) -> None:
        found = self.operations.get(operation)
        if found is None:
            found = self.operations[operation] = _Requests()
        statuses = found.statuses
        statuses[status] = statuses.get(status, 0) + 1
        found.buckets[bisect_left(BUCKETS, seconds)] += 1
        found.seconds += seconds


def measure(branch: Branch, call_next: Endpoint) -> Endpoint:
    """The pipeline step: every answer to a known operation counted, with its time."""
    record = branch.requests.record
    clock = time.perf_counter

    async def step(x: Exchange) -> Answer:
        started = clock()
        answer = await call_next(x)
        op = x.operation
        if op is not None:
            record(op.operation_id, answer.status, clock() - started)
        return answer

    return step


class BranchCollector(Collector):
    """The branch's state, read at each scrape (prometheus_client calls `collect`)."""

    def __init__(self, branch: Branch) -> None:
        self.branch = branch
        # The queues' depth, read by `scrape` right before prometheus_client collects.
        self.depths: dict[tuple[str, str], Depth] = {}

    def collect(self) -> Iterator[Metric]:
        yield from self._branch()
        yield from self._instances()
        yield from self._queues()
        yield from self._requests()

    def _branch(self) -> Iterator[Metric]:
        branch = self.branch
        info = InfoMetricFamily("cyme_branch", "The branch: its id, version and supervisor.")
        info.add_metric(
            [],
            {"id": branch.config.id, "version": __version__, "supervisor": branch.supervisor.kind},
        )
        yield info
        yield CounterMetricFamily(
            "cyme_supervisor_rounds",
            "Rounds of the supervisor so far: each compares every worker with the store.",
            value=branch.rounds,
        )

    def _instances(self) -> Iterator[Metric]:
        labels = ["app", "instance"]
        up = GaugeMetricFamily(
            "cyme_instance_up", "Whether the instance's worker is running.", labels=labels
        )
        state = GaugeMetricFamily(
            "cyme_instance_state",
            "The instance's state: 1 for the one it is in, 0 for the others.",
            labels=[*labels, "state"],
        )
        restarts = CounterMetricFamily(
            "cyme_instance_restarts",
            "Times the supervisor started the worker again after it exited on its own.",
            labels=labels,
        )
        processes = GaugeMetricFamily(
            "cyme_instance_pool_processes",
            "The pool processes the worker last reported.",
            labels=labels,
        )
        low = GaugeMetricFamily(
            "cyme_instance_autoscale_min", "The pool's lower bound (autoscale min).", labels=labels
        )
        high = GaugeMetricFamily(
            "cyme_instance_autoscale_max", "The pool's upper bound (autoscale max).", labels=labels
        )
        store, observe = self.branch.store, self.branch.supervisor.observe
        for app in store.app_names():
            for name in store.instance_names(app):
                instance = store.instance(app, name)
                if instance is None:
                    continue
                pair = [app, name]
                life = observe(name)
                current = life.state if life is not None else "starting"
                up.add_metric(pair, 1.0 if current == "running" else 0.0)
                for each in STATES:
                    state.add_metric([*pair, each], 1.0 if each == current else 0.0)
                restarts.add_metric(pair, life.restarts if life is not None else 0)
                if life is not None and life.processes is not None:
                    processes.add_metric(pair, life.processes)
                low.add_metric(pair, instance.min_concurrency)
                high.add_metric(pair, instance.max_concurrency)
        yield from (up, state, restarts, processes, low, high)

    def _queues(self) -> Iterator[Metric]:
        labels = ["app", "queue"]
        messages = GaugeMetricFamily(
            "cyme_queue_messages",
            "Messages waiting in the queue on the app's broker.",
            labels=labels,
        )
        consumers = GaugeMetricFamily(
            "cyme_queue_consumers",
            "The queue's consumers: the broker's count on AMQP; on Redis, this "
            "branch's running workers that consume it.",
            labels=labels,
        )
        readable = GaugeMetricFamily(
            "cyme_queue_depth_up", "Whether the queue's depth could be read.", labels=labels
        )
        for (app, queue), found in sorted(self.depths.items()):
            pair = [app, queue]
            readable.add_metric(pair, 0.0 if found.error is not None else 1.0)
            if found.error is None and found.messages is not None:
                messages.add_metric(pair, found.messages)
            if found.error is None and found.consumers is not None:
                consumers.add_metric(pair, found.consumers)
        yield from (messages, consumers, readable)

    def _requests(self) -> Iterator[Metric]:
        total = CounterMetricFamily(
            "cyme_requests",
            "Requests answered, by operationId and status.",
            labels=["operation", "status"],
        )
        duration = HistogramMetricFamily(
            "cyme_request_duration_seconds",
            "The time to answer requests, by operationId.",
            labels=["operation"],
        )
        for operation, found in sorted(self.branch.requests.operations.items()):
            for status, count in sorted(found.statuses.items()):
                total.add_metric([operation, str(status)], count)
            running = 0
            buckets = []
            for le, count in zip(_LE, found.buckets, strict=True):
                running += count
                buckets.append((le, float(running)))
            duration.add_metric([operation], buckets, found.seconds)
        yield from (total, duration)


class Metrics:
    """What `GET /metrics` answers: the queues' depth read, then the text written."""

    def __init__(self, branch: Branch) -> None:
        self.branch = branch
        self.collector = BranchCollector(branch)
        self.registry = CollectorRegistry(auto_describe=False)
        self.registry.register(self.collector)
        # One scrape at a time: the collector holds the depths of the one in progress.
        self._lock = asyncio.Lock()

    async def scrape(self) -> bytes:
        async with self._lock:
            return await self._scrape()

    async def _scrape(self) -> bytes:
        store = self.branch.store
        apps = [app for app in map(store.app, store.app_names()) if app is not None]
        reads = [depth.read(self.branch, app, store.queue_names(app.name)) for app in apps]
        found = await asyncio.gather(*reads)
        self.collector.depths = {
            (app.name, queue): each
            for app, depths in zip(apps, found, strict=True)
            for queue, each in depths.items()
        }
        return generate_latest(self.registry)
