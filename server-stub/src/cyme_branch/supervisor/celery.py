"""Real Celery workers: one `celery worker` process per instance.

Start. Each instance runs

    python -m celery [global arguments] worker --loglevel=INFO -E [arguments]
        --include cyme_branch.worker_commands[,MODULES]
        --hostname NAME@HOST --pool POOL --autoscale=MAX,MIN --queues dq.NAME,QUEUES
        --pidfile DIR/NAME/worker.pid --logfile DIR/NAME/worker.log
        --statedb DIR/NAME/worker.statedb
        -- [extra_config as key=(json)value] task_send_sent_event=(json)true

in a session of its own, so that stopping it reaches its pool too. The
broker URL travels in the environment (`CELERY_BROKER_URL`), not on the
command line, where anyone on the machine could read its password with
`ps`. Celery's global options among the arguments (`--workdir`, `-A`, ...)
go before `worker`, since Celery 5 takes them nowhere else; the consumed
queues' declarations go in `task_queues`, since `--queues` only names them.
Workers send task events (`-E`, and `task-sent` events for the tasks they
send), as the original's did, so that Flower and `celery events` see their
tasks; an `extra_config` that sets `worker_send_task_events` or
`task_send_sent_event` has the last word. `--include` brings in the
branch's own remote control commands (worker_commands.py), with the
modules the arguments include.

Control. Celery's remote control (`ping`, `autoscale`, `add_consumer`,
`cancel_consumer`, `stats`, `active_queues`, and the branch's own
`cyme_autoscale`, which grows the pool at once) addressed to the worker's
node name, through its instance's broker. Those calls block: they run in a pool
of threads, and each waits at most until the deadline of the request (or
round) it serves, so the event loop never waits on a broker and a request
is answered within the control timeout. A broker that cannot be reached is
a 503 (`WorkerUnavailable`), a worker that does not reply in time a 504
(`GatewayTimeout`), an error reply a 502 (`BadGateway`).

Observe. Each worker has its `Lifecycle` (lifecycle.py): the state the API
shows. An exit is seen as soon as anything looks at the worker (its exit
code is `Popen.returncode`; a worker adopted from an earlier branch is not
our child, so its exit status is unknown); an answer makes it `running`, a
command it does not answer (or a broker that is down) `unknown`.

Reconcile. Every round of the branch's supervisor, a worker that died is
started again (after a growing pause when it keeps dying, and not at all
after a restart storm: `failed`), and a live one
is compared with its stored spec: its consumers (`active_queues`) and its
pool bounds (`stats()['autoscaler']`); differences are corrected with
`add_consumer`, `cancel_consumer` and `autoscale`. A queue consumed under
another declaration than the stored one restarts the worker: Celery keeps
the first declaration it saw of a queue name until it restarts.

Stop. A warm shutdown: SIGTERM, and the worker finishes the tasks it holds;
one still running at the deadline is killed with its process group. A
restart is a warm shutdown and a start; a disabled instance's worker gets a
warm shutdown and is left stopped (its directory stays). When
the branch stops, every worker gets a warm shutdown and the directories
stay, so that the next branch on the directory starts them again; a worker
left running by a branch that was killed is adopted by the next one (its
pidfile and command line say which instance it runs).

Depth. A queue's depth is read with kombu, in a thread pool of its own and
within the deadline: a passive `queue_declare` gives the message and
consumer counts on AMQP, and on Redis the length of the queue's lists,
priorities included (kombu's Redis transport answers it so: it keeps a
priority's messages in `queue` + `\x06\x16` + the priority step). A depth
read in the last `DEPTH_TTL` seconds is reused, and a broker that could
not be read is not asked again for `DEPTH_ERROR_TTL` seconds.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from celery import Celery
from kombu import connection as _kombu_connection
from kombu.exceptions import OperationalError

from .. import worker_commands
from ..problems import (
    BadGateway,
    GatewayTimeout,
    MalformedRequest,
    Problem,
    WorkerUnavailable,
    invalid,
)
from . import Depth, QueueDecl, WorkerSpec, active_queue, time_left
from .celery_tasks import CeleryTasks
from .lifecycle import ADOPTED, DISABLED, RESTARTED, Lifecycle, RestartPolicy
from .tasks import TaskRunner

log = logging.getLogger("cyme.branch")

BROKER_ENV = "CELERY_BROKER_URL"
# The app's result backend reaches its workers the same way (and only when
# the app has one); the branch's own Celery apps are told theirs.
BACKEND_ENV = "CELERY_RESULT_BACKEND"
# Variables that would send a worker, or the branch's own remote control, to
# another broker than the instance's: the branch takes them out of its own
# environment and sets only the first, per worker.
BROKER_VARIABLES = ("CELERY_BROKER_URL", "CELERY_BROKER_READ_URL", "CELERY_BROKER_WRITE_URL")
# Celery 5's global options (but the broker's), and whether each takes a value.
GLOBAL_OPTIONS = {
    "-A": True,
    "--app": True,
    "--result-backend": True,
    "--loader": True,
    "--config": True,
    "--workdir": True,
    "-C": False,
    "--no-color": False,
    "-q": False,
    "--quiet": False,
    "--skip-checks": False,
}
# A new worker's readiness: a ping sent before it listens is lost, so ping
# again and again, waiting a little longer each time (a far broker's round
# trip may take more than the first wait).
FIRST_PING_WAIT = 0.1
LAST_PING_WAIT = 1.0
POLL_INTERVAL = 0.1  # between two looks at a pool or consumers that are changing
LOG_TAIL = 15  # lines of a worker's log copied to the branch log when it dies at start
CONTROL_THREADS = 8
# Options the branch cannot let through: it runs the worker itself (a
# detached worker would escape it), and the broker is the `broker` field.
REFUSED_OPTIONS = {
    "-D": "the branch runs the worker itself: leave out --detach",
    "--detach": "the branch runs the worker itself: leave out --detach",
    "-b": "give the broker as the `broker` field, not as an argument",
    "--broker": "give the broker as the `broker` field, not as an argument",
}
CONNECT_TIMEOUT = 4.0  # kombu's default
# The module of the branch's own remote control commands, included by every worker.
COMMANDS_MODULE = worker_commands.__name__
# Settings the branch gives every worker, unless extra_config gives them.
EVENT_SETTINGS = {"task_send_sent_event": True}
EVENTS_SETTING = "worker_send_task_events"  # what -E sets
# The states in which a worker holds no process and is not to be started:
# changes to it are kept for when it is enabled.
AT_REST = ("disabled", "failed")
DEPTH_TTL = 1.0  # seconds a queue's depth is reused
DEPTH_ERROR_TTL = 5.0  # seconds a broker that could not be read is left alone
DEPTH_THREADS = 4


def split_arguments(text: str) -> tuple[list[str], list[str], list[str]]:
    """Celery's global options, the worker's options, and `key=value` settings after `--`."""
    try:
        words = shlex.split(text)
    except ValueError:
        raise invalid(
            "body", "arguments", "cannot be split into words (unbalanced quotes?)"
        ) from None
    before: list[str] = []
    after: list[str] = []
    settings: list[str] = []
    i = 0
    while i < len(words):
        word = words[i]
        if word == "--":
            settings = words[i + 1 :]
            break
        name, equals, _ = word.partition("=")
        if not word.startswith("--") and word[:2] in ("-b", "-D"):
            name = word[:2]  # -bURL
        if name in REFUSED_OPTIONS:
            raise invalid("body", "arguments", REFUSED_OPTIONS[name])
        takes_value = GLOBAL_OPTIONS.get(name)
        if takes_value is None and word.startswith("-A") and not word.startswith("--"):
            before.append(word)  # -Aproj
        elif takes_value is None:
            after.append(word)
        else:
            before.append(word)
            if takes_value and not equals and i + 1 < len(words):
                i += 1
                before.append(words[i])
        i += 1
    return before, after, settings


def declaration(queue: QueueDecl) -> dict[str, Any]:
    """A queue as `add_consumer` and `task_queues` take it."""
    return {
        **queue.options,
        "exchange": queue.exchange,
        "exchange_type": queue.exchange_type,
        "routing_key": queue.routing_key,
    }


def take_includes(options: list[str]) -> tuple[list[str], list[str]]:
    """The worker's options without `-I`/`--include`, and the modules they named."""
    rest: list[str] = []
    modules: list[str] = []
    i = 0
    while i < len(options):
        word = options[i]
        if word in ("-I", "--include"):
            if i + 1 < len(options):
                modules += options[i + 1].split(",")
            i += 2
            continue
        if word.startswith("--include="):
            modules += word.partition("=")[2].split(",")
        elif word.startswith("-I") and not word.startswith("--"):
            modules += word[2:].split(",")
        else:
            rest.append(word)
        i += 1
    return rest, [m for m in modules if m]


