"""The admin page (`/ui`), measured in the tests' headless Chromium.

Run by `make bench`, after workers_bench.py. In one run this script:

1. kill -9: starts Debian's `redis-server` and a branch with the Celery
   supervisor (celery_bench's helpers), opens `/ui` on it, then, --rounds
   times, makes a real worker, waits until the page shows it `running`,
   waits a random part of the page's poll interval (else every kill would
   come just after a poll, the worst case), sends the worker's main process
   SIGKILL and measures the time until the page
   shows the exit (`SIGKILL` in its row's "Last exit"), seen by a
   MutationObserver in the page (the browser's clock and this script's are
   the same clock);
2. first load: on a simulated branch with one app of --instances instances
   and two queues, loads `/ui` and `/docs` in turn, --loads times each, the
   browser's cache off: the bytes transferred until the page is usable
   (the document, and for `/ui` the API reads of its first poll) and the
   time to interactive: from the navigation's start until `/ui` has drawn
   its first poll (`performance.mark("cyme-ready")`), or until `/docs` shows
   its first operation (Swagger UI's `.opblock`);
3. polling: with `/ui` open and nothing changing, the bytes its polls
   transfer in --idle seconds (304s), against what the same polls would
   have carried as 200s; and the branch's time for one
   `GET /{app}/instances?details=true` with and without `If-None-Match`.

Nothing here asserts; `--help` lists the knobs.
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import random
import signal
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

from celery_bench import BenchError, branch, ms, redis_server, wait_until

# The page is driven with the tests' own Chromium and helpers.
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "server-stub" / "tests"))

from chromium import chromium
from ui_page import open_ui, wait_cell

APP = "bench"
POLL_S = 1.0  # the page's poll interval (POLL_MS in ui.js)

# In every document, before its scripts: when does SELECTOR first match?
_WATCH = """
window.__firstSeen = null;
new MutationObserver(function (changes, observer) {
  if (document.querySelector(window.__selector || "body[data-ready]")) {
    window.__firstSeen = performance.now();
    observer.disconnect();
  }
}).observe(document, {childList: true, subtree: true, attributes: true});
"""

# The time (Date.now()) the row's "Last exit" first says SIGKILL.
_KILL_WATCH = """
const cell = arguments[0];
window.__killSeen = null;
new MutationObserver(function (changes, observer) {
  if (cell.textContent.indexOf("SIGKILL") >= 0) {
    window.__killSeen = Date.now();
    observer.disconnect();
  }
}).observe(cell, {childList: true, subtree: true, characterData: true});
"""


@contextmanager
def browser(root: Path) -> Iterator[Any]:
    profile = root / "profile"
    profile.mkdir(parents=True, exist_ok=True)
    with chromium(profile) as driver:
        driver.execute_cdp_cmd("Network.enable", {})
        driver.execute_cdp_cmd("Network.setCacheDisabled", {"cacheDisabled": True})
        yield driver


def kill_rounds(args: argparse.Namespace, root: Path) -> list[float]:
    """Seconds from kill -9 of a real worker to the page showing it."""
    root.mkdir(parents=True, exist_ok=True)
    found: list[float] = []
    phases = random.Random(args.seed)  # noqa: S311 (timing, not secrets)
    options = {"supervisor": "celery", "sup_interval": args.sup_interval, "control_timeout": 20}
    with (
        redis_server(root) as broker,
        branch(root, "ui-bench", loglevel="WARNING", **options) as live,
        httpx.Client(base_url=live.url, timeout=60) as http,
        browser(root) as driver,
    ):
        if http.put(f"/{APP}", json={"broker": broker}).status_code != 201:
            raise BenchError("cannot create the app")
        open_ui(driver, live.url)
        for n in range(args.rounds):
            name = f"w{n}"
            path = f"/{APP}/instances/{name}"
            if http.post(path).status_code != 201:
                raise BenchError(f"cannot create {name}")
            wait_cell(driver, APP, name, "state", "running")
            pid = wait_until(lambda: http.get(path).json()["pid"], 60, "the worker's pid")  # noqa: B023
            cell = driver.find_element(
                "css selector", f'tr[data-instance="{name}"] [data-col="exit"]'
            )
            driver.execute_script(_KILL_WATCH, cell)
            time.sleep(phases.uniform(0, POLL_S))
            killed = time.time()
            os.kill(pid, signal.SIGKILL)
            seen = wait_until(
                lambda: driver.execute_script("return window.__killSeen"), 30, "the page", 0.01
            )
            found.append(seen / 1000 - killed)
            print(f"kill -9 {n + 1}: shown on the page after {ms(found[-1])}")
            http.delete(path)
    return found


def first_load(driver: Any, url: str, selector: str) -> tuple[float, int]:
    """Milliseconds to interactive, and bytes transferred until then."""
    script = driver.execute_cdp_cmd(
        "Page.addScriptToEvaluateOnNewDocument",
        {"source": f"window.__selector = {selector!r};{_WATCH}"},
    )
    try:
        driver.get("about:blank")
        driver.get(url)
        ready = wait_until(
            lambda: driver.execute_script("return window.__firstSeen"), 60, url, 0.01
        )
        sizes = driver.execute_script(
            """
            const ready = arguments[0];
            const nav = performance.getEntriesByType("navigation")[0];
            const reads = performance.getEntriesByType("resource")
              .filter((e) => e.responseEnd <= ready);
            return [nav.transferSize, reads.reduce((s, e) => s + e.transferSize, 0)];
            """,
            ready,
        )
    finally:
        driver.execute_cdp_cmd(
            "Page.removeScriptToEvaluateOnNewDocument", {"identifier": script["identifier"]}
        )
    return float(ready), int(sizes[0]) + int(sizes[1])


def load_rounds(args: argparse.Namespace, root: Path) -> dict[str, Any]:
    root.mkdir(parents=True, exist_ok=True)
    pages = {"/ui": "body[data-ready]", "/docs": "#swagger-ui .opblock"}
    times: dict[str, list[float]] = {path: [] for path in pages}
    sizes: dict[str, int] = {}
    with (
        branch(root, "ui-bench", loglevel="WARNING") as live,
        httpx.Client(base_url=live.url, timeout=60) as http,
        browser(root) as driver,
    ):
        http.put(f"/{APP}")
        for queue in ("celery", "reports"):
            http.put(f"/{APP}/queues/{queue}")
        for n in range(args.instances):
            if http.post(f"/{APP}/instances/w{n}").status_code != 201:
                raise BenchError(f"cannot create instance {n}")
        for _ in range(args.loads):
            for path, selector in pages.items():
                took, size = first_load(driver, f"{live.url}{path}", selector)
                times[path].append(took)
                sizes[path] = size
        polls = idle_polls(driver, live.url, args.idle)
        served = poll_cost(http, args.requests)
    return {"times": times, "sizes": sizes, "polls": polls, "served": served}


def idle_polls(driver: Any, url: str, seconds: float) -> dict[str, float]:
    """What /ui's polls transfer while nothing changes, and what 200s would carry."""
    open_ui(driver, url)
    time.sleep(2)  # past the first poll's 200s
    driver.execute_script("performance.clearResourceTimings()")
    time.sleep(seconds)
    entries = driver.execute_script(
        """return performance.getEntriesByType("resource")
             .filter((e) => e.initiatorType === "fetch")
             .map((e) => [e.name, e.transferSize, e.responseStatus || 0]);"""
    )
    with httpx.Client(timeout=10) as http:
        full = {name: len(http.get(name).content) for name in {e[0] for e in entries}}
    return {
        "requests": len(entries),
        "not_modified": sum(1 for e in entries if e[2] == 304),
        "bytes": sum(e[1] for e in entries),
        "bodies_as_200": sum(full[e[0]] for e in entries),
        "seconds": seconds,
    }


