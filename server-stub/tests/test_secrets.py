"""Broker passwords never leave the branch: not in responses, not in its log."""

from __future__ import annotations

import stat

import httpx
import pytest
from contract import ContractValidator, contract_client

from cyme_branch.testing import LiveBranch

SECRET = "secret"


@pytest.fixture
def seen(fresh_branch: LiveBranch, validator: ContractValidator):
    """A client on a branch of its own that records every response body."""
    bodies: list[str] = []

    def record(response: httpx.Response) -> None:
        response.read()
        bodies.append(response.text)

    with contract_client(fresh_branch.url, validator) as http:
        http.event_hooks["response"].append(record)
        yield http, bodies


def test_app_broker_password_is_masked(seen, fresh_branch: LiveBranch):
    http, bodies = seen
    created = http.put("/pycon", json={"broker": "amqp://guest:secret@host//"})
    assert created.status_code == 201
    assert created.json()["broker"] == "amqp://guest:**@host//"
    assert http.get("/pycon").json()["broker"] == "amqp://guest:**@host//"
    instance = http.post("/pycon/instances").json()
    assert instance["broker"] == "amqp://guest:**@host//"
    base = f"/pycon/instances/{instance['name']}"
    for path in (base, f"{base}/stats", f"{base}/queues", f"{base}/autoscale", "/pycon/instances"):
        assert http.get(path).status_code == 200
    assert http.delete(base).json()["broker"] == "amqp://guest:**@host//"
    assert http.delete("/pycon").json()["broker"] == "amqp://guest:**@host//"

    assert bodies
    assert not [body for body in bodies if SECRET in body]
    assert SECRET not in fresh_branch.log_text()
    assert SECRET not in fresh_branch.stdout_text()


def test_instance_broker_password_is_masked(seen, fresh_branch: LiveBranch):
    http, bodies = seen
    http.put("/pycon", data={"broker": "redis://:secret@cache.example:6379/0"})
    assert http.get("/pycon").json()["broker"] == "redis://:**@cache.example:6379/0"
    created = http.post(
        "/pycon/instances/w1", params={"broker": "amqp://user:secret@rabbit.example:5672/prod"}
    )
    assert created.status_code == 201
    assert created.json()["broker"] == "amqp://user:**@rabbit.example:5672/prod"
    assert http.get("/pycon/instances/w1").json()["broker"] == created.json()["broker"]
    assert http.get("/pycon/instances/w1/stats").status_code == 200

    assert not [body for body in bodies if SECRET in body]
    assert SECRET not in fresh_branch.log_text()
    assert SECRET not in fresh_branch.stdout_text()


def test_password_is_not_echoed_in_errors(seen, fresh_branch: LiveBranch):
    http, bodies = seen
    http.put("/pycon")
    # Invalid in other ways, so the branch must describe the field without the value.
    refused = http.put("/pycon", json={"broker": "amqp://guest:secret@host//", "extra": 1})
    assert refused.status_code == 422
    bad_url = http.put("/pycon", json={"broker": "amqp://guest:secret@host// with space"})
    assert bad_url.status_code == 422
    conflict = http.put(
        "/pycon", params={"broker": "amqp://a:secret@h//"}, json={"broker": "amqp://a:secret2@h//"}
    )
    assert conflict.status_code == 422

    assert http.get("/pycon").json()["broker"] == "amqp://guest:**@localhost:5672//"
    assert not [body for body in bodies if SECRET in body]
    assert SECRET not in fresh_branch.log_text()


def test_files_holding_the_password_are_private(seen, fresh_branch: LiveBranch):
    """The branch must store the password to use it, but only its owner may read it."""
    http, _bodies = seen
    http.put("/pycon", json={"broker": "amqp://guest:secret@host//"})
    http.post("/pycon/instances/w1", json={"broker": "redis://:secret@cache:6379/0"})
    holders = [
        path
        for path in fresh_branch.dir.rglob("*")
        if path.is_file() and SECRET.encode() in path.read_bytes()
    ]
    assert holders, "the branch keeps the broker password somewhere to restart its workers"
    for path in holders:
        mode = stat.S_IMODE(path.stat().st_mode)
        assert mode & 0o077 == 0, f"{path} holds the password and is mode {oct(mode)}"
