"""Fresh branches for the scenarios: the Python half; branches.rb is the Ruby half."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

from contract import REPO, canonical
from matching import ScenarioError

BRANCH_COMMAND = Path(os.environ.get("CYME_BRANCH", str(REPO / ".venv" / "bin" / "cyme-branch")))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def branch_key(config: Mapping[str, Any]) -> str:
    return canonical(config)


class Branch:
    """A fresh `cyme-branch` with fault injection, and what its config asks for:
    a token, neighbours (live branches, dead URLs, listeners that never answer),
    origins and host names allowed."""

    def __init__(self, config: Mapping[str, Any], branch_id: str = "contract") -> None:
        self.config = dict(config)
        self.id = branch_id
        self.token: str | None = config.get("token")
        self.root = Path(tempfile.mkdtemp(prefix="cyme-contract-"))
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.neighbours: list[Branch] = []
        self.listeners: list[socket.socket] = []
        argv = [str(BRANCH_COMMAND), f"127.0.0.1:{self.port}", "-i", branch_id]
        argv += ["-D", str(self.root / "state"), "--allow-fault-injection"]
        if self.token:
            token_file = self.root / "token"
            token_file.write_text(self.token, encoding="utf-8")
            argv += ["--token-file", str(token_file)]
        for peer, kind in config.get("peers", {}).items():
            argv += ["--peer", f"{peer}={self._peer_url(peer, kind)}"]
        if "peer_timeout" in config:
            argv += ["--peer-timeout", str(config["peer_timeout"])]
        for origin in config.get("allow_origins", []):
            argv += ["--allow-origin", origin]
        for host in config.get("allow_hosts", []):
            argv += ["--allow-host", host]
        env = {k: v for k, v in os.environ.items() if k != "CYME_BRANCH_TOKEN"}
        self.log = self.root / "branch.log"
        with self.log.open("wb") as log:
            self.proc = subprocess.Popen(
                argv, stdout=log, stderr=log, stdin=subprocess.DEVNULL, env=env
            )

    def _peer_url(self, peer: str, kind: str) -> str:
        if kind == "branch":
            neighbour = Branch({"token": self.token} if self.token else {}, peer)
            self.neighbours.append(neighbour)
            return neighbour.url
        if kind == "silent":
            # Connections are accepted by the kernel, and never answered.
            listener = socket.socket()
            listener.bind(("127.0.0.1", 0))
            listener.listen(16)
            self.listeners.append(listener)
            return f"http://127.0.0.1:{listener.getsockname()[1]}"
        if kind == "unreachable":
            return f"http://127.0.0.1:{free_port()}"
        raise ScenarioError(f"unknown kind of neighbour {kind!r}")

    def wait_up(self, timeout: float = 20.0) -> Branch:
        for neighbour in self.neighbours:
            neighbour.wait_up(timeout)
        deadline = time.monotonic() + timeout
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"cyme-branch exited:\n{self.log.read_text()}")
            try:
                if httpx.get(f"{self.url}/ping", timeout=1).status_code == 200:
                    return self
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"cyme-branch did not start:\n{self.log.read_text()}")
            time.sleep(0.02)

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        for neighbour in self.neighbours:
            neighbour.stop()
        for listener in self.listeners:
            listener.close()
        shutil.rmtree(self.root, ignore_errors=True)


class BranchPool:
    """Fresh branches, one per scenario run, started one ahead.

    Taking a branch starts the next one of the same config in the background,
    so a branch's start-up (half a second, mostly imports) overlaps the
    scenario run before it. No branch is used twice.
    """

    def __init__(self) -> None:
        self._spares: dict[str, Branch] = {}

    @contextmanager
    def take(self, config: Mapping[str, Any]) -> Iterator[Branch]:
        key = branch_key(config)
        branch = self._spares.pop(key, None) or Branch(config)
        self._spares[key] = Branch(config)
        try:
            yield branch.wait_up()
        finally:
            branch.stop()

    def close(self) -> None:
        for spare in self._spares.values():
            spare.stop()
        self._spares.clear()
