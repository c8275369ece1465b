"""Instances as real `celery worker` processes (`cyme-branch --supervisor celery`).

One branch serves the module, on the session's redis-server; each test makes
its own app and instances. What the branch says is checked against what the
workers say when asked directly, and against the processes themselves.
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from celery_support import (
    TASKS_DIR,
    CeleryBranch,
    Probe,
    RedisServer,
    alive,
    children,
    command_line,
    nodename,
    wait_for,
)
from contract import ContractValidator, contract_client, unique

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def celery_branch(
    tmp_path_factory: pytest.TempPathFactory, redis_server: RedisServer
) -> Iterator[CeleryBranch]:
    live = CeleryBranch(tmp_path_factory.mktemp("celery-branch"), "celery-branch")
    live.start()
    yield live
    live.stop()


@pytest.fixture(scope="module")
def probe(redis_server: RedisServer) -> Iterator[Probe]:
    probe = Probe(redis_server.url())
    yield probe
    probe.close()


@pytest.fixture
def http(celery_branch: CeleryBranch, validator: ContractValidator) -> Iterator[httpx.Client]:
    with contract_client(celery_branch.url, validator) as client:
        yield client


@pytest.fixture
def app(http: httpx.Client, redis_server: RedisServer) -> Iterator[str]:
    """An app on the session's redis, whose workers can run `cyme_probe` tasks."""
    name = unique("app")
    body = {"broker": redis_server.url(), "arguments": f"--workdir={TASKS_DIR} -A cyme_probe"}
    assert http.put(f"/{name}", json=body).status_code == 201
    yield name
    http.delete(f"/{name}")


def create(http: httpx.Client, app: str, **body: object) -> str:
    name = unique("w")
    response = http.post(f"/{app}/instances/{name}", json=body)
    assert response.status_code == 201, response.text
    return name


def test_an_instance_is_a_real_worker(
    http: httpx.Client,
    app: str,
    celery_branch: CeleryBranch,
    redis_server: RedisServer,
    probe: Probe,
):
    http.put(f"/{app}", json={"extra_config": {"worker_prefetch_multiplier": 3}})
    name = unique("w")
    response = http.post(
        f"/{app}/instances/{name}",
        json={"arguments": "--without-mingle", "extra_config": {"task_acks_late": True}},
    )
    assert response.status_code == 201, response.text
    assert response.json()["broker"] == f"redis://:**@127.0.0.1:{redis_server.port}/0"

    directory = celery_branch.dir / name
    files = {p.name for p in directory.iterdir()}
    assert {"worker.pid", "worker.log"} <= files
    assert any(f.startswith("worker.statedb") for f in files), files
    pid = celery_branch.worker_pid(name)
    assert pid is not None and alive(pid)

    argv = command_line(pid)
    assert argv[argv.index("--hostname") + 1] == nodename(name)
    assert argv[argv.index("--queues") + 1] == f"dq.{name}"
    assert "--autoscale=1,1" in argv
    for option, file in (("pidfile", "pid"), ("logfile", "log"), ("statedb", "statedb")):
        assert f"--{option}={directory / f'worker.{file}'}" in argv
    # The app's arguments, then the instance's; Celery's global options before `worker`.
    worker_at = argv.index("worker")
    assert argv.index(f"--workdir={TASKS_DIR}") < worker_at < argv.index("--without-mingle")
    assert argv[argv.index("-A") + 1] == "cyme_probe"
    # extra_config after `--`, as the original gave it; the broker only in the environment.
    settings = argv[argv.index("--") + 1 :]
    assert "worker_prefetch_multiplier=(json)3" in settings
    assert "task_acks_late=(json)true" in settings
    # Task events, as the original's workers sent them; and the branch's own commands.
    assert "-E" in argv[worker_at:]
    assert "task_send_sent_event=(json)true" in settings
    assert argv[argv.index("--include") + 1] == "cyme_branch.worker_commands"
    assert redis_server.password not in " ".join(argv)

    assert probe.ask(name, "ping") == {"ok": "pong"}
    conf = probe.ask(name, "conf", with_defaults=False)
    assert conf["worker_prefetch_multiplier"] == 3
    assert conf["task_acks_late"] is True
    assert "cyme_probe.touch" in probe.ask(name, "registered")

    stats = http.get(f"/{app}/instances/{name}/stats").json()
    assert stats["pid"] == pid
    assert stats["autoscaler"] == {"max": 1, "min": 1, "current": 1, "qty": 0}
    assert set(stats["pool"]["processes"]) <= children(pid)
    assert redis_server.password not in str(stats)
    assert wait_for(lambda: "ready." in (directory / "worker.log").read_text(), 5, "ready.")
    assert redis_server.password not in celery_branch.log_text()


