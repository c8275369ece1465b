"""Graceful shutdown: SIGTERM finishes the requests in flight, refuses new ones."""

from __future__ import annotations

import signal
import socket
import threading
import time
from pathlib import Path

import httpx
import pytest

from cyme_branch.testing import LiveBranch

pytestmark = pytest.mark.slow


def test_sigterm_lets_a_slow_request_finish(tmp_path: Path):
    live = LiveBranch(tmp_path, "draining", fault_injection=True)
    live.start()
    proc = live.proc
    assert proc is not None
    outcome: dict[str, object] = {}

    def slow() -> None:
        started = time.monotonic()
        try:
            outcome["response"] = httpx.get(
                f"{live.url}/branches", headers={"Cyme-Fault": "delay=2; id=slow"}, timeout=10
            )
        except httpx.HTTPError as exc:
            outcome["error"] = exc
        outcome["elapsed"] = time.monotonic() - started

    try:
        thread = threading.Thread(target=slow)
        thread.start()
        time.sleep(0.5)
        proc.send_signal(signal.SIGTERM)
        time.sleep(0.5)
        assert proc.poll() is None, "the branch exited with a request in flight"
        with pytest.raises(OSError):
            socket.create_connection(("127.0.0.1", live.port), timeout=1).close()
        thread.join(10)
        assert "error" not in outcome, f"the slow request failed: {outcome.get('error')!r}"
        response = outcome["response"]
        assert isinstance(response, httpx.Response)
        assert response.status_code == 200, response.text
        assert response.json() == ["draining"]
        assert outcome["elapsed"] >= 2.0
        assert proc.wait(5) == 0, live.log_tail()
    finally:
        live.stop()