def worker_command(spec: WorkerSpec, nodename: str, python: str = sys.executable) -> list[str]:
    """The command line of an instance's worker (the broker is not on it)."""
    before, options, settings = split_arguments(spec.arguments)
    options, modules = take_includes(options)
    directory = spec.directory
    queues = (QueueDecl.private(spec.name), *spec.queues)
    # Task events, as the original's workers sent them, unless extra_config says.
    events = [] if EVENTS_SETTING in spec.extra_config else ["-E"]
    argv = [
        python,
        "-m",
        "celery",
        *before,
        "worker",
        "--loglevel=INFO",  # the original's default; the arguments may change it
        *events,
        *options,
        "--include",
        ",".join([COMMANDS_MODULE, *(m for m in modules if m != COMMANDS_MODULE)]),
        "--hostname",
        nodename,
        f"--pool={spec.pool}",
        f"--autoscale={spec.max_concurrency},{spec.min_concurrency}",
        "--queues",
        ",".join(q.name for q in queues),
        f"--pidfile={directory / 'worker.pid'}",
        f"--logfile={directory / 'worker.log'}",
        f"--statedb={directory / 'worker.statedb'}",
    ]
    # `(json)` makes Celery take the value as JSON, whatever the setting's type.
    given = {**{k: v for k, v in EVENT_SETTINGS.items() if k not in spec.extra_config}}
    given.update(spec.extra_config)
    settings += [f"{k}=(json){json.dumps(v)}" for k, v in given.items()]
    if spec.queues:
        declared = {q.name: declaration(q) for q in spec.queues}
        settings.append(f"task_queues=(json){json.dumps(declared, separators=(',', ':'))}")
    if settings:
        argv += ["--", *settings]
    return argv


