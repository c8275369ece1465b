"""What the workers are doing, measured: how soon a killed worker shows, and what a scrape costs.

Run by `make bench`, after celery_bench.py, whose redis-server, branch and
polling it uses. In one run this script:

1. kill -9: starts Debian's `redis-server` on a free loopback port (no
   persistence, files in a temporary directory) and a fresh branch with the
   Celery supervisor (`cyme_branch.testing.LiveBranch`, --sup-interval 1);
   then, --rounds times, makes a real worker, waits until it is `running`,
   sends its main process SIGKILL and measures the time until
   `GET /{app}/instances/{instance}` shows it exited (a state other than
   `running`, with `last_exit.signal` SIGKILL), and, for another worker,
   until `GET /metrics` shows `cyme_instance_up` 0 for it (read with
   prometheus_client's parser); and the time until the supervisor has it
   `running` again (that one depends on --sup-interval: a round starts it,
   and it answers at the round after);
2. scrape: starts a fresh simulated branch, makes --instances instances
   (in apps of 20, each app with 2 queues), and times `GET /metrics`
   against a plain `GET /` (the list of app names) on the same
   connection, taking turns, --scrapes times each: the medians, the 90th
   percentiles and their ratio.

Nothing here asserts; `--help` lists the knobs.
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import signal
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
from prometheus_client.parser import text_string_to_metric_families

from celery_bench import BenchError, branch, ms, redis_server, wait_until

POLL = 0.002  # seconds between two looks while timing what the branch shows
PER_APP = 20


def up(http: httpx.Client, app: str, name: str) -> float | None:
    """`cyme_instance_up` of one instance, as prometheus_client reads /metrics."""
    text = http.get("/metrics").text
    for family in text_string_to_metric_families(text):
        if family.name == "cyme_instance_up":
            for sample in family.samples:
                if sample.labels == {"app": app, "instance": name}:
                    return float(sample.value)
    return None


def running(http: httpx.Client, path: str) -> dict[str, Any] | None:
    instance = http.get(path).json()
    return instance if instance["state"] == "running" and instance["pid"] else None


def exited(instance: dict[str, Any]) -> bool:
    """Whether an instance shows that its worker was killed."""
    last_exit = instance["last_exit"] or {}
    return instance["state"] != "running" and last_exit.get("signal") == "SIGKILL"


def kill_one(http: httpx.Client, app: str, name: str, seen_by: str) -> tuple[float, float]:
    """Kill -9 a new worker: seconds until `seen_by` shows it, and until it is back."""
    path = f"/{app}/instances/{name}"
    if http.post(path).status_code != 201:
        raise BenchError(f"cannot create {name}")
    pid = wait_until(lambda: running(http, path), 60, "the worker running")["pid"]
    killed = time.monotonic()
    os.kill(pid, signal.SIGKILL)
    if seen_by == "state":
        shown = lambda: exited(http.get(path).json())  # noqa: E731
    else:
        shown = lambda: up(http, app, name) == 0.0  # noqa: E731
    wait_until(shown, 10, f"the exit in the {seen_by}", POLL)
    seen = time.monotonic() - killed
    wait_until(lambda: (i := running(http, path)) and i["pid"] != pid, 60, "back", POLL * 10)
    back = time.monotonic() - killed
    http.delete(path)
    return seen, back


def kill_rounds(args: argparse.Namespace, root: Path) -> dict[str, list[float]]:
    """Seconds from kill -9 to the state, to /metrics, and to the worker back."""
    root.mkdir(parents=True, exist_ok=True)
    found: dict[str, list[float]] = {"state": [], "metrics": [], "back": []}
    options = {"supervisor": "celery", "sup_interval": args.sup_interval, "control_timeout": 20}
    with (
        redis_server(root) as broker,
        branch(root, "workers-bench", **options) as live,
        httpx.Client(base_url=live.url, timeout=60) as http,
    ):
        app = "bench"
        if http.put(f"/{app}", json={"broker": broker}).status_code != 201:
            raise BenchError("cannot create the app")
        for n in range(args.rounds):
            for seen_by in ("state", "metrics"):
                seen, back = kill_one(http, app, f"w{n}-{seen_by}", seen_by)
                found[seen_by].append(seen)
                found["back"].append(back)
            print(
                f"kill -9 {n + 1}: state {ms(found['state'][-1])}, "
                f"/metrics {ms(found['metrics'][-1])}, back {ms(found['back'][-1])}"
            )
    return found


def scrape_rounds(args: argparse.Namespace, root: Path) -> tuple[list[float], list[float], int]:
    """Seconds per `GET /metrics` and per `GET /`, taking turns; and the scrape's size."""
    root.mkdir(parents=True, exist_ok=True)
    with (
        branch(root, "workers-bench", sup_interval=5, loglevel="WARNING") as live,
        httpx.Client(base_url=live.url, timeout=60) as http,
    ):
        for n in range(args.instances):
            app = f"app{n // PER_APP}"
            if n % PER_APP == 0:
                http.put(f"/{app}")
                http.put(f"/{app}/queues/jobs")
                http.put(f"/{app}/queues/reports")
            if http.post(f"/{app}/instances/w{n}").status_code != 201:
                raise BenchError(f"cannot create instance {n}")
        size = len(http.get("/metrics").content)
        scrapes: list[float] = []
        lists: list[float] = []
        for _ in range(args.scrapes):
            for measure, path in ((scrapes, "/metrics"), (lists, "/")):
                started = time.perf_counter()
                if http.get(path).status_code != 200:
                    raise BenchError(f"GET {path} failed")
                measure.append(time.perf_counter() - started)
    return scrapes, lists, size


