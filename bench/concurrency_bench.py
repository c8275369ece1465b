"""The Python SDK under concurrency: calls per second at 1 to 200 calls in flight.

Run by `make bench` after the SDK benchmark. In one run this script starts a
fresh `cyme-branch` (as bench/python_sdk_bench.py does, whose `branch()` it
uses), creates an app and an instance, and measures the same read,
`GET /pycon/instances/w1`, made by each side below with N calls in flight
for N in --levels (1, 10, 50, 200):

- asyncio, N tasks each calling in a loop: raw aiohttp (the baseline: what
  the branch serves to the leanest client), raw httpx, httpx on httpx-aiohttp's
  transport, `cyme.AsyncClient` on httpx's transport, and `cyme.AsyncClient`
  on aiohttp's (`DefaultAioHttpClient`), each with `app.instances.get(name)`
  for the SDK and `GET` with `.json()` for the others;
- threads, N threads each calling in a loop (N in --thread-levels, 1, 8, 50,
  200): raw httpx with a client per thread (the baseline), raw httpx with one
  client shared by every thread, and one `cyme.Client` shared by every thread.

Every client allows 100 connections (`cyme.DEFAULT_CONNECTION_LIMITS`), all
kept alive. A measure is --duration seconds of calls after --warmup seconds of
the same; the sides take turns, in an order rotated each of --repeats rounds,
so that the machine's noise falls on all of them. Printed per level: the
median calls/s with the lowest and highest of the rounds, the ratio to the
baseline (median of the rounds' ratios), the CPU time per call of this
process (the client) and of the branch, how busy the branch's core was, the
ceiling (the calls/s that a whole core for the client, or for the branch,
allows at that CPU per call, whichever is lower, and which one), and the
calls that raised (every round's, counted apart from the calls/s). On a
machine shared with other work the calls/s swing from round to round; the
CPU per call, and so the ceiling, much less.

Target: `cyme.AsyncClient` on aiohttp makes at least 0.5x the calls of raw
aiohttp at 10 and at 50 in flight. Nothing here asserts. On a machine with two
or more cores the branch runs on CPU 0 and this script on CPU 1.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime
import os
import platform
import statistics
import sys
import threading
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import cyme
import httpx
import httpx_aiohttp

from python_sdk_bench import (
    APP,
    BRANCH_CPU,
    CLIENT_CPU,
    INSTANCE,
    BenchError,
    RunningBranch,
    branch,
    parse_pinned,
    ready,
)

TARGET = 0.5  # cyme on aiohttp / raw aiohttp, calls per second, at least
TARGET_LEVELS = (10, 50)
LIMITS = cyme.DEFAULT_CONNECTION_LIMITS

ASYNC_BASELINE = "raw aiohttp"
THREAD_BASELINE = "raw httpx, a client per thread"
SDK_ON_AIOHTTP = "cyme.AsyncClient on aiohttp"


@dataclass
class Sample:
    """One measure of one side at one level."""

    calls: int
    seconds: float
    client_cpu: float
    branch_cpu: float
    errors: int

    @property
    def rate(self) -> float:
        return self.calls / self.seconds


@dataclass
class Cell:
    """Every round's sample of one side at one level."""

    samples: list[Sample] = field(default_factory=list)

    def median_rate(self) -> float:
        return statistics.median(s.rate for s in self.samples)

    def spread(self) -> tuple[float, float]:
        rates = [s.rate for s in self.samples]
        return min(rates), max(rates)

    def per_call(self, attribute: str) -> float:
        """Median over the rounds of the CPU seconds per call, of the client or the branch."""
        return statistics.median(getattr(s, attribute) / s.calls for s in self.samples)

    def branch_busy(self) -> float:
        return statistics.median(s.branch_cpu / s.seconds for s in self.samples)

    def errors(self) -> int:
        return sum(s.errors for s in self.samples)

    def ceiling(self) -> tuple[float, str]:
        """The calls/s the CPU allows, and who bounds it: a whole core for this
        process, or for the branch, at the CPU per call measured."""
        client, branch = 1 / self.per_call("client_cpu"), 1 / self.per_call("branch_cpu")
        return (client, "client") if client < branch else (branch, "branch")


class Meter:
    """Counts the calls completed between `start()` and `stop()`, with the CPU time
    of this process and of the branch in that window.

    Each worker counts in its own slot, so that counting takes no lock that
    the threads would contend for. A call that raises is counted apart, and
    the worker goes on.
    """

    def __init__(self, live: RunningBranch, workers: int) -> None:
        self.live = live
        self.counts = [0] * workers
        self.errors = [0] * workers
        self.done = False
        self._start = (0, 0.0, 0.0, 0.0)

    def start(self) -> None:
        now = (time.perf_counter(), time.process_time(), self.live.cpu_seconds())
        self._start = (sum(self.counts), *now)

    def stop(self) -> Sample:
        calls = sum(self.counts)
        wall, cpu, branch_cpu = time.perf_counter(), time.process_time(), self.live.cpu_seconds()
        self.done = True
        calls0, wall0, cpu0, branch_cpu0 = self._start
        return Sample(
            calls - calls0, wall - wall0, cpu - cpu0, branch_cpu - branch_cpu0, sum(self.errors)
        )


