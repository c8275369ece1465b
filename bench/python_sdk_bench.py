"""The Python SDK (`cyme`) against raw httpx: what the SDK adds to a call.

Run by `make bench` after the server benchmark. In one run this script:

1. starts a fresh `cyme-branch` on a free loopback port (state in a temporary
   directory, `-l WARNING` so that logging does not dominate) and creates an
   app and an instance through the SDK;
2. sync: times `instance.autoscale()` (a read) and `app.instances.get(name)`
   through `cyme.Client`, against GETs of the same URLs through a raw
   `httpx.Client` on a kept-alive connection, parsed with `response.json()`:
   --calls calls each after --warmup, interleaved in rounds so that machine
   noise hits both sides alike; prints the median per-call time and the ratio
   SDK/raw (target: at most 1.10);
3. async: --concurrency concurrent `app.instances.get(name)` through
   `cyme.AsyncClient` (asyncio.gather) against as many concurrent GETs through
   a raw `httpx.AsyncClient`, both with the same `httpx.Limits`, repeated
   --repeats times; prints the median throughput ratio SDK/raw (target: at
   least 0.90);
4. import: `python -X importtime -c "import cyme"` against
   `python -X importtime -c "import httpx, pydantic"`, the cumulative time of
   the top-level modules named, median of --imports fresh processes each;
   prints the ratio (target: at most 1.3). The models load with the first
   client, so a second row (no target) times `import cyme` and a first
   `Client()` against `import httpx, pydantic` with `BaseModel` loaded.

Targets are printed as met or not met; nothing here asserts. On a machine with
two or more cores the branch runs on CPU 0 and this script on CPU 1.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cyme
import httpx
from cyme_branch.testing import BranchFailed, LiveBranch

BRANCH = Path(sys.executable).parent / "cyme-branch"
APP = "pycon"
INSTANCE = "w1"

SYNC_TARGET = 1.10  # SDK/raw per-call time, at most
ASYNC_TARGET = 0.90  # SDK/raw throughput, at least
IMPORT_TARGET = 1.3  # SDK/raw import time, at most

BRANCH_CPU = 0
CLIENT_CPU = 1


class BenchError(Exception):
    """The benchmark cannot go on."""


@dataclass
class Row:
    measure: str
    sdk: str
    raw: str
    ratio: float
    target: str
    met: bool | None  # None: no target


@dataclass(frozen=True)
class RunningBranch:
    url: str
    pid: int

    def cpu_seconds(self) -> float:
        """The CPU time the branch has used so far, user and system (from /proc)."""
        fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
        # utime and stime, fields 14 and 15 of stat(5), counted from after the name.
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def parse_pinned(parser: argparse.ArgumentParser, argv: list[str] | None) -> argparse.Namespace:
    """Parse `argv` with `--no-pin` added; `pin` is off on a machine of one CPU."""
    parser.add_argument(
        "--no-pin", dest="pin", action="store_false", help="do not pin to CPUs 0 and 1"
    )
    opts = parser.parse_args(argv)
    if opts.pin and (os.cpu_count() or 1) < 2:
        opts.pin = False
    return opts


def ready(pin: bool) -> bool:
    """Whether the branch is installed; if so, pin this process to its CPU when asked."""
    if not BRANCH.exists():
        print(f"missing: {BRANCH} (run `make install`)", file=sys.stderr)
        return False
    if pin:
        os.sched_setaffinity(0, {CLIENT_CPU})
    return True


@contextlib.contextmanager
def branch(pin: bool) -> Iterator[RunningBranch]:
    """A fresh branch (`cyme_branch.testing.LiveBranch`), stopped on the way out."""
    prefix = ["taskset", "--cpu-list", str(BRANCH_CPU)] if pin else []
    live = LiveBranch(branch_id="sdk-bench", loglevel="WARNING", prefix=prefix)
    try:
        live.start()
    except BranchFailed as exc:
        raise BenchError(str(exc)) from None
    with live:
        assert live.pid is not None
        yield RunningBranch(live.url, live.pid)


# -- sync: median per-call time -------------------------------------------------


def per_call_times(
    sides: dict[str, Callable[[], object]], calls: int, warmup: int, round_size: int
) -> dict[str, list[float]]:
    """Seconds per call of each side, run in alternating rounds of round_size calls."""
    for call in sides.values():
        for _ in range(warmup):
            call()
    times: dict[str, list[float]] = {name: [] for name in sides}
    names = list(sides)
    clock = time.perf_counter
    for number in range(0, calls, round_size):
        # Alternate who goes first, so that neither always follows the other.
        order = names if (number // round_size) % 2 == 0 else names[::-1]
        for name in order:
            call, out = sides[name], times[name]
            for _ in range(min(round_size, calls - number)):
                start = clock()
                call()
                out.append(clock() - start)
    return times


def bench_sync(url: str, instance_name: str, opts: argparse.Namespace) -> list[Row]:
    rows = []
    with cyme.Client(url) as client, httpx.Client() as raw:
        app = client.get(APP)
        instance = app.instances.get(instance_name)
        instances = app.instances
        autoscale_url = client.url_for(APP, "instances", instance_name, "autoscale")
        instance_url = client.url_for(APP, "instances", instance_name)
        cases: list[tuple[str, Callable[[], object], Callable[[], object]]] = [
            ("`instance.autoscale()`", instance.autoscale, lambda: raw.get(autoscale_url).json()),
            (
                "`app.instances.get(name)`",
                lambda: instances.get(instance_name),
                lambda: raw.get(instance_url).json(),
            ),
        ]
        for label, sdk_call, raw_call in cases:
            print(f"sync: {label} ...", flush=True)
            times = per_call_times(
                {"sdk": sdk_call, "raw": raw_call}, opts.calls, opts.warmup, opts.round_size
            )
            sdk, base = statistics.median(times["sdk"]), statistics.median(times["raw"])
            ratio = sdk / base
            rows.append(
                Row(
                    f"{label}, median per call",
                    f"{sdk * 1e6:.0f} µs",
                    f"{base * 1e6:.0f} µs",
                    ratio,
                    f"<= {SYNC_TARGET:.2f}",
                    ratio <= SYNC_TARGET,
                )
            )
    return rows


# -- async: throughput of concurrent calls --------------------------------------


async def _bench_async(url: str, instance_name: str, opts: argparse.Namespace) -> Row:
    limits = httpx.Limits(
        max_connections=opts.connections, max_keepalive_connections=opts.connections
    )
    n: int = opts.concurrency
    async with (
        httpx.AsyncClient(limits=limits) as sdk_http,
        httpx.AsyncClient(limits=limits) as raw,
    ):
        client = cyme.AsyncClient(url, http_client=sdk_http)
        instances = (await client.get(APP)).instances
        instance_url = client.url_for(APP, "instances", instance_name)

        async def raw_get() -> Any:
            return (await raw.get(instance_url)).json()

        sides: dict[str, Callable[[], Any]] = {
            "sdk": lambda: instances.get(instance_name),
            "raw": raw_get,
        }

        async def burst(name: str) -> float:
            make = sides[name]
            start = time.perf_counter()
            await asyncio.gather(*(make() for _ in range(n)))
            return n / (time.perf_counter() - start)

        for name in sides:  # warm-up: open the connections, fill the caches
            await burst(name)
        rates: dict[str, list[float]] = {"sdk": [], "raw": []}
        ratios = []
        for repeat in range(opts.repeats):
            order = ["sdk", "raw"] if repeat % 2 == 0 else ["raw", "sdk"]
            got = {name: await burst(name) for name in order}
            for name, rate in got.items():
                rates[name].append(rate)
            ratios.append(got["sdk"] / got["raw"])
    ratio = statistics.median(ratios)
    return Row(
        f"{n} concurrent `app.instances.get(name)`, median throughput"
        f" ({opts.connections} connections)",
        f"{statistics.median(rates['sdk']):,.0f} calls/s",
        f"{statistics.median(rates['raw']):,.0f} calls/s",
        ratio,
        f">= {ASYNC_TARGET:.2f}",
        ratio >= ASYNC_TARGET,
    )


def bench_async(url: str, instance_name: str, opts: argparse.Namespace) -> Row:
    print(f"async: {opts.concurrency} concurrent calls x {opts.repeats} ...", flush=True)
    return asyncio.run(_bench_async(url, instance_name, opts))


# -- import time ----------------------------------------------------------------


def import_time(modules: list[str], code: str | None = None) -> float:
    """Seconds: the cumulative import time of the top-level modules named, one fresh process.

    Counted: every line that is not indented under another (a top-level
    import) and names one of `modules` or a submodule of one.
    """
    code = code or "import " + ", ".join(modules)
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env={k: v for k, v in os.environ.items() if k != "PYTHONPROFILEIMPORTTIME"},
    )
    found: set[str] = set()
    total = 0
    for line in done.stderr.splitlines():
        if not line.startswith("import time:"):
            continue
        parts = line.split("|")
        if len(parts) != 3 or not parts[1].strip().isdigit():
            continue  # the header line
        name = parts[2][1:]
        # Nested imports are indented under their importer; top-level ones are not.
        # A lazy package imports its submodules on first use, at the top level.
        package = name.split(".", 1)[0]
        if package in modules:
            found.add(package)
            total += int(parts[1])
    if found != set(modules):
        raise BenchError(f"`{code}`: no importtime line for {set(modules) - found}")
    return total / 1e6


# `import pydantic` is lazy: BaseModel (pydantic.main, fields, schema
# generation) loads on first use. So does cyme: its models load with the first
# client. The second row has no target and shows where that cost went: cyme
# imported and a client made, against httpx and pydantic with BaseModel loaded,
# the floor of any SDK whose models are pydantic models.
CLIENT_CODE = "import cyme; cyme.Client('http://:8000')"
FLOOR_CODE = "import httpx, pydantic; from pydantic import BaseModel"
FLOOR_MODULES = ["httpx", "pydantic"]


def bench_import(opts: argparse.Namespace) -> list[Row]:
    print(f"import: {opts.imports} fresh processes each ...", flush=True)
    sdk, raw, client, floor = [], [], [], []
    for _ in range(opts.imports):  # interleaved, like the calls
        sdk.append(import_time(["cyme"]))
        raw.append(import_time(["httpx", "pydantic"]))
        client.append(import_time(["cyme"], CLIENT_CODE))
        floor.append(import_time(FLOOR_MODULES, FLOOR_CODE))
    sdk_ms, raw_ms = statistics.median(sdk) * 1e3, statistics.median(raw) * 1e3
    client_ms, floor_ms = statistics.median(client) * 1e3, statistics.median(floor) * 1e3
    ratio = sdk_ms / raw_ms
    return [
        Row(
            "`import cyme` vs `import httpx, pydantic`, median cumulative",
            f"{sdk_ms:.0f} ms",
            f"{raw_ms:.0f} ms",
            ratio,
            f"<= {IMPORT_TARGET:.1f}",
            ratio <= IMPORT_TARGET,
        ),
        Row(
            "`import cyme` and a first `Client()` vs `import httpx, pydantic` and"
            " `from pydantic import BaseModel` (no target)",
            f"{client_ms:.0f} ms",
            f"{floor_ms:.0f} ms",
            client_ms / floor_ms,
            "-",
            None,
        ),
    ]


# -- the report -----------------------------------------------------------------


def describe(opts: argparse.Namespace) -> list[str]:
    cpu = "?"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    placement = (
        f"branch on CPU {BRANCH_CPU}, this script on CPU {CLIENT_CPU}" if opts.pin else "not pinned"
    )
    return [
        f"date: {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC",
        f"machine: {os.cpu_count()} cores ({cpu}), {platform.system()} {platform.release()}",
        f"placement: {placement}",
        f"cyme {cyme.__version__}, httpx {httpx.__version__}, pydantic"
        f" {__import__('pydantic').VERSION}, Python {platform.python_version()}",
        f"sync: {opts.calls} calls per side after {opts.warmup} warm-up,"
        f" rounds of {opts.round_size}; async: {opts.concurrency} concurrent x {opts.repeats};"
        f" import: {opts.imports} processes per side",
    ]


def report(rows: list[Row], header: list[str]) -> str:
    out = [*header, ""]
    out.append("| measure | cyme | raw httpx | cyme/raw | target | |")
    out.append("|---|---:|---:|---:|---:|---|")
    for row in rows:
        verdict = "-" if row.met is None else "met" if row.met else "not met"
        out.append(
            f"| {row.measure} | {row.sdk} | {row.raw} | {row.ratio:.2f}x | {row.target}"
            f" | {verdict} |"
        )
    return "\n".join(out)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=2000, help="sync calls per side (2000)")
    parser.add_argument("--warmup", type=int, default=200, help="sync warm-up calls (200)")
    parser.add_argument("--round-size", type=int, default=100, help="calls per round (100)")
    parser.add_argument("--concurrency", type=int, default=500, help="async calls (500)")
    parser.add_argument("--repeats", type=int, default=5, help="async repeats (5)")
    parser.add_argument(
        "--connections",
        type=int,
        default=10,
        # At 50 or more connections the branch's own throughput swings (80 to
        # 600 calls/s for raw httpx alike), which hides what the SDK adds.
        help="httpx.Limits(max_connections=) of both async clients (10)",
    )
    parser.add_argument("--imports", type=int, default=10, help="processes per side (10)")
    return parse_pinned(parser, argv)


def main(argv: list[str] | None = None) -> int:
    opts = parse_args(argv)
    if not ready(opts.pin):
        return 2
    rows: list[Row] = []
    try:
        with branch(opts.pin) as live:
            url = live.url
            print(f"branch on {url}; creating {APP} and {INSTANCE} ...", flush=True)
            with cyme.Client(url) as client:
                client.add(APP, broker="amqp://guest:guest@localhost:5672//")
                instance_name = client.get(APP).instances.add(INSTANCE).name
            rows += bench_sync(url, instance_name, opts)
            rows.append(bench_async(url, instance_name, opts))
        rows += bench_import(opts)
    except (BenchError, cyme.APIError, subprocess.CalledProcessError) as err:
        print(f"bench failed: {err}", file=sys.stderr)
        return 1
    print()
    print(report(rows, describe(opts)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
