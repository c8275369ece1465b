"""Twenty branches in one cluster on one Redis: joining, kill -9, cluster reads, the broker at rest.

Run by `make bench`, after the others. In one run this script starts
Debian's `redis-server` on a free loopback port (`cyme_branch.testing.
RedisServer`: no persistence, files in a temporary directory) and
--branches simulated branches (`LiveCluster`, default 20) with `--cluster`
on it and --heartbeat (default 1 s), all at once, and measures:

1. joining: the time until every member lists all the others (`GET
   /branches`, every member polled in turn), from the first process start
   and from the last ready line;
2. the broker at rest: Redis's own counters (`INFO stats`, `INFO
   commandstats`) over a --quiet window (default 10 s) in which nothing but
   the cluster talks, per second; the subscribers to the cluster's channel,
   hence the deliveries; and the size of an announcement, as a subscriber
   of our own hears it (after the window, so it is not counted in it);
3. cluster reads: an app declared with `scope=cluster` on the first member,
   --instances instances placed with `scope=cluster`, then `GET
   /{app}/instances?scope=cluster` against the local `GET /{app}/instances`
   on the same member and connection, taking turns, --reads times each;
4. kill -9: --kills times, a member other than the first is sent SIGKILL
   and every other member is polled until none lists it; then it is started
   again (under its id, on its port) and the time until every member lists
   it again is taken from its ready line (and the cluster let converge
   again before the next kill).

Twenty branches are heavy on a small machine: the load average is printed
before and after, with a warning when the machine was busy. Nothing here
asserts; `--help` lists the knobs.
"""

from __future__ import annotations

import argparse
import base64
import datetime
import json
import os
import platform
import signal
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import redis
from cyme_branch.cluster.membership import EXCHANGE_PREFIX, LOST_AFTER
from cyme_branch.testing import LiveBranch, LiveCluster, RedisServer

from celery_bench import BenchError, ms

APP = "bench"
QUEUES = ("jobs", "reports")  # declared with the app: 3 declarations in all
POLL = 0.01  # seconds between two rounds of looks at every member
TIMEOUT = 120.0  # seconds for anything to happen at all
CPU = ("redis cpu", "members cpu")
BUSY = 0.5  # load average per CPU above which the machine is called busy


def seconds(value: float) -> str:
    return f"{value:.2f} s" if value >= 1 else ms(value)


def percentile(values: list[float], q: int) -> float:
    """The q-th percentile (statistics' exclusive method), or the one value."""
    return statistics.quantiles(values, n=100)[q - 1] if len(values) > 1 else values[0]


def load() -> float:
    return os.getloadavg()[0]


def warn_if_busy(when: str) -> None:
    cpus = os.cpu_count() or 1
    if load() > BUSY * cpus:
        print(
            f"WARNING: load average {load():.2f} on {cpus} CPUs {when}: the machine is busy,"
            " the times below are longer than on a quiet one"
        )


def listed(http: httpx.Client, member: LiveBranch) -> set[str] | None:
    """What `GET /branches` of a member lists; None when it does not answer."""
    try:
        answer = http.get(f"{member.url}/branches")
    except httpx.HTTPError:
        return None
    return set(answer.json()) if answer.status_code == 200 else None


def until_every(
    http: httpx.Client, members: list[LiveBranch], holds: Callable[[set[str]], bool]
) -> dict[str, float]:
    """time.monotonic() at which each member's list first satisfied `holds`;
    every member not yet there is asked once a round."""
    seen: dict[str, float] = {}
    deadline = time.monotonic() + TIMEOUT
    while len(seen) < len(members):
        for member in members:
            if member.id not in seen:
                ids = listed(http, member)
                if ids is not None and holds(ids):
                    seen[member.id] = time.monotonic()
        if time.monotonic() > deadline:
            missing = sorted(m.id for m in members if m.id not in seen)
            raise BenchError(f"members {missing} never got there in {TIMEOUT:g} s")
        time.sleep(POLL)
    return seen


# 1. joining


