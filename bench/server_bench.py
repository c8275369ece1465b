"""Requests per second and p99 latency of the branch, against bare aiohttp and Prism.

Run by `make bench`, which installs wrk, Node.js and Prism (bench/package.json)
first. In one run this script:

1. starts a fresh `cyme-branch` on a free loopback port (the harness
   `cyme_branch.testing.LiveBranch`), with its state in a temporary
   directory, and creates the app `pycon` and the instance `w1`;
2. starts the two baselines on free ports: `aiohttp_baseline.py`, a bare
   aiohttp handler (the branch's own aiohttp) answering the very bytes the
   branch answers to `GET /pycon/instances/w1`, with the same headers, and
   does nothing else; and `prism mock openapi.yaml`, Prism's mock server of
   the same contract;
3. checks that each answers the measured requests with 2xx;
4. loads each with wrk (one thread, same connections and duration, after a
   warm-up), --rounds times, the servers taking turns so that noise on the
   machine hits them alike: `GET /pycon/instances/w1` on all three, and
   `POST /pycon/instances/w1/autoscale` with the JSON body {"min":1,"max":4}
   on the branch and Prism (the bare handler has nothing to write);
5. prints the median requests/s and p99 latency of each, and the CPU time
   the server's process took per request (from /proc: user and system time
   over the run, divided by the requests served); the ratios
   cyme-branch/aiohttp and cyme-branch/Prism (and those of every round); and
   whether the targets are met: on the GET, at least half bare aiohttp's
   requests/s, and at least 1.5 times Prism's. Requests/s depend on what
   else the machine runs at the time (wrk needs its CPU too); CPU time per
   request much less, so its ratio is the steadier one;
6. stops the servers.

The branch and Prism log every request, as they do by default (--quiet:
neither does); the bare handler logs nothing. Only loopback addresses are
used. On a machine with two or more cores the servers run on CPU 0 and wrk on
CPU 1 (--no-pin to let the kernel place them).
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import json
import os
import platform
import re
import select
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from cyme_branch.testing import BranchFailed, LiveBranch, free_port

ROOT = Path(__file__).resolve().parent.parent
SPEC = ROOT / "openapi.yaml"
PRISM = ROOT / "bench" / "node_modules" / ".bin" / "prism"
PRISM_PACKAGE = ROOT / "bench" / "node_modules" / "@stoplight" / "prism-cli" / "package.json"
POST_LUA = ROOT / "bench" / "post_autoscale.lua"
BASELINE = ROOT / "bench" / "aiohttp_baseline.py"
BRANCH = Path(sys.executable).parent / "cyme-branch"

HOST = "127.0.0.1"
APP = "pycon"
INSTANCE = "w1"
GET_PATH = f"/{APP}/instances/{INSTANCE}"
POST_PATH = f"/{APP}/instances/{INSTANCE}/autoscale"
POST_BODY = b'{"min":1,"max":4}'
OURS, BARE, PRISM_NAME = "cyme-branch", "aiohttp", "prism"
TARGETS = {BARE: 0.5, PRISM_NAME: 1.5}  # GET requests/s, ours over theirs, at least
START_TIMEOUT = 60.0

SERVER_CPU = 0
WRK_CPU = 1


class BenchError(Exception):
    """The benchmark cannot go on."""


@dataclass
class Endpoint:
    label: str
    path: str
    lua: Path | None  # wrk script, for requests other than GET
    servers: tuple[str, ...]


@dataclass
class Result:
    rps: float
    p99_ms: float
    requests: int
    non_2xx: int
    socket_errors: int
    cpu_us: float = 0.0  # the server's CPU time per request, in microseconds


ENDPOINTS = [
    Endpoint(f"GET {GET_PATH}", GET_PATH, None, (OURS, BARE, PRISM_NAME)),
    Endpoint(f"POST {POST_PATH}", POST_PATH, POST_LUA, (OURS, PRISM_NAME)),
]

_DIRECT = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # loopback, no proxy


def request(
    method: str, url: str, body: bytes | None = None, timeout: float = 5.0
) -> tuple[int, bytes]:
    headers = {"Content-Type": "application/json"} if body is not None else {}
    # Only http://127.0.0.1 URLs of the servers started here.
    req = urllib.request.Request(url, body, headers, method=method)  # noqa: S310
    try:
        with _DIRECT.open(req, timeout=timeout) as resp:
            return int(resp.status), bytes(resp.read())
    except urllib.error.HTTPError as err:
        return int(err.code), bytes(err.read())


def tail(path: Path, lines: int = 20) -> str:
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return ""
    return "\n".join(text.splitlines()[-lines:])


def pinned(argv: list[str], cpu: int | None) -> list[str]:
    """The command run on one CPU only, with taskset (util-linux)."""
    return argv if cpu is None else ["taskset", "--cpu-list", str(cpu), *argv]


class Process:
    """A baseline server started in its own session, stopped with SIGTERM, then SIGKILL."""

    def __init__(self, name: str, argv: list[str], log: Path, cpu: int | None) -> None:
        self.name = name
        self.log = log
        with log.open("wb") as out:
            self.proc = subprocess.Popen(
                pinned(argv, cpu),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=out,
                start_new_session=True,
            )

    def failed(self, what: str) -> BenchError:
        return BenchError(f"{self.name} {what}:\n{tail(self.log)}")

    def wait_ready_line(self, timeout: float = START_TIMEOUT) -> None:
        """Wait for the line {"event": "ready", ...} on its stdout."""
        assert self.proc.stdout is not None
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise self.failed(f"did not say it was ready in {timeout:.0f} s")
            readable, _, _ = select.select([self.proc.stdout], [], [], left)
            if not readable:
                continue
            line = self.proc.stdout.readline()
            if not line:
                raise self.failed(f"exited with {self.proc.wait()}")
            with contextlib.suppress(ValueError):
                if json.loads(line).get("event") == "ready":
                    return

    def wait_listening(self, port: int, timeout: float = START_TIMEOUT) -> None:
        """Wait until it accepts connections (Prism says nothing at --quiet)."""
        deadline = time.monotonic() + timeout
        while True:
            if self.proc.poll() is not None:
                raise self.failed(f"exited with {self.proc.returncode}")
            with socket.socket() as sock:
                if sock.connect_ex((HOST, port)) == 0:
                    return
            if time.monotonic() > deadline:
                raise self.failed(f"did not listen on port {port} in {timeout:.0f} s")
            time.sleep(0.2)

    def stop(self) -> None:
        if self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=10)
        if self.proc.stdout is not None:
            self.proc.stdout.close()


@contextlib.contextmanager
def running(name: str, argv: list[str], log: Path, cpu: int | None) -> Iterator[Process]:
    process = Process(name, argv, log, cpu)
    try:
        yield process
    finally:
        process.stop()


_UNITS_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0, "h": 3_600_000.0}


def parse_wrk(output: str) -> Result:
    rps = re.search(r"^Requests/sec:\s+([\d.]+)", output, re.M)
    p99 = re.search(r"^\s+99%\s+([\d.]+)(us|ms|s|m|h)\s*$", output, re.M)
    total = re.search(r"^\s+(\d+) requests in", output, re.M)
    if not (rps and p99 and total):
        raise BenchError(f"cannot read wrk's output:\n{output}")
    non_2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    sock = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    )
    return Result(
        rps=float(rps.group(1)),
        p99_ms=float(p99.group(1)) * _UNITS_MS[p99.group(2)],
        requests=int(total.group(1)),
        non_2xx=int(non_2xx.group(1)) if non_2xx else 0,
        socket_errors=sum(int(n) for n in sock.groups()) if sock else 0,
    )


def cpu_seconds(pid: int) -> float:
    """User and system time of a process so far (all its threads), from /proc."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def wrk(
    url: str, endpoint: Endpoint, duration: float, opts: argparse.Namespace, pid: int
) -> Result:
    argv = [
        "wrk",
        f"-t{opts.threads}",
        f"-c{opts.connections}",
        f"-d{duration:g}s",
        f"--timeout={opts.timeout:g}s",
        "--latency",
    ]
    if endpoint.lua is not None:
        argv += ["-s", str(endpoint.lua)]
    argv = pinned([*argv, url + endpoint.path], WRK_CPU if opts.pin else None)
    before = cpu_seconds(pid)
    done = subprocess.run(
        argv,
        capture_output=True,
        text=True,
        timeout=duration + opts.timeout + 30,
        check=False,
    )
    used = cpu_seconds(pid) - before
    if done.returncode != 0:
        raise BenchError(f"{' '.join(argv)} failed:\n{done.stdout}{done.stderr}")
    result = parse_wrk(done.stdout)
    result.cpu_us = used / max(result.requests, 1) * 1e6
    return result


