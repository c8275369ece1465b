"""Helpers for the tests of the branch's operational features.

They run the command line to completion, poll, read the access log, and play
neighbours: one that never answers, one that answers what it is told. The
branches themselves are `cyme_branch.testing.LiveBranch` processes.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, TypeVar

from cyme_branch.auth import TOKEN_ENV
from cyme_branch.testing import LiveBranch, branch_command

T = TypeVar("T")


def run_cli(
    args: Sequence[str], env: dict[str, str] | None = None, timeout: float = 10.0
) -> subprocess.CompletedProcess[str]:
    """Run `cyme-branch ARGS` to completion (for the ones that must refuse to start)."""
    environment = {k: v for k, v in os.environ.items() if k != TOKEN_ENV}
    return subprocess.run(
        [*branch_command(), *args],
        capture_output=True,
        text=True,
        env={**environment, **(env or {})},
        stdin=subprocess.DEVNULL,
        timeout=timeout,
        check=False,
    )


def ipv6_loopback() -> bool:
    """Whether this machine can bind `::1` (some containers have no IPv6)."""
    try:
        with socket.socket(socket.AF_INET6) as sock:
            sock.bind(("::1", 0))
    except OSError:
        return False
    return True


def poll(check: Callable[[], T], timeout: float = 5.0, interval: float = 0.05) -> T:
    """Call `check` until it returns something true; return it, or the last value."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value or time.monotonic() >= deadline:
            return value
        time.sleep(interval)


# -- the access log --------------------------------------------------------

_FIELD = re.compile(r'(\w+)=("(?:[^"\\]|\\.)*"|\S+)')


def log_fields(line: str) -> dict[str, str]:
    """The key=value fields of a log line (values may be double-quoted)."""
    return {k: v[1:-1] if v.startswith('"') else v for k, v in _FIELD.findall(line)}


def access_lines(log: str, request_id: str) -> list[dict[str, str]]:
    """The access-log lines (with `method=`) of the request with this id."""
    found = []
    for line in log.splitlines():
        fields = log_fields(line)
        if fields.get("request_id") == request_id and "method" in fields:
            found.append({**fields, "_line": line})
    return found


def wait_for_access_line(branch: LiveBranch, request_id: str, timeout: float = 5.0) -> list[dict]:
    return poll(lambda: access_lines(branch.log_text(), request_id), timeout)


# -- a neighbour that accepts connections and never answers ------------------


@contextmanager
def hanging_server() -> Iterator[int]:
    """A TCP server on 127.0.0.1 that accepts and reads, and never answers."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    listener.listen(32)
    listener.settimeout(0.1)
    stop = threading.Event()
    held: list[socket.socket] = []

    def accept() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except (TimeoutError, OSError):
                continue
            held.append(conn)

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield listener.getsockname()[1]
    finally:
        stop.set()
        thread.join(2)
        for conn in held:
            conn.close()
        listener.close()


def headers_text(headers: Any) -> str:
    return "\n".join(f"{k}: {v}" for k, v in headers.items())


# -- a neighbour that answers what it is told ----------------------------------

Answer = tuple[int, dict[str, str], bytes]


@contextmanager
def fake_peer(answers: dict[str, Answer]) -> Iterator[tuple[int, list[dict[str, str]]]]:
    """An HTTP server on 127.0.0.1 answering GET PATH with `answers[PATH]` (else 404).

    Yields its port and the headers of the requests it got.
    """
    seen: list[dict[str, str]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            seen.append({"path": self.path, **dict(self.headers.items())})
            status, headers, body = answers.get(self.path, (404, {}, b"not here"))
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1], seen
    finally:
        server.shutdown()
        server.server_close()
        thread.join(2)
