"""The cluster view (`client.cluster`), `Branch.connect` and `Placement.connect`,
through each client kind, against a live 3-branch cluster on a real redis-server."""

from __future__ import annotations

import json
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import Api, unique
from cyme_branch.testing import LiveCluster, RedisServer

import cyme
from cyme import types

TOKEN = "cluster-token-for-tests"


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveCluster]:
    root = tmp_path_factory.mktemp("cluster")
    redis = RedisServer(root / "redis").start()
    try:
        with LiveCluster(redis.url(), 3, token=TOKEN, root=root / "members") as live:
            yield live
    finally:
        redis.stop()


@pytest.fixture(params=["sync", "async", "aiohttp"])
def capi(request: pytest.FixtureRequest, cluster: LiveCluster) -> Iterator[Api]:
    made = Api(request.param, cluster.members[0].url, token=TOKEN)
    yield made
    made.close()


def test_branches_and_connect(capi: Api, cluster: LiveCluster) -> None:
    ids = capi.run(capi.client.branches)
    assert ids[0] == cluster.members[0].id
    assert sorted(ids) == sorted(member.id for member in cluster.members)
    branch = capi.run(capi.client.get_branch(ids[1]))
    assert isinstance(branch, cyme.AsyncBranch if capi.is_async else cyme.Branch)
    assert branch.state == "alive"
    member = branch.connect()
    assert isinstance(member, type(capi.client))
    assert member.base_url == branch.url.rstrip("/")
    # The same token: the member requires it.
    assert capi.run(member.branches)[0] == ids[1]
    other = branch.connect(token="wrong")
    with pytest.raises(cyme.AuthenticationError):
        capi.run(other.branches)


def test_a_cluster_app_reaches_every_member(capi: Api, cluster: LiveCluster) -> None:
    name = unique("capp")
    change = capi.run(capi.client.cluster.add(name, broker="amqp://u:secret@localhost//"))
    assert isinstance(change, types.ClusterChange)
    assert change.declaration.app == name
    assert "secret" not in change.declaration.model_dump_json()
    assert [part.state for part in change] == ["ok"] * 3
    assert change.unreachable == change.errors == []
    listed = capi.run(capi.client.cluster.apps())
    assert isinstance(listed, types.ClusterList)
    assert len(listed) == 3 and not listed.stale
    assert all(name in items for items in listed.by_branch().values())
    assert sorted(listed.by_branch()) == sorted(member.id for member in cluster.members)
    # Locally, each member has it too; without scope, apps.all_names stays a list.
    assert name in capi.run(capi.client.apps.all_names())
    queue = capi.run(capi.client.cluster.add_queue(name, "jobs", exchange="jobs"))
    assert queue.declaration.kind == "queue"
    queues = capi.run(capi.client.cluster.queues(name, details=True))
    assert all(items[0]["name"] == "jobs" for items in queues.by_branch().values())
    assert capi.run(capi.client.cluster.delete_queue(name, "jobs")).declaration.deleted
    declared = capi.run(capi.client.cluster.declarations())
    assert isinstance(declared, types.DeclarationList)
    assert [d.kind for d in declared.declarations if d.app == name] == ["app", "queue"]
    newest = declared.declarations[-1].version
    assert capi.run(capi.client.cluster.declarations(since=newest)).declarations == []
    applied = capi.run(capi.client.cluster.apply(declared.declarations))
    assert isinstance(applied, types.DeclarationsApplied)
    assert applied.applied == 0 and applied.skipped == len(declared.declarations)
    deleted = capi.run(capi.client.cluster.delete(name))
    assert deleted.declaration.deleted
    after = capi.run(capi.client.cluster.apps()).by_branch()
    assert all(name not in items for items in after.values())