def check_2xx(name: str, url: str) -> None:
    """Each measured request must succeed once before it is measured."""
    for endpoint in ENDPOINTS:
        if name not in endpoint.servers:
            continue
        method, path = endpoint.label.split(" ", 1)
        status, answer = request(method, url + path, POST_BODY if method == "POST" else None)
        if not 200 <= status < 300:
            raise BenchError(
                f"{name}: {method} {path} answered {status}, not 2xx: {answer[:500]!r}"
            )


def setup_branch(url: str) -> bytes:
    """Create the app and the instance; the instance's JSON, as the branch answers it."""
    for method, path, body, expected in (
        ("PUT", f"/{APP}", b'{"broker": "amqp://guest:guest@localhost:5672//"}', {200, 201}),
        ("POST", f"/{APP}/instances/{INSTANCE}", None, {201}),
        ("GET", GET_PATH, None, {200}),
    ):
        status, answer = request(method, url + path, body)
        if status not in expected:
            raise BenchError(f"branch: {method} {path} answered {status}: {answer[:500]!r}")
    return answer


def version_of(argv: list[str]) -> str:
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=10, check=False)
    except OSError:
        return "?"
    lines = (done.stdout + done.stderr).strip().splitlines()
    return lines[0] if lines else "?"


def describe_machine(opts: argparse.Namespace) -> list[str]:
    cpu = "?"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    versions = {}
    for package in ("cyme-branch", "aiohttp"):
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = "?"
    try:
        prism_version = json.loads(PRISM_PACKAGE.read_text())["version"]
    except (OSError, ValueError, KeyError):
        prism_version = "?"
    wrk_version = version_of(["wrk", "-v"]).split(" Copyright")[0]
    placement = f"servers on CPU {SERVER_CPU}, wrk on CPU {WRK_CPU}" if opts.pin else "not pinned"
    return [
        f"date: {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC",
        f"machine: {os.cpu_count()} cores ({cpu}), {platform.system()} {platform.release()}",
        f"placement: {placement}",
        f"cyme-branch {versions['cyme-branch']} on Python {platform.python_version()}"
        f" (-l {opts.branch_log_level}); bare aiohttp {versions['aiohttp']}, no log",
        f"prism {prism_version} on Node.js {version_of(['node', '--version'])}"
        f" (-v {opts.prism_log_level})",
        (
            f"load: {wrk_version}; -t{opts.threads} -c{opts.connections}"
            f" -d{opts.duration:g}s --latency, after a {opts.warmup:g} s warm-up;"
            f" {opts.rounds} rounds, medians"
        ),
    ]


