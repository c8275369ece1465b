"""A branch killed with SIGKILL in the middle of writes comes back whole.

Every change is one SQLite transaction and instances are started from the
stored state, so after a crash each stored instance is complete (directory,
files, stats), no directory is left without an instance, and no request that
was answered 201 is lost.
"""

from __future__ import annotations

import signal
import sqlite3
import threading
import time

import httpx
import pytest
from contract import unique

from cyme_branch.testing import LiveBranch

WORKER_FILES = {"worker.log", "worker.pid", "worker.statedb"}


@pytest.mark.slow
def test_sigkill_during_creates_leaves_no_half_made_instance(fresh_branch: LiveBranch) -> None:
    app = unique("crash")
    assert httpx.put(f"{fresh_branch.url}/{app}").status_code == 201
    answered: list[str] = []
    stop = threading.Event()

    def create(worker: int) -> None:
        with httpx.Client(base_url=fresh_branch.url, timeout=5.0) as http:
            for n in range(10_000):
                if stop.is_set():
                    return
                name = f"w{worker}-{n}"
                try:
                    response = http.post(f"/{app}/instances/{name}")
                    if response.status_code == 201:
                        answered.append(name)
                        http.put(f"/{app}/instances/{name}/autoscale", json={"min": 2, "max": 3})
                except httpx.TransportError:
                    return  # the branch is gone

    threads = [threading.Thread(target=create, args=(i,)) for i in range(4)]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + 10
    while len(answered) < 40 and time.monotonic() < deadline:
        time.sleep(0.01)
    fresh_branch.stop(signal.SIGKILL)
    stop.set()
    for thread in threads:
        thread.join(10)
    assert len(answered) >= 40, "the branch created too few instances before the kill"

    db = sqlite3.connect(fresh_branch.dir / ".branch.sqlite3")
    assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    db.close()

    fresh_branch.start()
    with httpx.Client(base_url=fresh_branch.url, timeout=5.0) as http:
        names = http.get(f"/{app}/instances").json()
        # Nothing answered 201 is lost; at most the in-flight ones also made it.
        assert set(answered) <= set(names)
        assert len(names) <= len(answered) + len(threads)
        for name in names:
            instance = http.get(f"/{app}/instances/{name}")
            assert instance.status_code == 200
            stats = http.get(f"/{app}/instances/{name}/stats").json()
            bounds = http.get(f"/{app}/instances/{name}/autoscale").json()
            assert len(stats["pool"]["processes"]) == bounds["min"]
            assert {p.name for p in (fresh_branch.dir / name).iterdir()} == WORKER_FILES
    directories = {p.name for p in fresh_branch.dir.iterdir() if not p.name.startswith(".")}
    assert directories == set(names)
