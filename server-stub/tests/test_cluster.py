"""The cluster: branches that find each other through their broker (Redis, RabbitMQ).

Every test runs real branches (`LiveCluster`) on the session's own
`redis-server` or RabbitMQ, each cluster under a name of its own. The
heartbeat is short (0.5 s) so that what takes 3 heartbeats takes seconds.
"""

from __future__ import annotations

import contextlib
import json
import shutil
import signal
import ssl
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis
from contract import ContractValidator, contract_client
from live import poll

from cyme_branch.cluster.membership import kombu_module
from cyme_branch.testing import (
    LiveBranch,
    LiveCluster,
    RabbitServer,
    RedisServer,
    make_certificates,
)

pytestmark = pytest.mark.slow

HEARTBEAT = 0.5
LOST = 3 * HEARTBEAT


def ids(branch: LiveBranch, **headers: str) -> list[str]:
    answer = httpx.get(f"{branch.url}/branches", headers=headers)
    assert answer.status_code == 200, answer.text
    listed: list[str] = answer.json()
    return listed


def gone_from_every_view(cluster: LiveCluster, ident: str, timeout: float = 10.0) -> bool:
    running = [b for b in cluster.members if b.running]
    return all(poll(lambda b=b: ident not in ids(b), timeout) for b in running)


@pytest.fixture
def cluster(redis_server: RedisServer) -> Iterator[LiveCluster]:
    with LiveCluster(redis_server.url(), 3, heartbeat=HEARTBEAT, peer_timeout=2) as live:
        yield live


@pytest.fixture
def client(validator: ContractValidator) -> Iterator[httpx.Client]:
    """Every answer checked against the spec; URLs are absolute (several branches)."""
    with contract_client("http://127.0.0.1", validator, timeout=15) as http:
        yield http


# joining, the view


def test_members_find_each_other_and_list_themselves_first(
    cluster: LiveCluster, client: httpx.Client
) -> None:
    everyone = {b.id for b in cluster.members}
    for branch in cluster.members:
        listed = client.get(f"{branch.url}/branches").json()
        assert listed[0] == branch.id
        assert set(listed) == everyone
    b0, b1, _ = cluster.members
    member = client.get(f"{b0.url}/branches/{b1.id}").json()
    assert member["url"] == f"{b1.url}/"
    assert member["state"] == "alive"
    assert member["cluster"] == cluster.name
    assert member["stale"] is False
    itself = client.get(f"{b0.url}/branches/{b0.id}").json()
    assert itself["state"] == "alive" and itself["cluster"] == cluster.name


def test_announcements_carry_no_secret(redis_server: RedisServer) -> None:
    """A raw listener on the cluster's exchange: the token and the broker password never pass."""
    token = f"tok-{uuid.uuid4().hex}"
    heard: list[Any] = []
    kombu = kombu_module()
    with LiveCluster(redis_server.url(), 2, heartbeat=HEARTBEAT, token=token) as live:
        exchange = kombu.Exchange(f"cyme.cluster.{live.name}", type="fanout", durable=False)
        queue = kombu.Queue(f"listener-{uuid.uuid4().hex}", exchange, auto_delete=True)
        with (
            kombu.Connection(redis_server.url()) as connection,
            connection.Consumer(
                queue, callbacks=[lambda body, message: heard.append(body)], accept=["json"]
            ),
        ):
            deadline = time.monotonic() + 4 * HEARTBEAT
            while time.monotonic() < deadline:
                with contextlib.suppress(TimeoutError):
                    connection.drain_events(timeout=0.2)
        # The app's broker password reaches members over HTTP, never the broker.
        httpx.put(
            f"{live.members[0].url}/pycon?scope=cluster",
            json={"broker": redis_server.url(3)},
            headers={"Authorization": f"Bearer {token}"},
        ).raise_for_status()
    assert {body["id"] for body in heard} == {"b0", "b1"}
    text = json.dumps(heard)
    assert token not in text
    assert redis_server.password not in text
    assert {"id", "url", "version", "started", "instances", "load"} <= set(heard[0])