def fmt_ratio(value: float) -> str:
    return f"{value:.2f}x"


def median_result(runs: list[Result]) -> Result:
    return Result(
        rps=statistics.median(r.rps for r in runs),
        p99_ms=statistics.median(r.p99_ms for r in runs),
        requests=sum(r.requests for r in runs),
        non_2xx=sum(r.non_2xx for r in runs),
        socket_errors=sum(r.socket_errors for r in runs),
        cpu_us=statistics.median(r.cpu_us for r in runs),
    )


def report(results: dict[tuple[str, str], list[Result]], header: list[str]) -> str:
    out = [*header, ""]
    out.append(
        "| request | server | requests/s | p99 latency | CPU per request | requests"
        " | non-2xx | socket errors |"
    )
    out.append("|---|---|---:|---:|---:|---:|---:|---:|")
    medians = {key: median_result(runs) for key, runs in results.items()}
    for endpoint in ENDPOINTS:
        for name in endpoint.servers:
            r = medians[endpoint.label, name]
            out.append(
                f"| {endpoint.label} | {name} | {r.rps:,.0f} | {r.p99_ms:.2f} ms"
                f" | {r.cpu_us:.1f} µs | {r.requests:,} | {r.non_2xx} | {r.socket_errors} |"
            )
    out += [
        "",
        "| request | ours/theirs | requests/s | p99 latency | theirs/ours, CPU per request"
        " | requests/s, each round |",
        "|---|---|---:|---:|---:|---|",
    ]
    for endpoint in ENDPOINTS:
        for name in endpoint.servers[1:]:
            a, b = medians[endpoint.label, OURS], medians[endpoint.label, name]
            rounds = zip(results[endpoint.label, OURS], results[endpoint.label, name], strict=True)
            each = ", ".join(fmt_ratio(x.rps / y.rps) for x, y in rounds)
            cpu = fmt_ratio(b.cpu_us / a.cpu_us) if a.cpu_us else "?"
            out.append(
                f"| {endpoint.label} | {OURS}/{name} | {fmt_ratio(a.rps / b.rps)}"
                f" | {fmt_ratio(a.p99_ms / b.p99_ms)} | {cpu} | {each} |"
            )
    get = ENDPOINTS[0].label
    out.append("")
    for name, target in TARGETS.items():
        ratio = medians[get, OURS].rps / medians[get, name].rps
        verdict = "met" if ratio >= target else "NOT met"
        out.append(
            f"Target: {OURS} serves at least {target}x {name}'s requests/s on {get}:"
            f" {verdict} ({ratio:.2f}x)."
        )
    errors = sum(r.non_2xx + r.socket_errors for r in medians.values())
    if errors:
        out.append(f"Warning: {errors} non-2xx responses or socket errors during the runs.")
    return "\n".join(out)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=10, help="seconds per run (10)")
    parser.add_argument("--warmup", type=float, default=3, help="seconds of warm-up (3)")
    parser.add_argument(
        "--rounds", type=int, default=3, help="runs per request and server, taking turns (3)"
    )
    parser.add_argument("--connections", type=int, default=32, help="wrk -c (32)")
    parser.add_argument("--threads", type=int, default=1, help="wrk -t (1)")
    parser.add_argument("--timeout", type=float, default=2, help="wrk --timeout, seconds (2)")
    parser.add_argument(
        "--prism-log-level",
        default="info",
        help="prism -v: Prism's log level (its default, info, logs every request)",
    )
    parser.add_argument(
        "--quiet",
        action="store_true",
        help="no per-request log lines: cyme-branch -l WARNING, prism -v warn",
    )
    parser.add_argument(
        "--no-pin",
        dest="pin",
        action="store_false",
        help="do not pin the servers to CPU 0 and wrk to CPU 1",
    )
    opts = parser.parse_args(argv)
    opts.branch_log_level = "WARNING" if opts.quiet else "INFO"
    if opts.quiet:
        opts.prism_log_level = "warn"
    if opts.pin and (os.cpu_count() or 1) < 2:
        opts.pin = False
    if opts.rounds < 1:
        parser.error("--rounds must be at least 1")
    return opts


