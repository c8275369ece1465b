"""Fixtures: a live branch process and an HTTP client that checks the contract."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from contract import ContractValidator, contract_client, unique

from cyme_branch.testing import LiveBranch, RabbitServer, RedisServer


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    """A redis-server of the session's own (the broker of the Celery and cluster tests)."""
    server = RedisServer(tmp_path_factory.mktemp("redis"))
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def rabbit_server() -> Iterator[RabbitServer]:
    """A RabbitMQ of the session's own: AMQP's consumer counts, the cluster on AMQP."""
    # Not under pytest's own directory: the `rabbitmq` user may not enter it.
    root = Path(tempfile.mkdtemp(prefix="cyme-rabbit-"))
    server = RabbitServer(root)
    try:
        server.start()
        yield server
    finally:
        server.stop()
        shutil.rmtree(root, ignore_errors=True)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "slow: starts its own branch or runs for many seconds")


@pytest.fixture(scope="session")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    """Headless Chromium, shared by the session (chromium.py); `evil.example` and
    `rebind.example` resolve to 127.0.0.1 in it, every other name but localhost
    to nothing."""
    from chromium import chromium  # noqa: PLC0415 (Selenium only when asked for)

    profile = tmp_path_factory.mktemp("chromium-profile")
    with chromium(profile, mapped=("evil.example", "rebind.example")) as driver:
        yield driver


@pytest.fixture(scope="session")
def validator() -> ContractValidator:
    return ContractValidator()


@pytest.fixture(scope="session")
def branch(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveBranch]:
    """One branch shared by the session; tests use unique names to stay apart."""
    with LiveBranch(tmp_path_factory.mktemp("shared-branch"), "test-branch") as live:
        yield live


@pytest.fixture
def fresh_branch(tmp_path: Path) -> Iterator[LiveBranch]:
    """A branch of the test's own, for restarts and whole-branch assertions."""
    with LiveBranch(tmp_path / "branch", "fresh-branch") as live:
        yield live


@pytest.fixture
def client(branch: LiveBranch, validator: ContractValidator) -> Iterator[httpx.Client]:
    with contract_client(branch.url, validator) as http:
        yield http


@pytest.fixture
def app(client: httpx.Client) -> Iterator[str]:
    """A fresh app on the shared branch, deleted afterwards."""
    name = unique("app")
    assert client.put(f"/{name}").status_code == 201
    yield name
    client.delete(f"/{name}")


@pytest.fixture
def instance(client: httpx.Client, app: str) -> dict:
    """A named instance of `app`, as the branch returned it."""
    response = client.post(f"/{app}/instances/{unique('w')}")
    assert response.status_code == 201, response.text
    return response.json()
