"""The branch: its settings, its state and its supervisor, started and stopped together."""

from __future__ import annotations

import asyncio
import fcntl
import logging
import os
import shutil
import socket
import weakref
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from . import __version__
from .spec import Spec
from .store import Store
from .supervisor import Supervisor, WorkerSpec
from .validation import RequestValidator

log = logging.getLogger("cyme.branch")

DB_NAME = ".branch.sqlite3"  # a dot name: no instance can be called that
LOCK_NAME = ".branch.lock"
# Addresses that mean "every interface": the branch's URL names localhost then.
_ANY_HOST = frozenset({"", "0.0.0.0", "::"})  # noqa: S104 (compared, not bound)
WORKER_FILES = frozenset({"worker.log", "worker.pid", "worker.statedb"})


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

    @staticmethod
    def default_id() -> str:
        return socket.gethostname().split(".", 1)[0] or "branch"


class Branch:
    def __init__(self, config: BranchConfig, supervisor: Supervisor, spec: Spec) -> None:
        self.config = config
        self.supervisor = supervisor
        self.spec = spec
        self.validator = RequestValidator(spec)
        self._lock: IO[str] | None = None
        self._store: Store | None = None
        self._instance_locks: weakref.WeakValueDictionary[str, asyncio.Lock] = (
            weakref.WeakValueDictionary()
        )

    def instance_lock(self, name: str) -> asyncio.Lock:
        """The lock that orders every change to one instance.

        A change is written to the store and then applied by the supervisor,
        which may take time (a real worker starts in seconds). Holding this
        lock across both keeps two changes to one instance from crossing.
        """
        lock = self._instance_locks.get(name)
        if lock is None:
            lock = self._instance_locks[name] = asyncio.Lock()
        return lock

    @property
    def store(self) -> Store:
        if self._store is None:
            raise RuntimeError("the branch is not started")
        return self._store

    def describe(self) -> dict[str, Any]:
        config = self.config
        host = "localhost" if config.host in _ANY_HOST else config.host
        if ":" in host:
            host = f"[{host}]"
        return {
            "id": config.id,
            "url": f"http://{host}:{config.port}/",
            "port": config.port,
            "loglevel": config.loglevel,
            "logfile": config.logfile,
            "sup_interval": config.sup_interval,
            "supervisor": self.supervisor.kind,
            "version": __version__,
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
        instances = self._store.all_instances()
        self._remove_leftovers({i.name for i in instances})
        for instance in instances:
            await self.supervisor.start(WorkerSpec.of(instance, directory))
        log.info(
            "branch %s: %d instances up, state in %s", self.config.id, len(instances), directory
        )

    async def stop(self) -> None:
        await self.supervisor.close()
        if self._store is not None:
            self._store.close()
            self._store = None
        if self._lock is not None:
            self._lock.close()
            self._lock = None

    def _remove_leftovers(self, names: set[str]) -> None:
        """Remove directories of instances whose creation or deletion was cut short.

        Only directories holding nothing but a worker's files are removed, so
        that a stray folder of the user's is never touched.
        """
        for entry in os.scandir(self.config.directory):
            if entry.name.startswith(".") or entry.name in names or not entry.is_dir():
                continue
            files = set(os.listdir(entry.path))
            if files and files <= WORKER_FILES:
                log.info("removing %s: it belongs to no instance", entry.path)
                shutil.rmtree(entry.path, ignore_errors=True)
