"""Live branches for test suites and benchmarks: `cyme-branch` as a real process.

    from cyme_branch.testing import LiveBranch

    with LiveBranch(token="s3cret", fault_injection=True) as branch:
        httpx.get(f"{branch.url}/ping")

`LiveBranch` starts `cyme-branch 127.0.0.1:0` in a directory of its own and
waits for its ready line (see `cyme_branch.cli`), which names the port the
system gave it: there is no port to pick in advance and nothing to poll.
If the process exits first, or the line does not come in time,
`BranchFailed` says so with the end of the branch's log. Leaving the `with`
block stops the branch (SIGTERM, then SIGKILL) and removes the directory if
`LiveBranch` made it.

`make_certificates(directory)` makes a throwaway CA and a certificate it
signed for `localhost`, `127.0.0.1` and `::1`, with the `openssl` command;
`LiveBranch(tls=certificates)` serves HTTPS with them, and a client trusts
them with the CA file. Suites in other languages make theirs the same way:

    python -m cyme_branch.testing certs DIR   # {"ca": ..., "cert": ..., "key": ...}

The module needs nothing beyond the standard library, so any test suite of
the repository can use it.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from types import TracebackType
from typing import IO, Any, Literal

from .auth import TOKEN_ENV

START_TIMEOUT = 30.0
STOP_TIMEOUT = 10.0
LOG_NAME = "branch.stderr.log"
STDOUT_NAME = "branch.stdout.log"
TOKEN_NAME = "token"  # noqa: S105 (a file name)
CERTIFICATE_DAYS = 2
# openssl's settings for the test certificates, rather than the system's
# openssl.cnf: a CA that may sign certificates and nothing else, and a
# server certificate for the loopback names, with the key identifiers that
# strict verifiers (VERIFY_X509_STRICT) want.
OPENSSL_CONFIG = """\
[req]
distinguished_name = name
prompt = no
[name]
CN = cyme test
[ca]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
[server]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = DNS:localhost, IP:127.0.0.1, IP:::1
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
"""


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port nothing listens on at the moment (connections to it are refused).

    For what must stand at a known port: a neighbour played by a test, a URL
    where nothing answers, or branches that must know each other's URL before
    they start. A `LiveBranch` needs none: by default it binds port 0.
    """
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


def branch_command() -> list[str]:
    """How to run `cyme-branch` with this Python: its script, else `python -m`."""
    script = Path(sys.executable).parent / "cyme-branch"
    if script.exists():
        return [str(script)]
    return [sys.executable, "-m", "cyme_branch"]


@dataclass(frozen=True)
class Certificates:
    """The files of `make_certificates`: the CA a client trusts, and the
    branch's certificate and key (`--tls-cert`, `--tls-key`)."""

    ca: Path
    cert: Path
    key: Path


def make_certificates(directory: Path | str) -> Certificates:
    """A new CA, and a certificate it signed for `localhost`, `127.0.0.1` and
    `::1`, valid for two days, in `directory` (made if missing).

    No client trusts the CA unless given it, which is the point: a test can
    see verification fail as well as pass. The keys are EC P-256 keys,
    without a passphrase, readable by their owner only.
    """
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    config = directory / "openssl.cnf"
    config.write_text(OPENSSL_CONFIG, encoding="ascii")
    made = Certificates(
        ca=directory / "ca.pem", cert=directory / "branch.pem", key=directory / "branch.key"
    )
    ca_key, request = directory / "ca.key", directory / "branch.csr"
    days = str(CERTIFICATE_DAYS)
    new_key = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-noenc"]
    for key in (ca_key, made.key):  # openssl writes keys with the umask's mode
        key.touch(mode=0o600, exist_ok=True)
        key.chmod(0o600)
    _openssl(
        "req", "-x509", "-config", config, "-extensions", "ca", *new_key, "-keyout", ca_key,
        "-out", made.ca, "-days", days, "-subj", "/CN=cyme test CA",
    )  # fmt: skip
    _openssl(
        "req", "-new", "-config", config, *new_key, "-keyout", made.key, "-out", request,
        "-subj", "/CN=localhost",
    )  # fmt: skip
    _openssl(
        "x509", "-req", "-in", request, "-CA", made.ca, "-CAkey", ca_key,
        "-set_serial", f"0x{os.urandom(16).hex()}", "-days", days,
        "-extfile", config, "-extensions", "server", "-out", made.cert,
    )  # fmt: skip
    request.unlink()
    return made


