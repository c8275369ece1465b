"""Fixtures: live branches (`cyme_branch.testing.LiveBranch`), and clients of them.

`api` runs a test three times: through `Client`, through `AsyncClient` on
httpx's transport and through `AsyncClient` on aiohttp's
(`DefaultAioHttpClient`); its `run()` turns a call of any into its result, so
one test body covers them all.
"""

from __future__ import annotations

import asyncio
import inspect
import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from cyme_branch.testing import LiveBranch

import cyme

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
    "state": "running",
    "since": "2026-11-30T21:02:03.114Z",
    "pid": 7700,
    "processes": 1,
    "restarts": 0,
    "last_exit": None,
}


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


@pytest.fixture(scope="session")
def branch(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveBranch]:
    root = tmp_path_factory.mktemp("branch")
    with LiveBranch(root, "sdk-test-branch", fault_injection=True) as live:
        yield live


@pytest.fixture(scope="session")
def token_branch(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveBranch]:
    root = tmp_path_factory.mktemp("token-branch")
    with LiveBranch(root, "sdk-token-branch", token=TOKEN, fault_injection=True) as live:
        yield live


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
