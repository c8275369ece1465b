"""The types mypy gives each client's results (checked by `mypy --strict tests`).

The `_types` functions are never called: `assert_type` is a check for mypy,
so a wrong type fails the lint, not a test. Each client has its own
resources (`resources/_async`, and `resources/_sync` made of it), so that
`await app.instances.add()` is typed `AsyncInstance` and
`app.instances.add()` `Instance`. The tests below check what a type check
cannot: that the objects are of the classes typed.
"""

from __future__ import annotations

import asyncio
from typing import Any

import respx
from conftest import APP_JSON, INSTANCE_JSON
from typing_extensions import assert_type

import cyme
from cyme import (
    App,
    Apps,
    AsyncApp,
    AsyncApps,
    AsyncBranch,
    AsyncClient,
    AsyncConsumers,
    AsyncInstance,
    AsyncInstances,
    AsyncPlacement,
    AsyncQueues,
    AsyncScheduled,
    Autoscale,
    Branch,
    Client,
    Cluster,
    ClusterChange,
    ClusterList,
    Consumer,
    Consumers,
    DeclarationList,
    DeclarationsApplied,
    Instance,
    Instances,
    Operation,
    Placement,
    Queue,
    Queues,
    RawResponse,
    RollingRestart,
    Scheduled,
    Stats,
    types,
)
from cyme.resources import AsyncBranchOperations, BranchOperations


def _sync_types(client: Client) -> None:  # pragma: no cover - for mypy
    assert_type(client.ping(), str)
    branch = client.get_branch("b")
    assert_type(branch, Branch)
    assert_type(branch.connect(), BranchOperations)
    assert_type(branch.connect(token="t").get("x"), App)
    assert_type(client.cluster, Cluster)
    listed = client.cluster.apps()
    assert_type(listed, ClusterList)
    assert_type(list(listed), list[types.ClusterPart])
    assert_type(listed.unreachable, list[types.ClusterPart])
    assert_type(listed.by_branch(), dict[str, list[Any]])
    assert_type(client.cluster.add("x"), ClusterChange)
    placement = client.cluster.add_instance("x", "b")
    assert_type(placement, Placement)
    assert_type(placement.connect().apps, Apps)
    assert_type(client.cluster.declarations(), DeclarationList)
    assert_type(client.branches, list[str])
    app = client.add("x")
    assert_type(app, App)
    assert_type(client.get("x"), App)
    assert_type(client.all(), list[App])
    assert_type(client.all_names(), list[str])
    assert_type(client.delete("x"), App)
    assert_type(client.apps.add("x"), App)
    assert_type(app.delete(), App)
    assert_type(app.instances, Instances)
    assert_type(app.queues, Queues)
    inst = app.instances.add()
    assert_type(inst, Instance)
    assert_type(app.instances.add(nowait=True), Scheduled)
    assert_type(app.instances.get("w"), Instance)
    assert_type(app.instances.all(), list[Instance])
    assert_type(app.instances.delete("w"), Instance)
    assert_type(app.instances.delete("w", nowait=True), Scheduled)
    assert_type(inst.autoscale(), Autoscale)
    assert_type(inst.autoscale(nowait=True), Scheduled)
    assert_type(inst.stats(), Stats)
    assert_type(inst.delete(), Instance)
    assert_type(inst.delete(nowait=True), Scheduled)
    assert_type(inst.consumers, Consumers)
    assert_type(inst.consumers.all(), list[Consumer])
    assert_type(app.queues.add("q"), Queue)
    assert_type(app.queues.add("q", nowait=True), Scheduled)
    assert_type(app.queues.all(), list[Queue])
    assert_type(inst.restart(), Instance)
    assert_type(inst.restart(nowait=True), Scheduled)
    assert_type(inst.disable(), Instance)
    assert_type(inst.enable(nowait=True), Scheduled)
    assert_type(app.restart(), RollingRestart)
    assert_type(app.restart(nowait=True).wait(timeout=5), Any)
    assert_type(client.get_operation("id"), Operation)
    assert_type(client.metrics(), str)


def _sync_call_types(client: Client) -> None:  # pragma: no cover - for mypy
    assert_type(client.call("ping"), types.Ok)
    assert_type(client.call("getOpenAPI", timeout=3), str)
    # The route kinds of operations that take `scope=cluster` include the cluster's answer.
    assert_type(client.call("listApps"), list[str] | types.ClusterList)
    assert_type(client.call("getInstance", app="a", instance="w"), types.Instance)
    assert_type(
        client.call("createInstance", app="a", pool="solo"),
        types.Instance | types.Placement | types.Scheduled,
    )
    assert_type(client.call("listConsumers", app="a", instance="w"), list[types.Consumer])
    assert_type(
        client.call("putQueue", app="a", queue="q", options={}),
        types.Queue | types.ClusterChange | types.Scheduled,
    )
    assert_type(
        client.call("listInstances", app="a", details=True),
        list[str] | list[types.Instance] | types.ClusterList,
    )
    assert_type(client.call("getMetrics"), str)
    # The ignores must be needed: mypy --strict fails on an unused one.
    client.call("getInstance", app="a")  # type: ignore[call-overload]
    client.call("createInstance", app="a", pool="prefork2")  # type: ignore[call-overload]
    client.call("getInstances", app="a")  # type: ignore[call-overload]
    assert_type(client.with_raw_response(client.apps.get, "x"), RawResponse[App])
    assert_type(client.with_raw_response(lambda: client.branches), RawResponse[list[str]])
    client.with_raw_response(client.apps.get, 1)  # type: ignore[arg-type]


