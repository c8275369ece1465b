"""Celery tasks through the branch against Celery's own producer, on one broker.

Run by `make bench` after workers_bench.py. In one run this script starts
Debian's `redis-server` on a free loopback port and a fresh branch with the
Celery supervisor (both as celery_bench.py does), makes an app on that redis
(broker in database 0, result backend in database 1) running the
repository's example project (examples/proj) with one worker consuming
`celery`, and measures, interleaved so that machine noise hits both sides
alike:

1. sends per second: `POST /bench/tasks/proj.tasks.add` (httpx, one
   kept-alive connection per sender) against Celery's `send_task` by hand,
   to a queue no worker consumes, with 1 and with 8 senders at once (threads,
   each with a Celery app of its own by hand), in turns of --seconds each;
2. the round trip of `add(2, 3)`: the Python SDK's
   `app.tasks.send("proj.tasks.add", args=[2, 3]).wait(timeout=10)` (the
   send, then `GET .../tasks/{id}?wait=`) against Celery's
   `add.apply_async((2, 3)).get(timeout=10)` (whose result comes by Redis
   pub/sub), through the same worker, one after the other, --trips times.

Medians are printed with the ratio branch/Celery. Nothing here asserts;
`--help` lists the knobs.
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import celery
import cyme
import httpx
from celery import Celery

from celery_bench import BenchError, branch, redis_server

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
APP = "bench"
PARKED = "bench-parked"  # a queue no worker consumes: sends pile up there
SENDERS = (1, 8)


def flush(broker: str) -> None:
    """Empty the broker's database between two turns, so that no turn sends into a
    longer list than another."""
    import redis  # noqa: PLC0415 (celery's own dependency; only here)

    client = redis.Redis.from_url(broker)
    client.delete(PARKED)
    client.close()


def rate(senders: int, seconds: float, make: Callable[[], Callable[[], object]]) -> float:
    """Sends per second by `senders` threads, each with its own sender from `make()`."""
    counts = [0] * senders
    ready = threading.Barrier(senders + 1)
    stop = threading.Event()

    def run(n: int) -> None:
        one = make()
        ready.wait()
        while not stop.is_set():
            one()
            counts[n] += 1

    threads = [threading.Thread(target=run, args=(n,)) for n in range(senders)]
    for thread in threads:
        thread.start()
    ready.wait()
    started = time.monotonic()
    time.sleep(seconds)
    stop.set()
    for thread in threads:
        thread.join()
    return sum(counts) / (time.monotonic() - started)


def branch_sender(url: str) -> Callable[[], Callable[[], object]]:
    def make() -> Callable[[], object]:
        http = httpx.Client(base_url=url, timeout=30)
        body = {"args": [2, 3], "queue": PARKED}

        def one() -> object:
            response = http.post(f"/{APP}/tasks/proj.tasks.add", json=body)
            if response.status_code != 202:
                raise BenchError(f"a send answered {response.status_code}: {response.text}")
            return response

        return one

    return make


def celery_sender(broker: str) -> Callable[[], Callable[[], object]]:
    def make() -> Callable[[], object]:
        app = Celery("tasks-bench", broker=broker, set_as_current=False)

        def one() -> object:
            return app.send_task("proj.tasks.add", args=[2, 3], queue=PARKED)

        return one

    return make


def timed(call: Callable[[], Any]) -> tuple[float, Any]:
    started = time.perf_counter()
    value = call()
    return time.perf_counter() - started, value


def ms(seconds: float) -> str:
    return f"{seconds * 1000:,.1f} ms"


def set_up(url: str, broker: str, backend: str) -> None:
    """The app, running the example project, and its worker consuming `celery`."""
    with httpx.Client(base_url=url, timeout=60) as http:
        app = {"broker": broker, "backend": backend, "arguments": f"--workdir={EXAMPLES} -A proj"}
        for method, path, body in (
            ("PUT", f"/{APP}", app),
            ("POST", f"/{APP}/instances/bench-w1", None),
            ("PUT", f"/{APP}/queues/celery", None),
            ("PUT", f"/{APP}/instances/bench-w1/queues/celery", None),
        ):
            response = http.request(method, path, json=body)
            if response.status_code not in (200, 201):
                raise BenchError(f"{method} {path} answered {response.status_code}")


def measure_sends(url: str, broker: str, turns: int, seconds: float) -> dict[Any, list[float]]:
    """Sends per second, by side and number of senders, turn by turn."""
    rates: dict[Any, list[float]] = {}
    for senders in SENDERS:
        for turn in range(turns):
            for side, make in (("branch", branch_sender(url)), ("celery", celery_sender(broker))):
                flush(broker)
                rates.setdefault((side, senders), []).append(rate(senders, seconds, make))
            print(
                f"sends, {senders} sender(s), turn {turn + 1}: "
                f"branch {rates['branch', senders][-1]:,.0f}/s, "
                f"celery {rates['celery', senders][-1]:,.0f}/s"
            )
    flush(broker)
    return rates


def measure_trips(url: str, broker: str, backend: str, trips: int) -> dict[str, list[float]]:
    """Round trips of add(2, 3): the Python SDK through the branch, Celery by hand."""
    sys.path.insert(0, str(EXAMPLES))
    from proj.tasks import add  # noqa: PLC0415 (the example project, by hand)

    add.app.conf.update(broker_url=broker, result_backend=backend)
    with cyme.Client(url) as client:
        app = client.apps.get(APP)

        def through_branch() -> Any:
            return app.tasks.send("proj.tasks.add", args=[2, 3]).wait(timeout=10)

        def by_hand() -> Any:
            return add.apply_async((2, 3)).get(timeout=10)

        for _ in range(3):  # warm both paths up: connections, the pool's first task
            through_branch()
            by_hand()
        times: dict[str, list[float]] = {"branch": [], "celery": []}
        for _ in range(trips):
            for side, call in (("branch", through_branch), ("celery", by_hand)):
                took, got = timed(call)
                if got != 5:
                    raise BenchError(f"add(2, 3) gave {got!r} ({side})")
                times[side].append(took)
    return times


def report(rates: dict[Any, list[float]], trips: dict[str, list[float]]) -> None:
    print()
    print("| measure | branch | Celery | branch/Celery |")
    print("|---|---:|---:|---:|")
    for senders in SENDERS:
        ours = statistics.median(rates["branch", senders])
        theirs = statistics.median(rates["celery", senders])
        print(
            f"| tasks sent per second, {senders} sender{'s' if senders > 1 else ''} "
            f"| {ours:,.0f} | {theirs:,.0f} | {ours / theirs:.2f}x |"
        )
    ours, theirs = statistics.median(trips["branch"]), statistics.median(trips["celery"])
    print(f"| round trip of add(2, 3) | {ms(ours)} | {ms(theirs)} | {ours / theirs:.2f}x |")
    p90 = {side: statistics.quantiles(times, n=10)[-1] for side, times in trips.items()}
    print(
        f"| round trip, 90th percentile | {ms(p90['branch'])} | {ms(p90['celery'])} "
        f"| {p90['branch'] / p90['celery']:.2f}x |"
    )
    target = "within" if ours <= 2 * theirs else "NOT within"
    print()
    print(f"target: the round trip is {target} 2x of Celery's ({ours / theirs:.2f}x)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=1.0, help="per turn of sends (1)")
    parser.add_argument("--turns", type=int, default=5, help="turns per side and senders (5)")
    parser.add_argument("--trips", type=int, default=200, help="round trips per side (200)")
    args = parser.parse_args(argv)
    print(
        f"# tasks_bench: {datetime.date.today()}, {platform.machine()}, "
        f"{os.cpu_count()} CPUs, Python {platform.python_version()}, Celery {celery.__version__}"
    )
    with tempfile.TemporaryDirectory(prefix="cyme-tasks-bench-") as tmp:
        root = Path(tmp)
        options = {"supervisor": "celery", "control_timeout": 10.0, "loglevel": "WARNING"}
        with redis_server(root) as broker, branch(root, "tasks-bench", **options) as live:
            url = live.url
            backend = broker.rsplit("/", 1)[0] + "/1"
            set_up(url, broker, backend)
            rates = measure_sends(url, broker, args.turns, args.seconds)
            trips = measure_trips(url, broker, backend, args.trips)
    print()
    print(
        f"Medians: sends of {args.turns} turns of {args.seconds:g} s each; "
        f"{args.trips} round trips each, taking turns."
    )
    report(rates, trips)
    return 0


if __name__ == "__main__":
    try:
        raise SystemExit(main())
    except BenchError as exc:
        raise SystemExit(f"tasks_bench: {exc}") from None