def test_placement(capi: Api, cluster: LiveCluster) -> None:
    name = unique("capp")
    capi.run(capi.client.cluster.add(name))
    target = cluster.members[2]
    placement = capi.run(capi.client.cluster.add_instance(name, target.id, pool="solo"))
    assert isinstance(placement, cyme.AsyncPlacement if capi.is_async else cyme.Placement)
    assert (placement.branch, placement.url.rstrip("/")) == (target.id, target.url)
    assert placement.instance.pool == "solo"
    member = placement.connect()
    fetched = capi.run(member.apps.get(name))
    assert capi.run(fetched.instances.all_names()) == [placement.instance.name]
    listed = capi.run(capi.client.cluster.instances(name, details=True))
    assert listed.by_branch()[target.id][0]["name"] == placement.instance.name
    # The same key again: the first placement, no second instance.
    key = unique("place")
    first = capi.run(capi.client.cluster.add_instance(name, idempotency_key=key))
    again = capi.run(capi.client.cluster.add_instance(name, idempotency_key=key))
    assert again.instance.name == first.instance.name and again.branch == first.branch
    counted = capi.run(capi.client.cluster.instances(name))
    assert sum(len(part.items or []) for part in counted) == 2
    with pytest.raises(cyme.NotFoundError):
        capi.run(capi.client.cluster.add_instance(name, "no-such-member"))
    capi.run(capi.client.cluster.delete(name))


def test_call_tells_cluster_answers_apart(capi: Api) -> None:
    name = unique("capp")
    changed = capi.run(capi.client.call("putApp", app=name, scope="cluster"))
    assert isinstance(changed, types.ClusterChange)
    assert isinstance(capi.run(capi.client.call("getApp", app=name)), types.App)
    assert isinstance(capi.run(capi.client.call("listApps", scope="cluster")), types.ClusterList)
    assert isinstance(capi.run(capi.client.call("listApps")), list)
    placed = capi.run(capi.client.call("createInstance", app=name, scope="cluster"))
    assert isinstance(placed, types.Placement)
    assert isinstance(capi.run(capi.client.call("createInstance", app=name)), types.Instance)
    capi.run(capi.client.cluster.delete(name))


def test_a_member_that_does_not_answer_is_listed(tmp_path: Path) -> None:
    """A member killed with SIGKILL stays in the view for 3 heartbeats: reads list
    it as unreachable, never leave it out."""
    redis = RedisServer(tmp_path / "redis").start()
    try:
        with LiveCluster(redis.url(), 2, heartbeat=5.0, root=tmp_path / "members") as live:
            live.members[1].stop(signal.SIGKILL)
            with cyme.Client(live.members[0].url, max_retries=0) as client:
                listed = client.cluster.apps()
            assert [part.branch for part in listed.unreachable] == [live.members[1].id]
            assert listed.by_branch() == {live.members[0].id: []}
    finally:
        redis.stop()


def test_the_cyme_command_on_the_cluster(cluster: LiveCluster) -> None:
    """`cyme cluster ...`: one row per member."""
    import subprocess  # noqa: PLC0415
    import sys  # noqa: PLC0415

    from conftest import env_without_cyme  # noqa: PLC0415

    b0 = cluster.members[0]
    env = {**env_without_cyme(), "CYME_URL": b0.url, "CYME_TOKEN": TOKEN}
    cyme_command = str(Path(sys.executable).parent / "cyme")

    def run(*args: str) -> str:
        done = subprocess.run(
            [cyme_command, *args], capture_output=True, text=True, env=env, timeout=30, check=True
        )
        return done.stdout

    app = unique("cli")
    added = run("cluster", "add", app, "--broker", "amqp://u:pw@host//")
    rows = [line.split() for line in added.splitlines()[1:]]
    assert rows[0] == [b0.id, "ok"]
    assert sorted(row[0] for row in rows) == sorted(m.id for m in cluster.members)
    assert all(row[1] == "ok" for row in rows)
    placed = run("cluster", "place", app, "--branch", cluster.members[2].id)
    assert placed.strip().endswith(f"on {cluster.members[2].id} ({cluster.members[2].url}/)")
    name = placed.split()[0]
    listed = run("cluster", "instances", app)
    held = {line.split()[0]: line.split()[1:] for line in listed.splitlines()[1:]}
    assert held[cluster.members[2].id] == ["ok", name]
    assert held[b0.id] == ["ok"]
    as_json = json.loads(run("cluster", "apps", "--json"))
    assert all(app in part["items"] for part in as_json["branches"])
    run("cluster", "delete", app)
    assert all(
        app not in part["items"]
        for part in json.loads(run("cluster", "apps", "--json"))["branches"]
    )