async def _async_call_types(aclient: AsyncClient) -> None:  # pragma: no cover - for mypy
    assert_type(await aclient.call("getInstance", app="a", instance="w"), types.Instance)
    assert_type(
        await aclient.call("deleteQueue", app="a", queue="q"),
        types.Queue | types.ClusterChange | types.Scheduled,
    )
    raw = await aclient.with_raw_response(aclient.apps.get, "x")
    assert_type(raw, RawResponse[AsyncApp])
    assert_type(raw.data, AsyncApp)


async def _async_types(aclient: AsyncClient) -> None:  # pragma: no cover - for mypy
    assert_type(await aclient.branches, list[str])
    assert_type(await aclient.ping(), str)
    assert_type(await aclient.spec(), str)
    branch = await aclient.get_branch("b")
    assert_type(branch, AsyncBranch)
    assert_type(branch.connect(), AsyncBranchOperations)
    assert_type(await branch.connect(timeout=2).apps.all_names(), list[str])
    assert_type(await aclient.cluster.apps(), ClusterList)
    assert_type(await aclient.cluster.instances("x", details=True), ClusterList)
    assert_type(await aclient.cluster.queues("x"), ClusterList)
    assert_type(await aclient.cluster.add("x", broker="amqp://"), ClusterChange)
    assert_type(await aclient.cluster.delete("x"), ClusterChange)
    assert_type(await aclient.cluster.add_queue("x", "q", options={}), ClusterChange)
    assert_type(await aclient.cluster.delete_queue("x", "q"), ClusterChange)
    placement = await aclient.cluster.add_instance("x", pool="solo")
    assert_type(placement, AsyncPlacement)
    assert_type(placement.instance, types.Instance)
    assert_type(await placement.connect().get("x"), AsyncApp)
    assert_type(await aclient.cluster.declarations(since=1.5), DeclarationList)
    assert_type(await aclient.cluster.apply([]), DeclarationsApplied)
    assert_type(await aclient.add("x"), AsyncApp)
    app = await aclient.get("x")
    assert_type(app, AsyncApp)
    assert_type(await aclient.all(), list[AsyncApp])
    assert_type(await aclient.all_names(), list[str])
    assert_type(await aclient.delete("x"), AsyncApp)
    assert_type(await aclient.apps.add("x"), AsyncApp)
    assert_type(await aclient.with_options(max_retries=0).apps.get("x"), AsyncApp)
    assert_type(await app.delete(), AsyncApp)
    assert_type(app.instances, AsyncInstances)
    assert_type(app.queues, AsyncQueues)
    inst = await app.instances.add()
    assert_type(inst, AsyncInstance)
    assert_type(await app.instances.add(nowait=True), AsyncScheduled)
    assert_type(await app.instances.get("w"), AsyncInstance)
    assert_type(await app.instances.all(), list[AsyncInstance])
    assert_type(await app.instances.delete("w"), AsyncInstance)
    assert_type(await app.instances.delete("w", nowait=True), AsyncScheduled)
    assert_type(await inst.autoscale(), Autoscale)
    assert_type(await inst.autoscale(nowait=True), AsyncScheduled)
    assert_type(await inst.stats(), Stats)
    assert_type(await inst.delete(), AsyncInstance)
    assert_type(await inst.delete(nowait=True), AsyncScheduled)
    assert_type(inst.consumers, AsyncConsumers)
    assert_type(await inst.consumers.all(), list[Consumer])
    assert_type(await app.queues.add("q"), Queue)
    assert_type(await app.queues.add("q", nowait=True), AsyncScheduled)
    assert_type(await app.queues.all(), list[Queue])
    assert_type(await inst.restart(), AsyncInstance)
    assert_type(await inst.disable(nowait=True), AsyncScheduled)
    assert_type(await inst.enable(), AsyncInstance)
    assert_type(await app.restart(), RollingRestart)
    assert_type(await (await app.restart(nowait=True)).wait(), Any)
    assert_type(await aclient.get_operation("id"), Operation)


def test_async_results_are_the_async_classes() -> None:
    async def main() -> None:
        async with AsyncClient("http://branch") as aclient:
            app = await aclient.get("app")
            assert isinstance(app, AsyncApp)
            assert repr(app) == "<AsyncApp: 'http://branch/app'>"
            assert app.name == "app"
            assert app.client is aclient
            assert isinstance(app.instances, AsyncInstances)
            inst = await app.instances.get("w1")
            assert isinstance(inst, AsyncInstance)
            assert inst.name == "w1"
            assert isinstance(inst.consumers, AsyncConsumers)
            clone = aclient.with_options(max_retries=0)
            assert isinstance(clone.apps, AsyncApps)
            assert clone.apps._client is clone

    with respx.mock(base_url="http://branch", assert_all_called=True) as mock:
        mock.get("/app").respond(json=APP_JSON)
        mock.get("/app/instances/w1").respond(json=INSTANCE_JSON)
        asyncio.run(main())


def test_sync_results_stay_sync() -> None:
    with respx.mock(base_url="http://branch") as mock, Client("http://branch") as client:
        mock.get("/app").respond(json=APP_JSON)
        app = client.get("app")
        assert type(app) is cyme.App
        assert isinstance(app.instances, Instances)