def test_an_announcement_costs_redis_its_publish_and_no_bookkeeping(tmp_path: Path) -> None:
    """Members take announcements without acknowledging them: on Redis, kombu
    would otherwise write every message into its `unacked` hash and index
    and delete it again, eight commands per member for each announcement
    (a lost heartbeat needs no redelivery: the next one replaces it)."""
    broker = RedisServer(tmp_path / "redis").start()  # its counters are this test's alone
    try:
        with LiveCluster(broker.url(), 2, heartbeat=HEARTBEAT):
            client = redis.Redis(port=broker.port, password=broker.password)
            before = client.info("commandstats")
            time.sleep(4 * HEARTBEAT)
            after = client.info("commandstats")
    finally:
        broker.stop()
    calls = {
        name.removeprefix("cmdstat_"): figures["calls"] - before.get(name, {}).get("calls", 0)
        for name, figures in after.items()
    }
    assert calls.get("publish", 0) >= 4  # both members announced, twice at least
    bookkeeping = {"hset", "hdel", "zadd", "zrem", "multi", "exec"}
    assert {name for name, count in calls.items() if count} & bookkeeping == set()


def test_clusters_on_one_broker_stay_apart(redis_server: RedisServer) -> None:
    with (
        LiveCluster(redis_server.url(), 2, heartbeat=HEARTBEAT) as one,
        LiveCluster(redis_server.url(), 2, heartbeat=HEARTBEAT) as other,
    ):
        time.sleep(2 * HEARTBEAT)
        assert sorted(ids(one.members[0])) == ["b0", "b1"]
        assert sorted(ids(other.members[0])) == ["b0", "b1"]
        assert one.members[0].url != other.members[0].url
        assert ids(one.members[0]) == ids(one.members[0])
        assert httpx.get(f"{one.members[0].url}/branches/b1").json()["url"] == (
            f"{one.members[1].url}/"
        )


# cluster-wide operations


def test_a_cluster_app_and_queue_reach_every_member(
    cluster: LiveCluster, client: httpx.Client, redis_server: RedisServer
) -> None:
    b0, b1, b2 = cluster.members
    answer = client.put(f"{b0.url}/pycon?scope=cluster", json={"broker": redis_server.url(1)})
    assert answer.status_code == 200
    change = answer.json()
    assert change["declaration"]["kind"] == "app"
    assert redis_server.password not in answer.text
    assert [p["state"] for p in change["branches"]] == ["ok", "ok", "ok"]
    assert {p["branch"] for p in change["branches"]} == {"b0", "b1", "b2"}
    for branch in (b1, b2):
        app = client.get(f"{branch.url}/pycon").json()
        assert app["broker"] == redis_server.url(1).replace(redis_server.password, "**")
    client.put(f"{b1.url}/pycon/queues/images?scope=cluster", json={"routing_key": "img"})
    listed = client.get(f"{b2.url}/pycon/queues?scope=cluster&details=true").json()
    assert listed["scope"] == "cluster" and listed["stale"] is False
    assert listed["branches"][0]["branch"] == "b2"
    for part in listed["branches"]:
        assert part["state"] == "ok"
        assert [q["routing_key"] for q in part["items"]] == ["img"]
    declared = client.get(f"{b2.url}/cluster/declarations").json()
    assert [(d["kind"], d.get("queue")) for d in declared["declarations"]] == [
        ("app", None),
        ("queue", "images"),
    ]
    assert redis_server.password not in json.dumps(declared)
    # Deleted on the whole cluster, from any member.
    client.delete(f"{b2.url}/pycon?scope=cluster").raise_for_status()
    for branch in cluster.members:
        assert client.get(f"{branch.url}/").json() == []


