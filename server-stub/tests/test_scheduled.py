"""`GET /operations/{id}`: what became of a change asked for with nowait."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from contract import ContractValidator, assert_problem, unique
from live import poll

from cyme_branch.testing import LiveBranch


@pytest.fixture(scope="module")
def branch(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveBranch]:
    """The module's own branch, that obeys Cyme-Fault (the `client` fixture uses it)."""
    root = tmp_path_factory.mktemp("scheduled")
    with LiveBranch(root, "scheduled", fault_injection=True) as live:
        yield live


def follow(client: httpx.Client, change: str) -> dict:
    """The change once it has finished (the test fails if it does not within 5 s)."""
    done = poll(
        lambda: (
            (c := client.get(f"/operations/{change}").json())["state"] in ("succeeded", "failed")
            and c
        ),
        timeout=5,
    )
    assert done, client.get(f"/operations/{change}").text
    return done


def test_a_change_succeeds_with_the_answer_it_would_have_had(
    client: httpx.Client, app: str, validator: ContractValidator
):
    scheduled = client.post(f"/{app}/instances/w-{unique('n')}", params={"nowait": "true"})
    assert scheduled.status_code == 202
    body = scheduled.json()
    change = follow(client, body["id"])
    assert validator.schema_errors("/components/schemas/Operation", change) == []
    assert change["id"] == body["id"]
    assert (change["operation"], change["target"]) == (body["operation"], body["target"])
    assert (change["state"], change["status"], change["problem"]) == ("succeeded", 201, None)
    assert change["created"] <= change["started"] <= change["finished"]
    assert change["result"] == client.get(body["target"]).json() | {
        k: change["result"][k] for k in ("state", "since", "pid", "processes")
    }
    assert change["progress"] is None


def test_a_change_that_fails_keeps_its_problem(client: httpx.Client, app: str, instance: dict):
    base = f"/{app}/instances/{instance['name']}"
    # A frozen worker does not answer: the change is checked, scheduled, then fails (504).
    frozen = {"Cyme-Fault": f"kill=SIGSTOP; id={unique('f')}"}
    scheduled = client.put(f"{base}/autoscale?nowait=true", json={"max": 3}, headers=frozen)
    assert scheduled.status_code == 202
    change = follow(client, scheduled.json()["id"])
    assert (change["state"], change["status"], change["result"]) == ("failed", 504, None)
    assert change["problem"]["type"] == "urn:cyme:problem:gateway-timeout"
    assert change["problem"]["instance"] == f"{base}/autoscale"
    # What was stored stays stored, as for the same change without nowait.
    assert client.get(f"{base}/autoscale").json()["max"] == 3
    client.get(base, headers={"Cyme-Fault": f"kill=SIGCONT; id={unique('f')}"})


def test_every_nowait_change_gets_an_id(client: httpx.Client, app: str, instance: dict):
    base = f"/{app}/instances/{instance['name']}"
    changes = [
        client.put(f"{base}/autoscale?nowait=true&max=2"),
        client.put(f"/{app}/queues/q1?nowait=true"),
        client.post(f"{base}/restart?nowait=true"),
        client.post(f"/{app}/restart?nowait=true"),
        client.delete(f"{base}?nowait=true"),
    ]
    ids = [response.json()["id"] for response in changes]
    assert len(set(ids)) == len(ids)
    outcomes = [follow(client, change) for change in ids]
    assert [c["state"] for c in outcomes] == ["succeeded"] * len(ids)
    rolling = outcomes[3]
    assert rolling["result"]["app"] == app
    assert rolling["progress"] == {"done": 1, "total": 1, "current": None}


def test_an_unknown_change_is_404_and_a_bad_id_422(client: httpx.Client):
    body = assert_problem(client.get("/operations/0f5e0d8f6c1b4a3e9d2c7b6a5f4e3d2c"), 404)
    assert "15 minutes" in body["detail"]
    assert_problem(client.get("/operations/not..valid"), 422, field="operation")


@pytest.mark.slow
def test_a_restarted_branch_forgets_its_changes(fresh_branch: LiveBranch):
    with httpx.Client(base_url=fresh_branch.url) as http:
        http.put("/pycon")
        change = http.post("/pycon/instances/w1?nowait=true").json()["id"]
        assert follow(http, change)["state"] == "succeeded"
    fresh_branch.restart()
    with httpx.Client(base_url=fresh_branch.url) as http:
        assert http.get(f"/operations/{change}").status_code == 404
        assert http.get("/pycon/instances/w1").status_code == 200  # the change itself stays
