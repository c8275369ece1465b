"""Flower sees the branch's workers and their tasks: the workers send task events.

Flower runs as its users run it (`celery flower`, on loopback, against the
session's redis-server), told not to switch events on itself
(`--enable_events=False`), so that the tasks it lists are those the
workers reported of their own accord (`-E`, as the branch starts them).
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from celery_support import TASKS_DIR, CeleryBranch, Probe, RedisServer, nodename, wait_for
from contract import ContractValidator, contract_client, unique

from cyme_branch.testing import free_port

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def celery_branch(
    tmp_path_factory: pytest.TempPathFactory, redis_server: RedisServer
) -> Iterator[CeleryBranch]:
    live = CeleryBranch(tmp_path_factory.mktemp("celery-flower"), "celery-flower")
    live.start()
    yield live
    live.stop()


@pytest.fixture(scope="module")
def flower(tmp_path_factory: pytest.TempPathFactory, redis_server: RedisServer) -> Iterator[str]:
    """`celery flower` on a free loopback port; yields its URL."""
    port = free_port()
    argv = [sys.executable, "-m", "celery", "-b", redis_server.url(), "flower"]
    argv += ["--address=127.0.0.1", f"--port={port}", "--enable_events=False"]
    # Flower 2 serves its API without authentication only when told to.
    env = {**os.environ, "FLOWER_UNAUTHENTICATED_API": "true"}
    log = tmp_path_factory.mktemp("flower") / "flower.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=out, stderr=out, env=env)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for(lambda: _answers(url) or proc.poll() is not None, 60, "Flower to listen")
        assert proc.poll() is None, log.read_text()
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _answers(url: str) -> bool:
    try:
        return httpx.get(f"{url}/healthcheck", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


def _api(url: str, path: str) -> Any:
    response = httpx.get(f"{url}{path}", timeout=10)
    assert response.status_code == 200, response.text
    return response.json()


def test_flower_lists_the_worker_and_a_task_it_ran(
    celery_branch: CeleryBranch,
    redis_server: RedisServer,
    flower: str,
    validator: ContractValidator,
    tmp_path: Path,
):
    app, name = unique("app"), unique("w")
    body = {"broker": redis_server.url(), "arguments": f"--workdir={TASKS_DIR} -A cyme_probe"}
    with contract_client(celery_branch.url, validator) as http:
        assert http.put(f"/{app}", json=body).status_code == 201
        try:
            assert http.post(f"/{app}/instances/{name}").status_code == 201
            node = nodename(name)
            wait_for(lambda: node in _api(flower, "/api/workers?refresh=1"), 30, "the worker")

            task_id = str(uuid.uuid4())
            probe = Probe(redis_server.url())
            try:
                out = tmp_path / "ran.txt"
                arguments = (str(out), "flower")
                queue = f"dq.{name}"
                probe.app.send_task("cyme_probe.touch", arguments, queue=queue, task_id=task_id)
                wait_for(out.exists, 20, "the task to run")
            finally:
                probe.close()

            def seen() -> dict[str, Any] | None:
                task = _api(flower, "/api/tasks").get(task_id)
                return task if task and task.get("state") == "SUCCESS" else None

            task = wait_for(seen, 30, "Flower to list the task as a success")
            assert task["name"] == "cyme_probe.touch"
            assert task["worker"] == node
            assert task["result"] == "'flower'"
        finally:
            http.delete(f"/{app}")