def test_a_member_that_joins_later_gets_the_cluster_apps_and_queues(
    cluster: LiveCluster, client: httpx.Client
) -> None:
    b0 = cluster.members[0]
    client.put(f"{b0.url}/pycon?scope=cluster").raise_for_status()
    client.put(f"{b0.url}/pycon/queues/q1?scope=cluster").raise_for_status()
    client.put(f"{b0.url}/other?scope=cluster").raise_for_status()
    client.delete(f"{b0.url}/other?scope=cluster").raise_for_status()
    late = cluster.member(3)
    cluster.members.append(late)
    late.start()
    assert poll(lambda: client.get(f"{late.url}/").json() == ["pycon"], 10)
    assert client.get(f"{late.url}/pycon/queues").json() == ["q1"]
    digests = {
        client.get(f"{b.url}/cluster/declarations").json()["digest"] for b in cluster.members
    }
    assert len(digests) == 1


def test_a_read_lists_a_member_that_does_not_answer_as_unreachable(
    cluster: LiveCluster, client: httpx.Client
) -> None:
    b0, _, b2 = cluster.members
    assert b2.pid is not None
    import os  # noqa: PLC0415

    os.kill(b2.pid, signal.SIGSTOP)
    try:
        listed = client.get(f"{b0.url}/?scope=cluster").json()
    finally:
        os.kill(b2.pid, signal.SIGCONT)
    parts = {p["branch"]: p for p in listed["branches"]}
    assert parts["b2"]["state"] == "unreachable"
    assert "did not answer within 2 s" in parts["b2"]["detail"]
    assert parts["b0"]["state"] == parts["b1"]["state"] == "ok"


def test_an_instance_goes_to_the_least_loaded_member(
    cluster: LiveCluster, client: httpx.Client
) -> None:
    b0, b1, b2 = cluster.members
    client.put(f"{b0.url}/pycon?scope=cluster").raise_for_status()
    # b0 and b1 get one instance each, by hand: b2 is the least loaded.
    client.post(f"{b0.url}/pycon/instances").raise_for_status()
    client.post(f"{b1.url}/pycon/instances").raise_for_status()
    assert poll(
        lambda: all(
            client.get(f"{b0.url}/branches/{b.id}").json()["instances"] == 1 for b in (b1,)
        ),
        5,
    )
    answer = client.post(f"{b0.url}/pycon/instances?scope=cluster")
    assert answer.status_code == 201, answer.text
    placed = answer.json()
    assert placed["branch"] == "b2"
    assert placed["url"] == f"{b2.url}/"
    assert answer.headers["Location"] == f"{b2.url}/pycon/instances/{placed['instance']['name']}"
    assert client.get(f"{b2.url}/pycon/instances").json() == [placed["instance"]["name"]]
    # Named: on b1, whatever its load.
    named = client.post(f"{b2.url}/pycon/instances?scope=cluster&branch=b1").json()
    assert named["branch"] == "b1"
    missing = client.post(f"{b2.url}/pycon/instances?scope=cluster&branch=nobody")
    assert missing.status_code == 404


def test_a_retried_cluster_create_places_exactly_one_instance(
    cluster: LiveCluster, client: httpx.Client
) -> None:
    b0 = cluster.members[0]
    client.put(f"{b0.url}/pycon?scope=cluster").raise_for_status()
    key = {"Idempotency-Key": str(uuid.uuid4())}
    first = client.post(f"{b0.url}/pycon/instances?scope=cluster", headers=key)
    again = client.post(f"{b0.url}/pycon/instances?scope=cluster", headers=key)
    assert first.status_code == again.status_code == 201
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert again.json() == first.json()
    listed = client.get(f"{b0.url}/pycon/instances?scope=cluster").json()
    assert sum(len(p["items"]) for p in listed["branches"]) == 1