def join(cluster: LiveCluster, http: httpx.Client) -> tuple[float, float, float]:
    """Seconds from the first start to the last ready line, and to every member
    listing everyone; and from the last ready line to that."""
    members = cluster.members
    everyone = {m.id for m in members}
    first = time.monotonic()
    for member in members:
        member.start(wait=False)
    for member in members:
        member.wait_ready(TIMEOUT)
    # Waited for in turn: once the loop is done, the last one has just said it.
    last_ready = time.monotonic()
    converged = max(until_every(http, members, lambda ids: ids == everyone).values())
    return last_ready - first, converged - first, converged - last_ready


# 2. the broker at rest


def cpu_seconds(pids: list[int]) -> float:
    """User and system CPU time, in seconds, the processes took so far (Linux's /proc)."""
    total = 0
    for pid in pids:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / os.sysconf("SC_CLK_TCK")


def counters(client: redis.Redis, pids: list[int]) -> dict[str, float]:
    """Redis's own counters, its CPU time, and the members' CPU time."""
    stats: dict[str, Any] = client.info("stats")
    cpu: dict[str, Any] = client.info("cpu")
    found = {
        "commands": float(stats["total_commands_processed"]),
        "bytes out": float(stats["total_net_output_bytes"]),
        "bytes in": float(stats["total_net_input_bytes"]),
        "redis cpu": float(cpu["used_cpu_sys"]) + float(cpu["used_cpu_user"]),
        "members cpu": cpu_seconds(pids),
    }
    commandstats: dict[str, Any] = client.info("commandstats")
    for name, figures in commandstats.items():
        found[name.removeprefix("cmdstat_")] = float(figures["calls"])
    return found


def at_rest(client: redis.Redis, pids: list[int], window: float) -> dict[str, float]:
    """Per second over `window` seconds: Redis's commands, bytes in and out,
    the calls of each command (our own INFO left out) and its CPU time; the
    members' CPU time."""
    before = counters(client, pids)
    started = time.monotonic()
    time.sleep(window)
    after = counters(client, pids)
    took = time.monotonic() - started
    rates = {name: (after[name] - before.get(name, 0)) / took for name in after}
    # The INFO calls of `counters` between the two readings.
    rates["commands"] -= rates.pop("info", 0.0)
    return {name: rate for name, rate in rates.items() if rate > 0}


def subscribers(client: redis.Redis) -> int:
    """Connections subscribed to a channel or a pattern: the cluster's members."""
    return sum(1 for c in client.client_list() if int(c["sub"]) + int(c["psub"]) > 0)


def announcements(client: redis.Redis, cluster: LiveCluster, heartbeats: float) -> list[bytes]:
    """The messages published on the cluster's channel, heard for a while."""
    channel = f"/0.{EXCHANGE_PREFIX}{cluster.name}"  # kombu's fanout channel on db 0
    pubsub = client.pubsub()  # type: ignore[no-untyped-call]
    pubsub.psubscribe(channel)
    heard: list[bytes] = []
    deadline = time.monotonic() + heartbeats * cluster.heartbeat
    while time.monotonic() < deadline:
        message = pubsub.get_message(timeout=0.1)
        if message is not None and message["type"] == "pmessage":
            heard.append(message["data"])
    pubsub.close()
    if not heard:
        raise BenchError(f"nothing heard on {channel}")
    return heard


def announcement_body(message: bytes) -> bytes:
    """The announcement (JSON) inside kombu's envelope (its body in base64)."""
    envelope = json.loads(message)
    body: bytes = base64.b64decode(envelope["body"])
    return body


# 3. cluster reads


def declaration_size(http: httpx.Client, member: LiveBranch) -> tuple[int, float]:
    """The declarations a member holds, and their mean size in JSON (as pushed)."""
    declarations = http.get(f"{member.url}/cluster/declarations").json()["declarations"]
    size = len(json.dumps({"declarations": declarations}, separators=(",", ":")))
    return len(declarations), size / max(1, len(declarations))