# -- asyncio ---------------------------------------------------------------------------


AsyncCall = Callable[[], Awaitable[Any]]


@contextlib.asynccontextmanager
async def async_side(name: str, url: str) -> Any:
    """The call of side `name`: one client, opened here and closed on the way out."""
    path = f"{url}/{APP}/instances/{INSTANCE}"
    if name == ASYNC_BASELINE:
        connector = aiohttp.TCPConnector(limit=LIMITS.max_connections or 0)
        async with aiohttp.ClientSession(connector=connector) as session:

            async def raw_aiohttp() -> Any:
                async with session.get(path) as response:
                    return await response.json()

            yield raw_aiohttp
    elif name in ("raw httpx", "httpx on httpx-aiohttp"):
        cls = httpx.AsyncClient if name == "raw httpx" else httpx_aiohttp.HttpxAiohttpClient
        async with cls(limits=LIMITS) as http:

            async def raw_httpx() -> Any:
                return (await http.get(path)).json()

            yield raw_httpx
    else:
        aio = name == SDK_ON_AIOHTTP
        async with contextlib.AsyncExitStack() as stack:
            http = await stack.enter_async_context(cyme.DefaultAioHttpClient()) if aio else None
            client = await stack.enter_async_context(cyme.AsyncClient(url, http_client=http))
            instances = (await client.get(APP)).instances
            yield lambda: instances.get(INSTANCE)


async def measure_async(
    name: str, live: RunningBranch, level: int, opts: argparse.Namespace
) -> Sample:
    async with async_side(name, live.url) as call:
        meter = Meter(live, level)
        counts = meter.counts

        async def worker(slot: int) -> None:
            while not meter.done:
                try:
                    await call()
                except Exception:  # counted, and reported
                    meter.errors[slot] += 1
                else:
                    counts[slot] += 1

        workers = [asyncio.ensure_future(worker(slot)) for slot in range(level)]
        await asyncio.sleep(opts.warmup)
        meter.start()
        await asyncio.sleep(opts.duration)
        sample = meter.stop()
        await asyncio.gather(*workers)
    return sample


# -- threads ---------------------------------------------------------------------------


SyncCall = Callable[[], Any]


@contextlib.contextmanager
def thread_side(name: str, url: str, threads: int) -> Iterator[list[SyncCall]]:
    """The call of each thread of side `name`; the clients are closed on the way out."""
    path = f"{url}/{APP}/instances/{INSTANCE}"
    with contextlib.ExitStack() as stack:
        if name == THREAD_BASELINE:
            clients = [stack.enter_context(httpx.Client(limits=LIMITS)) for _ in range(threads)]
            yield [lambda http=http: http.get(path).json() for http in clients]
        elif name == "raw httpx, one shared client":
            http = stack.enter_context(httpx.Client(limits=LIMITS))
            yield [lambda: http.get(path).json()] * threads
        else:
            client = stack.enter_context(cyme.Client(url))
            instances = client.get(APP).instances
            yield [lambda: instances.get(INSTANCE)] * threads


def measure_threads(name: str, live: RunningBranch, level: int, opts: argparse.Namespace) -> Sample:
    with thread_side(name, live.url, level) as calls:
        meter = Meter(live, level)
        counts = meter.counts

        def worker(slot: int, call: SyncCall) -> None:
            while not meter.done:
                try:
                    call()
                except Exception:  # counted, and reported
                    meter.errors[slot] += 1
                else:
                    counts[slot] += 1

        threads = [threading.Thread(target=worker, args=pair) for pair in enumerate(calls)]
        for thread in threads:
            thread.start()
        time.sleep(opts.warmup)
        meter.start()
        time.sleep(opts.duration)
        sample = meter.stop()
        for thread in threads:
            thread.join()
    return sample


# -- the run and the report ------------------------------------------------------------

ASYNC_SIDES = [
    ASYNC_BASELINE,
    "raw httpx",
    "httpx on httpx-aiohttp",
    "cyme.AsyncClient on httpx",
    SDK_ON_AIOHTTP,
]
THREAD_SIDES = [THREAD_BASELINE, "raw httpx, one shared client", "cyme.Client, one shared"]

Results = dict[tuple[str, int, str], Cell]  # (section, level, side) -> its cell


