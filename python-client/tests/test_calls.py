"""`client.call()`: any operation by its operationId, through both clients."""

from __future__ import annotations

import pytest
from conftest import Api, unique

import cyme
from cyme import types


def fault(value: str) -> dict[str, str]:
    return {"Cyme-Fault": f"{value}; id={unique('fault')}"}


def test_call_performs_operations_by_their_ids(api: Api) -> None:
    c, run = api.client, api.run
    app = unique("app")
    created = run(c.call("putApp", app=app, broker="amqp://u:secret@host//", arguments="-l info"))
    # The plain models of the spec's schemas, not handles bound to the client.
    assert type(created) is types.App
    assert (created.name, created.broker) == (app, "amqp://u:**@host//")
    instance = run(c.call("createNamedInstance", app=app, instance="w1", pool="threads"))
    assert type(instance) is types.Instance
    assert instance.pool == "threads"
    assert run(c.call("getInstance", app=app, instance="w1")) == instance
    assert run(c.call("listInstances", app=app)) == ["w1"]
    assert run(c.call("putAutoscale", app=app, instance="w1", min=2, max=3)) == {"max": 3, "min": 2}
    assert run(c.call("getAutoscale", app=app, instance="w1")) == {"max": 3, "min": 2}
    consumers = run(c.call("listConsumers", app=app, instance="w1"))
    assert [type(each) for each in consumers] == [types.Consumer]
    assert consumers[0].name == "dq.w1"
    assert run(c.call("ping")) == {"ok": "pong"}
    assert "openapi: 3.1" in run(c.call("getOpenAPI"))
    assert run(c.call("deleteApp", app=app)).name == app


def test_nowait_gives_scheduled(api: Api) -> None:
    c, run = api.client, api.run
    app = run(c.add(unique("app")))
    scheduled = run(c.call("createInstance", app=app.name, nowait=True))
    assert isinstance(scheduled, types.Scheduled)
    assert scheduled.operation == "createInstance"
    run(app.delete())


def test_call_takes_the_per_call_options(api: Api) -> None:
    with pytest.raises(cyme.RateLimitError):
        api.run(api.client.call("ping", max_retries=0, extra_headers=fault("status=429")))


def test_bad_calls_are_refused_before_sending(api: Api) -> None:
    c = api.client
    with pytest.raises(ValueError, match=r"openapi\.yaml has no operation 'getApps'"):
        api.run(c.call("getApps"))
    with pytest.raises(TypeError, match="getApp needs the path parameter"):
        api.run(c.call("getApp"))
    with pytest.raises(TypeError, match="getApp takes no argument 'pool'"):
        api.run(c.call("getApp", app="x", pool="solo"))