def prepare_reads(http: httpx.Client, member: LiveBranch, instances: int) -> Counter[str]:
    """The app and its queues on every member, instances placed by the cluster; where they went."""
    http.put(f"{member.url}/{APP}?scope=cluster").raise_for_status()
    for queue in QUEUES:
        http.put(f"{member.url}/{APP}/queues/{queue}?scope=cluster").raise_for_status()
    placed: Counter[str] = Counter()
    for _ in range(instances):
        answer = http.post(f"{member.url}/{APP}/instances?scope=cluster")
        if answer.status_code != 201:
            raise BenchError(f"placement failed: {answer.status_code} {answer.text}")
        placed[answer.json()["branch"]] += 1
    return placed


def reads(
    http: httpx.Client, member: LiveBranch, size: int, rounds: int
) -> tuple[list[float], list[float], int]:
    """Seconds per cluster read and per local read, taking turns; the items a cluster read lists."""
    cluster_path = f"{member.url}/{APP}/instances?scope=cluster"
    local_path = f"{member.url}/{APP}/instances"
    answer = http.get(cluster_path).json()
    parts = answer["branches"]
    if len(parts) != size or any(p["state"] != "ok" for p in parts):
        states = Counter(p["state"] for p in parts)
        raise BenchError(f"a cluster read gave {len(parts)} parts, {dict(states)}")
    items = sum(len(p["items"]) for p in parts)
    cluster_reads: list[float] = []
    local_reads: list[float] = []
    for _ in range(rounds):
        for measure, path in ((cluster_reads, cluster_path), (local_reads, local_path)):
            started = time.perf_counter()
            if http.get(path).status_code != 200:
                raise BenchError(f"GET {path} failed")
            measure.append(time.perf_counter() - started)
    return cluster_reads, local_reads, items


def read_cpu(http: httpx.Client, cluster: LiveCluster, rounds: int) -> tuple[float, float, float]:
    """CPU seconds per read, `rounds` reads in a row of each: the reading
    member's per cluster read, the other members' per cluster read, and the
    reading member's per local read."""
    reader, others = cluster.members[0], cluster.members[1:]
    reader_pids = [reader.pid or 0]
    other_pids = [m.pid or 0 for m in others]
    found = []
    for path in (f"/{APP}/instances?scope=cluster", f"/{APP}/instances"):
        before = cpu_seconds(reader_pids), cpu_seconds(other_pids)
        for _ in range(rounds):
            http.get(f"{reader.url}{path}").raise_for_status()
        found.append(((cpu_seconds(reader_pids), cpu_seconds(other_pids)), before))
    (cluster_after, cluster_before), (local_after, local_before) = found
    return (
        (cluster_after[0] - cluster_before[0]) / rounds,
        (cluster_after[1] - cluster_before[1]) / rounds,
        (local_after[0] - local_before[0]) / rounds,
    )


# 4. kill -9


def kill_rounds(
    cluster: LiveCluster, http: httpx.Client, kills: int
) -> tuple[list[float], list[float], list[float]]:
    """Seconds from kill -9 to the first view without the member and to every
    view without it; from its restart's ready line to every view with it."""
    first_gone: list[float] = []
    all_gone: list[float] = []
    back: list[float] = []
    victims = cluster.members[1:]
    for n in range(kills):
        victim = victims[n % len(victims)]
        others = [m for m in cluster.members if m is not victim]
        killed = time.monotonic()
        victim.stop(signal.SIGKILL)
        gone = until_every(http, others, lambda ids: victim.id not in ids)  # noqa: B023
        first_gone.append(min(gone.values()) - killed)
        all_gone.append(max(gone.values()) - killed)
        victim.start(wait=True)
        ready = time.monotonic()
        again = until_every(http, others, lambda ids: victim.id in ids)  # noqa: B023
        back.append(max(again.values()) - ready)
        cluster.wait_converged(TIMEOUT)  # it lists everyone too, before the next kill
        print(
            f"kill -9 {n + 1} ({victim.id}): first view {seconds(first_gone[-1])}, "
            f"every view {seconds(all_gone[-1])}; back in every view {seconds(back[-1])} "
            "after its ready line"
        )
    return first_gone, all_gone, back