def test_an_app_missing_on_the_chosen_member_sends_the_instance_to_the_next(
    cluster: LiveCluster, client: httpx.Client
) -> None:
    b0, b1, _ = cluster.members
    client.put(f"{b1.url}/local-only").raise_for_status()  # on b1 alone
    placed = client.post(f"{b0.url}/local-only/instances?scope=cluster").json()
    assert placed["branch"] == "b1"
    nowhere = client.post(f"{b0.url}/nowhere/instances?scope=cluster")
    assert nowhere.status_code == 502
    assert "No member could take the instance" in nowhere.json()["detail"]


# faults


def test_a_member_killed_leaves_every_view_and_comes_back_under_its_id(
    cluster: LiveCluster, client: httpx.Client
) -> None:
    b0, b1, b2 = cluster.members
    b2.stop(signal.SIGKILL)
    assert gone_from_every_view(cluster, "b2")
    lost = client.get(f"{b0.url}/branches/b2").json()
    assert lost["state"] == "lost"
    b2.start()
    cluster.wait_converged(20)
    assert client.get(f"{b1.url}/branches/b2").json()["state"] == "alive"


def test_a_clean_stop_leaves_at_once(cluster: LiveCluster) -> None:
    _, _, b2 = cluster.members
    b2.stop()
    # The goodbye arrives before a heartbeat would have been missed.
    assert poll(lambda: "b2" not in ids(cluster.members[0]), HEARTBEAT)


def test_a_default_id_is_a_uuid_kept_across_restarts(redis_server: RedisServer) -> None:
    root = Path(tempfile.mkdtemp(prefix="cyme-id-"))
    try:
        argv = ["127.0.0.1:0", "-D", str(root / "instances")]
        with LiveBranch(root, argv=argv) as branch:
            first = branch.info["id"]
            assert uuid.UUID(first)
            branch.restart()
            assert branch.info["id"] == first
        assert (root / "instances" / ".branch-id").read_text().strip() == first
    finally:
        shutil.rmtree(root, ignore_errors=True)


def test_the_broker_lost_and_back(tmp_path: Path, client: httpx.Client) -> None:
    """Local API unaffected; cluster reads answer from the last view, stale;
    back within 2 heartbeats of the broker's return."""
    broker = RedisServer(tmp_path / "redis").start()
    try:
        with LiveCluster(broker.url(), 2, heartbeat=HEARTBEAT) as live:
            b0 = live.members[0]
            broker.stop()
            assert b0.wait_for_log("lost the broker", 10)
            assert client.put(f"{b0.url}/local").status_code == 201
            listed = client.get(f"{b0.url}/?scope=cluster").json()
            assert listed["stale"] is True
            assert [p["branch"] for p in listed["branches"]] == ["b0", "b1"]
            member = client.get(f"{b0.url}/branches/b1").json()
            assert member["stale"] is True and member["state"] == "alive"
            broker.start()
            assert poll(lambda: not client.get(f"{b0.url}/?scope=cluster").json()["stale"], 10)
            live.wait_converged(10)
            assert b0.log_text().count("lost the broker") == 1
            assert b0.wait_for_log("back on the broker")
            assert broker.password not in b0.log_text()
    finally:
        broker.stop()


def test_a_broker_unreachable_at_start(tmp_path: Path, client: httpx.Client) -> None:
    """The branch serves its own API and keeps trying; it joins once the broker is up."""
    broker = RedisServer(tmp_path / "redis")
    cluster = LiveCluster(broker.url(), 1, heartbeat=HEARTBEAT)
    try:
        cluster.start()
        (alone,) = cluster.members
        assert client.put(f"{alone.url}/pycon").status_code == 201
        assert alone.wait_for_log("cannot reach the broker")
        time.sleep(4 * HEARTBEAT)
        assert alone.log_text().count("cannot reach the broker") == 1  # once per change
        assert broker.password not in alone.log_text()
        broker.start()
        assert alone.wait_for_log("joined on", 10)
        other = cluster.member(1)
        cluster.members.append(other)
        other.start()
        cluster.wait_converged(10)
    finally:
        cluster.close()
        broker.stop()


