"""A supervisor that simulates its workers, for development and tests.

Each instance gets the directory and files a real worker has, a pool whose
process list follows autoscale, the consumers it is told about, and stats
in the shape of Celery 5's `inspect stats`. Nothing is executed.

The workers live and die as real ones do (see lifecycle.py): a fault
(`Cyme-Fault: kill=SIGKILL` or `exit=1`) makes one exit, and the rounds of
the branch's supervisor start it again, pausing longer each time it keeps
exiting, until a restart storm leaves it `failed`. A worker sent `SIGSTOP`
answers nothing (504, and `unknown` at the next round) until `SIGCONT`. A
worker started again stays `starting` until the next round finds it
answering, as a real one does. Their queues' depth is 0 unless a fault
(`depth=7`) says otherwise.
"""

from __future__ import annotations

import itertools
import logging
import os
import shutil
import signal
import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from ..problems import GatewayTimeout, WorkerUnavailable
from . import Depth, QueueDecl, WorkerSpec, active_queue
from .demo_tasks import DemoTasks
from .lifecycle import DISABLED, RESTARTED, Lifecycle, RestartPolicy, signal_name
from .tasks import TaskRunner

log = logging.getLogger("cyme.branch")

_POOLS = {
    "prefork": "celery.concurrency.prefork:TaskPool",
    "threads": "celery.concurrency.thread:TaskPool",
    "solo": "celery.concurrency.solo:TaskPool",
    "eventlet": "celery.concurrency.eventlet:TaskPool",
    "gevent": "celery.concurrency.gevent:TaskPool",
}
PREFETCH_MULTIPLIER = 4
# The states in which a worker holds no process and is not to be started:
# changes to it are kept for when it is enabled.
AT_REST = ("disabled", "failed")


@dataclass
class _Worker:
    spec: WorkerSpec
    life: Lifecycle
    max_: int
    min_: int
    started: float = 0.0
    processes: list[int] = field(default_factory=list)
    queues: dict[str, QueueDecl] = field(default_factory=dict)
    clock: int = 0
    frozen: bool = False  # sent SIGSTOP: it answers nothing until SIGCONT

    @property
    def pid(self) -> int | None:
        return self.life.pid

    @property
    def alive(self) -> bool:
        return self.life.pid is not None