def p90(values: list[float]) -> float:
    return statistics.quantiles(values, n=10)[-1] if len(values) > 1 else values[0]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=5, help="kill -9 rounds (default 5)")
    parser.add_argument(
        "--sup-interval", type=float, default=1.0, help="of the Celery branch (default 1)"
    )
    parser.add_argument(
        "--instances", type=int, default=200, help="simulated instances (default 200)"
    )
    parser.add_argument("--scrapes", type=int, default=50, help="scrapes timed (default 50)")
    args = parser.parse_args(argv)
    print(
        f"# workers_bench: {datetime.date.today()}, {platform.machine()}, "
        f"{os.cpu_count()} CPUs, Python {platform.python_version()}, "
        f"load average {os.getloadavg()[0]:.2f}"
    )
    with tempfile.TemporaryDirectory(prefix="cyme-workers-bench-") as tmp:
        kills = kill_rounds(args, Path(tmp) / "kill")
        scrapes, lists, size = scrape_rounds(args, Path(tmp) / "scrape")

    print()
    interval = f"--sup-interval {args.sup_interval:g}"
    print(f"kill -9 of a real worker, {args.rounds} rounds ({interval}):")
    print()
    print("| from kill -9 to | median | max |")
    print("|---|---:|---:|")
    for label, key in (
        ("`GET` of the instance showing it exited", "state"),
        ("`GET /metrics` showing `cyme_instance_up` 0", "metrics"),
        ("the worker `running` again", "back"),
    ):
        print(f"| {label} | {ms(statistics.median(kills[key]))} | {ms(max(kills[key]))} |")
    print()
    scrape, listing = statistics.median(scrapes), statistics.median(lists)
    print(
        f"`GET /metrics` with {args.instances} simulated instances ({size:,} bytes), "
        f"against `GET /`, {args.scrapes} each, taking turns:"
    )
    print()
    print("| request | median | p90 |")
    print("|---|---:|---:|")
    print(f"| `GET /metrics` | {ms(scrape)} | {ms(p90(scrapes))} |")
    print(f"| `GET /` | {ms(listing)} | {ms(p90(lists))} |")
    print()
    print(f"A scrape takes {scrape / listing:.1f}x a plain `GET /` (medians).")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except BenchError as exc:
        print(f"workers_bench: {exc}", file=sys.stderr)
        sys.exit(1)