def same_declaration(entry: dict[str, Any], queue: QueueDecl) -> bool:
    """Whether an `active_queues` entry consumes the queue as declared."""
    exchange = entry.get("exchange")
    if not isinstance(exchange, dict):
        return False
    return (
        exchange.get("name") == queue.exchange
        and exchange.get("type") == queue.exchange_type
        and entry.get("routing_key") == queue.routing_key
    )


def secrets_of(url: str) -> list[str]:
    """The passwords in a broker URL (kombu takes several, separated by `;`)."""
    found = []
    for part in url.split(";"):
        _, sep, rest = part.partition("://")
        userinfo = rest.rpartition("@")[0] if sep else ""
        password = userinfo.partition(":")[2]
        if password:
            found += [password, unquote(password)]
    return sorted(set(found), key=len, reverse=True)


def redact(text: str, url: str) -> str:
    for secret in secrets_of(url):
        text = text.replace(secret, "**")
    return text


def pid_runs(pid: int) -> bool:
    """Whether the process exists and is not a zombie."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rpartition(")")[2].split()[:1] != ["Z"]


def command_line(pid: int) -> list[str]:
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return []
    return raw.decode("utf-8", "replace").split("\0")


@dataclass
class _Worker:
    spec: WorkerSpec
    nodename: str
    life: Lifecycle
    pid: int | None = None
    # None for a worker adopted from an earlier branch: not our child.
    popen: subprocess.Popen[bytes] | None = None
    # Whether it has answered since it started: a command sent before the
    # worker listens is lost, so one to a new worker waits for a ping first.
    ready: bool = False
    trouble: str | None = None  # what was last logged about it, to say it once
    failed: bool = False  # its start failed (a new instance that is not kept)
    # Whether it knows the branch's own commands (worker_commands.py): every
    # worker this branch starts does; one adopted from an older branch may not.
    commands: bool = True

    def alive(self) -> bool:
        if self.popen is not None:
            return self.popen.poll() is None
        return self.pid is not None and pid_runs(self.pid)

    @property
    def name(self) -> str:
        return self.spec.name

    def exit_code(self) -> int | None:
        return self.popen.poll() if self.popen is not None else None


class CelerySupervisor:
    """Runs each instance as a `celery worker` process; see the module's docstring."""

    kind = "celery"

    def __init__(
        self,
        root: Path,
        *,
        interval: float = 5.0,
        timeout: float = 10.0,
        hostname: str | None = None,
        python: str = sys.executable,
        policy: RestartPolicy | None = None,
    ) -> None:
        self._root = root
        self._interval = interval
        self._timeout = timeout
        self._host = hostname or socket.gethostname()
        self._python = python
        self._policy = policy or RestartPolicy(interval=interval)
        self._workers: dict[str, _Worker] = {}
        self._executor = ThreadPoolExecutor(CONTROL_THREADS, thread_name_prefix="cyme-control")
        # Depth reads have threads of their own: a broker that hangs holds
        # one of them, never a thread that controls workers.
        self._depth_executor = ThreadPoolExecutor(DEPTH_THREADS, thread_name_prefix="cyme-depth")
        self._depths: dict[tuple[str, str], tuple[float, Depth]] = {}  # by (broker, queue)
        # Reads in flight, shared by whoever asks the same of the same broker meanwhile.
        self._depth_reads: dict[tuple[str, frozenset[str]], asyncio.Future[dict[str, Depth]]] = {}
        # One Celery app per broker and thread: remote control calls of one
        # app are not meant to run in several threads at once.
        self._local = threading.local()
        for variable in BROKER_VARIABLES:
            if os.environ.pop(variable, None) is not None:
                log.warning("ignoring %s: each app names its broker", variable)
        if os.environ.pop(BACKEND_ENV, None) is not None:
            log.warning("ignoring %s: each app names its result backend", BACKEND_ENV)
        # Tasks sent, followed and revoked for the apps (celery_tasks.py).
        self.tasks: TaskRunner = CeleryTasks(timeout, self._app)

    def nodename(self, name: str) -> str:
        return f"{name}@{self._host}"

    def _record(self, spec: WorkerSpec) -> _Worker:
        worker = _Worker(
            spec, self.nodename(spec.name), Lifecycle(self._policy, enabled=spec.enabled)
        )
        self._workers[spec.name] = worker
        return worker

    # -- the supervisor interface ---------------------------------------------

    async def start(self, spec: WorkerSpec) -> None:
        worker = self._record(spec)
        log.info("> %s: DOWN", spec.name)
        self._spawn(worker)
        try:
            ready = await self._wait_ready(worker)
        except Problem:
            worker.failed = True
            raise
        if ready:
            log.info("> Restarting node %s: OK", spec.name)
        else:
            log.warning(
                "> %s: started (pid %s) but not answering yet; requests to it wait "
                "for it at most %g s",
                spec.name,
                worker.pid,
                self._timeout,
            )

    async def resume(self, specs: Sequence[WorkerSpec]) -> None:
        for spec in specs:
            worker = self._record(spec)
            pid = self._running_pid(worker)
            if not spec.enabled:
                if pid is not None:
                    # Disabled by a branch killed before it stopped the worker.
                    worker.pid = pid
                    how = await self._halt(worker)
                    worker.pid = None
                    log.info("> %s: disabled, its worker still ran: STOPPED (%s)", spec.name, how)
                log.info("> %s: disabled, left stopped", spec.name)
                continue
            if pid is not None:
                worker.pid = pid
                worker.commands = COMMANDS_MODULE in " ".join(command_line(pid))
                worker.life.adopted(pid)
                log.info("> %s: adopted its running worker (pid %d)", spec.name, pid)
                continue
            log.info("> %s: DOWN", spec.name)
            try:
                self._spawn(worker)
            except (OSError, Problem) as exc:
                log.error("> %s: cannot start its worker: %s", spec.name, _reason(exc))
                worker.life.exited(None, f"cannot start: {_reason(exc)}")
            else:
                log.info("> Restarting node %s: OK", spec.name)

    async def stop(self, name: str) -> None:
        worker = self._workers.pop(name, None)
        if worker is not None:
            how = await self._halt(worker)
            log.info("> %s: STOPPED (%s)", name, how)
        shutil.rmtree(self._root / name, ignore_errors=True)

    async def restart(self, spec: WorkerSpec) -> None:
        worker = self._worker(spec.name)
        worker.spec = spec
        self.observe(spec.name)  # an exit not seen yet is its own, not ours
        if worker.alive():
            worker.life.stopping()
            how = await self._halt(worker)
            worker.life.stopped(worker.exit_code(), RESTARTED)
            log.info("> %s: STOPPED (%s), to restart it", spec.name, how)
        self._spawn(worker)
        if await self._wait_ready(worker):
            log.info("> Restarting node %s: OK", spec.name)

    async def disable(self, name: str) -> None:
        worker = self._workers.get(name)
        if worker is None or worker.life.state == "disabled":
            return
        worker.spec = replace(worker.spec, enabled=False)
        self.observe(name)
        if worker.alive():
            worker.life.stopping()
            how = await self._halt(worker)
            worker.life.stopped(worker.exit_code(), DISABLED, disabled=True)
            log.info("> %s: DISABLED (%s)", name, how)
        else:
            worker.life.disabled()
            log.info("> %s: DISABLED", name)

    async def enable(self, spec: WorkerSpec) -> None:
        worker = self._workers.get(spec.name) or self._record(spec)
        worker.spec = spec
        self.observe(spec.name)
        if worker.alive():
            return  # it runs: nothing to do
        log.info("> %s: DOWN, enabled", spec.name)
        self._spawn(worker, "enable")
        if await self._wait_ready(worker):
            log.info("> Restarting node %s: OK", spec.name)

    async def autoscale(self, name: str, max_: int, min_: int) -> None:
        worker = self._worker(name)
        worker.spec = replace(worker.spec, max_concurrency=max_, min_concurrency=min_)
        if worker.life.state in AT_REST:
            return  # kept for when it starts
        await self._autoscale(worker, max_, min_)
        # The pool grows or shrinks within seconds: answer once it has, so
        # that stats asked for next show it (no later than the deadline).
        await self._settle(worker, "stats", partial(_pool_within, max_=max_, min_=min_))

    async def _autoscale(self, worker: _Worker, max_: int, min_: int) -> None:
        """New pool bounds, with the pool grown at once (`cyme_autoscale`) when the
        worker knows the branch's commands; Celery's `autoscale` otherwise."""
        command = worker_commands.COMMAND if worker.commands else "autoscale"
        await self._control(worker, command, {"max": max_, "min": min_})

    async def add_consumer(self, name: str, queue: QueueDecl) -> None:
        worker = self._workers.get(name)
        if worker is None:
            return  # stopped meanwhile: nothing left to tell
        queues = [q for q in worker.spec.queues if q.name != queue.name]
        worker.spec = replace(worker.spec, queues=(*queues, queue))
        if worker.life.state in AT_REST:
            return
        entry = _by_name(await self._control(worker, "active_queues")).get(queue.name)
        if entry is not None:
            if not same_declaration(entry, queue):
                log.info("> %s: %s is redeclared; the next round restarts it", name, queue.name)
            return
        await self._control(worker, "add_consumer", {**declaration(queue), "queue": queue.name})
        await self._settle(worker, "active_queues", lambda reply: queue.name in _by_name(reply))

    async def cancel_consumer(self, name: str, queue: str) -> None:
        worker = self._workers.get(name)
        if worker is None:
            return
        queues = tuple(q for q in worker.spec.queues if q.name != queue)
        worker.spec = replace(worker.spec, queues=queues)
        if worker.life.state in AT_REST:
            return
        await self._control(worker, "cancel_consumer", {"queue": queue})
        await self._settle(worker, "active_queues", lambda reply: queue not in _by_name(reply))

    async def stats(self, name: str) -> dict[str, Any]:
        worker = self._worker(name)
        reply = await self._control(worker, "stats")
        if not isinstance(reply, dict):
            raise BadGateway(f"The worker of instance '{name}' answered stats with no object.")
        worker.life.answered(_pool_size(reply))
        return reply

    async def active_queues(self, name: str) -> list[dict[str, Any]]:
        worker = self._worker(name)
        if worker.life.state in AT_REST:
            # What it will consume once enabled.
            spec = worker.spec
            return [active_queue(q) for q in (QueueDecl.private(spec.name), *spec.queues)]
        reply = await self._control(worker, "active_queues")
        if not isinstance(reply, list):
            raise BadGateway(
                f"The worker of instance '{name}' answered active_queues with no list."
            )
        return [entry for entry in reply if isinstance(entry, dict)]

    async def reconcile(self, spec: WorkerSpec) -> None:
        worker = self._workers.get(spec.name) or self._record(spec)
        worker.spec = spec
        life = self.observe(spec.name)
        if not spec.enabled or (life is not None and life.state in AT_REST):
            return  # left stopped until it is enabled
        if not worker.alive():
            if worker.life.due():
                self._revive(worker)
            return
        try:
            stats = await self.stats(spec.name)
            active = _by_name(await self.active_queues(spec.name))
            await self._correct(worker, stats, active)
        except Problem as problem:
            if worker.trouble != problem.detail:
                worker.trouble = problem.detail
                log.warning("> %s: %s", spec.name, problem.detail)
            return
        if worker.trouble is not None:
            log.info("> %s: answers again", spec.name)
        worker.trouble = None

    async def close(self) -> None:
        workers = list(self._workers.values())
        self._workers.clear()
        results = await asyncio.gather(*(self._halt(w) for w in workers))
        for worker, how in zip(workers, results, strict=True):
            log.info("> %s: STOPPED (%s)", worker.name, how)
        self._executor.shutdown(wait=False, cancel_futures=True)
        self._depth_executor.shutdown(wait=False, cancel_futures=True)
        await self.tasks.close()

    # -- what they are doing ----------------------------------------------------

    def observe(self, name: str) -> Lifecycle | None:
        worker = self._workers.get(name)
        if worker is None:
            return None
        life = worker.life
        if life.running and not worker.alive():
            code = worker.exit_code()
            life.exited(code, ADOPTED if worker.popen is None else None)
            self._kill_group(worker)  # its pool outlives a main process that was killed
            how = "gone" if code is None else f"exit {code}"
            log.warning("> %s: DOWN (%s), %s", worker.name, how, life.state)
        return life

    def inject_exit(self, name: str, *, signal: int | None, code: int | None) -> None:
        if code is not None or signal is None:
            raise MalformedRequest(
                "Cyme-Fault: exit= needs simulated workers; send a real one a signal with kill=."
            )
        worker = self._workers.get(name)
        if worker is None or worker.pid is None or not worker.alive():
            return  # nothing runs to kill
        with contextlib.suppress(ProcessLookupError):
            os.kill(worker.pid, signal)
        log.warning("> %s: sent %s (Cyme-Fault)", name, _signal_name(signal))

    def inject_depth(self, app: str, queue: str, messages: int | None) -> None:
        raise MalformedRequest(
            "Cyme-Fault: depth= needs simulated workers; real ones have a real broker."
        )

    async def queue_depths(self, app: str, broker: str, queues: Sequence[str]) -> dict[str, Depth]:
        now = time.monotonic()
        found: dict[str, Depth] = {}
        for queue in queues:
            kept = self._depths.get((broker, queue))
            if kept is not None and kept[0] > now:
                found[queue] = kept[1]
        missing = [q for q in queues if q not in found]
        if missing:
            found.update(await self._read_depths(broker, missing))
        return found

    async def _read_depths(self, broker: str, queues: list[str]) -> dict[str, Depth]:
        """Read the broker once for these queues (the same read in flight is shared)."""
        key = (broker, frozenset(queues))
        wait = max(time_left(self._timeout), 0.1)
        reading = self._depth_reads.get(key)
        if reading is None:
            loop = asyncio.get_running_loop()
            call = partial(_read_depths, broker, tuple(queues), self._connection_options(wait))
            reading = asyncio.ensure_future(
                asyncio.wait_for(loop.run_in_executor(self._depth_executor, call), wait)
            )
            self._depth_reads[key] = reading
            reading.add_done_callback(lambda _: self._depth_reads.pop(key, None))
        try:
            read = await asyncio.wait_for(asyncio.shield(reading), wait)
        except asyncio.TimeoutError:
            error = f"The broker did not answer within {wait:.3g} s."
            read = {q: Depth(None, None, error) for q in queues}
        except _BrokerError as exc:
            error = f"The broker cannot be reached ({_reason(exc.cause)})."
            read = {q: Depth(None, None, error) for q in queues}
        now = time.monotonic()
        found = {}
        for queue in queues:
            depth = read.get(queue) or Depth(None, None, "The broker was not asked.")
            keep = DEPTH_TTL if depth.error is None else DEPTH_ERROR_TTL
            self._depths[(broker, queue)] = (now + keep, depth)
            found[queue] = depth
        if len(self._depths) > 10_000:
            self._depths = {k: v for k, v in self._depths.items() if v[0] > now}
        return found

    def _connection_options(self, wait: float) -> dict[str, Any]:
        """kombu's connection settings, so that a broker never holds a thread past `wait`."""
        connect = min(CONNECT_TIMEOUT, wait)
        return {"connect_timeout": connect, "socket_timeout": wait}

    # -- processes ------------------------------------------------------------

    def _spawn(self, worker: _Worker, how: str = "start") -> None:
        """A new worker process: to `start` it, to start it `again` after it exited
        on its own, or to `enable` it (the lifecycle hears which)."""
        spec = worker.spec
        argv = worker_command(spec, worker.nodename, self._python)
        spec.directory.mkdir(parents=True, exist_ok=True)
        # The last worker is gone (or was never there): a pidfile left by it
        # could name a process that is someone else's by now.
        (spec.directory / "worker.pid").unlink(missing_ok=True)
        env = {k: v for k, v in os.environ.items() if k not in BROKER_VARIABLES}
        env[BROKER_ENV] = spec.broker
        if spec.backend is not None:
            env[BACKEND_ENV] = spec.backend
        # What the worker says before its logging is set up (a bad option, a
        # missing module) goes to its log too.
        with (spec.directory / "worker.log").open("ab") as out:
            worker.popen = subprocess.Popen(
                argv,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                cwd=spec.directory,
                env=env,
                start_new_session=True,
            )
        worker.pid = worker.popen.pid
        worker.ready = False
        worker.commands = True
        if how == "again":
            worker.life.restarted(worker.pid)
        elif how == "enable":
            worker.life.enabled(worker.pid)
        else:
            worker.life.started(worker.pid)

    def _running_pid(self, worker: _Worker) -> int | None:
        """The pid of this instance's worker left running by an earlier branch."""
        try:
            pid = int((worker.spec.directory / "worker.pid").read_text().strip())
        except (OSError, ValueError):
            return None
        if pid_runs(pid) and worker.nodename in command_line(pid):
            return pid
        return None

    def _revive(self, worker: _Worker) -> None:
        """Start a worker that exited on its own again (its lifecycle said it is due)."""
        self._kill_group(worker)  # what is left of its pool
        try:
            self._spawn(worker, "again")
        except (OSError, Problem) as exc:
            log.error("> %s: cannot start its worker: %s", worker.name, _reason(exc))
            worker.life.restarted(None)
            worker.life.exited(None, f"cannot start: {_reason(exc)}")
        else:
            log.info("> Restarting node %s: OK", worker.name)

    async def _halt(self, worker: _Worker) -> str:
        """A warm shutdown; a kill when it does not end in time. Says which."""
        pid = worker.pid
        if pid is None or not worker.alive():
            self._kill_group(worker)
            return "not running"
        if worker.failed:
            self._kill_group(worker)  # it never ran a task: nothing to finish
            return "killed: its start failed"
        try:
            os.kill(pid, signal.SIGTERM)
            os.killpg(pid, signal.SIGCONT)  # a stopped worker must run to shut down
        except ProcessLookupError:
            pass
        end = time.monotonic() + max(time_left(self._timeout), 1.0)
        while worker.alive() and time.monotonic() < end:
            await asyncio.sleep(0.05)
        how = "warm shutdown"
        if worker.alive():
            how = "killed: no warm shutdown in time"
        self._kill_group(worker)
        while worker.alive() and time.monotonic() < end + 2:
            await asyncio.sleep(0.05)
        return how

    @staticmethod
    def _kill_group(worker: _Worker) -> None:
        """SIGKILL whatever is left of the worker's process group (its pool)."""
        if worker.pid is None:
            return
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(worker.pid, signal.SIGKILL)
        if worker.popen is not None:
            worker.popen.poll()

    def _exited(self, worker: _Worker) -> BadGateway:
        """The problem of a worker that died as it started; its last lines go to the log."""
        try:
            lines = (worker.spec.directory / "worker.log").read_text(errors="replace")
        except OSError:
            lines = ""
        tail = "\n".join(lines.splitlines()[-LOG_TAIL:])
        log.error(
            "> %s: the worker exited as it started (exit %s); its log ends with:\n%s",
            worker.name,
            worker.exit_code(),
            redact(redact(tail, worker.spec.broker), worker.spec.backend or ""),
        )
        return BadGateway(
            f"The worker of instance '{worker.name}' exited as it started "
            f"(exit {worker.exit_code()}); the branch log has its last lines."
        )

    async def _wait_ready(self, worker: _Worker) -> bool:
        """Wait until a new worker answers a ping: True, or False at the deadline."""
        wait = FIRST_PING_WAIT
        while True:
            if not worker.alive():
                raise self._exited(worker)
            if time_left(self._timeout) <= 0:
                return False
            try:
                await self._control(worker, "ping", timeout=wait, require_alive=False)
            except GatewayTimeout:
                wait = min(LAST_PING_WAIT, wait * 1.2)
                continue
            worker.ready = True
            return True

    # -- remote control -------------------------------------------------------

    def _worker(self, name: str) -> _Worker:
        worker = self._workers.get(name)
        if worker is None:
            raise WorkerUnavailable(f"Instance '{name}' has no worker on this branch.")
        return worker

    async def _control(
        self,
        worker: _Worker,
        command: str,
        arguments: dict[str, Any] | None = None,
        *,
        timeout: float | None = None,
        require_alive: bool = True,
    ) -> Any:
        """Send a remote control command to the worker and return its reply."""
        name = worker.name
        if require_alive and not worker.alive():
            life = self.observe(name)
            if life is not None and life.state in AT_REST:
                raise WorkerUnavailable(
                    f"Instance '{name}' is {life.state}: it has no worker until it is enabled."
                )
            raise WorkerUnavailable(
                f"Instance '{name}' has no running worker; the branch starts it again "
                f"within {self._interval:g} s."
            )
        if not worker.ready and command != "ping" and not await self._wait_ready(worker):
            raise GatewayTimeout(
                f"The worker of instance '{name}' is starting and did not answer "
                f"within {self._timeout:g} s."
            )
        left = time_left(self._timeout)
        wait = left if timeout is None else min(timeout, left)
        if wait <= 0:
            raise GatewayTimeout(
                f"The worker of instance '{name}' did not reply within {self._timeout:g} s."
            )
        control = partial(self._app, worker.spec.broker)
        call = partial(_broadcast, control, worker.nodename, command, arguments or {}, wait)
        loop = asyncio.get_running_loop()
        try:
            reply = await asyncio.wait_for(loop.run_in_executor(self._executor, call), left)
        except asyncio.TimeoutError:
            reply = None
        except _BrokerError as exc:
            worker.life.silent()
            raise WorkerUnavailable(
                f"The broker of instance '{name}' cannot be reached ({_reason(exc.cause)})."
            ) from None
        if reply is None:
            if command != "ping" or worker.ready:
                worker.life.silent()
            raise GatewayTimeout(
                f"The worker of instance '{name}' did not reply to {command} within {wait:g} s."
            )
        worker.life.answered()
        if isinstance(reply, dict) and "error" in reply:
            raise BadGateway(
                f"The worker of instance '{name}' refused {command}: {_kind(reply['error'])}."
            )
        return reply

    def _app(self, broker: str) -> _Control:
        """This thread's Celery app for a broker (made on first use)."""
        apps: dict[str, _Control] = self._local.__dict__.setdefault("apps", {})
        control = apps.get(broker)
        if control is None:
            app = Celery("cyme-branch", broker=broker, set_as_current=False)
            # Kombu retries a refused connection until its connect timeout is
            # over: keep that well inside the deadline, so that a broker that
            # is down is told apart from a worker that is silent.
            connect = min(CONNECT_TIMEOUT, self._timeout / 3)
            options: dict[str, Any] = {}
            if urlsplit(broker).scheme in ("redis", "rediss"):
                # Without these a broker that accepts and never answers holds
                # the thread for good.
                options = {"socket_timeout": self._timeout, "socket_connect_timeout": connect}
            app.conf.update(
                broker_connection_timeout=connect,
                broker_transport_options=options,
                broker_pool_limit=2,
            )
            connection = app.connection_for_write()
            # The transport's own exceptions that mean the broker is not there.
            errors = (*connection.connection_errors, *connection.channel_errors)
            connection.release()
            control = apps[broker] = _Control(app, (OperationalError, OSError, *errors))
        return control

    async def _settle(self, worker: _Worker, command: str, done: Callable[[Any], bool]) -> None:
        """Ask again until the reply shows a change done, or the deadline is near.

        The worker has already said yes: not seeing the change in time is
        no error, so the last look is left a little before the deadline.
        """
        while time_left(self._timeout) > POLL_INTERVAL * 2:
            try:
                reply = await self._control(worker, command, timeout=time_left(self._timeout) / 2)
            except Problem:
                return
            if done(reply):
                return
            await asyncio.sleep(POLL_INTERVAL)

    async def _correct(
        self, worker: _Worker, stats: dict[str, Any], active: dict[str, dict[str, Any]]
    ) -> None:
        """Make a live worker match its spec."""
        spec = worker.spec
        wanted = {q.name: q for q in (QueueDecl.private(spec.name), *spec.queues)}
        stale = sorted(
            n for n, q in wanted.items() if n in active and not same_declaration(active[n], q)
        )
        if stale:
            log.info(
                "> %s: consumes %s as declared before: restarting it", spec.name, ", ".join(stale)
            )
            await self._halt(worker)
            self._spawn(worker)
            log.info("> Restarting node %s: OK", spec.name)
            return
        for name in sorted(wanted.keys() - active.keys()):
            log.info("> %s: not consuming from %s: adding it", spec.name, name)
            await self._control(
                worker, "add_consumer", {**declaration(wanted[name]), "queue": name}
            )
        for name in sorted(active.keys() - wanted.keys()):
            log.info("> %s: consuming from %s, not stored: cancelling it", spec.name, name)
            await self._control(worker, "cancel_consumer", {"queue": name})
        bounds = stats.get("autoscaler")
        want = {"max": spec.max_concurrency, "min": spec.min_concurrency}
        if isinstance(bounds, dict) and {k: bounds.get(k) for k in want} != want:
            log.info(
                "> %s: autoscale is max=%s min=%s, not max=%d min=%d: setting it",
                spec.name,
                bounds.get("max"),
                bounds.get("min"),
                want["max"],
                want["min"],
            )
            await self._autoscale(worker, want["max"], want["min"])


