"""Helpers for the tests of real Celery workers (`cyme-branch --supervisor celery`).

`RedisServer` runs Debian's `redis-server` on a free loopback port, with a
password (so that the tests can look for it where it must not be), no
persistence, and its files in a temporary directory. `CeleryBranch` is a
`LiveBranch` with the Celery supervisor. `Probe` talks to workers directly,
as a plain Celery program on the same broker would.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import redis
from celery import Celery
from live import poll

from cyme_branch.testing import LiveBranch, free_port

TASKS_DIR = Path(__file__).resolve().parent / "celery_tasks"
REDIS_START_TIMEOUT = 10.0


class RedisServer:
    """`redis-server` on 127.0.0.1, started and stopped by the tests."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.port = free_port()
        self.password = f"pw-{secrets.token_hex(8)}"
        self.proc: subprocess.Popen[bytes] | None = None

    def url(self, db: int = 0) -> str:
        return f"redis://:{self.password}@127.0.0.1:{self.port}/{db}"

    def start(self) -> None:
        command = shutil.which("redis-server")
        if command is None:
            raise RuntimeError("redis-server is missing: `make install` installs it")
        self.root.mkdir(parents=True, exist_ok=True)
        argv = [
            command,
            "--port", str(self.port),
            "--bind", "127.0.0.1",
            "--save", "",
            "--appendonly", "no",
            "--requirepass", self.password,
            "--dir", str(self.root),
            "--logfile", str(self.root / "redis.log"),
        ]  # fmt: skip
        self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL)
        client = redis.Redis(port=self.port, password=self.password, socket_timeout=1)
        deadline = time.monotonic() + REDIS_START_TIMEOUT
        while True:
            try:
                client.ping()
                return
            except redis.RedisError:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    self.stop()
                    raise RuntimeError("redis-server did not start") from None
                time.sleep(0.05)
            finally:
                client.close()

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
            self.proc = None


RABBIT_SERVER = Path("/usr/lib/rabbitmq/bin/rabbitmq-server")  # Debian's, without its wrapper
RABBIT_START_TIMEOUT = 60.0


class RabbitServer:
    """Debian's RabbitMQ on 127.0.0.1, with its node, files and epmd its own.

    Run as the `rabbitmq` user when the tests run as root (RabbitMQ will not
    run as root), in a session of its own so that stopping it stops it all;
    the Erlang port mapper it starts listens on a port of its own, and is
    stopped with it. The `guest` user may connect from loopback only.
    """

    def __init__(self, root: Path) -> None:
        self.root = root
        self.port = free_port()
        self.epmd_port = free_port()
        self.proc: subprocess.Popen[bytes] | None = None

    def url(self) -> str:
        return f"amqp://guest:guest@127.0.0.1:{self.port}//"

    def environment(self) -> dict[str, str]:
        root = str(self.root)
        return {
            **os.environ,
            "HOME": root,
            "ERL_EPMD_PORT": str(self.epmd_port),
            "RABBITMQ_NODE_PORT": str(self.port),
            "RABBITMQ_NODE_IP_ADDRESS": "127.0.0.1",
            "RABBITMQ_DIST_PORT": str(free_port()),
            "RABBITMQ_NODENAME": f"cyme-tests-{self.port}@localhost",
            "RABBITMQ_MNESIA_BASE": f"{root}/mnesia",
            "RABBITMQ_LOG_BASE": f"{root}/log",
            "RABBITMQ_PID_FILE": f"{root}/pid",
            "RABBITMQ_CONFIG_FILE": f"{root}/rabbitmq",
            "RABBITMQ_ADVANCED_CONFIG_FILE": f"{root}/advanced.config",
            "RABBITMQ_ENABLED_PLUGINS_FILE": f"{root}/enabled_plugins",
            "RABBITMQ_FEATURE_FLAGS_FILE": f"{root}/feature_flags",
        }

    def start(self) -> None:
        if not RABBIT_SERVER.exists():
            raise RuntimeError("rabbitmq-server is missing: `make install` installs it")
        self.root.mkdir(parents=True, exist_ok=True)
        (self.root / "enabled_plugins").write_text("[].\n")
        user: str | None = None
        if os.geteuid() == 0:
            import pwd  # noqa: PLC0415 (only when run as root)

            user = "rabbitmq"
            entry = pwd.getpwnam(user)
            for path in (self.root, *self.root.iterdir()):
                os.chown(path, entry.pw_uid, entry.pw_gid)
        with (self.root / "server.log").open("wb") as log:
            self.proc = subprocess.Popen(
                [str(RABBIT_SERVER)],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=log,
                env=self.environment(),
                cwd=self.root,
                user=user,
                start_new_session=True,
            )
        app = Celery("cyme-tests-rabbit", broker=self.url(), set_as_current=False)
        deadline = time.monotonic() + RABBIT_START_TIMEOUT
        try:
            while True:
                try:
                    with app.connection_for_write() as connection:
                        connection.ensure_connection(max_retries=1)
                    return
                except Exception:  # not up yet, whatever kombu says
                    if self.proc.poll() is not None or time.monotonic() > deadline:
                        self.stop()
                        raise RuntimeError("rabbitmq-server did not start") from None
                    time.sleep(0.2)
        finally:
            app.close()

    def stop(self) -> None:
        if self.proc is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
        self.proc = None
        # The port mapper daemon it started, on the port given it only.
        epmd = shutil.which("epmd") or "/usr/lib/erlang/bin/epmd"
        subprocess.run(
            [epmd, "-kill"],
            env=self.environment(),
            capture_output=True,
            timeout=10,
            check=False,
        )


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
