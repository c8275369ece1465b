"""A supervisor that simulates its workers, for development and tests.

Each instance gets the directory and files a real worker has, a pool whose
process list follows autoscale, the consumers it is told about, and stats
in the shape of Celery 5's `inspect stats`. Nothing is executed.
"""

from __future__ import annotations

import itertools
import logging
import os
import shutil
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from . import QueueDecl, WorkerSpec

log = logging.getLogger("cyme.branch")

_POOLS = {
    "prefork": "celery.concurrency.prefork:TaskPool",
    "threads": "celery.concurrency.thread:TaskPool",
    "solo": "celery.concurrency.solo:TaskPool",
    "eventlet": "celery.concurrency.eventlet:TaskPool",
    "gevent": "celery.concurrency.gevent:TaskPool",
}
PREFETCH_MULTIPLIER = 4


@dataclass
class _Worker:
    spec: WorkerSpec
    pid: int
    started: float
    max_: int
    min_: int
    processes: list[int] = field(default_factory=list)
    queues: dict[str, QueueDecl] = field(default_factory=dict)
    clock: int = 0


class SimulatedSupervisor:
    """Workers that exist only in this process."""

    kind = "simulated"

    def __init__(self) -> None:
        self._workers: dict[str, _Worker] = {}
        # Process ids are made up, but unique within a branch, like real ones.
        self._pids = itertools.count(7700 + os.getpid() % 1000 * 100)

    async def start(self, spec: WorkerSpec) -> None:
        directory = spec.directory
        directory.mkdir(parents=True, exist_ok=True)
        log.info("> %s: DOWN", spec.name)
        worker = _Worker(
            spec, next(self._pids), time.time(), spec.max_concurrency, spec.min_concurrency
        )
        private = QueueDecl.private(spec.name)
        worker.queues = {private.name: private, **{q.name: q for q in spec.queues}}
        self._resize(worker)
        self._workers[spec.name] = worker
        (directory / "worker.pid").write_text(f"{worker.pid}\n")
        (directory / "worker.statedb").touch()
        self._log(worker, f"celery@{spec.name} ready.")
        log.info("> Restarting node %s: OK", spec.name)

    async def resume(self, specs: Sequence[WorkerSpec]) -> None:
        for spec in specs:
            await self.start(spec)

    async def reconcile(self, spec: WorkerSpec) -> None:
        pass  # simulated workers never drift from what they were told

    async def stop(self, name: str) -> None:
        worker = self._workers.pop(name, None)
        if worker is not None:
            self._log(worker, "worker: Warm shutdown (MainProcess)")
            shutil.rmtree(worker.spec.directory, ignore_errors=True)
            log.info("> %s: STOPPED", name)

    async def autoscale(self, name: str, max_: int, min_: int) -> None:
        worker = self._workers[name]
        worker.max_, worker.min_ = max_, min_
        before = len(worker.processes)
        self._resize(worker)
        after = len(worker.processes)
        if after > before:
            self._log(worker, f"Scaling up {after - before} processes.")
        elif after < before:
            self._log(worker, f"Scaling down {before - after} processes.")

    async def add_consumer(self, name: str, queue: QueueDecl) -> None:
        worker = self._workers.get(name)
        if worker is None:
            return  # stopped meanwhile: nothing left to tell
        worker.queues[queue.name] = queue
        self._log(worker, f"Started consuming from {queue.name}")

    async def cancel_consumer(self, name: str, queue: str) -> None:
        worker = self._workers.get(name)
        if worker is not None and worker.queues.pop(queue, None) is not None:
            self._log(worker, f"No longer consuming from {queue}")

    async def stats(self, name: str) -> dict[str, Any]:
        worker = self._workers[name]
        worker.clock += 1
        spec = worker.spec
        current = len(worker.processes)
        return {
            "total": {},
            "pid": worker.pid,
            "clock": str(worker.clock),
            "uptime": int(time.time() - worker.started),
            "pool": {
                "implementation": _POOLS.get(spec.pool, _POOLS["prefork"]),
                "max-concurrency": worker.max_,
                "processes": list(worker.processes),
                "max-tasks-per-child": "N/A",
                "put-guarded-by-semaphore": False,
                "timeouts": [0, 0],
                "writes": {
                    "total": 0,
                    "avg": "0.00%",
                    "all": "",
                    "raw": "",
                    "strategy": "fair",
                    "inqueues": {"total": current, "active": 0},
                },
            },
            "autoscaler": {"max": worker.max_, "min": worker.min_, "current": current, "qty": 0},
            "broker": _broker_info(spec.broker),
            "prefetch_count": current * PREFETCH_MULTIPLIER,
            "rusage": {"utime": 0.0, "stime": 0.0, "maxrss": 0},
        }

    async def active_queues(self, name: str) -> list[dict[str, Any]]:
        return [_active_queue(q) for q in self._workers[name].queues.values()]

    async def close(self) -> None:
        self._workers.clear()

    def _resize(self, worker: _Worker) -> None:
        # An idle autoscaling worker keeps `min` processes, as Celery's does.
        target = worker.min_
        while len(worker.processes) < target:
            worker.processes.append(next(self._pids))
        del worker.processes[target:]

    @staticmethod
    def _log(worker: _Worker, message: str) -> None:
        stamp = time.strftime("%Y-%m-%d %H:%M:%S")
        path: Path = worker.spec.directory / "worker.log"
        with path.open("a", encoding="utf-8") as fh:
            fh.write(f"[{stamp},000: INFO/MainProcess] {message}\n")


def _broker_info(url: str) -> dict[str, Any]:
    """The `broker` entry of stats, as kombu reports it: never the password."""
    parts = urlsplit(url.split(";", 1)[0])
    transport = parts.scheme or "amqp"
    try:
        port = parts.port
    except ValueError:
        port = None
    vhost = parts.path[1:] if parts.path.startswith("/") else parts.path
    return {
        "hostname": parts.hostname or "localhost",
        "userid": parts.username,
        "virtual_host": vhost or "/",
        "port": port,
        "insist": False,
        "ssl": False,
        "transport": transport,
        "connect_timeout": 4,
        "transport_options": {},
        "login_method": None,
        "uri_prefix": None,
        "heartbeat": 120.0,
        "failover_strategy": "round-robin",
        "alternates": [],
    }


def _active_queue(queue: QueueDecl) -> dict[str, Any]:
    """A queue as Celery's `active_queues` describes it."""
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
