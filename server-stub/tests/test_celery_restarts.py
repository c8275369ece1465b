"""A branch with real workers stops them when it stops, and starts them again.

A branch that is killed leaves its workers running; the next branch on the
directory adopts them instead of starting a second worker per instance.
"""

from __future__ import annotations

import os
import signal
import sqlite3
from pathlib import Path

import pytest
from celery_support import CeleryBranch, Probe, RedisServer, alive, wait_for
from contract import ContractValidator, contract_client, unique

pytestmark = pytest.mark.slow


def test_workers_stop_with_the_branch_and_come_back_with_it(
    tmp_path: Path, redis_server: RedisServer, validator: ContractValidator
):
    live = CeleryBranch(tmp_path, "restarts")
    probe = Probe(redis_server.url())
    live.start()
    try:
        with contract_client(live.url, validator) as http:
            app, name = unique("app"), unique("w")
            http.put(f"/{app}", json={"broker": redis_server.url()})
            assert http.post(f"/{app}/instances/{name}").status_code == 201
            http.put(f"/{app}/queues/jobs")
            http.put(f"/{app}/instances/{name}/queues/jobs")
            http.put(f"/{app}/instances/{name}/autoscale", json={"min": 2, "max": 3})
        first = live.worker_pid(name)
        assert first is not None

        # A stop is a warm shutdown of every worker; their directories stay.
        assert live.stop() == 0
        assert live.leftovers == []
        assert not alive(first)
        assert (live.dir / name / "worker.log").exists()
        assert f"> {name}: STOPPED (warm shutdown)" in live.log_text()

        live.start()
        expected = {f"dq.{name}", "jobs"}
        wait_for(lambda: probe.queues(name) == expected, 20, "the worker back, as stored")
        second = live.worker_pid(name)
        assert second not in (None, first)
        stats = probe.ask(name, "stats")
        assert (stats["autoscaler"]["max"], stats["autoscaler"]["min"]) == (3, 2)

        # A killed branch leaves its worker running; the next one adopts it.
        live.stop(signal.SIGKILL, keep_workers=True)
        assert second is not None and alive(second)
        live.start()
        assert f"> {name}: adopted its running worker (pid {second})" in live.log_text()
        with contract_client(live.url, validator) as http:
            response = http.get(f"/{app}/instances/{name}/stats")
            assert response.status_code == 200, response.text
            assert response.json()["pid"] == second
            assert {q["name"] for q in http.get(f"/{app}/instances/{name}/queues").json()} == (
                expected
            )
            # An adopted worker is not the branch's child: how it exits is unknown.
            os.kill(second, signal.SIGKILL)
            wait_for(lambda: not alive(second), 10, "the adopted worker gone")
            gone = http.get(f"/{app}/instances/{name}").json()
            assert gone["state"] in ("stopped", "backoff")
            last = gone["last_exit"]
            assert (last["code"], last["signal"]) == (None, None)
            assert "adopted" in last["reason"]
            wait_for(lambda: probe.queues(name) == expected, 30, "the worker back again")
        assert live.stop() == 0
        assert live.leftovers == []
        assert not alive(second)
    finally:
        live.stop()
        probe.close()


def test_a_disabled_instance_whose_worker_still_runs_is_stopped_at_start(
    tmp_path: Path, redis_server: RedisServer, validator: ContractValidator
):
    """A branch killed between storing a disable and stopping the worker leaves the
    worker running: the next branch on the directory stops it."""
    live = CeleryBranch(tmp_path, "disabled-leftover")
    live.start()
    try:
        with contract_client(live.url, validator) as http:
            app, name = unique("app"), unique("w")
            http.put(f"/{app}", json={"broker": redis_server.url()})
            assert http.post(f"/{app}/instances/{name}").status_code == 201
        pid = live.worker_pid(name)
        assert pid is not None
        live.stop(signal.SIGKILL, keep_workers=True)
        assert alive(pid)
        # What the killed branch had stored, and not yet done.
        with sqlite3.connect(live.dir / ".branch.sqlite3") as db:
            db.execute("UPDATE instance SET is_enabled = 0 WHERE name = ?", (name,))
        live.start()
        wait_for(lambda: not alive(pid), 20, "the worker stopped")
        assert f"> {name}: disabled, its worker still ran: STOPPED" in live.log_text()
        with contract_client(live.url, validator) as http:
            body = http.get(f"/{app}/instances/{name}").json()
            assert (body["state"], body["pid"]) == ("disabled", None)
    finally:
        live.stop()