def test_delete_stops_the_worker_warmly_and_removes_it(
    http: httpx.Client, app: str, celery_branch: CeleryBranch, probe: Probe
):
    name = create(http, app)
    pid = celery_branch.worker_pid(name)
    assert pid is not None
    pool = children(pid)
    assert pool

    started = time.monotonic()
    response = http.delete(f"/{app}/instances/{name}")
    assert response.status_code == 200, response.text
    assert time.monotonic() - started < celery_branch.timeout
    assert not alive(pid)
    assert not any(alive(p) for p in pool)
    assert not (celery_branch.dir / name).exists()
    assert f"> {name}: STOPPED (warm shutdown)" in celery_branch.log_text()
    assert probe.ask(name, "ping", timeout=0.5) is None
    assert http.get(f"/{app}/instances").json() == []


def test_autoscale_sets_the_real_pool(
    http: httpx.Client, app: str, celery_branch: CeleryBranch, probe: Probe
):
    name = create(http, app)
    pid = celery_branch.worker_pid(name)
    assert pid is not None
    base = f"/{app}/instances/{name}"

    assert http.put(f"{base}/autoscale", json={"min": 3, "max": 5}).json() == {"max": 5, "min": 3}
    stats = http.get(f"{base}/stats").json()
    assert stats["autoscaler"]["max"] == 5 and stats["autoscaler"]["min"] == 3
    processes = stats["pool"]["processes"]
    assert len(processes) == 3
    assert all(alive(p) for p in processes)
    assert set(processes) <= children(pid)
    assert probe.ask(name, "stats")["autoscaler"]["min"] == 3

    # Lowering max below the pool shrinks it at once.
    assert http.put(f"{base}/autoscale", json={"max": 2, "min": 1}).json() == {"max": 2, "min": 1}
    stats = http.get(f"{base}/stats").json()
    assert stats["autoscaler"]["max"] == 2 and stats["autoscaler"]["min"] == 1
    assert 1 <= len(stats["pool"]["processes"]) <= 2


def test_the_pool_grows_at_once_and_the_branch_commands_join_the_arguments_own(
    http: httpx.Client, app: str, celery_branch: CeleryBranch, probe: Probe
):
    """`cyme_autoscale` forks the new processes at once: the next `stats` (asked of the
    worker directly, not through the branch, which waits for it) lists them. An
    `--include` of the arguments joins the branch's; events can be switched off."""
    name = create(
        http,
        app,
        arguments="-I json --include=string",
        extra_config={"worker_send_task_events": False},
    )
    argv = command_line(celery_branch.worker_pid(name) or 0)
    assert argv[argv.index("--include") + 1] == "cyme_branch.worker_commands,json,string"
    assert "-I" not in argv and "--include=string" not in argv
    assert "-E" not in argv
    assert probe.ask(name, "conf", with_defaults=False)["worker_send_task_events"] is False

    reply = probe.ask(name, "cyme_autoscale", max=4, min=3)
    assert reply == {"ok": "autoscale now max=4 min=3"}
    assert len(probe.ask(name, "stats")["pool"]["processes"]) == 3


def test_consumers_are_the_workers_queues(
    http: httpx.Client, app: str, celery_branch: CeleryBranch, probe: Probe
):
    name = create(http, app)
    base = f"/{app}/instances/{name}"
    assert http.put(f"/{app}/queues/jobs").status_code == 201
    body = {"exchange": "events", "exchange_type": "topic", "routing_key": "events.#"}
    assert http.put(f"/{app}/queues/events", json=body).status_code == 201

    response = http.put(f"{base}/queues/jobs")
    assert response.status_code == 201, response.text
    assert response.json()["name"] == "jobs"
    entry = http.put(f"{base}/queues/events").json()
    assert entry["exchange"] == {**entry["exchange"], "name": "events", "type": "topic"}
    assert entry["routing_key"] == "events.#"
    assert probe.queues(name) == {f"dq.{name}", "jobs", "events"}

    assert http.delete(f"{base}/queues/jobs").status_code == 200
    assert probe.queues(name) == {f"dq.{name}", "events"}
    names = {q["name"] for q in http.get(f"{base}/queues").json()}
    assert names == {f"dq.{name}", "events"}


