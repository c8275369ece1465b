"""State lives in SQLite inside DIR: a restarted branch remembers everything."""

from __future__ import annotations

import signal

import httpx
import pytest
from contract import ContractValidator, contract_client, snapshot

from cyme_branch.testing import LiveBranch

pytestmark = pytest.mark.slow


STEPS = [
    ("PUT", "/pycon", {"broker": "redis://localhost:6379/3", "arguments": "--workdir=/opt"}, 201),
    ("PUT", "/pycon", {"extra_config": {"worker_prefetch_multiplier": 4}}, 200),
    ("PUT", "/pycon", {"backend": "redis://:pw@localhost:6379/4"}, 200),
    ("PUT", "/pycon/queues/images", {"exchange": "media", "exchange_type": "topic"}, 201),
    (
        "PUT",
        "/pycon/queues/images",
        {"routing_key": "images.#", "options": {"durable": False}},
        200,
    ),
    ("PUT", "/pycon/queues/celery", None, 201),
    ("POST", "/pycon/instances/w1", {"pool": "threads"}, 201),
    ("PUT", "/pycon/instances/w1/autoscale", {"min": 4, "max": 10}, 200),
    ("PUT", "/pycon/instances/w1/queues/images", None, 201),
    ("POST", "/pycon/instances/w2", None, 201),
    ("PUT", "/pycon/instances/w2/queues/celery", None, 201),
    ("PUT", "/other", None, 201),
    ("POST", "/other/instances/gone", None, 201),
    ("DELETE", "/other/instances/gone", None, 200),
    ("PUT", "/other/queues/gone", None, 201),
    ("DELETE", "/other/queues/gone", None, 200),
]


def build(http: httpx.Client) -> None:
    for method, path, body, status in STEPS:
        response = http.request(method, path, json=body)
        assert response.status_code == status, f"{method} {path}: {response.text}"


def test_restart_keeps_apps_instances_queues_consumers_and_autoscale(
    fresh_branch: LiveBranch, validator: ContractValidator
):
    with contract_client(fresh_branch.url, validator) as http:
        build(http)
        before = {app: snapshot(http, app) for app in ("pycon", "other")}

    fresh_branch.restart()

    with contract_client(fresh_branch.url, validator) as http:
        after = {app: snapshot(http, app) for app in ("pycon", "other")}
        assert after == before
        assert sorted(http.get("/").json()) == ["other", "pycon"]
        assert before["pycon"]["instances"]["w1"]["autoscale"] == {"max": 10, "min": 4}
        assert before["pycon"]["instances"]["w1"]["consumers"] == ["dq.w1", "images"]
        assert before["other"]["instances"] == {}
        assert before["other"]["queues"] == {}

        # The restarted workers run with their saved settings.
        stats = http.get("/pycon/instances/w1/stats").json()
        assert len(stats["pool"]["processes"]) == 4
        assert stats["autoscaler"]["current"] == 4
        assert (fresh_branch.dir / "w1" / "worker.pid").is_file()
        assert not (fresh_branch.dir / "gone").exists()

        # Uniqueness is still enforced, and the branch still accepts changes.
        assert http.post("/other/instances/w1").status_code == 409
        assert http.put("/pycon/instances/w1/autoscale", json={"max": 12}).json() == {
            "max": 12,
            "min": 4,
        }
        assert http.delete("/pycon/instances/w2").status_code == 200

    fresh_branch.restart()

    with contract_client(fresh_branch.url, validator) as http:
        assert http.get("/pycon/instances").json() == ["w1"]
        assert http.get("/pycon/instances/w1/autoscale").json() == {"max": 12, "min": 4}
        assert not (fresh_branch.dir / "w2").exists()


def test_deleted_app_stays_deleted_after_restart(
    fresh_branch: LiveBranch, validator: ContractValidator
):
    with contract_client(fresh_branch.url, validator) as http:
        build(http)
        assert http.delete("/pycon").status_code == 200
    fresh_branch.restart()
    with contract_client(fresh_branch.url, validator) as http:
        assert http.get("/").json() == ["other"]
        assert http.get("/pycon").status_code == 404
        assert http.post("/other/instances/w1").status_code == 201
    assert not (fresh_branch.dir / "w2").exists()


def test_state_survives_a_killed_branch(fresh_branch: LiveBranch, validator: ContractValidator):
    """Every answered change is on disk: SIGKILL, which allows no clean shutdown, loses nothing."""
    with contract_client(fresh_branch.url, validator) as http:
        build(http)
        before = {app: snapshot(http, app) for app in ("pycon", "other")}
    assert fresh_branch.stop(signal.SIGKILL) is not None
    fresh_branch.start()
    with contract_client(fresh_branch.url, validator) as http:
        assert {app: snapshot(http, app) for app in ("pycon", "other")} == before
