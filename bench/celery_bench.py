"""Real workers behind the branch (`cyme-branch --supervisor celery`) against Celery by hand.

Run by `make bench` after the SDK benchmarks. In one run this script starts
Debian's `redis-server` on a free loopback port (no persistence, files in a
temporary directory) and a fresh branch with the Celery supervisor, then
measures, --rounds times each, interleaved so that machine noise hits both
sides alike:

1. start: from `POST /{app}/instances` to the new worker answering a ping
   (sent by this script, as any Celery program would), against starting a
   bare `celery worker` by hand (`python -m celery worker -n NAME -c 1`,
   the broker in CELERY_BROKER_URL) to it answering a ping;
2. autoscale: from `PUT .../autoscale` with a `min` 3 above the pool's size
   to `GET .../stats` listing that many processes, against sending Celery's
   `autoscale` command by hand to a bare worker started with `--autoscale`
   and polling its `stats` until it lists them. Between two rounds each pool
   is brought back down by lowering `max`. Celery's autoscaler counts the
   new processes at once, but a prefork pool forks them at its next
   maintenance, which runs every 5 s; the branch sends its own
   `cyme_autoscale` instead, which runs that maintenance at once. Each round
   first waits a random part of those 5 s, so that the timer is met at
   every phase alike.
3. stats: `GET .../stats` of a running instance against Celery's `stats`
   command sent by hand to the bare worker: what one remote control call
   costs through the branch.

Medians are printed with the ratio branch/by hand, and each median against
the bare start. Nothing here asserts; `--help` lists the knobs.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import os
import platform
import random
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import celery
import httpx
from celery import Celery
from cyme_branch.testing import BranchFailed, LiveBranch, free_port

HOST = "127.0.0.1"
APP = "bench"
GROW = 3  # processes added by each autoscale round
POLL = 0.02  # seconds between two looks at a worker that is starting or growing
MAINTENANCE = 5.0  # seconds between two maintenances of a prefork pool (Celery's)


class BenchError(Exception):
    """The benchmark cannot go on."""


def wait_until(check: Callable[[], Any], timeout: float, what: str, pause: float = POLL) -> Any:
    """`check()`'s first true value, looked for every `pause` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise BenchError(f"{what}: not within {timeout:g} s")
        time.sleep(pause)


@contextlib.contextmanager
def redis_server(root: Path) -> Iterator[str]:
    """A redis-server of its own; yields its URL."""
    command = shutil.which("redis-server")
    if command is None:
        raise BenchError("redis-server is missing: `make install` installs it")
    port = free_port()
    argv = [command, "--port", str(port), "--bind", HOST, "--save", "", "--appendonly", "no"]
    argv += ["--dir", str(root), "--logfile", str(root / "redis.log")]
    proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL)
    try:
        with socket.socket() as probe:
            wait_until(lambda: probe.connect_ex((HOST, port)) == 0, 10, "redis-server")
        yield f"redis://{HOST}:{port}/0"
    finally:
        proc.terminate()
        proc.wait(10)


@contextlib.contextmanager
def branch(root: Path, branch_id: str, **options: Any) -> Iterator[LiveBranch]:
    """A fresh branch (LiveBranch's options), its state under `root`."""
    live = LiveBranch(root / "branch", branch_id, state_dir=root / "instances", **options)
    try:
        live.start()
    except BranchFailed as exc:
        raise BenchError(str(exc)) from None
    try:
        yield live
    finally:
        live.stop(timeout=60)


class Control:
    """Celery's remote control, as a program of the user's would use it."""

    def __init__(self, broker: str) -> None:
        self.app = Celery("celery-bench", broker=broker, set_as_current=False)

    def ask(self, node: str, command: str, timeout: float = 1.0, **arguments: Any) -> Any:
        replies = self.app.control.broadcast(
            command, arguments=arguments, destination=[node], reply=True, timeout=timeout
        )
        for reply in replies or ():
            if node in reply:
                return reply[node]
        return None

    def pings(self, node: str) -> bool:
        return self.ask(node, "ping", timeout=0.1) is not None

    def pool_size(self, node: str) -> int:
        stats = self.ask(node, "stats") or {}
        return len(stats.get("pool", {}).get("processes", []))


def nodename(name: str) -> str:
    return f"{name}@{socket.gethostname()}"


@contextlib.contextmanager
def bare_worker(root: Path, broker: str, name: str, *options: str) -> Iterator[float]:
    """`celery worker` started by hand; yields the time it was started at."""
    argv = [sys.executable, "-m", "celery", "worker", "-n", nodename(name), "-c", "1", *options]
    env = {**os.environ, "CELERY_BROKER_URL": broker}
    with (root / f"{name}.log").open("wb") as out:
        started = time.monotonic()
        proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=out, stderr=out, env=env)
    try:
        yield started
    finally:
        proc.terminate()
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def start_by_branch(http: httpx.Client, control: Control) -> tuple[float, float, str]:
    """Seconds to the 201, seconds to the first ping answered, and the instance's name."""
    started = time.monotonic()
    response = http.post(f"/{APP}/instances")
    answered = time.monotonic() - started
    if response.status_code != 201:
        raise BenchError(f"POST /{APP}/instances answered {response.status_code}")
    name = response.json()["name"]
    wait_until(lambda: control.pings(nodename(name)), 60, "the new worker's ping")
    return answered, time.monotonic() - started, name