def test_the_supervisor_undoes_changes_made_behind_its_back(
    http: httpx.Client, app: str, celery_branch: CeleryBranch, probe: Probe
):
    name = create(http, app)
    base = f"/{app}/instances/{name}"
    http.put(f"/{app}/queues/jobs")
    http.put(f"{base}/queues/jobs")
    http.put(f"{base}/autoscale", json={"min": 1, "max": 3})

    # Another program tells the worker otherwise.
    assert probe.ask(name, "cancel_consumer", queue="jobs") is not None
    assert probe.ask(name, "add_consumer", queue="rogue") is not None
    assert probe.ask(name, "autoscale", max=4, min=2) is not None
    # (Not checked in between: the supervisor may well have set it back already.)

    expected = {f"dq.{name}", "jobs"}
    wait_for(lambda: probe.queues(name) == expected, 15, "consumers put back")
    bounds = wait_for(
        lambda: (a := probe.ask(name, "stats")["autoscaler"])["max"] == 3 and a, 15, "bounds"
    )
    assert bounds["min"] == 1
    log = celery_branch.log_text()
    assert f"> {name}: not consuming from jobs: adding it" in log
    assert f"> {name}: consuming from rogue, not stored: cancelling it" in log
    assert {q["name"] for q in http.get(f"{base}/queues").json()} == expected


def test_a_redeclared_queue_restarts_its_consumers_under_the_new_declaration(
    http: httpx.Client, app: str, celery_branch: CeleryBranch, probe: Probe
):
    name = create(http, app)
    http.put(f"/{app}/queues/jobs")
    http.put(f"/{app}/instances/{name}/queues/jobs")
    pid = celery_branch.worker_pid(name)

    body = {"exchange": "jobs-x", "exchange_type": "fanout"}
    assert http.put(f"/{app}/queues/jobs", json=body).status_code == 200

    def redeclared() -> bool:
        for entry in probe.ask(name, "active_queues") or ():
            if entry["name"] == "jobs":
                return (
                    entry["exchange"]["name"] == "jobs-x" and entry["exchange"]["type"] == "fanout"
                )
        return False

    # Celery keeps the first declaration of a queue until it restarts: the branch restarts it.
    wait_for(redeclared, 20, "the worker consuming jobs as redeclared")
    assert celery_branch.worker_pid(name) != pid
    assert probe.queues(name) == {f"dq.{name}", "jobs"}


def test_a_killed_worker_is_back_and_consuming_within_30_s(
    http: httpx.Client, app: str, celery_branch: CeleryBranch, probe: Probe
):
    name = create(http, app)
    base = f"/{app}/instances/{name}"
    http.put(f"/{app}/queues/jobs")
    http.put(f"{base}/queues/jobs")
    pid = celery_branch.worker_pid(name)
    assert pid is not None
    pool = children(pid)

    os.kill(pid, signal.SIGKILL)
    killed = time.monotonic()

    def back() -> bool:
        new = celery_branch.worker_pid(name)
        return new not in (None, pid) and probe.queues(name) == {f"dq.{name}", "jobs"}

    wait_for(back, 30, "the worker back, consuming its queues")
    assert time.monotonic() - killed < 30
    new = celery_branch.worker_pid(name)
    assert new is not None and alive(new)
    assert not any(alive(p) for p in pool), "the dead worker's pool was left running"
    stats = http.get(f"{base}/stats").json()
    assert stats["pid"] == new
    assert f"> {name}: DOWN (exit -9)" in celery_branch.log_text()


def test_a_task_sent_to_a_consumed_queue_runs(
    http: httpx.Client, app: str, probe: Probe, tmp_path: Path
):
    name = create(http, app)
    http.put(f"/{app}/queues/celery")
    assert http.put(f"/{app}/instances/{name}/queues/celery").status_code == 201

    out = tmp_path / "ran.txt"
    probe.send("cyme_probe.touch", "celery", str(out), "it ran")
    wait_for(out.exists, 15, "the task to run")
    assert out.read_text() == "it ran"
    # Counted once the task has returned, a moment after it wrote the file.
    wait_for(lambda: probe.ask(name, "stats")["total"] == {"cyme_probe.touch": 1}, 5, "count")
