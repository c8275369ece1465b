"""The branch: its settings, its state and its supervisor, started and stopped together."""

from __future__ import annotations

import asyncio
import fcntl
import logging
import os
import shutil
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from . import __version__
from .auth import TokenAuth
from .browsers import ANY_ADDRESS, BrowserPolicy
from .cluster import Cluster, ClusterSettings, Shapes, load_average
from .cluster.membership import utc
from .faults import FaultInjector
from .idempotency import FILE_NAME as IDEMPOTENCY_NAME
from .idempotency import IdempotencyCache
from .locks import KeyedLocks
from .metrics import Metrics, RequestMetrics
from .peers import Neighbours
from .scheduled import ScheduledChanges
from .spec import Spec
from .store import Store
from .supervisor import Supervisor, WorkerSpec, deadline
from .supervisor.lifecycle import RestartPolicy
from .validation import RequestValidator

log = logging.getLogger("cyme.branch")

DB_NAME = ".branch.sqlite3"  # a dot name: no instance can be called that
LOCK_NAME = ".branch.lock"
ID_NAME = ".branch-id"  # the id given to a branch started without --id
WORKER_FILES = frozenset({"worker.log", "worker.pid", "worker.statedb"})
# Celery's state database may be several files (`worker.statedb.dat`, ...),
# depending on the dbm module the worker's Python has.
STATEDB_PREFIX = "worker.statedb."


class BranchError(Exception):
    """The branch cannot start (its directory is in use, unwritable, ...)."""


@dataclass(frozen=True)
class BranchConfig:
    id: str
    host: str
    port: int
    directory: Path
    loglevel: str = "INFO"
    logfile: str | None = None
    sup_interval: float = 5.0
    # How long a request, or a round of the supervisor, waits for a worker.
    control_timeout: float = 10.0
    token: str | None = field(default=None, repr=False)
    allow_fault_injection: bool = False
    # Restart storms: a worker that would need more than restart_max restarts
    # within restart_window seconds is left failed.
    restart_max: int = 5
    restart_window: float = 300.0
    # GET /metrics without the token.
    metrics_public: bool = False
    # Web pages: origins that may call the branch, host names it answers to
    # (browsers.py), beyond its own.
    allow_origins: tuple[str, ...] = ()
    allow_hosts: tuple[str, ...] = ()
    # Served over HTTPS (--tls-cert, --tls-key): its URL and its pages'
    # origin are https.
    tls: bool = False

    @property
    def restart_policy(self) -> RestartPolicy:
        return RestartPolicy(self.restart_max, self.restart_window, self.sup_interval)

    @staticmethod
    def default_id(directory: Path) -> str:
        """The id kept in `DIR/.branch-id`, or a new UUID kept there."""
        path = directory / ID_NAME
        try:
            kept = path.read_text(encoding="utf-8").strip()
        except FileNotFoundError:
            kept = ""
        except (OSError, UnicodeDecodeError) as exc:
            raise BranchError(f"cannot read {path}: {type(exc).__name__}") from None
        if kept:
            return kept
        ident = str(uuid.uuid4())
        try:
            directory.mkdir(parents=True, exist_ok=True)
            path.write_text(ident + "\n", encoding="utf-8")
        except OSError as exc:
            raise BranchError(f"cannot keep the branch id in {path}: {exc.strerror}") from None
        return ident