def _openssl(*args: str | Path) -> None:
    command = ["openssl", *map(str, args)]
    try:
        done = subprocess.run(command, capture_output=True, text=True, check=False, timeout=60)
    except FileNotFoundError:
        raise RuntimeError("the openssl command is missing: apt-get install openssl") from None
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed:\n{done.stderr}")


class BranchFailed(RuntimeError):
    """The branch exited, or did not say it was ready in time."""


class LiveBranch:
    """A `cyme-branch` process in a directory of its own.

    `directory` holds its logs (`branch.stderr.log`, `branch.stdout.log`), its
    token file and, unless `state_dir` says otherwise, its state
    (`instances/`); by default a new temporary directory, removed on exit.
    The options are the command line's: `token` (written to a token file, or
    given in `CYME_BRANCH_TOKEN` with `token_in_env`; without one, the
    variable is removed from the branch's environment), `peers` (`URL` or
    `ID=URL`) and `peer_timeout`, `supervisor` with `sup_interval` and
    `control_timeout`, `fault_injection`, `allow_origins` and `allow_hosts`
    (web pages, see browsers.py), `tls` (`Certificates` to serve HTTPS
    with: `--tls-cert`, `--tls-key`; `url` is then https), `loglevel`; `args` are more
    arguments, `env` more environment variables. `argv` replaces every
    argument (to try the defaults); `prefix` goes before the command (such
    as `taskset --cpu-list 0`); `cwd` is where it runs (`directory` by
    default).
    """

    def __init__(
        self,
        directory: Path | str | None = None,
        branch_id: str = "test-branch",
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        state_dir: Path | str | None = None,
        token: str | None = None,
        token_in_env: bool = False,
        peers: Sequence[str] = (),
        peer_timeout: float | None = None,
        supervisor: Literal["simulated", "celery"] = "simulated",
        sup_interval: float | None = None,
        control_timeout: float | None = None,
        fault_injection: bool = False,
        allow_origins: Sequence[str] = (),
        allow_hosts: Sequence[str] = (),
        tls: Certificates | None = None,
        loglevel: str | None = None,
        args: Sequence[str] = (),
        env: Mapping[str, str] | None = None,
        argv: Sequence[str] | None = None,
        prefix: Sequence[str] = (),
        cwd: Path | str | None = None,
        start_timeout: float = START_TIMEOUT,
    ) -> None:
        self._made_directory = directory is None
        self.root = (
            Path(tempfile.mkdtemp(prefix="cyme-branch-")) if directory is None else Path(directory)
        )
        self.id = branch_id
        self.host = host
        self.dir = Path(state_dir) if state_dir is not None else self.root / "instances"
        self.token = token
        self.token_in_env = token_in_env
        self.peers = list(peers)
        self.peer_timeout = peer_timeout
        self.supervisor = supervisor
        self.sup_interval = sup_interval
        self.control_timeout = control_timeout
        self.fault_injection = fault_injection
        self.allow_origins = list(allow_origins)
        self.allow_hosts = list(allow_hosts)
        self.tls = tls
        self.loglevel = loglevel
        self.args = list(args)
        self.env = dict(env or {})
        self.custom_argv = list(argv) if argv is not None else None
        self.prefix = list(prefix)
        self.cwd = Path(cwd) if cwd is not None else self.root
        self.start_timeout = start_timeout
        self.log_path = self.root / LOG_NAME
        self.stdout_path = self.root / STDOUT_NAME
        self._asked_port = port
        self.port = 0  # once ready, the port it listens on
        self.url = ""
        self.info: dict[str, Any] = {}  # the ready line
        self.proc: subprocess.Popen[bytes] | None = None
        self.exit_codes: list[int] = []
        self._reader: threading.Thread | None = None
        self._said: threading.Event = threading.Event()

    # -- the command ----------------------------------------------------------

    def argv(self, port: int = 0) -> list[str]:
        """The command line the branch is started with, on `port`."""
        command = [*self.prefix, *branch_command()]
        if self.custom_argv is not None:
            return [*command, *self.custom_argv]
        host = f"[{self.host}]" if ":" in self.host else self.host
        argv = [*command, f"{host}:{port}", "-i", self.id, "-D", str(self.dir)]
        if self.token is not None and not self.token_in_env:
            argv += ["--token-file", str(self.root / TOKEN_NAME)]
        for peer in self.peers:
            argv += ["--peer", peer]
        if self.peer_timeout is not None:
            argv += ["--peer-timeout", f"{self.peer_timeout:g}"]
        if self.supervisor != "simulated":
            argv += ["--supervisor", self.supervisor]
        if self.sup_interval is not None:
            argv += ["--sup-interval", f"{self.sup_interval:g}"]
        if self.control_timeout is not None:
            argv += ["--control-timeout", f"{self.control_timeout:g}"]
        if self.fault_injection:
            argv.append("--allow-fault-injection")
        for origin in self.allow_origins:
            argv += ["--allow-origin", origin]
        for name in self.allow_hosts:
            argv += ["--allow-host", name]
        if self.tls is not None:
            argv += ["--tls-cert", str(self.tls.cert), "--tls-key", str(self.tls.key)]
        if self.loglevel is not None:
            argv += ["-l", self.loglevel]
        return [*argv, *self.args]

    def environment(self) -> dict[str, str]:
        """The branch's environment: this one, with the token only when given."""
        env = {k: v for k, v in os.environ.items() if k != TOKEN_ENV}
        env["PYTHONUNBUFFERED"] = "1"
        if self.token is not None and self.token_in_env:
            env[TOKEN_ENV] = self.token
        env.update(self.env)
        return env

    # -- starting and stopping ---------------------------------------------------

    def start(self, *, wait: bool = True) -> LiveBranch:
        """Start the process; with `wait`, return once it is ready (see `wait_ready`).

        A branch started again asks for the port it had (neighbours know a
        branch by its URL), or for a free one if another process took it.
        """
        if self.proc is not None:
            raise RuntimeError(f"branch {self.id} is running already")
        again = self.port if self.custom_argv is None else 0
        self._launch(again or self._asked_port)
        if not wait:
            return self
        try:
            return self.wait_ready()
        except BranchFailed:
            if not again or not _port_taken(self.host, again):
                raise
        self._launch(self._asked_port)
        return self.wait_ready()

    def _launch(self, port: int) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        if self.token is not None and not self.token_in_env:
            token_file = self.root / TOKEN_NAME
            token_file.touch(mode=0o600, exist_ok=True)
            token_file.write_text(self.token, encoding="utf-8")
        self.port, self.url, self.info = 0, "", {}
        self._said = threading.Event()
        with self.log_path.open("ab") as stderr:
            self.proc = subprocess.Popen(
                self.argv(port),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=stderr,
                cwd=self.cwd,
                env=self.environment(),
            )
        assert self.proc.stdout is not None
        self._reader = threading.Thread(
            target=self._read_stdout,
            args=(self.proc.stdout, self._said),
            name=f"{self.id} stdout",
            daemon=True,
        )
        self._reader.start()

    def _read_stdout(self, stdout: IO[bytes], said: threading.Event) -> None:
        """Copy the branch's stdout to its file; take the ready line from it."""
        with stdout, self.stdout_path.open("ab") as copy:
            for line in stdout:
                copy.write(line)
                copy.flush()
                if not said.is_set():
                    ready = _ready_line(line)
                    if ready is not None:
                        self.info = ready
                        said.set()
        said.set()  # the end of its stdout: the branch has exited

    def wait_ready(self, timeout: float | None = None) -> LiveBranch:
        """Wait for the ready line; `BranchFailed` if the branch exits first or is late."""
        proc = self.proc
        if proc is None:
            raise RuntimeError(f"branch {self.id} is not started")
        limit = self.start_timeout if timeout is None else timeout
        came = self._said.wait(limit)
        if not self.info:
            if came:
                with contextlib.suppress(subprocess.TimeoutExpired):
                    proc.wait(STOP_TIMEOUT)  # it closed its stdout: it is exiting
            code = proc.poll()
            self.stop()
            what = f"exited with {code}" if code is not None else f"was not ready in {limit:g} s"
            raise BranchFailed(f"cyme-branch {self.id} {what}:\n{self.log_tail()}")
        self.url = str(self.info["url"])
        self.port = int(self.url.rsplit(":", 1)[1])
        return self

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc is not None else None

    def stop(self, sig: int = signal.SIGTERM, timeout: float = STOP_TIMEOUT) -> int | None:
        """Stop the process with `sig`; its exit code, or None when it had to be killed."""
        proc, self.proc = self.proc, None
        if proc is None:
            return None
        code: int | None
        if proc.poll() is None:
            proc.send_signal(sig)
        try:
            code = proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            code = None
        else:
            self.exit_codes.append(code)
        if self._reader is not None:
            self._reader.join(timeout)
            self._reader = None
        return code

    def restart(self) -> LiveBranch:
        """Stop, then start again: same directory, same port when possible."""
        self.stop()
        return self.start()

    def close(self) -> None:
        """Stop the branch; remove its directory if it was made for it."""
        self.stop()
        if self._made_directory:
            shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> LiveBranch:
        if self.proc is None:
            self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # -- what it said -------------------------------------------------------------

    def log_text(self) -> str:
        """Everything the branch logged (stderr), across restarts."""
        try:
            return self.log_path.read_text(encoding="utf-8", errors="replace")
        except FileNotFoundError:
            return ""

    def stdout_text(self) -> str:
        """Everything it printed on stdout: its ready lines."""
        try:
            return self.stdout_path.read_text(encoding="utf-8", errors="replace")
        except FileNotFoundError:
            return ""

    def log_tail(self, lines: int = 40) -> str:
        return "\n".join(self.log_text().splitlines()[-lines:])

    def wait_for_log(self, text: str, timeout: float = 10.0) -> bool:
        """Whether `text` shows in the log within `timeout` seconds."""
        deadline = time.monotonic() + timeout
        while text not in self.log_text():
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.05)
        return True

    def __repr__(self) -> str:
        return f"LiveBranch(id={self.id!r}, url={self.url!r}, dir={str(self.dir)!r})"


