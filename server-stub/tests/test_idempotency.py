"""Idempotency-Key: a retried POST replays the first answer instead of redoing it."""

from __future__ import annotations

import contextlib
import sqlite3
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from contract import ContractValidator, assert_problem, contract_client, unique
from live import poll

from cyme_branch.testing import LiveBranch


def key() -> str:
    return f"key-{uuid.uuid4()}"


def assert_replayed(first: httpx.Response, again: httpx.Response) -> None:
    assert first.headers.get("idempotent-replayed", "").lower() != "true"
    assert again.headers.get("idempotent-replayed", "").lower() == "true", dict(again.headers)
    assert again.status_code == first.status_code
    assert again.json() == first.json()
    assert again.content == first.content, "the replayed body differs byte for byte"


def test_a_retried_create_replays_the_first_answer(client: httpx.Client, app: str):
    headers = {"Idempotency-Key": key()}
    first = client.post(f"/{app}/instances", headers=headers)
    assert first.status_code == 201, first.text
    again = client.post(f"/{app}/instances", headers=headers)
    assert_replayed(first, again)
    assert again.headers.get("location") == first.headers["location"]
    assert client.get(f"/{app}/instances").json() == [first.json()["name"]]


def test_a_retried_named_create_replays_201_not_409(client: httpx.Client, app: str):
    name = unique("w")
    headers = {"Idempotency-Key": key()}
    first = client.post(f"/{app}/instances/{name}", json={"pool": "solo"}, headers=headers)
    assert first.status_code == 201, first.text
    again = client.post(f"/{app}/instances/{name}", json={"pool": "solo"}, headers=headers)
    assert_replayed(first, again)
    assert client.get(f"/{app}/instances").json() == [name]
    # Without the key the same request is a new one: the name is taken.
    assert_problem(client.post(f"/{app}/instances/{name}", json={"pool": "solo"}), 409)


def test_a_retried_post_app_replays_201(client: httpx.Client):
    app = unique("app")
    headers = {"Idempotency-Key": key()}
    try:
        first = client.post(f"/{app}", json={"arguments": "-l info"}, headers=headers)
        assert first.status_code == 201
        again = client.post(f"/{app}", json={"arguments": "-l info"}, headers=headers)
        assert_replayed(first, again)  # 201 again, where a plain retry answers 200
        assert client.post(f"/{app}", json={"arguments": "-l info"}).status_code == 200
    finally:
        client.delete(f"/{app}")


def test_a_retried_post_autoscale_is_not_redone(client: httpx.Client, app: str, instance: dict):
    url = f"/{app}/instances/{instance['name']}/autoscale"
    headers = {"Idempotency-Key": key()}
    first = client.post(url, json={"min": 2, "max": 4}, headers=headers)
    assert first.status_code == 200
    assert client.put(url, json={"min": 1, "max": 1}).status_code == 200
    again = client.post(url, json={"min": 2, "max": 4}, headers=headers)
    assert_replayed(first, again)
    assert client.get(url).json() == {"min": 1, "max": 1}, "the replay redid the work"


def test_different_keys_are_different_requests(client: httpx.Client, app: str):
    names = {
        client.post(f"/{app}/instances", headers={"Idempotency-Key": key()}).json()["name"]
        for _ in range(3)
    }
    assert len(names) == 3
    assert sorted(client.get(f"/{app}/instances").json()) == sorted(names)


@pytest.mark.parametrize("change", ["body", "query", "path"])
def test_the_same_key_for_another_request_is_422(client: httpx.Client, app: str, change: str):
    other_app = unique("app")
    assert client.put(f"/{other_app}").status_code == 201
    try:
        headers = {"Idempotency-Key": key()}
        first = client.post(f"/{app}/instances", json={"pool": "solo"}, headers=headers)
        assert first.status_code == 201
        if change == "body":
            second = client.post(f"/{app}/instances", json={"pool": "threads"}, headers=headers)
        elif change == "query":
            second = client.post(
                f"/{app}/instances?arguments=-c%201", json={"pool": "solo"}, headers=headers
            )
        else:
            second = client.post(f"/{other_app}/instances", json={"pool": "solo"}, headers=headers)
        body = assert_problem(second, 422)
        assert body["type"] == "urn:cyme:problem:validation-error"
        assert second.headers.get("idempotent-replayed", "").lower() != "true"
        assert client.get(f"/{app}/instances").json() == [first.json()["name"]]
        assert client.get(f"/{other_app}/instances").json() == []
    finally:
        client.delete(f"/{other_app}")