# trust


def test_members_call_each_other_with_the_cluster_token(
    redis_server: RedisServer, tmp_path: Path, client: httpx.Client
) -> None:
    """Each member has a token of its own; the cluster token opens them all."""
    shared = tmp_path / "cluster-token"
    shared.write_text("cluster-secret\n")
    live = LiveCluster(redis_server.url(), 2, heartbeat=HEARTBEAT)
    for index, branch in enumerate(live.members):
        branch.token = f"own-{index}"
        branch.args += ["--cluster-token-file", str(shared)]
    live.token = "cluster-secret"
    try:
        live.start()
        b0, b1 = live.members
        own = {"Authorization": "Bearer own-0"}
        listed = client.get(f"{b0.url}/?scope=cluster", headers=own).json()
        assert [p["state"] for p in listed["branches"]] == ["ok", "ok"]
        assert client.get(f"{b1.url}/", headers=own).status_code == 401
    finally:
        live.close()


def test_a_branch_without_a_cluster_answers_scope_cluster_for_itself(
    branch: LiveBranch, client: httpx.Client
) -> None:
    listed = client.get(f"{branch.url}/?scope=cluster").json()
    assert [p["branch"] for p in listed["branches"]] == [branch.id]
    assert listed["stale"] is False


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("GET", "/?scope=everywhere", None),
        ("GET", "/cluster/declarations?since=-1", None),
        ("POST", "/cluster/declarations", {"declarations": "no"}),
        ("POST", "/cluster/declarations", {"declarations": [{"kind": "queue"}]}),
        (
            "POST",
            "/cluster/declarations",
            {
                "declarations": [
                    {
                        "kind": "queue",
                        "app": "a",
                        "version": 1,
                        "origin": "x",
                        "deleted": False,
                        "fields": {},
                    }
                ]
            },
        ),
    ],
)
def test_bad_cluster_input_is_a_422(
    branch: LiveBranch, client: httpx.Client, method: str, path: str, body: Any
) -> None:
    answer = client.request(method, f"{branch.url}{path}", json=body)
    assert answer.status_code == 422, answer.text


# on RabbitMQ, the talk's broker


def test_a_cluster_on_rabbitmq(rabbit_server: RabbitServer, client: httpx.Client) -> None:
    with LiveCluster(rabbit_server.url(), 3, heartbeat=HEARTBEAT) as live:
        b0, b1, b2 = live.members
        assert set(ids(b1)) == {"b0", "b1", "b2"}
        client.put(f"{b0.url}/pycon?scope=cluster").raise_for_status()
        assert all(client.get(f"{b.url}/").json() == ["pycon"] for b in live.members)
        placed = client.post(f"{b1.url}/pycon/instances?scope=cluster").json()
        assert placed["branch"] in {"b0", "b1", "b2"}
        b2.stop(signal.SIGKILL)
        assert gone_from_every_view(live, "b2")
        b2.start()
        live.wait_converged(20)


def test_the_rabbitmq_broker_restarted(tmp_path: Path, client: httpx.Client) -> None:
    root = Path(tempfile.mkdtemp(prefix="cyme-rabbit-"))
    broker = RabbitServer(root)
    try:
        broker.start()
        with LiveCluster(broker.url(), 2, heartbeat=HEARTBEAT) as live:
            b0 = live.members[0]
            broker.stop()
            assert b0.wait_for_log("lost the broker", 15)
            assert client.get(f"{b0.url}/?scope=cluster").json()["stale"] is True
            restart = threading.Thread(target=broker.start)
            restart.start()
            restart.join()
            live.wait_converged(30)
            assert b0.wait_for_log("back on the broker")
    finally:
        broker.stop()
        shutil.rmtree(root, ignore_errors=True)


