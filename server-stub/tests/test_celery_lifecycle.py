"""What real workers are doing, and the levers: restart, disable, enable, restart storms,
/metrics and queue depth, against the session's redis-server (and RabbitMQ for AMQP).

The branch of this module runs a round every 0.5 s and leaves a worker
`failed` after more than 2 restarts in 120 s, so that each test is short.
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import redis
from celery_support import (
    TASKS_DIR,
    CeleryBranch,
    Probe,
    RedisServer,
    alive,
    nodename,
    processes_mentioning,
    wait_for,
)
from contract import ContractValidator, assert_problem, contract_client, unique
from live import hanging_server
from test_metrics import scrape, value

from cyme_branch.testing import free_port

pytestmark = pytest.mark.slow

TIMEOUT = 10.0
MARGIN = 3.0  # what a loaded machine may add to a bound


@pytest.fixture(scope="module")
def celery_branch(
    tmp_path_factory: pytest.TempPathFactory, redis_server: RedisServer
) -> Iterator[CeleryBranch]:
    args = ["--restart-max", "2", "--restart-window", "120"]
    live = CeleryBranch(
        tmp_path_factory.mktemp("celery-lifecycle"),
        "celery-lifecycle",
        timeout=TIMEOUT,
        interval=0.5,
        args=args,
    )
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
    with contract_client(celery_branch.url, validator, timeout=60) as client:
        yield client


@pytest.fixture
def app(http: httpx.Client, redis_server: RedisServer) -> Iterator[str]:
    name = unique("app")
    body = {"broker": redis_server.url(), "arguments": f"--workdir={TASKS_DIR} -A cyme_probe"}
    assert http.put(f"/{name}", json=body).status_code == 201
    yield name
    http.delete(f"/{name}")


def create(http: httpx.Client, app: str) -> tuple[str, str]:
    name = unique("w")
    response = http.post(f"/{app}/instances/{name}")
    assert response.status_code == 201, response.text
    return name, f"/{app}/instances/{name}"


def state_of(
    http: httpx.Client, path: str, *states: str, timeout: float = 30, not_pid: int | None = None
) -> dict:
    """The instance once it is in one of `states` (with a pid other than `not_pid`:
    a worker just killed may look alive for a moment)."""
    found: dict = {}

    def check() -> bool:
        found.update(http.get(path).json())
        return found["state"] in states and (not_pid is None or found["pid"] != not_pid)

    wait_for(check, timeout, f"{path} in {states} (last {found.get('state')})")
    return dict(found)


def test_a_restart_is_a_new_worker_and_the_task_in_flight_finishes(
    http: httpx.Client, app: str, probe: Probe, celery_branch: CeleryBranch, tmp_path: Path
):
    name, path = create(http, app)
    http.put(f"/{app}/queues/jobs")
    http.put(f"{path}/queues/jobs")
    http.put(f"{path}/autoscale", json={"min": 2, "max": 3})
    before = http.get(path).json()
    assert before["state"] == "running"
    assert before["pid"] == celery_branch.worker_pid(name)

    out = tmp_path / "held.txt"
    probe.send("cyme_probe.hold", f"dq.{name}", str(out), 2.0)
    wait_for(Path(f"{out}.started").exists, 20, "the task to start")
    restarted = http.post(f"{path}/restart")
    assert restarted.status_code == 200, restarted.text
    body = restarted.json()
    # A warm restart: the task the old worker held ran to its end first.
    assert out.read_text() == "done"
    assert not alive(before["pid"])
    assert body["state"] == "running"
    assert body["pid"] not in (None, before["pid"])
    assert body["pid"] == celery_branch.worker_pid(name)
    assert body["last_exit"]["reason"] == "restarted"
    assert body["last_exit"]["code"] == 0
    assert body["restarts"] == 0
    # Its consumers and autoscale bounds are kept.
    assert probe.queues(name) == {f"dq.{name}", "jobs"}
    autoscaler = probe.ask(name, "stats")["autoscaler"]
    assert (autoscaler["max"], autoscaler["min"]) == (3, 2)


def test_a_disabled_worker_stays_down_over_three_rounds(
    http: httpx.Client, app: str, probe: Probe, celery_branch: CeleryBranch
):
    name, path = create(http, app)
    pid = celery_branch.worker_pid(name)
    disabled = http.post(f"{path}/disable")
    assert disabled.status_code == 200, disabled.text
    body = disabled.json()
    assert (body["state"], body["is_enabled"], body["pid"]) == ("disabled", False, None)
    assert body["last_exit"]["reason"] == "disabled"
    assert pid is not None and not alive(pid)

    rounds = value(scrape(http), "cyme_supervisor_rounds_total")
    assert rounds is not None
    wait_for(
        lambda: (value(scrape(http), "cyme_supervisor_rounds_total") or 0) >= rounds + 3,
        30,
        "three rounds of the supervisor",
    )
    assert processes_mentioning(nodename(name)) == []
    assert http.get(path).json()["state"] == "disabled"
    assert probe.ask(name, "ping", timeout=0.5) is None

    enabled = http.post(f"{path}/enable")
    assert enabled.status_code == 200, enabled.text
    assert enabled.json()["state"] == "running"
    assert probe.ask(name, "ping") == {"ok": "pong"}


def test_repeated_kill_9_ends_in_failed(
    http: httpx.Client, app: str, probe: Probe, celery_branch: CeleryBranch
):
    name, path = create(http, app)
    for restarts in (1, 2):
        pid = state_of(http, path, "running")["pid"]
        os.kill(pid, signal.SIGKILL)
        again = state_of(http, path, "running", not_pid=pid)
        assert again["restarts"] == restarts
        assert again["last_exit"]["signal"] == "SIGKILL"
    os.kill(http.get(path).json()["pid"], signal.SIGKILL)
    failed = state_of(http, path, "failed")
    assert "2 restarts within 120 s" in failed["last_exit"]["reason"]
    assert failed["pid"] is None

    rounds = value(scrape(http), "cyme_supervisor_rounds_total") or 0
    wait_for(
        lambda: (value(scrape(http), "cyme_supervisor_rounds_total") or 0) >= rounds + 3,
        30,
        "three rounds of the supervisor",
    )
    assert http.get(path).json()["state"] == "failed"
    assert processes_mentioning(nodename(name)) == []  # nor what was left of its pool
    assert_problem(http.post(f"{path}/restart"), 409)
    assert http.post(f"{path}/enable").json()["state"] == "running"
    assert probe.ask(name, "ping") == {"ok": "pong"}


def test_metrics_follow_a_kill_9_and_the_restart(http: httpx.Client, app: str):
    name, path = create(http, app)
    labels = {"app": app, "instance": name}
    samples = scrape(http)
    assert value(samples, "cyme_instance_up", **labels) == 1.0
    assert value(samples, "cyme_instance_restarts_total", **labels) == 0.0
    pid = http.get(path).json()["pid"]
    os.kill(pid, signal.SIGKILL)
    wait_for(lambda: value(scrape(http), "cyme_instance_up", **labels) == 0.0, 10, "up 0")
    wait_for(lambda: value(scrape(http), "cyme_instance_up", **labels) == 1.0, 30, "up 1")
    samples = scrape(http)
    assert value(samples, "cyme_instance_restarts_total", **labels) == 1.0
    assert value(samples, "cyme_instance_state", **labels, state="running") == 1.0
    assert http.get(path).json()["pid"] != pid


def test_queue_depth_on_redis_counts_its_priority_lists(
    http: httpx.Client, app: str, probe: Probe, redis_server: RedisServer
):
    queue = unique("depth")
    http.put(f"/{app}/queues/{queue}")
    for _ in range(4):
        probe.app.send_task("cyme_probe.touch", args=("/nonexistent", "x"), queue=queue)
    for priority in (5, 9, 9):
        probe.app.send_task(
            "cyme_probe.touch", args=("/nonexistent", "x"), queue=queue, priority=priority
        )
    client = redis.Redis(port=redis_server.port, password=redis_server.password)
    try:
        # kombu kept them in three lists: the queue's, and one per priority step.
        lengths = {
            key: client.llen(key) for key in (queue, f"{queue}\x06\x163", f"{queue}\x06\x169")
        }
    finally:
        client.close()
    assert list(lengths.values()) == [4, 1, 2]
    depth = http.get(f"/{app}/queues/{queue}").json()
    assert (depth["messages"], depth["consumers"], depth["depth_error"]) == (7, 0, None)
    samples = scrape(http)
    assert value(samples, "cyme_queue_messages", app=app, queue=queue) == 7.0


def test_queue_depth_counts_the_running_workers_that_consume_it(http: httpx.Client, app: str):
    queue = unique("consumed")
    http.put(f"/{app}/queues/{queue}")
    _, path = create(http, app)
    http.put(f"{path}/queues/{queue}")
    assert http.get(f"/{app}/queues/{queue}").json()["consumers"] == 1
    http.post(f"{path}/disable")
    # Redis counts no consumers: the branch's own running workers are counted, at once.
    assert http.get(f"/{app}/queues/{queue}").json()["consumers"] == 0


def test_queue_depth_on_amqp_comes_from_the_broker(http: httpx.Client, rabbit_server: object):
    from celery import Celery  # noqa: PLC0415

    url = rabbit_server.url()  # type: ignore[attr-defined]
    app = unique("amqp")
    assert http.put(f"/{app}", json={"broker": url}).status_code == 201
    try:
        http.put(f"/{app}/queues/jobs")
        sender = Celery("cyme-tests-amqp", broker=url, set_as_current=False)
        try:
            for _ in range(3):
                sender.send_task("cyme_probe.touch", args=("/nonexistent", "x"), queue="jobs")
            waiting = http.get(f"/{app}/queues/jobs").json()
            with sender.connection_for_write() as connection:
                # A consumer of the queue, as a worker on another machine would be,
                # that takes one message at a time and acknowledges none.
                channel = connection.channel()
                channel.basic_qos(0, 1, False)
                channel.basic_consume("jobs", callback=lambda message: None, no_ack=False)
                # A depth read in the last second is reused: look again until it is not.
                consumed = wait_for(
                    lambda: (d := http.get(f"/{app}/queues/jobs").json())["consumers"] == 1 and d,
                    10,
                    "the consumer counted",
                )
        finally:
            sender.close()
        assert (waiting["messages"], waiting["consumers"], waiting["depth_error"]) == (3, 0, None)
        assert consumed["depth_error"] is None
        assert consumed["messages"] in (2, 3)  # the one it holds may be on its way to it
        assert http.get(f"/{app}/queues/nothing-yet", params={}).status_code == 404
        http.put(f"/{app}/queues/nothing-yet")
        empty = http.get(f"/{app}/queues/nothing-yet").json()
        assert (empty["messages"], empty["consumers"], empty["depth_error"]) == (0, 0, None)
    finally:
        http.delete(f"/{app}")


@pytest.mark.parametrize("broker", ["refused", "hanging"])
def test_queue_depth_of_a_broker_out_of_reach_is_null_within_the_timeout(
    http: httpx.Client, broker: str
):
    app = unique("away")
    with hanging_server() as hanging:
        port = hanging if broker == "hanging" else free_port()
        url = f"redis://:s3cret-{port}@127.0.0.1:{port}/0"
        assert http.put(f"/{app}", json={"broker": url}).status_code == 201
        try:
            http.put(f"/{app}/queues/jobs")
            started = time.monotonic()
            response = http.get(f"/{app}/queues/jobs")
            took = time.monotonic() - started
            assert response.status_code == 200
            body = response.json()
            assert (body["messages"], body["consumers"]) == (None, None)
            assert body["depth_error"]
            assert f"s3cret-{port}" not in response.text
            assert took < TIMEOUT + MARGIN
            samples = scrape(http)
            assert value(samples, "cyme_queue_depth_up", app=app, queue="jobs") == 0.0
        finally:
            http.delete(f"/{app}")


def test_a_nowait_change_that_fails_says_so(http: httpx.Client, app: str):
    name = unique("w")
    scheduled = http.post(
        f"/{app}/instances/{name}?nowait=true", json={"arguments": "--no-such-option"}
    )
    assert scheduled.status_code == 202
    change = scheduled.json()["id"]
    wait_for(
        lambda: http.get(f"/operations/{change}").json()["state"] == "failed",
        30,
        "the change to fail",
    )
    done = http.get(f"/operations/{change}").json()
    assert done["status"] == 502
    assert done["problem"]["type"] == "urn:cyme:problem:bad-gateway"
    assert_problem(http.get(f"/{app}/instances/{name}"), 404)  # not kept, as without nowait
