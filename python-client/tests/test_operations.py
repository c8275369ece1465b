"""Every operation of the API, through `Client` and `AsyncClient` alike."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest
import respx
import yaml
from conftest import Api, unique
from cyme_branch.testing import LiveBranch

import cyme
from cyme import (
    App,
    AsyncApp,
    AsyncInstance,
    Consumer,
    Instance,
    NotFoundError,
    Queue,
    Stats,
    types,
)


def test_branch_operations(api: Api, branch: LiveBranch) -> None:
    c, run = api.client, api.run
    assert run(c.branches) == [branch.id]
    described = run(c.get_branch(branch.id))
    assert isinstance(described, cyme.AsyncBranch if api.is_async else cyme.Branch)
    assert described.id == branch.id
    assert described.port == branch.port
    assert run(c.ping()) == "pong"
    spec = yaml.safe_load(run(c.spec()))
    assert spec["info"]["title"] == "Cyme branch API"
    assert "<html" in run(c.docs()).lower()
    assert "uPlot" in run(c.ui())


def test_apps(api: Api) -> None:
    c, run = api.client, api.run
    name = unique("app")
    app = run(c.add(name, broker="redis://:hunter2@localhost:6379/0", extra_config={"a_b": 1}))
    assert isinstance(app, AsyncApp if api.is_async else App)
    assert app.broker == "redis://:**@localhost:6379/0"
    assert app.extra_config == {"a_b": 1}
    assert "hunter2" not in repr(app)
    # Fields left out keep their value.
    updated = run(c.apps.add(name, arguments="-l info"))
    assert (updated.arguments, updated.extra_config) == ("-l info", {"a_b": 1})
    assert run(c.get(name)) == updated
    assert name in run(c.all_names())
    assert name in [a.name for a in run(c.all())]
    assert name in run(c.apps.all_names())
    deleted = run(c.delete(name))
    assert deleted.name == name
    with pytest.raises(NotFoundError):
        run(c.apps.get(name))


def test_instances(api: Api) -> None:
    c, run = api.client, api.run
    app = run(c.add(unique("app")))
    named = run(app.instances.add(unique("w"), pool="threads", arguments="-l info"))
    assert isinstance(named, AsyncInstance if api.is_async else Instance)
    assert (named.pool, named.arguments, named.app) == ("threads", "-l info", app.name)
    generated = run(app.instances.add())
    assert sorted(run(app.instances.all_names())) == sorted([named.name, generated.name])
    assert {i.name for i in run(app.instances.all())} == {named.name, generated.name}
    got = run(app.instances.get(named.name))
    assert got == named
    stats = run(got.stats())
    assert isinstance(stats, Stats)
    assert len(stats["pool"]["processes"]) == 1
    assert run(got.autoscale()) == {"max": 1, "min": 1}
    assert run(got.autoscale(max=3)) == {"max": 3, "min": 1}
    assert run(got.autoscale(min=2)) == {"max": 3, "min": 2}
    assert run(app.instances.delete(generated.name)).name == generated.name
    assert run(named.delete()).name == named.name
    assert run(app.instances.all_names()) == []
    run(app.delete())


def test_queues_and_consumers(api: Api) -> None:
    c, run = api.client, api.run
    app = run(c.add(unique("app")))
    queue = run(app.queues.add("tasks", exchange_type="topic", options={"durable": True}))
    assert isinstance(queue, Queue)
    assert (queue.exchange, queue.routing_key, queue.exchange_type) == ("tasks", "tasks", "topic")
    got = run(app.queues.get("tasks"))
    assert got.to_dict() == {**queue.to_dict(), "messages": 0, "consumers": 0, "depth_error": None}
    assert run(app.queues.all_names()) == ["tasks"]
    assert run(app.queues.all()) == [got]

    instance = run(app.instances.add())
    consumer = run(instance.consumers.add("tasks"))
    assert isinstance(consumer, Consumer)
    assert consumer["exchange"]["type"] == "topic"
    consumed = {c.name for c in run(instance.consumers.all())}
    assert consumed == {"tasks", f"dq.{instance.name}"}
    assert run(instance.consumers.delete("tasks")).name == "tasks"
    assert run(app.queues.delete("tasks")).name == "tasks"
    assert run(app.queues.all_names()) == []
    run(app.delete())


def wait_for(check: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "the scheduled change was not applied"
        time.sleep(0.05)


def test_nowait(api: Api) -> None:
    c, run = api.client, api.run
    app = run(c.add(unique("app")))
    name = unique("w")
    scheduled = run(app.instances.add(name, nowait=True))
    assert isinstance(scheduled, types.Scheduled)
    assert (scheduled.operation, scheduled.target) == (
        "createNamedInstance",
        f"/{app.name}/instances/{name}",
    )
    wait_for(lambda: name in run(app.instances.all_names()))
    instance = run(app.instances.get(name))
    assert isinstance(run(instance.autoscale(min=2, max=5, nowait=True)), types.Scheduled)
    wait_for(lambda: run(instance.autoscale()) == {"min": 2, "max": 5})
    assert isinstance(run(app.queues.add("q", nowait=True)), types.Scheduled)
    wait_for(lambda: run(app.queues.all_names()) == ["q"])
    assert isinstance(run(instance.consumers.add("q", nowait=True)), types.Scheduled)
    wait_for(lambda: "q" in {c.name for c in run(instance.consumers.all())})
    assert isinstance(run(instance.consumers.delete("q", nowait=True)), types.Scheduled)
    wait_for(lambda: "q" not in {c.name for c in run(instance.consumers.all())})
    assert isinstance(run(app.queues.delete("q", nowait=True)), types.Scheduled)
    wait_for(lambda: run(app.queues.all_names()) == [])
    assert isinstance(run(app.instances.delete(name, nowait=True)), types.Scheduled)
    wait_for(lambda: run(app.instances.all_names()) == [])
    run(app.delete())


def test_wait_returns_what_the_call_would_have(api: Api) -> None:
    c, run = api.client, api.run
    app = run(c.add(unique("app")))
    name = unique("w")
    created = run(run(app.instances.add(name, nowait=True)).wait(timeout=10))
    assert isinstance(created, AsyncInstance if api.is_async else Instance)
    assert created.name == name
    assert created.client is api.client  # bound: its own operations work
    assert run(run(created.autoscale(min=2, max=4, nowait=True)).wait()) == {"max": 4, "min": 2}
    restarted = run(run(created.restart(nowait=True)).wait())
    assert restarted.pid != created.pid
    assert run(run(app.queues.add("q", nowait=True)).wait()).name == "q"
    change = run(c.get_operation(run(app.queues.delete("q", nowait=True)).id))
    assert isinstance(change, types.Operation)
    assert change.operation == "deleteQueue"
    run(app.delete())


def test_wait_raises_the_error_the_change_met(api: Api) -> None:
    c, run = api.client, api.run
    app = run(c.add(unique("app")))
    instance = run(app.instances.add())
    # A frozen worker answers nothing: the change is accepted, then fails with 504.
    frozen = {"Cyme-Fault": f"kill=SIGSTOP; id={unique('f')}"}
    scheduled = run(instance.autoscale(max=3, nowait=True, extra_headers=frozen))
    with pytest.raises(cyme.InternalServerError) as caught:
        run(scheduled.wait(timeout=10))
    assert caught.value.status_code == 504
    assert caught.value.problem_type == "urn:cyme:problem:gateway-timeout"
    assert caught.value.method == "PUT"
    assert caught.value.url.endswith(f"/{app.name}/instances/{instance.name}/autoscale")
    assert run(scheduled.status()).state == "failed"
    run(app.delete())


def test_levers_and_what_the_workers_are_doing(api: Api) -> None:
    c, run = api.client, api.run
    app = run(c.add(unique("app")))
    first, second = run(app.instances.add()), run(app.instances.add())
    assert (first.state, first.restarts, first.last_exit) == ("running", 0, None)
    disabled = run(second.disable())
    assert (disabled.state, disabled.is_enabled, disabled.pid) == ("disabled", False, None)
    assert disabled.last_exit is not None and disabled.last_exit.reason == "disabled"
    listed = run(app.instances.all())
    states = [(first.name, "running"), (second.name, "disabled")]
    assert [(i.name, i.state) for i in listed] == states
    rolled = run(app.restart())
    assert isinstance(rolled, types.RollingRestart)
    assert [(o.name, o.outcome) for o in rolled.instances] == [
        (first.name, "restarted"),
        (second.name, "skipped"),
    ]
    assert run(second.enable()).state == "running"
    with pytest.raises(cyme.NotFoundError):
        run(app.instances.get("nope"))
    metrics = run(c.metrics())
    assert f'cyme_instance_up{{app="{app.name}",instance="{first.name}"}} 1.0' in metrics
    run(app.delete())


def test_names_are_escaped(api: Api) -> None:
    c, run = api.client, api.run
    app = run(c.add(unique("a@b:c.d")))
    assert run(c.get(app.name)).name == app.name
    # A name that is not one cannot reach another route.
    with pytest.raises(cyme.APIStatusError) as caught:
        run(c.get("x/../ping"))
    assert caught.value.status_code in (404, 422)
    run(app.delete())


def test_with_options_shares_the_connection(client: cyme.Client) -> None:
    quick = client.with_options(timeout=3.0, max_retries=0)
    assert quick.max_retries == 0
    assert quick.timeout.read == 3.0
    assert quick._http is client._http
    assert quick.ping() == "pong"
    assert client.max_retries == cyme.DEFAULT_MAX_RETRIES


def test_wait_on_a_change_the_branch_forgot_is_not_found(client: cyme.Client) -> None:
    # As after a restart of the branch: the id names nothing any more.
    scheduled = cyme.Scheduled.bind(client, dict(SCHEDULED, id="0f5e0d8f6c1b4a3e9d2c7b6a5f4e3d2c"))
    with pytest.raises(cyme.NotFoundError):
        scheduled.wait(timeout=1)


SCHEDULED = {"ok": "operation scheduled", "operation": "restartApp", "target": "/pycon", "id": "c1"}
RUNNING = {
    **{"id": "c1", "operation": "restartApp", "target": "/pycon", "state": "running"},
    **{"created": "2026-11-30T21:10:00.000Z", "started": "2026-11-30T21:10:00.002Z"},
    **{"finished": None, "status": None, "result": None, "problem": None},
    "progress": {"done": 1, "total": 3, "current": "w2"},
}


def test_wait_gives_up_after_its_timeout() -> None:
    """A change that is not done in time: no branch can be made to run one for as long
    as it takes, so respx plays it."""
    with respx.mock(base_url="http://branch") as mock, cyme.Client("http://branch") as client:
        mock.get("/operations/c1").respond(json=RUNNING)
        scheduled = cyme.Scheduled.bind(client, SCHEDULED)
        assert scheduled.status().progress == {"done": 1, "total": 3, "current": "w2"}
        with pytest.raises(cyme.APITimeoutError) as caught:
            scheduled.wait(timeout=0.3)
    assert (caught.value.method, caught.value.url) == ("POST", "http://branch/pycon")
    assert "restartApp was not done within 0.3 s" in str(caught.value)