def test_peers_mix_with_discovery(redis_server: RedisServer, client: httpx.Client) -> None:
    """`--peer` neighbours are listed after the members, and cluster reads ask them too."""
    with LiveBranch(branch_id="static") as static:
        live = LiveCluster(redis_server.url(), 2, heartbeat=HEARTBEAT, peers=[static.url])
        with live:
            b0 = live.members[0]
            assert ids(b0) == ["b0", "b1", "static"]
            listed = client.get(f"{b0.url}/?scope=cluster").json()
            assert [p["branch"] for p in listed["branches"]] == ["b0", "b1", "static"]
            assert client.get(f"{b0.url}/branches/static").json()["cluster"] is None


def test_members_on_https_check_each_other_against_the_cluster_ca(
    redis_server: RedisServer, tmp_path: Path, client: httpx.Client
) -> None:
    certificates = make_certificates(tmp_path / "certs")
    ca = ["--cluster-ca-file", str(certificates.ca)]
    trust = ssl.create_default_context(cafile=str(certificates.ca))
    with LiveCluster(redis_server.url(), 2, heartbeat=HEARTBEAT, tls=certificates, args=ca) as live:
        b0, b1 = live.members
        assert b1.url.startswith("https://")
        with httpx.Client(verify=trust) as https:
            listed = https.get(f"{b0.url}/?scope=cluster").json()
            assert [p["state"] for p in listed["branches"]] == ["ok", "ok"]
            assert https.get(f"{b0.url}/branches/b1").json()["url"] == f"{b1.url}/"
    # Without the CA, the members' certificates are refused: nothing is asked of them.
    with (
        LiveCluster(redis_server.url(), 2, heartbeat=HEARTBEAT, tls=certificates) as live,
        httpx.Client(verify=trust) as https,
    ):
        listed = https.get(f"{live.members[0].url}/?scope=cluster").json()
        assert [p["state"] for p in listed["branches"]] == ["unreachable", "unreachable"]
        assert "Certificate" in listed["branches"][1]["detail"]


def test_declarations_with_fields_their_kind_does_not_take_are_refused_one_by_one(
    branch: LiveBranch, client: httpx.Client
) -> None:
    def app(name: str, fields: dict[str, Any]) -> dict[str, Any]:
        return {
            "kind": "app",
            "app": name,
            "version": time.time(),
            "origin": "elsewhere",
            "deleted": False,
            "fields": fields,
        }

    pushed = [app("good", {"arguments": "-l info"}), app("bad", {"broker": 7, "nope": True})]
    answer = client.post(f"{branch.url}/cluster/declarations", json={"declarations": pushed})
    assert answer.status_code == 200, answer.text
    result = answer.json()
    assert result["applied"] == 1
    assert [f["app"] for f in result["failed"]] == ["bad"]
    assert client.get(f"{branch.url}/good").json()["arguments"] == "-l info"
    assert client.get(f"{branch.url}/bad").status_code == 404
    held = client.get(f"{branch.url}/cluster/declarations").json()["declarations"]
    assert [d["app"] for d in held] == ["good"]


def test_naming_a_member_needs_scope_cluster(branch: LiveBranch, client: httpx.Client) -> None:
    client.put(f"{branch.url}/pycon").raise_for_status()
    answer = client.post(f"{branch.url}/pycon/instances?branch={branch.id}")
    assert answer.status_code == 422
    assert answer.json()["errors"][0]["field"] == "branch"


def test_a_burst_of_placements_is_spread_between_heartbeats(
    redis_server: RedisServer, client: httpx.Client
) -> None:
    """Placed faster than members announce: each placement counts at once."""
    with LiveCluster(redis_server.url(), 3, heartbeat=5) as live:
        b0 = live.members[0]
        client.put(f"{b0.url}/pycon?scope=cluster").raise_for_status()
        placed = [
            client.post(f"{b0.url}/pycon/instances?scope=cluster").json()["branch"]
            for _ in range(6)
        ]
        assert sorted(placed) == ["b0", "b0", "b1", "b1", "b2", "b2"]