def start_by_hand(root: Path, broker: str, control: Control, n: int) -> float:
    name = f"bare-{n}"
    with bare_worker(root, broker, name) as started:
        wait_until(lambda: control.pings(nodename(name)), 60, "the bare worker's ping")
        return time.monotonic() - started


def grow_by_branch(http: httpx.Client, name: str, size: int, phase: float) -> float:
    base = f"/{APP}/instances/{name}"
    http.put(f"{base}/autoscale", json={"max": 1, "min": 1})
    wait_until(lambda: _processes(http, base) == 1, 60, "the pool back to 1")
    time.sleep(phase * MAINTENANCE)
    started = time.monotonic()
    response = http.put(f"{base}/autoscale", json={"max": size + GROW, "min": size + GROW})
    if response.status_code != 200:
        raise BenchError(f"PUT {base}/autoscale answered {response.status_code}")
    wait_until(lambda: _processes(http, base) == size + GROW, 60, "the grown pool in stats")
    return time.monotonic() - started


def _processes(http: httpx.Client, base: str) -> int:
    return len(http.get(f"{base}/stats").json()["pool"]["processes"])


def grow_by_hand(control: Control, node: str, size: int, phase: float) -> float:
    control.ask(node, "autoscale", max=1, min=1)
    wait_until(lambda: control.pool_size(node) == 1, 60, "the bare pool back to 1")
    time.sleep(phase * MAINTENANCE)
    started = time.monotonic()
    control.ask(node, "autoscale", max=size + GROW, min=size + GROW)
    wait_until(lambda: control.pool_size(node) == size + GROW, 60, "the bare grown pool")
    return time.monotonic() - started


def timed(call: Callable[[], Any]) -> float:
    started = time.monotonic()
    if not call():
        raise BenchError("no answer")
    return time.monotonic() - started


def ms(seconds: float) -> str:
    return f"{seconds * 1000:,.0f} ms" if seconds >= 0.1 else f"{seconds * 1000:.1f} ms"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=10, help="measures per side (default 10)")
    parser.add_argument(
        "--control-timeout",
        type=float,
        default=20.0,
        help="the branch's --control-timeout (default 20: longer than a pool takes to grow)",
    )
    parser.add_argument("--seed", type=int, default=2012, help="of the random phases")
    args = parser.parse_args(argv)
    print(
        f"# celery_bench: {datetime.date.today()}, {platform.machine()}, "
        f"{os.cpu_count()} CPUs, Python {platform.python_version()}, Celery {celery.__version__}"
    )
    with tempfile.TemporaryDirectory(prefix="cyme-celery-bench-") as tmp:
        root = Path(tmp)
        options = {"supervisor": "celery", "control_timeout": args.control_timeout}
        with (
            redis_server(root) as broker,
            branch(root, "celery-bench", loglevel="WARNING", **options) as live,
        ):
            control = Control(broker)
            with httpx.Client(base_url=live.url, timeout=args.control_timeout + 10) as http:
                if http.put(f"/{APP}", json={"broker": broker}).status_code != 201:
                    raise BenchError("cannot create the app")
                answers, branch_starts, hand_starts = [], [], []
                for n in range(args.rounds):
                    answered, pinged, name = start_by_branch(http, control)
                    answers.append(answered)
                    branch_starts.append(pinged)
                    http.delete(f"/{APP}/instances/{name}")
                    hand_starts.append(start_by_hand(root, broker, control, n))
                    print(f"start {n + 1}: branch {ms(pinged)}, by hand {ms(hand_starts[-1])}")

                _, _, name = start_by_branch(http, control)
                branch_grows, hand_grows = [], []
                phase = random.Random(args.seed)  # noqa: S311 (timing, not secrets)
                with bare_worker(root, broker, "bare-grow", "--autoscale=1,1"):
                    node = nodename("bare-grow")
                    wait_until(lambda: control.pings(node), 60, "the bare worker's ping")
                    branch_stats, hand_stats = [], []
                    for _ in range(args.rounds):
                        branch_stats.append(
                            timed(lambda: http.get(f"/{APP}/instances/{name}/stats"))
                        )
                        hand_stats.append(timed(lambda: control.ask(node, "stats")))
                    for n in range(args.rounds):
                        branch_grows.append(grow_by_branch(http, name, 1, phase.random()))
                        hand_grows.append(grow_by_hand(control, node, 1, phase.random()))
                        print(
                            f"autoscale {n + 1}: branch {ms(branch_grows[-1])}, "
                            f"by hand {ms(hand_grows[-1])}"
                        )
                http.delete(f"/{APP}")

    bare = statistics.median(hand_starts)
    rows = [
        ("start: to the new worker's first ping", branch_starts, hand_starts, True),
        (f"autoscale +{GROW}: to stats listing the pool", branch_grows, hand_grows, True),
        ("stats of a running worker", branch_stats, hand_stats, False),
    ]
    print()
    print(f"Medians of {args.rounds}; the bare start is {ms(bare)}.")
    print()
    print("| measure | branch | by hand | branch/by hand | branch/bare start |")
    print("|---|---:|---:|---:|---:|")
    for label, ours, theirs, against_bare in rows:
        mine, hand = statistics.median(ours), statistics.median(theirs)
        to_bare = f"{mine / bare:.2f}x" if against_bare else "-"
        print(f"| {label} | {ms(mine)} | {ms(hand)} | {mine / hand:.2f}x | {to_bare} |")
    print()
    print(f"POST /{APP}/instances answered 201 after {ms(statistics.median(answers))} (median).")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except BenchError as exc:
        print(f"celery_bench: {exc}", file=sys.stderr)
        sys.exit(1)