def run(live: RunningBranch, opts: argparse.Namespace) -> Results:
    results: Results = {}
    sections: list[tuple[str, list[str], list[int], Callable[..., Sample]]] = [
        ("asyncio", ASYNC_SIDES, opts.levels, lambda *a: asyncio.run(measure_async(*a))),
        ("threads", THREAD_SIDES, opts.thread_levels, measure_threads),
    ]
    for repeat in range(opts.repeats):
        for section, sides, levels, measure in sections:
            for level in levels:
                shift = repeat % len(sides)
                order = sides[shift:] + sides[:shift]
                print(f"round {repeat + 1}/{opts.repeats}: {section}, {level} in flight ...")
                for side in order:
                    sample = measure(side, live, level, opts)
                    results.setdefault((section, level, side), Cell()).samples.append(sample)
    return results


def ratio(results: Results, section: str, level: int, side: str, baseline: str) -> float:
    """The median over the rounds of side/baseline calls per second, round by round."""
    ours, base = results[section, level, side], results[section, level, baseline]
    return statistics.median(
        a.rate / b.rate for a, b in zip(ours.samples, base.samples, strict=True)
    )


def report(results: Results, opts: argparse.Namespace) -> str:
    out = describe(opts)
    sections = [
        ("asyncio", ASYNC_SIDES, opts.levels, ASYNC_BASELINE),
        ("threads", THREAD_SIDES, opts.thread_levels, THREAD_BASELINE),
    ]
    for section, sides, levels, baseline in sections:
        out += ["", f"{section}: against {baseline}", ""]
        out.append(
            "| in flight | client | calls/s (lowest-highest) | x baseline"
            " | client CPU/call | branch CPU/call | branch busy | ceiling | errors |"
        )
        out.append("|---:|---|---:|---:|---:|---:|---:|---:|---:|")
        for level in levels:
            for side in sides:
                cell = results[section, level, side]
                low, high = cell.spread()
                out.append(
                    f"| {level} | {side} | {cell.median_rate():,.0f} ({low:,.0f}-{high:,.0f})"
                    f" | {ratio(results, section, level, side, baseline):.2f}x"
                    f" | {cell.per_call('client_cpu') * 1e6:,.0f} µs"
                    f" | {cell.per_call('branch_cpu') * 1e6:,.0f} µs"
                    f" | {cell.branch_busy():.0%}"
                    f" | {cell.ceiling()[0]:,.0f} ({cell.ceiling()[1]}) | {cell.errors()} |"
                )
    out.append("")
    for level in TARGET_LEVELS:
        if level not in opts.levels:
            continue
        got = ratio(results, "asyncio", level, SDK_ON_AIOHTTP, ASYNC_BASELINE)
        verdict = "met" if got >= TARGET else "not met"
        ours = results["asyncio", level, SDK_ON_AIOHTTP].ceiling()[0]
        base = results["asyncio", level, ASYNC_BASELINE].ceiling()[0]
        out.append(
            f"target at {level} in flight: {SDK_ON_AIOHTTP} >= {TARGET}x {ASYNC_BASELINE}:"
            f" {got:.2f}x, {verdict}; of the CPU ceilings, {ours / base:.2f}x"
        )
    return "\n".join(out)


def describe(opts: argparse.Namespace) -> list[str]:
    cpu = "?"
    with contextlib.suppress(OSError):
        for line in open("/proc/cpuinfo", encoding="utf-8"):  # noqa: SIM115
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
        f"cyme {cyme.__version__}, httpx {httpx.__version__}, aiohttp {aiohttp.__version__},"
        f" httpx-aiohttp {_version('httpx-aiohttp')}, Python {platform.python_version()}",
        f"{opts.duration} s per measure after {opts.warmup} s of warm-up, {opts.repeats} rounds",
    ]


def _version(distribution: str) -> str:
    from importlib.metadata import version  # noqa: PLC0415

    return version(distribution)


def levels(text: str) -> list[int]:
    return [int(part) for part in text.split(",")]


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--levels", type=levels, default=[1, 10, 50, 200], help="asyncio")
    parser.add_argument(
        "--thread-levels", type=levels, default=[1, 8, 50, 200], help="threads (1,8,50,200)"
    )
    parser.add_argument("--duration", type=float, default=1.5, help="seconds measured (1.5)")
    parser.add_argument("--warmup", type=float, default=0.3, help="seconds before (0.3)")
    parser.add_argument("--repeats", type=int, default=3, help="rounds (3)")
    return parse_pinned(parser, argv)


def main(argv: list[str] | None = None) -> int:
    opts = parse_args(argv)
    if not ready(opts.pin):
        return 2
    try:
        with branch(opts.pin) as live:
            with cyme.Client(live.url) as client:
                client.add(APP, broker="amqp://guest:guest@localhost:5672//")
                client.get(APP).instances.add(INSTANCE)
            results = run(live, opts)
    except (BenchError, cyme.APIError) as err:
        print(f"bench failed: {err}", file=sys.stderr)
        return 1
    print()
    print(report(results, opts))
    return 0


if __name__ == "__main__":
    sys.exit(main())