@dataclass
class Figures:
    """What one run measured."""

    to_ready: float = 0.0
    to_all: float = 0.0
    after_ready: float = 0.0
    rates: dict[str, float] = field(default_factory=dict)
    listeners: int = 0
    heard: list[bytes] = field(default_factory=list)
    placed: Counter[str] = field(default_factory=Counter)
    cluster_reads: list[float] = field(default_factory=list)
    local_reads: list[float] = field(default_factory=list)
    items: int = 0
    reader_cpu: float = 0.0
    others_cpu: float = 0.0
    local_cpu: float = 0.0
    declarations: int = 0
    declaration_bytes: float = 0.0
    first_gone: list[float] = field(default_factory=list)
    all_gone: list[float] = field(default_factory=list)
    back: list[float] = field(default_factory=list)


def measure(args: argparse.Namespace, root: Path) -> Figures:
    """The whole run: a redis-server, the cluster on it, then each measure in turn."""
    found = Figures()
    broker = RedisServer(root / "redis").start()
    cluster = LiveCluster(
        broker.url(), args.branches, heartbeat=args.heartbeat, root=root / "cluster"
    )
    try:
        client = redis.Redis(port=broker.port, password=broker.password)
        with httpx.Client(timeout=30) as http:
            # Not `with cluster`, which would start it before `join` times it.
            found.to_ready, found.to_all, found.after_ready = join(cluster, http)
            print(f"joined: {args.branches} members list each other")
            time.sleep(args.heartbeat)  # the last joins' pushes, if any, done
            pids = [m.pid for m in cluster.members if m.pid is not None]
            found.rates = at_rest(client, pids, args.quiet)
            found.listeners = subscribers(client)
            found.heard = announcements(client, cluster, 2.5)
            first = cluster.members[0]
            found.placed = prepare_reads(http, first, args.instances)
            found.cluster_reads, found.local_reads, found.items = reads(
                http, first, args.branches, args.reads
            )
            found.reader_cpu, found.others_cpu, found.local_cpu = read_cpu(
                http, cluster, args.reads
            )
            found.declarations, found.declaration_bytes = declaration_size(http, first)
            print(f"read: {args.reads} cluster and local reads, taking turns, then in a row")
            found.first_gone, found.all_gone, found.back = kill_rounds(cluster, http, args.kills)
    finally:
        cluster.close()
        broker.stop()
    return found


def report(args: argparse.Namespace, found: Figures, took: float) -> None:
    n, beat = args.branches, args.heartbeat
    print()
    print(
        f"{n} branches on one redis-server, --heartbeat {beat:g} "
        f"(the whole run: {took:.0f} s; load average {load():.2f} at its end)"
    )
    warn_if_busy("at the end of the run")
    print()
    print(f"Joining, all {n} started at once:")
    print()
    print("| from | to | time |")
    print("|---|---|---:|")
    print(f"| the first process start | the last ready line | {seconds(found.to_ready)} |")
    print(f"| the first process start | every member listing all {n} | {seconds(found.to_all)} |")
    print(f"| the last ready line | every member listing all {n} | {seconds(found.after_ready)} |")
    print()
    print(
        f"kill -9 of a member, {args.kills} rounds, every other member polled "
        f"(design bound: {LOST_AFTER} heartbeats, {seconds(LOST_AFTER * beat)}):"
    )
    print()
    print("| from | to | median | max |")
    print("|---|---|---:|---:|")
    for start, label, values in (
        ("kill -9", "the first view without it", found.first_gone),
        ("kill -9", "every view without it", found.all_gone),
        ("its restart's ready line", "every view with it again", found.back),
    ):
        print(
            f"| {start} | {label} | {seconds(statistics.median(values))} | {seconds(max(values))} |"
        )
    print()
    report_reads(args, found)
    print()
    report_broker(args, found)