def _ready_line(line: bytes) -> dict[str, Any] | None:
    try:
        value = json.loads(line)
    except ValueError:
        return None
    if isinstance(value, dict) and value.get("event") == "ready" and "url" in value:
        return value
    return None


def _port_taken(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as sock:
        try:
            sock.bind((host, port))
        except OSError:
            return True
    return False


# -- brokers and clusters ---------------------------------------------------------

REDIS_START_TIMEOUT = 10.0
RABBIT_SERVER = Path("/usr/lib/rabbitmq/bin/rabbitmq-server")  # Debian's, without its wrapper
RABBIT_START_TIMEOUT = 60.0


class RedisServer:
    """Debian's `redis-server` on 127.0.0.1, on a free port, with a password
    (so that tests can look for it where it must not be), no persistence, and
    its files in `root`."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.port = free_port()
        self.password = f"pw-{os.urandom(8).hex()}"
        self.proc: subprocess.Popen[bytes] | None = None

    def url(self, db: int = 0) -> str:
        return f"redis://:{self.password}@127.0.0.1:{self.port}/{db}"

    def ping(self) -> bool:
        """Whether it answers `PING` (after `AUTH`)."""
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1) as sock:
                sock.sendall(f"AUTH {self.password}\r\nPING\r\n".encode())
                said = b""
                while b"PONG" not in said and len(said) < 256:
                    chunk = sock.recv(256)
                    if not chunk:
                        break
                    said += chunk
                return b"+PONG" in said
        except OSError:
            return False

    def start(self) -> RedisServer:
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
        deadline = time.monotonic() + REDIS_START_TIMEOUT
        while not self.ping():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("redis-server did not start")
            time.sleep(0.05)
        return self

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
            self.proc = None


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

    def answers(self) -> bool:
        """Whether it accepts an AMQP connection (kombu is needed for this)."""
        from .cluster.membership import kombu_module  # noqa: PLC0415 (kombu only here)

        try:
            with kombu_module().Connection(self.url(), connect_timeout=2) as connection:
                connection.ensure_connection(max_retries=1)
            return True
        except Exception:  # not up yet, whatever kombu says
            return False

    def start(self) -> RabbitServer:
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
        deadline = time.monotonic() + RABBIT_START_TIMEOUT
        while not self.answers():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("rabbitmq-server did not start")
            time.sleep(0.2)
        return self

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
            [epmd, "-kill"], env=self.environment(), capture_output=True, timeout=10, check=False
        )


class LiveCluster:
    """`size` live branches in one cluster on `broker_url`, all started at once.

    Each is a `LiveBranch` with `--cluster`, a cluster name of their own (so
    that clusters of several tests on one broker stay apart), `--heartbeat`
    and the given `token` and `args`. `start()` returns once every member
    lists every other (`GET /branches`).
    """

    def __init__(
        self,
        broker_url: str,
        size: int = 3,
        *,
        name: str | None = None,
        heartbeat: float = 0.5,
        token: str | None = None,
        args: Sequence[str] = (),
        root: Path | None = None,
        **options: Any,
    ) -> None:
        self.broker_url = broker_url
        self.name = name or f"test-{os.urandom(4).hex()}"
        self.heartbeat = heartbeat
        self.token = token
        self._made_root = root is None
        self.root = Path(tempfile.mkdtemp(prefix="cyme-cluster-")) if root is None else root
        self.members = [self.member(i, args, **options) for i in range(size)]

    def arguments(self) -> list[str]:
        """The cluster's arguments of `cyme-branch`."""
        return [
            "--cluster",
            self.broker_url,
            "--cluster-name",
            self.name,
            "--heartbeat",
            str(self.heartbeat),
        ]

    def member(self, index: int, args: Sequence[str] = (), **options: Any) -> LiveBranch:
        """A new member (not started), `b<index>` in the cluster."""
        return LiveBranch(
            self.root / f"b{index}",
            f"b{index}",
            token=self.token,
            args=[*self.arguments(), *args],
            **options,
        )

    def start(self, timeout: float = START_TIMEOUT) -> LiveCluster:
        for branch in self.members:
            branch.start(wait=False)
        for branch in self.members:
            branch.wait_ready(timeout)
        self.wait_converged(timeout)
        return self

    def branches_of(self, branch: LiveBranch) -> list[str] | None:
        """What `GET /branches` of a member lists; None when it does not answer."""
        request = urllib.request.Request(f"{branch.url}/branches")  # noqa: S310 (http)
        if self.token:
            request.add_header("Authorization", f"Bearer {self.token}")
        trust = ssl.create_default_context(cafile=str(branch.tls.ca)) if branch.tls else None
        try:
            with urllib.request.urlopen(request, timeout=5, context=trust) as response:  # noqa: S310
                listed: list[str] = json.load(response)
                return listed
        except (OSError, ValueError):
            return None

    def wait_converged(self, timeout: float = START_TIMEOUT) -> None:
        """Until every running member lists exactly the running members (and
        whatever else it knows of, such as `--peer` neighbours)."""
        deadline = time.monotonic() + timeout
        members = {b.id for b in self.members}
        while True:
            running = [b for b in self.members if b.running]
            ids = sorted(b.id for b in running)
            if all(sorted(members.intersection(self.branches_of(b) or [])) == ids for b in running):
                return
            if time.monotonic() > deadline:
                views = {b.id: self.branches_of(b) for b in running}
                raise BranchFailed(f"the cluster did not converge on {ids}: {views}")
            time.sleep(0.05)

    def stop(self) -> None:
        for branch in self.members:
            branch.stop()

    def close(self) -> None:
        for branch in self.members:
            branch.close()
        if self._made_root:
            shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> LiveCluster:
        if not any(b.proc for b in self.members):
            self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def serve_cluster(args: argparse.Namespace) -> None:
    """`python -m cyme_branch.testing cluster [--size N] [--token T]`: a redis-server
    and a cluster on it. One JSON line on stdout once it is up; everything
    stops when stdin closes or on SIGTERM."""
    root = Path(tempfile.mkdtemp(prefix="cyme-cluster-"))
    redis_server = RedisServer(root / "redis").start()
    cluster = LiveCluster(
        redis_server.url(),
        args.size,
        heartbeat=args.heartbeat,
        token=args.token,
        root=root,
        fault_injection=args.fault_injection,
    )
    signal.signal(signal.SIGTERM, lambda *_: sys.stdin.close())
    try:
        cluster.start()
        members = [{"id": b.id, "url": b.url} for b in cluster.members]
        line = {"event": "ready", "broker": redis_server.url(), "members": members}
        sys.stdout.write(json.dumps(line) + "\n")
        sys.stdout.flush()
        with contextlib.suppress(ValueError, OSError):
            sys.stdin.read()
    finally:
        cluster.close()
        redis_server.stop()
        shutil.rmtree(root, ignore_errors=True)


def main(argv: Sequence[str] | None = None) -> int:
    """`python -m cyme_branch.testing certs DIR | cluster`: this module's helpers
    for test suites that are not Python's (the Ruby SDK's), one JSON line on stdout."""
    parser = argparse.ArgumentParser(prog="python -m cyme_branch.testing")
    commands = parser.add_subparsers(dest="command", required=True)
    certs = commands.add_parser(
        "certs", help="make a throwaway CA and a certificate for localhost (make_certificates)"
    )
    certs.add_argument("directory", type=Path, metavar="DIR")
    cluster = commands.add_parser(
        "cluster", help="a redis-server and a cluster on it, until stdin closes (LiveCluster)"
    )
    cluster.add_argument("--size", type=int, default=3)
    cluster.add_argument("--token")
    cluster.add_argument("--heartbeat", type=float, default=0.5)
    cluster.add_argument(
        "--fault-injection", action="store_true", help="obey Cyme-Fault (--allow-fault-injection)"
    )
    args = parser.parse_args(argv)
    if args.command == "cluster":
        serve_cluster(args)
        return 0
    made = make_certificates(args.directory)
    print(json.dumps({name: str(path) for name, path in asdict(made).items()}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