class Branch:
    def __init__(
        self,
        config: BranchConfig,
        supervisor: Supervisor,
        spec: Spec,
        neighbours: Neighbours | None = None,
        cluster: ClusterSettings | None = None,
    ) -> None:
        self.config = config
        self.supervisor = supervisor
        self.spec = spec
        self.validator = RequestValidator(spec)
        cluster = cluster or ClusterSettings(token=config.token)
        # Members call each other with the cluster token: it opens this branch too.
        self.auth = TokenAuth(config.token, cluster.token)
        self.browsers = BrowserPolicy(
            listen_host=config.host,
            has_token=config.token is not None,
            allow_hosts=config.allow_hosts,
            allow_origins=config.allow_origins,
            scheme=self.scheme,
        )
        self.faults = FaultInjector() if config.allow_fault_injection else None
        self.neighbours = neighbours or Neighbours([], cluster.calls(), spec)
        shapes = Shapes(spec.schema("AppInput"), spec.schema("QueueInput"))
        self.cluster = Cluster(self, cluster, self.neighbours.valid_id, shapes)
        self._lock: IO[str] | None = None
        self._store: Store | None = None
        self._idempotency: IdempotencyCache | None = None
        # The lock that orders every change to one instance. A change is
        # written to the store and then applied by the supervisor, which may
        # take time (a real worker starts in seconds); holding the lock across
        # both keeps two changes to one instance from crossing.
        self.instance_lock = KeyedLocks()
        # Changes asked for with nowait, still running.
        self.background: set[asyncio.Task[None]] = set()
        # ... and what became of each, by id (GET /operations/{id}).
        self.scheduled = ScheduledChanges()
        self._supervising: asyncio.Task[None] | None = None
        # What GET /metrics tells: the answers so far, the rounds of the
        # supervisor, and the state read at each scrape.
        self.requests = RequestMetrics()
        self.rounds = 0
        self.metrics = Metrics(self)

    @property
    def store(self) -> Store:
        if self._store is None:
            raise RuntimeError("the branch is not started")
        return self._store

    @property
    def idempotency(self) -> IdempotencyCache:
        if self._idempotency is None:
            raise RuntimeError("the branch is not started")
        return self._idempotency

    @property
    def scheme(self) -> str:
        return "https" if self.config.tls else "http"

    @property
    def url(self) -> str:
        """The branch's URL, without a trailing slash (`localhost` for every interface)."""
        host = "localhost" if self.config.host in ANY_ADDRESS else self.config.host
        if ":" in host:
            host = f"[{host}]"
        return f"{self.scheme}://{host}:{self.config.port}"

    def describe(self) -> dict[str, Any]:
        config = self.config
        return {
            "id": config.id,
            "url": f"{self.url}/",
            "port": config.port,
            "loglevel": config.loglevel,
            "logfile": config.logfile,
            "sup_interval": config.sup_interval,
            "supervisor": self.supervisor.kind,
            "version": __version__,
            "restart_max": config.restart_max,
            "restart_window": config.restart_window,
            "state": "alive",
            "last_seen": utc(time.time()),
            "started": utc(self.cluster.started),
            "instances": self.store.instance_count(),
            "load": load_average(),
            "cluster": self.cluster.name,
            "stale": False,
        }

    async def start(self) -> None:
        """Open the state and bring up every stored instance."""
        directory = self.config.directory
        try:
            directory.mkdir(parents=True, exist_ok=True)
            self._lock = (directory / LOCK_NAME).open("w")
            fcntl.flock(self._lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise BranchError(f"another branch is using {directory}") from None
        except OSError as exc:
            raise BranchError(f"cannot use {directory}: {exc.strerror}") from None
        self._store = Store(directory / DB_NAME)
        self._idempotency = IdempotencyCache(directory / IDEMPOTENCY_NAME)
        instances = self._store.all_instances()
        self._remove_leftovers({i.name for i in instances})
        await self.supervisor.resume([WorkerSpec.of(i, directory) for i in instances])
        await self.cluster.start(directory)
        log.info(
            "branch %s: %d instances up, state in %s", self.config.id, len(instances), directory
        )
        self._supervising = asyncio.create_task(self._supervise())

    def listening(self) -> None:
        """The branch listens (its URL is known): it may join its cluster."""
        self.cluster.join()

    async def stop(self) -> None:
        if self._supervising is not None:
            self._supervising.cancel()
            await asyncio.gather(self._supervising, return_exceptions=True)
            self._supervising = None
        if self.background:
            await asyncio.gather(*self.background, return_exceptions=True)
        await self.cluster.stop()  # closes the calls to members and neighbours
        await self.supervisor.close()
        if self._store is not None:
            self._store.close()
            self._store = None
        if self._idempotency is not None:
            self._idempotency.close()
            self._idempotency = None
        if self._lock is not None:
            self._lock.close()
            self._lock = None

    async def _supervise(self) -> None:
        """Every `sup_interval` seconds, have each worker match the store."""
        while True:
            await asyncio.sleep(self.config.sup_interval)
            try:
                await self.supervise_once()
            except Exception:
                log.exception("a round of the supervisor failed")

    async def supervise_once(self) -> None:
        """One round: every stored instance, reconciled with its worker at once."""
        instances = self.store.all_instances()
        await asyncio.gather(*(self._reconcile(i.app.name, i.name) for i in instances))
        self.rounds += 1

    async def _reconcile(self, app: str, name: str) -> None:
        lock = self.instance_lock(name)
        if lock.locked():
            return  # a request is changing it: next round
        async with lock:
            # Read again under the lock: a request may have changed it meanwhile.
            instance = self.store.instance(app, name)
            if instance is None:
                return
            with deadline(self.config.control_timeout):
                await self.supervisor.reconcile(WorkerSpec.of(instance, self.config.directory))

    def _remove_leftovers(self, names: set[str]) -> None:
        """Remove directories of instances whose creation or deletion was cut short.

        Only directories holding nothing but a worker's files are removed, so
        that a stray folder of the user's is never touched.
        """
        for entry in os.scandir(self.config.directory):
            if entry.name.startswith(".") or entry.name in names or not entry.is_dir():
                continue
            files = {f for f in os.listdir(entry.path) if not f.startswith(STATEDB_PREFIX)}
            if files and files <= WORKER_FILES:
                log.info("removing %s: it belongs to no instance", entry.path)
                shutil.rmtree(entry.path, ignore_errors=True)