def main(argv: list[str] | None = None) -> int:
    opts = parse_args(argv)
    missing = [
        what
        for what, ok in (
            ("wrk", shutil.which("wrk")),
            ("node", shutil.which("node")),
            (str(PRISM) + " (run `make bench`)", PRISM.exists()),
            (str(BRANCH) + " (run `make install`)", BRANCH.exists()),
        )
        if not ok
    ]
    if missing:
        print("missing: " + ", ".join(missing), file=sys.stderr)
        return 2

    cpu = SERVER_CPU if opts.pin else None
    results: dict[tuple[str, str], list[Result]] = {}
    with tempfile.TemporaryDirectory(prefix="cyme-bench-") as tmp_dir:
        tmp = Path(tmp_dir)
        bare_port, prism_port = free_port(), free_port()
        urls = {BARE: f"http://{HOST}:{bare_port}", PRISM_NAME: f"http://{HOST}:{prism_port}"}
        try:
            with contextlib.ExitStack() as stack:
                print(f"starting {OURS} ...", flush=True)
                branch = LiveBranch(
                    tmp / "branch",
                    "bench",
                    loglevel=opts.branch_log_level,
                    prefix=pinned([], cpu),
                    start_timeout=START_TIMEOUT,
                )
                stack.enter_context(branch)
                urls[OURS] = branch.url
                assert branch.pid is not None
                pids = {OURS: branch.pid}
                body = setup_branch(branch.url)
                (tmp / "instance.json").write_bytes(body)
                print(f"starting {BARE} on {urls[BARE]} ...", flush=True)
                bare = stack.enter_context(
                    running(
                        BARE,
                        [sys.executable, str(BASELINE), str(bare_port), str(tmp / "instance.json")],
                        tmp / "aiohttp.log",
                        cpu,
                    )
                )
                bare.wait_ready_line()
                pids[BARE] = bare.proc.pid
                print(f"starting {PRISM_NAME} on {urls[PRISM_NAME]} ...", flush=True)
                prism = stack.enter_context(
                    running(
                        PRISM_NAME,
                        [
                            str(PRISM),
                            "mock",
                            str(SPEC),
                            "-h",
                            HOST,
                            "-p",
                            str(prism_port),
                            "-v",
                            opts.prism_log_level,
                        ],
                        tmp / "prism.log",
                        cpu,
                    )
                )
                prism.wait_listening(prism_port)
                pids[PRISM_NAME] = prism.proc.pid
                for name, url in urls.items():
                    check_2xx(name, url)
                if request("GET", urls[BARE] + GET_PATH)[1] != body:
                    raise BenchError(f"{BARE} does not answer the branch's bytes")
                for n in range(opts.rounds):
                    for endpoint in ENDPOINTS:
                        for name in endpoint.servers:
                            print(f"round {n + 1}: {endpoint.label} on {name} ...", flush=True)
                            if opts.warmup > 0:
                                wrk(urls[name], endpoint, opts.warmup, opts, pids[name])
                            run = wrk(urls[name], endpoint, opts.duration, opts, pids[name])
                            results.setdefault((endpoint.label, name), []).append(run)
        except (BenchError, BranchFailed) as err:
            print(f"bench failed: {err}", file=sys.stderr)
            return 1
    print()
    print(report(results, describe_machine(opts)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
