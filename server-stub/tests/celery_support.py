"""Helpers for the tests of real Celery workers (`cyme-branch --supervisor celery`).

The brokers (`RedisServer`, `RabbitServer`) come from `cyme_branch.testing`,
re-exported here for the tests' imports. `CeleryBranch` is a
`LiveBranch` with the Celery supervisor. `Probe` talks to workers directly,
as a plain Celery program on the same broker would.
"""

from __future__ import annotations

import os
import signal
import socket
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from celery import Celery
from live import poll

from cyme_branch.testing import LiveBranch, RabbitServer, RedisServer

TASKS_DIR = Path(__file__).resolve().parent / "celery_tasks"
__all__ = ["RabbitServer", "RedisServer"]


class CeleryBranch(LiveBranch):
    """A live branch whose instances are real workers."""

    def __init__(
        self,
        root: Path,
        branch_id: str,
        *,
        timeout: float = 10.0,
        interval: float = 1.0,
        args: Sequence[str] = (),
    ) -> None:
        super().__init__(
            root,
            branch_id,
            supervisor="celery",
            sup_interval=interval,
            control_timeout=timeout,
            args=args,
        )
        self.timeout = timeout
        self.leftovers: list[int] = []  # workers still running when the branch last stopped

    def worker_pid(self, name: str) -> int | None:
        try:
            return int((self.dir / name / "worker.pid").read_text().strip())
        except (OSError, ValueError):
            return None

    def stop(
        self, sig: int = signal.SIGTERM, timeout: float = 10.0, *, keep_workers: bool = False
    ) -> int | None:
        """Stop the branch; then kill any worker it left running, unless told to keep them."""
        code = super().stop(sig, timeout)
        self.leftovers = processes_mentioning(str(self.dir))
        if not keep_workers:
            for pid in self.leftovers:
                os.kill(pid, signal.SIGKILL)
        return code


def nodename(name: str) -> str:
    return f"{name}@{socket.gethostname()}"


def processes_mentioning(text: str) -> list[int]:
    """Pids of the processes whose command line contains `text`."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().decode("utf-8", "replace")
        except OSError:
            continue
        if text in cmdline.replace("\0", " ") and alive(int(entry.name)):
            found.append(int(entry.name))
    return found


def command_line(pid: int) -> list[str]:
    raw = Path(f"/proc/{pid}/cmdline").read_bytes().decode("utf-8", "replace")
    return raw.rstrip("\0").split("\0")


def alive(pid: int) -> bool:
    """The process exists and is not a zombie."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rpartition(")")[2].split()[0] != "Z"


def children(pid: int) -> set[int]:
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    except OSError:
        return set()
    return {int(p) for p in text.split()}


class Probe:
    """A plain Celery program on the broker: asks workers directly, sends tasks."""

    def __init__(self, broker: str) -> None:
        self.app = Celery("cyme-tests", broker=broker, set_as_current=False)

    def ask(self, name: str, command: str, timeout: float = 2.0, **arguments: Any) -> Any:
        """A worker's reply to a remote control command; None when it does not reply."""
        node = nodename(name)
        replies = self.app.control.broadcast(
            command, arguments=arguments, destination=[node], reply=True, timeout=timeout
        )
        for reply in replies or ():
            if node in reply:
                return reply[node]
        return None

    def queues(self, name: str) -> set[str] | None:
        reply = self.ask(name, "active_queues")
        return None if reply is None else {q["name"] for q in reply}

    def send(self, task: str, queue: str, *args: Any) -> None:
        self.app.send_task(task, args=args, queue=queue)

    def close(self) -> None:
        self.app.close()


def wait_for(check: Any, timeout: float, what: str) -> Any:
    """Poll `check` until true; fail the test naming `what` when the time is up."""
    value = poll(check, timeout=timeout, interval=0.2)
    assert value, f"{what}: not within {timeout:g} s"
    return value
