"""Fixtures: a live `cyme-branch` on a free port, and clients of it.

`api` runs a test three times: through `Client`, through `AsyncClient` on
httpx's transport and through `AsyncClient` on aiohttp's
(`DefaultAioHttpClient`); its `run()` turns a call of any into its result, so
one test body covers them all.
"""

from __future__ import annotations

import asyncio
import inspect
import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

import cyme

BIN = Path(sys.executable).parent
REPO = Path(__file__).resolve().parents[2]
TOKEN = "s3cret-token-for-tests"
# Canned answers of a branch, for the few tests that mock one with respx.
APP_JSON: dict[str, Any] = {"name": "app", "broker": "amqp://", "arguments": "", "extra_config": {}}
INSTANCE_JSON: dict[str, Any] = {
    "name": "w1",
    "app": "app",
    "broker": "amqp://",
    "pool": "prefork",
    "arguments": "",
    "extra_config": {},
    "queues": [],
    "min_concurrency": 1,
    "max_concurrency": 1,
    "is_enabled": True,
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


class LiveBranch:
    """A `cyme-branch` process, started the way a user would."""

    def __init__(self, root: Path, branch_id: str, *extra: str) -> None:
        self.id = branch_id
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = root / f"{branch_id}.log"
        argv = [str(BIN / "cyme-branch"), f"127.0.0.1:{self.port}", "-i", branch_id]
        argv += ["-D", str(root / branch_id), "--allow-fault-injection", *extra]
        with self.log.open("wb") as log:
            self.proc = subprocess.Popen(argv, stdout=log, stderr=log, stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(self.log.read_text())
            try:
                if httpx.get(f"{self.url}/ping", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"cyme-branch did not start:\n{self.log.read_text()}")

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


@pytest.fixture(scope="session")
def branch(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveBranch]:
    live = LiveBranch(tmp_path_factory.mktemp("branch"), "sdk-test-branch")
    yield live
    live.stop()


@pytest.fixture(scope="session")
def token_branch(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveBranch]:
    root = tmp_path_factory.mktemp("token-branch")
    token_file = root / "token"
    token_file.write_text(TOKEN)
    live = LiveBranch(root, "sdk-token-branch", "--token-file", str(token_file))
    yield live
    live.stop()


@pytest.fixture(autouse=True)
def _no_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("CYME_URL", "CYME_TOKEN", "CYME_LOG"):
        monkeypatch.delenv(name, raising=False)


class Api:
    """Clients of one kind (sync, async, aiohttp), and `run` to get results."""

    def __init__(self, kind: str, url: str, **kwargs: Any) -> None:
        self.kind = kind
        self.loop = asyncio.new_event_loop()
        self._made: list[Any] = []
        self.client: Any = self.make(url, **kwargs)

    @property
    def is_async(self) -> bool:
        """Whether its clients are `AsyncClient`s, on either transport."""
        return self.kind != "sync"

    def make(self, url: str, **kwargs: Any) -> Any:
        """Another client of this kind, closed with this one, as is its `http_client=`."""
        if self.kind == "aiohttp":
            kwargs.setdefault("http_client", cyme.DefaultAioHttpClient())
        if kwargs.get("http_client") is not None:
            self._made.append(kwargs["http_client"])
        made = (cyme.AsyncClient if self.is_async else cyme.Client)(url, **kwargs)
        self._made.append(made)
        return made

    def run(self, value: Any) -> Any:
        if inspect.isawaitable(value):
            return self.loop.run_until_complete(value)
        return value

    def close(self) -> None:
        # Each SDK client before the httpx client it was given.
        for made in reversed(self._made):
            if isinstance(made, (cyme.Client, httpx.Client)):
                made.close()
            else:
                self.loop.run_until_complete(made.aclose())
        self.loop.close()


KINDS = ["sync", "async", "aiohttp"]


@pytest.fixture(params=KINDS)
def api(request: pytest.FixtureRequest, branch: LiveBranch) -> Iterator[Api]:
    made = Api(request.param, branch.url)
    yield made
    made.close()


@pytest.fixture
def client(branch: LiveBranch) -> Iterator[cyme.Client]:
    with cyme.Client(branch.url) as made:
        yield made


def env_without_cyme() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("CYME_")}