@pytest.mark.parametrize(
    "bad_key", ["k" * 256, "with space", "tab\there"], ids=["too-long", "space", "tab"]
)
def test_an_invalid_key_is_refused(
    branch: LiveBranch, app: str, client: httpx.Client, bad_key: str
):
    response = httpx.post(
        f"{branch.url}/{app}/instances", headers={"Idempotency-Key": bad_key}, timeout=5
    )
    assert response.status_code in (400, 422), response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert client.get(f"/{app}/instances").json() == []


def test_keys_survive_a_restart(fresh_branch: LiveBranch, validator: ContractValidator):
    headers = {"Idempotency-Key": key()}
    with contract_client(fresh_branch.url, validator, timeout=5) as http:
        assert http.put("/kept").status_code == 201
        first = http.post("/kept/instances", json={"pool": "solo"}, headers=headers)
        assert first.status_code == 201
    fresh_branch.restart()
    with contract_client(fresh_branch.url, validator, timeout=5) as http:
        again = http.post("/kept/instances", json={"pool": "solo"}, headers=headers)
        assert_replayed(first, again)
        assert http.get("/kept/instances").json() == [first.json()["name"]]
        other = http.post("/kept/instances", json={"pool": "threads"}, headers=headers)
        assert_problem(other, 422)


def test_keys_are_kept_apart_from_the_state(fresh_branch: LiveBranch):
    """In a database of their own, owner only; the state's holds no answers."""
    sent = key()
    response = httpx.put(f"{fresh_branch.url}/apart", timeout=5)
    assert response.status_code == 201
    response = httpx.post(
        f"{fresh_branch.url}/apart/instances", headers={"Idempotency-Key": sent}, timeout=5
    )
    assert response.status_code == 201
    kept = fresh_branch.dir / ".idempotency.sqlite3"
    assert kept.stat().st_mode & 0o777 == 0o600
    with contextlib.closing(sqlite3.connect(kept)) as db:
        assert db.execute("SELECT status FROM answer WHERE key = ?", (sent,)).fetchall() == [(201,)]
    with contextlib.closing(sqlite3.connect(fresh_branch.dir / ".branch.sqlite3")) as db:
        tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master")}
    assert "app" in tables
    assert not any("idempotency" in table for table in tables), tables


def test_concurrent_retries_create_one_instance(
    branch: LiveBranch, client: httpx.Client, app: str, validator: ContractValidator
):
    headers = {"Idempotency-Key": key()}
    count = 20
    barrier = threading.Barrier(count)

    def post(_: int) -> httpx.Response:
        with contract_client(branch.url, validator, timeout=15) as http:
            barrier.wait(5)
            return http.post(f"/{app}/instances", json={"pool": "solo"}, headers=headers)

    with ThreadPoolExecutor(count) as pool:
        responses = list(pool.map(post, range(count)))
    assert {r.status_code for r in responses} == {201}, [r.text for r in responses]
    assert len({r.content for r in responses}) == 1, {r.content for r in responses}
    fresh = [r for r in responses if r.headers.get("idempotent-replayed", "").lower() != "true"]
    assert len(fresh) == 1, f"{len(fresh)} answers were not replays"
    assert client.get(f"/{app}/instances").json() == [responses[0].json()["name"]]


def test_a_replay_carries_its_own_request_id(client: httpx.Client, app: str):
    key_header = {"Idempotency-Key": key()}
    first = client.post(f"/{app}/instances", headers={**key_header, "X-Request-Id": "first-1"})
    again = client.post(f"/{app}/instances", headers={**key_header, "X-Request-Id": "again-2"})
    assert_replayed(first, again)
    assert first.headers.get("x-request-id") == "first-1"
    assert again.headers.get("x-request-id") == "again-2"


def test_a_retried_nowait_create_is_scheduled_once(client: httpx.Client, app: str):
    headers = {"Idempotency-Key": key()}
    first = client.post(f"/{app}/instances", params={"nowait": "true"}, headers=headers)
    assert first.status_code == 202, first.text
    again = client.post(f"/{app}/instances", params={"nowait": "true"}, headers=headers)
    assert_replayed(first, again)
    target = first.json()["target"]
    assert poll(lambda: client.get(target).status_code == 200), target
    time.sleep(0.3)  # a second, wrongly scheduled create would show by now
    assert client.get(f"/{app}/instances").json() == [target.rsplit("/", 1)[1]]