def poll_cost(http: httpx.Client, requests: int) -> dict[str, list[float]]:
    """The branch's time for the instances read, plain and conditional, taking turns."""
    path = f"/{APP}/instances?details=true"
    tag = http.get(path).headers["etag"]
    found: dict[str, list[float]] = {"200": [], "304": []}
    for _ in range(requests):
        for status, headers in (("200", {}), ("304", {"If-None-Match": tag})):
            started = time.perf_counter()
            if str(http.get(path, headers=headers).status_code) != status:
                raise BenchError(f"GET {path} did not answer {status}")
            found[status].append(time.perf_counter() - started)
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=10, help="kill -9 rounds (default 10)")
    parser.add_argument(
        "--sup-interval", type=float, default=1.0, help="of the Celery branch (default 1)"
    )
    parser.add_argument(
        "--instances", type=int, default=20, help="simulated instances for the loads (default 20)"
    )
    parser.add_argument("--loads", type=int, default=10, help="loads of each page (default 10)")
    parser.add_argument("--idle", type=float, default=10.0, help="seconds of idle polls (10)")
    parser.add_argument("--requests", type=int, default=200, help="timed reads (default 200)")
    parser.add_argument("--no-kill", action="store_true", help="skip the real workers' part")
    parser.add_argument("--seed", type=int, default=2012, help="of the random phases")
    args = parser.parse_args(argv)
    print(
        f"# ui_bench: {datetime.date.today()}, {platform.machine()}, "
        f"{os.cpu_count()} CPUs, Python {platform.python_version()}, "
        f"load average {os.getloadavg()[0]:.2f}"
    )
    with tempfile.TemporaryDirectory(prefix="cyme-ui-bench-") as tmp:
        kills = [] if args.no_kill else kill_rounds(args, Path(tmp) / "kill")
        loads = load_rounds(args, Path(tmp) / "load")

    print()
    if kills:
        print(f"kill -9 of a real worker to the page showing it, {args.rounds} rounds:")
        print()
        print("| median | max |")
        print("|---:|---:|")
        print(f"| {ms(statistics.median(kills))} | {ms(max(kills))} |")
        print()
    print(
        f"First load, cache off, {args.loads} loads each, a branch with {args.instances} "
        "instances and 2 queues:"
    )
    print()
    print("| page | transferred | time to interactive (median) | max |")
    print("|---|---:|---:|---:|")
    for path, times in loads["times"].items():
        print(
            f"| `{path}` | {loads['sizes'][path]:,} bytes | "
            f"{ms(statistics.median(times) / 1000)} | {ms(max(times) / 1000)} |"
        )
    polls = loads["polls"]
    print()
    print(
        f"Idle polls of `/ui` over {polls['seconds']:g} s: {polls['requests']} reads, "
        f"{polls['not_modified']} of them 304, {polls['bytes']:,} bytes transferred; "
        f"as 200s their bodies alone would be {polls['bodies_as_200']:,} bytes."
    )
    served = loads["served"]
    plain, conditional = statistics.median(served["200"]), statistics.median(served["304"])
    print()
    print(
        f"`GET /{APP}/instances?details=true` ({args.instances} instances), "
        f"{args.requests} each, taking turns: 200 in {ms(plain)}, 304 in {ms(conditional)} "
        "(medians)."
    )
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except BenchError as exc:
        print(f"ui_bench: {exc}", file=sys.stderr)
        sys.exit(1)
