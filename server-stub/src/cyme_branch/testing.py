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
import subprocess
import sys
import tempfile
import threading
import time
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


def main(argv: Sequence[str] | None = None) -> int:
    """`python -m cyme_branch.testing certs DIR`: this module's helpers for test
    suites that are not Python's (the Ruby SDK's), one JSON line on stdout."""
    parser = argparse.ArgumentParser(prog="python -m cyme_branch.testing")
    commands = parser.add_subparsers(dest="command", required=True)
    certs = commands.add_parser(
        "certs", help="make a throwaway CA and a certificate for localhost (make_certificates)"
    )
    certs.add_argument("directory", type=Path, metavar="DIR")
    args = parser.parse_args(argv)
    made = make_certificates(args.directory)
    print(json.dumps({name: str(path) for name, path in asdict(made).items()}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