class SimulatedSupervisor:
    """Workers that exist only in this process."""

    kind = "simulated"

    def __init__(self, policy: RestartPolicy | None = None) -> None:
        self._policy = policy or RestartPolicy()
        self._workers: dict[str, _Worker] = {}
        # Process ids are made up, but unique within a branch, like real ones.
        self._pids = itertools.count(7700 + os.getpid() % 1000 * 100)
        # Queue depths set by faults, by (app, queue); None: the broker is "down".
        self._depths: dict[tuple[str, str], int | None] = {}
        # The demo tasks it runs for the apps (demo_tasks.py).
        self.tasks: TaskRunner = DemoTasks()

    # -- starting and stopping --------------------------------------------------

    async def start(self, spec: WorkerSpec) -> None:
        spec.directory.mkdir(parents=True, exist_ok=True)
        worker = self._workers[spec.name] = self._record(spec)
        self._spawn(worker)
        worker.life.answered(len(worker.processes))

    async def resume(self, specs: Sequence[WorkerSpec]) -> None:
        for spec in specs:
            if spec.enabled:
                await self.start(spec)
            else:
                spec.directory.mkdir(parents=True, exist_ok=True)
                self._workers[spec.name] = self._record(spec)
                log.info("> %s: disabled, left stopped", spec.name)

    def _record(self, spec: WorkerSpec) -> _Worker:
        worker = _Worker(
            spec,
            Lifecycle(self._policy, enabled=spec.enabled),
            spec.max_concurrency,
            spec.min_concurrency,
        )
        self._follow(worker, spec)
        return worker

    @staticmethod
    def _follow(worker: _Worker, spec: WorkerSpec) -> None:
        """What a new worker process is told: the stored bounds and consumers."""
        worker.spec = spec
        worker.max_, worker.min_ = spec.max_concurrency, spec.min_concurrency
        private = QueueDecl.private(spec.name)
        worker.queues = {private.name: private, **{q.name: q for q in spec.queues}}

    def _spawn(self, worker: _Worker, how: str = "start") -> None:
        """A new worker process, with a new pid and pool: to `start` it, to start it
        `again` after it exited on its own, or to `enable` it."""
        log.info("> %s: DOWN", worker.spec.name)
        pid = next(self._pids)
        if how == "again":
            worker.life.restarted(pid)
        elif how == "enable":
            worker.life.enabled(pid)
        else:
            worker.life.started(pid)
        worker.started = time.time()
        worker.frozen = False
        worker.processes = []
        self._resize(worker)
        directory = worker.spec.directory
        (directory / "worker.pid").write_text(f"{pid}\n")
        (directory / "worker.statedb").touch()
        self._log(worker, f"celery@{worker.spec.name} ready.")
        log.info("> Restarting node %s: OK", worker.spec.name)

    def _shut_down(self, worker: _Worker, reason: str, *, disabled: bool = False) -> None:
        """A warm shutdown the branch asked for."""
        if worker.alive:
            worker.life.stopping()
            self._log(worker, "worker: Warm shutdown (MainProcess)")
            worker.life.stopped(0, reason, disabled=disabled)
        elif disabled:
            worker.life.disabled()  # nothing runs: its last exit stays what it was
        worker.processes = []
        worker.frozen = False
        (worker.spec.directory / "worker.pid").unlink(missing_ok=True)

    async def reconcile(self, spec: WorkerSpec) -> None:
        worker = self._workers.get(spec.name)
        if worker is None:
            worker = self._workers[spec.name] = self._record(spec)
        worker.spec = spec
        if worker.alive:
            # Simulated workers never drift from what they were told; one that
            # is frozen does not answer.
            if worker.frozen:
                worker.life.silent()
            else:
                worker.life.answered(len(worker.processes))
            return
        if worker.life.due():
            self._follow(worker, spec)
            self._spawn(worker, "again")

    async def stop(self, name: str) -> None:
        worker = self._workers.pop(name, None)
        if worker is not None:
            self._log(worker, "worker: Warm shutdown (MainProcess)")
            shutil.rmtree(worker.spec.directory, ignore_errors=True)
            log.info("> %s: STOPPED", name)

    async def restart(self, spec: WorkerSpec) -> None:
        worker = self._worker(spec.name)
        self._shut_down(worker, RESTARTED)
        self._follow(worker, spec)
        self._spawn(worker)
        worker.life.answered(len(worker.processes))

    async def disable(self, name: str) -> None:
        worker = self._workers.get(name)
        if worker is not None and worker.life.state != "disabled":
            self._shut_down(worker, DISABLED, disabled=True)
            log.info("> %s: DISABLED", name)

    async def enable(self, spec: WorkerSpec) -> None:
        worker = self._workers.get(spec.name)
        if worker is None:
            worker = self._workers[spec.name] = self._record(spec)
        if worker.alive:
            return  # it runs: nothing to do
        self._follow(worker, spec)
        self._spawn(worker, "enable")
        worker.life.answered(len(worker.processes))

    async def close(self) -> None:
        self._workers.clear()
        await self.tasks.close()

    # -- what they are doing --------------------------------------------------------

    def observe(self, name: str) -> Lifecycle | None:
        worker = self._workers.get(name)
        return worker.life if worker is not None else None

    def inject_exit(self, name: str, *, signal: int | None, code: int | None) -> None:
        worker = self._worker(name)
        if not worker.alive:
            return  # nothing runs to kill
        if signal == _SIGSTOP:
            worker.frozen = True
            return
        if signal == _SIGCONT:
            worker.frozen = False
            return
        how = f"killed by {signal_name(signal)}" if signal is not None else f"exit {code}"
        self._log(worker, f"worker: {how}")
        log.warning("> %s: DOWN (%s)", name, how)
        worker.processes = []
        worker.frozen = False
        worker.life.exited(-signal if signal is not None else code)
        (worker.spec.directory / "worker.pid").unlink(missing_ok=True)

    def inject_depth(self, app: str, queue: str, messages: int | None) -> None:
        self._depths[(app, queue)] = messages

    async def queue_depths(self, app: str, broker: str, queues: Sequence[str]) -> dict[str, Depth]:
        found = {}
        for queue in queues:
            messages = self._depths.get((app, queue), 0)
            if messages is None:
                found[queue] = Depth(
                    None, None, "The broker cannot be reached (simulated: Cyme-Fault depth=error)."
                )
            else:
                found[queue] = Depth(messages)
        return found

    # -- remote control, simulated ---------------------------------------------------

    def _worker(self, name: str) -> _Worker:
        worker = self._workers.get(name)
        if worker is None:
            raise WorkerUnavailable(f"Instance '{name}' has no worker on this branch.")
        return worker

    def _answering(self, name: str) -> _Worker:
        """The worker, if it can answer: 503 when it does not run, 504 when frozen."""
        worker = self._worker(name)
        if not worker.alive:
            state = worker.life.state
            if state in AT_REST:
                raise WorkerUnavailable(
                    f"Instance '{name}' is {state}: it has no worker until it is enabled."
                )
            raise WorkerUnavailable(
                f"Instance '{name}' has no running worker; the branch starts it again shortly."
            )
        if worker.frozen:
            worker.life.silent()
            raise GatewayTimeout(f"The worker of instance '{name}' did not reply in time.")
        worker.life.answered(len(worker.processes))
        return worker

    async def autoscale(self, name: str, max_: int, min_: int) -> None:
        worker = self._worker(name)
        worker.spec = replace(worker.spec, max_concurrency=max_, min_concurrency=min_)
        worker.max_, worker.min_ = max_, min_
        if worker.life.state in AT_REST:
            return  # kept for when it starts
        self._answering(name)
        before = len(worker.processes)
        self._resize(worker)
        after = len(worker.processes)
        worker.life.answered(after)
        if after > before:
            self._log(worker, f"Scaling up {after - before} processes.")
        elif after < before:
            self._log(worker, f"Scaling down {before - after} processes.")

    async def add_consumer(self, name: str, queue: QueueDecl) -> None:
        worker = self._workers.get(name)
        if worker is None:
            return  # stopped meanwhile: nothing left to tell
        worker.queues[queue.name] = queue
        if worker.life.state in AT_REST:
            return
        self._answering(name)
        self._log(worker, f"Started consuming from {queue.name}")

    async def cancel_consumer(self, name: str, queue: str) -> None:
        worker = self._workers.get(name)
        if worker is None or worker.queues.pop(queue, None) is None:
            return
        if worker.life.state in AT_REST:
            return
        self._answering(name)
        self._log(worker, f"No longer consuming from {queue}")

    async def stats(self, name: str) -> dict[str, Any]:
        worker = self._answering(name)
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
        worker = self._worker(name)
        if worker.life.state not in AT_REST:
            self._answering(name)
        # A disabled worker's queues: those it will consume once enabled.
        return [active_queue(q) for q in worker.queues.values()]

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
        try:
            with path.open("a", encoding="utf-8") as fh:
                fh.write(f"[{stamp},000: INFO/MainProcess] {message}\n")
        except FileNotFoundError:
            pass  # its directory is being removed


_SIGSTOP = int(signal.SIGSTOP)
_SIGCONT = int(signal.SIGCONT)


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