def report_reads(args: argparse.Namespace, found: Figures) -> None:
    where = ", ".join(f"{ident} {count}" for ident, count in found.placed.most_common())
    print(
        f"`GET /{APP}/instances?scope=cluster` ({args.branches} members, {found.items} "
        f"instances) against the local `GET /{APP}/instances`, on one member, {args.reads} "
        f"each, taking turns (the {args.instances} instances were placed: {where}):"
    )
    print()
    print("| request | p50 | p99 |")
    print("|---|---:|---:|")
    c50, c99 = percentile(found.cluster_reads, 50), percentile(found.cluster_reads, 99)
    l50, l99 = percentile(found.local_reads, 50), percentile(found.local_reads, 99)
    print(f"| cluster read | {ms(c50)} | {ms(c99)} |")
    print(f"| local read | {ms(l50)} | {ms(l99)} |")
    print(f"| cluster/local | {c50 / l50:.1f}x | {c99 / l99:.1f}x |")
    print()
    asked = args.branches
    print(
        f"CPU per read, {args.reads} in a row of each: the reading member "
        f"{ms(found.reader_cpu)} per cluster read ({ms(found.reader_cpu / asked)} per member "
        f"asked, itself included) against {ms(found.local_cpu)} per local read; the other "
        f"members {ms(found.others_cpu / (asked - 1))} each per cluster read."
    )
    print(
        f"Declarations held: {found.declarations}, {found.declaration_bytes:.0f} bytes each "
        "in JSON, as pushed."
    )


def report_broker(args: argparse.Namespace, found: Figures) -> None:
    rates, n = found.rates, args.branches
    publishes = rates.get("publish", 0.0)
    deliveries = publishes * found.listeners
    sizes = [len(m) for m in found.heard]
    bodies = [len(announcement_body(m)) for m in found.heard]
    print(
        f"The broker at rest, over {args.quiet:g} s, per second ({found.listeners} "
        f"connections subscribed; an announcement is {statistics.median(bodies):.0f} bytes "
        f"of JSON, {statistics.median(sizes):.0f} bytes as kombu publishes it):"
    )
    print()
    print("| measure | per second | per member |")
    print("|---|---:|---:|")
    rows = [
        ("PUBLISH (announcements)", publishes),
        ("deliveries (PUBLISH x subscribers)", deliveries),
        ("commands, all", rates.get("commands", 0.0)),
        ("bytes in", rates.get("bytes in", 0.0)),
        ("bytes out", rates.get("bytes out", 0.0)),
    ]
    for name, rate in sorted(rates.items(), key=lambda kv: -kv[1]):
        if name not in ("commands", "bytes in", "bytes out", "publish", *CPU):
            rows.append((name.upper(), rate))
    for label, rate in rows:
        print(f"| {label} | {rate:,.0f} | {rate / n:,.1f} |")
    if deliveries:
        besides = (rates.get("commands", 0.0) - publishes) / deliveries
        redis_cpu, members_cpu = rates.get("redis cpu", 0.0), rates.get("members cpu", 0.0)
        print()
        print(
            f"Per delivery: {rates.get('bytes out', 0.0) / deliveries:,.0f} bytes out, "
            f"{besides:.1f} commands besides the PUBLISH, "
            f"{redis_cpu / deliveries * 1e6:.0f} µs of redis-server's CPU "
            f"(it took {redis_cpu:.1%} of a core). The members took {members_cpu:.1%} of a "
            f"core in all at rest, {members_cpu / deliveries * 1e6:.0f} µs per announcement "
            "heard (their heartbeat, publishing and idle loops included)."
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--branches", type=int, default=20, help="members (default 20)")
    parser.add_argument(
        "--heartbeat", type=float, default=1.0, help="seconds, of every member (default 1)"
    )
    parser.add_argument(
        "--quiet", type=float, default=10.0, help="seconds of the window at rest (default 10)"
    )
    parser.add_argument("--instances", type=int, default=20, help="instances placed (default 20)")
    parser.add_argument("--reads", type=int, default=200, help="reads timed, each (default 200)")
    parser.add_argument("--kills", type=int, default=5, help="kill -9 rounds (default 5)")
    args = parser.parse_args(argv)
    print(
        f"# cluster_bench: {datetime.date.today()}, {platform.machine()}, "
        f"{os.cpu_count()} CPUs, Python {platform.python_version()}, "
        f"load average {load():.2f}"
    )
    warn_if_busy("before the run")
    began = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="cyme-cluster-bench-") as tmp:
        found = measure(args, Path(tmp))
    report(args, found, time.monotonic() - began)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except BenchError as exc:
        print(f"cluster_bench: {exc}", file=sys.stderr)
        sys.exit(1)