_Connection: Any = _kombu_connection.Connection


@dataclass(frozen=True)
class _Control:
    app: Any  # a Celery app: Celery is not typed
    errors: tuple[type[BaseException], ...]


class _BrokerError(Exception):
    """A broker error, carried out of a control thread."""

    def __init__(self, cause: BaseException) -> None:
        super().__init__(type(cause).__name__)
        self.cause = cause


def _broadcast(
    control_of: Callable[[], _Control],
    node: str,
    command: str,
    arguments: dict[str, Any],
    wait: float,
) -> Any:
    """Send one command to one node and wait for its reply (in a control thread)."""
    control = control_of()
    try:
        replies = control.app.control.broadcast(
            command, arguments=arguments, destination=[node], reply=True, timeout=wait
        )
    except control.errors as exc:
        raise _BrokerError(exc) from None
    for reply in replies or ():
        if isinstance(reply, dict) and node in reply:
            return reply[node]
    return None


def _by_name(reply: Any) -> dict[str, dict[str, Any]]:
    if not isinstance(reply, list):
        return {}
    return {e["name"]: e for e in reply if isinstance(e, dict) and isinstance(e.get("name"), str)}


def _read_depths(broker: str, queues: tuple[str, ...], options: dict[str, Any]) -> dict[str, Depth]:
    """The depth of queues on a broker, with kombu (in a depth thread).

    A passive `queue_declare`: on AMQP the broker's message and consumer
    counts; on Redis kombu's answer is the length of the queue's lists (its
    priority lists too) and no consumer count (None: the branch counts). A
    queue the broker does not have yet is empty.
    """
    redis = urlsplit(broker).scheme in ("redis", "rediss")
    transport_options: dict[str, Any] = {}
    if redis:
        transport_options = {
            "socket_timeout": options["socket_timeout"],
            "socket_connect_timeout": options["connect_timeout"],
        }
    else:
        transport_options = {
            "read_timeout": options["socket_timeout"],
            "write_timeout": options["socket_timeout"],
        }
    connection: Any = _Connection(
        broker,
        connect_timeout=options["connect_timeout"],
        transport_options=transport_options,
    )
    errors = (OperationalError, OSError, *connection.connection_errors)
    found: dict[str, Depth] = {}
    try:
        connection.ensure_connection(max_retries=1)
        channel = connection.channel()
        for queue in queues:
            try:
                _, messages, consumers = channel.queue_declare(queue=queue, passive=True)
            except connection.channel_errors:
                # No such queue: nothing waits in it, nobody consumes it.
                # (AMQP closes the channel on this error: open another.)
                found[queue] = Depth(0, None if redis else 0)
                channel = connection.channel()
                continue
            found[queue] = Depth(int(messages), None if redis else int(consumers))
    except errors as exc:
        raise _BrokerError(exc) from None
    finally:
        connection.release()
    return found


def _pool_size(stats: Any) -> int | None:
    """The pool processes of a `stats` reply; None for a pool without processes."""
    pool = stats.get("pool") if isinstance(stats, dict) else None
    processes = pool.get("processes") if isinstance(pool, dict) else None
    return len(processes) if isinstance(processes, list) else None


def _signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"


def _pool_within(stats: Any, *, max_: int, min_: int) -> bool:
    """Whether the pool has between min and max processes (a pool without
    processes, such as threads, has nothing to wait for)."""
    pool = stats.get("pool") if isinstance(stats, dict) else None
    processes = pool.get("processes") if isinstance(pool, dict) else None
    if not isinstance(processes, list):
        return True
    return min_ <= len(processes) <= max_


def _kind(error: Any) -> str:
    """`AttributeError` of `AttributeError("'TaskPool' object ...")`: the kind, not the text."""
    text = str(error)
    kind = text.partition("(")[0].strip()
    return kind if kind.isidentifier() else "an error"


def _reason(exc: BaseException) -> str:
    return exc.detail if isinstance(exc, Problem) else type(exc).__name__
