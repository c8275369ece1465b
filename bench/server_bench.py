"""Requests per second and p99 latency of the branch, against Prism's mock server.

Run by `make bench`, which installs wrk, Node.js and Prism (bench/package.json)
first. In one run this script:

1. starts a fresh `cyme-branch` on a free loopback port, with its state in a
   temporary directory, and creates the app `pycon` and the instance `w1`;
2. starts `prism mock openapi.yaml` (the same contract) on another free port;
3. checks that both answer the measured requests with 2xx;
4. loads each with wrk (one thread, same connections and duration, after a
   warm-up): `GET /pycon/instances/w1` and `POST /pycon/instances/w1/autoscale`
   with the JSON body {"min":1,"max":4};
5. prints requests/s, p99 latency and the ratios ours/Prism, and whether the
   target (GET requests/s at least 1.5 times Prism's) is met;
6. stops both servers.

Both servers log every request, as they do by default (--quiet: neither
does). Only loopback addresses are used. On a machine with two or more cores the
servers run on CPU 0 and wrk on CPU 1 (--no-pin to let the kernel place them).
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import json
import os
import platform
import re
import shutil
import signal
import socket
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

ROOT = Path(__file__).resolve().parent.parent
SPEC = ROOT / "openapi.yaml"
PRISM = ROOT / "bench" / "node_modules" / ".bin" / "prism"
PRISM_PACKAGE = ROOT / "bench" / "node_modules" / "@stoplight" / "prism-cli" / "package.json"
POST_LUA = ROOT / "bench" / "post_autoscale.lua"
BRANCH = Path(sys.executable).parent / "cyme-branch"

HOST = "127.0.0.1"
APP = "pycon"
INSTANCE = "w1"
GET_PATH = f"/{APP}/instances/{INSTANCE}"
POST_PATH = f"/{APP}/instances/{INSTANCE}/autoscale"
POST_BODY = b'{"min":1,"max":4}'
TARGET = 1.5  # GET requests/s, ours over Prism's

SERVER_CPU = 0
WRK_CPU = 1


class BenchError(Exception):
    """The benchmark cannot go on."""


@dataclass
class Endpoint:
    label: str
    path: str
    lua: Path | None  # wrk script, for requests other than GET


@dataclass
class Result:
    rps: float
    p99_ms: float
    requests: int
    non_2xx: int
    socket_errors: int


ENDPOINTS = [
    Endpoint(f"GET {GET_PATH}", GET_PATH, None),
    Endpoint(f"POST {POST_PATH}", POST_PATH, POST_LUA),
]


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


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
    """A server started in its own session, stopped with SIGTERM, then SIGKILL."""

    def __init__(self, name: str, argv: list[str], log: Path, cpu: int | None) -> None:
        self.name = name
        self.log = log
        with log.open("wb") as out:
            self.proc = subprocess.Popen(
                pinned(argv, cpu),
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def wait_ready(self, url: str, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise BenchError(
                    f"{self.name} exited with {self.proc.returncode}:\n{tail(self.log)}"
                )
            try:
                status, _ = request("GET", url + "/ping", timeout=1.0)
            except OSError:
                status = 0
            if status == 200:
                return
            time.sleep(0.2)
        raise BenchError(
            f"{self.name} did not answer GET /ping in {timeout:.0f} s:\n{tail(self.log)}"
        )

    def stop(self) -> None:
        if self.proc.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)


@contextlib.contextmanager
def running(name: str, argv: list[str], log: Path, url: str, cpu: int | None) -> Iterator[Process]:
    process = Process(name, argv, log, cpu)
    try:
        process.wait_ready(url)
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


def wrk(url: str, endpoint: Endpoint, duration: float, opts: argparse.Namespace) -> Result:
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
    done = subprocess.run(
        argv,
        capture_output=True,
        text=True,
        timeout=duration + opts.timeout + 30,
        check=False,
    )
    if done.returncode != 0:
        raise BenchError(f"{' '.join(argv)} failed:\n{done.stdout}{done.stderr}")
    return parse_wrk(done.stdout)


def check_2xx(name: str, url: str) -> None:
    """Each measured request must succeed once before it is measured."""
    for method, path, body in (("GET", GET_PATH, None), ("POST", POST_PATH, POST_BODY)):
        status, answer = request(method, url + path, body)
        if not 200 <= status < 300:
            raise BenchError(
                f"{name}: {method} {path} answered {status}, not 2xx: {answer[:500]!r}"
            )


def setup_branch(url: str) -> None:
    for method, path, body, expected in (
        ("PUT", f"/{APP}", b'{"broker": "amqp://guest:guest@localhost:5672//"}', {200, 201}),
        ("POST", f"/{APP}/instances/{INSTANCE}", None, {201}),
    ):
        status, answer = request(method, url + path, body)
        if status not in expected:
            raise BenchError(f"branch: {method} {path} answered {status}: {answer[:500]!r}")


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
    try:
        branch_version = metadata.version("cyme-branch")
    except metadata.PackageNotFoundError:
        branch_version = "?"
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
        f"cyme-branch {branch_version} on Python {platform.python_version()}"
        f" (-l {opts.branch_log_level})",
        f"prism {prism_version} on Node.js {version_of(['node', '--version'])}"
        f" (-v {opts.prism_log_level})",
        (
            f"load: {wrk_version}; -t{opts.threads} -c{opts.connections}"
            f" -d{opts.duration:g}s --latency, after a {opts.warmup:g} s warm-up"
        ),
    ]


def fmt_ratio(value: float) -> str:
    return f"{value:.2f}x"


def report(
    results: dict[tuple[str, str], Result], names: tuple[str, str], header: list[str]
) -> str:
    ours, theirs = names
    out = [*header, ""]
    out.append(
        "| request | server | requests/s | p99 latency | requests | non-2xx | socket errors |"
    )
    out.append("|---|---|---:|---:|---:|---:|---:|")
    for endpoint in ENDPOINTS:
        for name in names:
            r = results[endpoint.label, name]
            out.append(
                f"| {endpoint.label} | {name} | {r.rps:,.0f} | {r.p99_ms:.2f} ms"
                f" | {r.requests:,} | {r.non_2xx} | {r.socket_errors} |"
            )
    out += ["", "| request | requests/s, ours/Prism | p99 latency, ours/Prism |", "|---|---:|---:|"]
    for endpoint in ENDPOINTS:
        a, b = results[endpoint.label, ours], results[endpoint.label, theirs]
        out.append(
            f"| {endpoint.label} | {fmt_ratio(a.rps / b.rps)} | {fmt_ratio(a.p99_ms / b.p99_ms)} |"
        )
    get = ENDPOINTS[0].label
    ratio = results[get, ours].rps / results[get, theirs].rps
    verdict = "met" if ratio >= TARGET else "NOT met"
    out += [
        "",
        f"Target: {ours} serves at least {TARGET}x Prism's requests/s on {get}:"
        f" {verdict} ({ratio:.2f}x).",
    ]
    errors = sum(r.non_2xx + r.socket_errors for r in results.values())
    if errors:
        out.append(f"Warning: {errors} non-2xx responses or socket errors during the runs.")
    return "\n".join(out)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=10, help="seconds per run (10)")
    parser.add_argument("--warmup", type=float, default=3, help="seconds of warm-up (3)")
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

    ours, theirs = "cyme-branch", "prism"
    cpu = SERVER_CPU if opts.pin else None
    results: dict[tuple[str, str], Result] = {}
    with tempfile.TemporaryDirectory(prefix="cyme-bench-") as tmp_dir:
        tmp = Path(tmp_dir)
        ours_url = f"http://{HOST}:{free_port()}"
        theirs_url = f"http://{HOST}:{free_port()}"
        try:
            with contextlib.ExitStack() as stack:
                print(f"starting {ours} on {ours_url} ...", flush=True)
                stack.enter_context(
                    running(
                        ours,
                        [
                            str(BRANCH),
                            ours_url.removeprefix("http://"),
                            "-i",
                            "bench",
                            "-D",
                            str(tmp / "instances"),
                            "-l",
                            opts.branch_log_level,
                        ],
                        tmp / "branch.log",
                        ours_url,
                        cpu,
                    )
                )
                setup_branch(ours_url)
                print(f"starting {theirs} on {theirs_url} ...", flush=True)
                stack.enter_context(
                    running(
                        theirs,
                        [
                            str(PRISM),
                            "mock",
                            str(SPEC),
                            "-h",
                            HOST,
                            "-p",
                            theirs_url.rsplit(":", 1)[1],
                            "-v",
                            opts.prism_log_level,
                        ],
                        tmp / "prism.log",
                        theirs_url,
                        cpu,
                    )
                )
                check_2xx(ours, ours_url)
                check_2xx(theirs, theirs_url)
                for endpoint in ENDPOINTS:
                    for name, url in ((ours, ours_url), (theirs, theirs_url)):
                        print(f"wrk: {endpoint.label} on {name} ...", flush=True)
                        if opts.warmup > 0:
                            wrk(url, endpoint, opts.warmup, opts)
                        results[endpoint.label, name] = wrk(url, endpoint, opts.duration, opts)
        except BenchError as err:
            print(f"bench failed: {err}", file=sys.stderr)
            return 1
    print()
    print(report(results, (ours, theirs), describe_machine(opts)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
