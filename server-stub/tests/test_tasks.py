"""Tasks on the simulated branch: sent, followed, waited for, revoked, refused.

The simulated branch runs the example project's three tasks in its own
process (supervisor/demo_tasks.py); every answer here is checked against
openapi.yaml by the contract client. test_celery_tasks.py runs real workers.
"""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path
from typing import Any

import httpx
import pytest
from contract import ContractValidator, assert_problem, contract_client, unique
from live import poll

from cyme_branch.testing import LiveBranch

BACKEND = "redis://:hunter2@results.example:6379/1"


@pytest.fixture
def shop(client: httpx.Client) -> Any:
    """An app with a result backend, deleted afterwards."""
    name = unique("shop")
    created = client.put(f"/{name}", json={"backend": BACKEND})
    assert created.status_code == 201, created.text
    yield name
    client.delete(f"/{name}")


def send(client: httpx.Client, app: str, task: str, **body: Any) -> dict[str, Any]:
    response = client.post(f"/{app}/tasks/{task}", json=body)
    assert response.status_code == 202, response.text
    sent: dict[str, Any] = response.json()
    return sent


def test_a_send_answers_202_with_the_task_and_where_to_follow_it(
    client: httpx.Client, shop: str
) -> None:
    response = client.post(f"/{shop}/tasks/proj.tasks.add", json={"args": [2, 3]})
    assert response.status_code == 202
    sent = response.json()
    assert sent == {
        "id": sent["id"],
        "task": "proj.tasks.add",
        "queue": "celery",
        "state": "PENDING",
    }
    assert response.headers["location"] == f"/{shop}/tasks/{sent['id']}"
    done = client.get(response.headers["location"], params={"wait": 5}).json()
    assert done["state"] == "SUCCESS" and done["result"] == 5
    assert done["date_done"].endswith("Z")
    assert "traceback" not in done


def test_fields_come_as_json_form_or_query(client: httpx.Client, shop: str) -> None:
    form = client.post(f"/{shop}/tasks/proj.tasks.add", data={"args": "[20, 22]", "queue": "q1"})
    assert form.status_code == 202 and form.json()["queue"] == "q1"
    query = client.post(f"/{shop}/tasks/proj.tasks.add", params={"args": "[1, 2]", "priority": "3"})
    assert query.status_code == 202
    for sent, result in ((form.json(), 42), (query.json(), 3)):
        assert client.get(f"/{shop}/tasks/{sent['id']}", params={"wait": 5}).json()["result"] == (
            result
        )


def test_a_failure_has_its_traceback_only_when_asked(client: httpx.Client, shop: str) -> None:
    sent = send(client, shop, "proj.tasks.fail", kwargs={"message": "boom"})
    failed = client.get(f"/{shop}/tasks/{sent['id']}", params={"wait": 5}).json()
    assert failed["state"] == "FAILURE"
    assert failed["result"] == {
        "exc_type": "ValueError",
        "exc_message": ["boom"],
        "exc_module": "builtins",
    }
    assert "traceback" not in failed
    traced = client.get(f"/{shop}/tasks/{sent['id']}", params={"traceback": "true"}).json()
    assert traced["traceback"].startswith("Traceback (most recent call last):")
    assert traced["traceback"].endswith("ValueError: boom\n")
    # A task given arguments it does not take fails as a worker's would.
    wrong = send(client, shop, "proj.tasks.add", args=[1])
    wrong_done = client.get(f"/{shop}/tasks/{wrong['id']}", params={"wait": 5}).json()
    assert (wrong_done["state"], wrong_done["result"]["exc_type"]) == ("FAILURE", "TypeError")
    done = client.get(f"/{shop}/tasks/{sent['id']}", params={"traceback": "true"}).json()
    assert done["traceback"] == traced["traceback"]
    ok = send(client, shop, "proj.tasks.add", args=[1, 1])
    succeeded = client.get(f"/{shop}/tasks/{ok['id']}", params={"wait": 5, "traceback": "true"})
    assert succeeded.json()["traceback"] is None


def test_revoke_with_terminate_stops_a_sleeping_task(client: httpx.Client, shop: str) -> None:
    sent = send(client, shop, "proj.tasks.sleep", args=[60])
    path = f"/{shop}/tasks/{sent['id']}"
    started = poll(lambda: client.get(path).json()["state"] == "STARTED")
    assert started
    assert client.delete(path).json() == {"id": sent["id"], "terminate": False, "signal": None}
    assert client.get(path).json()["state"] == "STARTED"  # running, it goes on
    revoked = client.delete(path, params={"terminate": "true"})
    assert revoked.json() == {"id": sent["id"], "terminate": True, "signal": "SIGTERM"}
    done = client.get(path, params={"wait": 5}).json()
    assert done["state"] == "REVOKED"
    assert done["result"]["exc_message"] == ["terminated"]


def test_countdown_eta_and_expires(client: httpx.Client, shop: str) -> None:
    later = send(client, shop, "proj.tasks.add", args=[1, 1], countdown=3600)
    assert client.get(f"/{shop}/tasks/{later['id']}").json()["state"] == "PENDING"
    client.delete(f"/{shop}/tasks/{later['id']}")
    revoked = client.get(f"/{shop}/tasks/{later['id']}", params={"wait": 5}).json()
    assert (revoked["state"], revoked["result"]["exc_message"]) == ("REVOKED", ["revoked"])
    soon = send(client, shop, "proj.tasks.add", args=[1, 1], eta="2000-01-01T00:00:00+01:00")
    assert client.get(f"/{shop}/tasks/{soon['id']}", params={"wait": 5}).json()["result"] == 2
    expired = send(
        client, shop, "proj.tasks.add", args=[1, 1], countdown=60, expires="2000-01-01T00:00:00Z"
    )
    gone = client.get(f"/{shop}/tasks/{expired['id']}", params={"wait": 5}).json()
    assert (gone["state"], gone["result"]["exc_message"]) == ("REVOKED", ["expired"])


def test_unknown_tasks_and_ids_are_pending(client: httpx.Client, shop: str) -> None:
    sent = send(client, shop, "billing.tasks.invoice", args=[7])
    pending = client.get(f"/{shop}/tasks/{sent['id']}", params={"wait": 0.2}).json()
    assert pending == {"id": sent["id"], "state": "PENDING", "result": None, "date_done": None}
    never = client.get(f"/{shop}/tasks/00000000-0000-0000-0000-000000000000").json()
    assert never["state"] == "PENDING"
    # A revoke of an id no worker has seen yet is remembered, as workers do.
    assert client.delete(f"/{shop}/tasks/not-sent-yet").status_code == 200


def test_a_wait_does_not_hold_the_branch(client: httpx.Client, shop: str) -> None:
    """While one request waits for a task, the branch answers others; the wait ends
    as soon as the task does."""
    sent = send(client, shop, "proj.tasks.sleep", args=[60])
    path = f"/{shop}/tasks/{sent['id']}"
    assert poll(lambda: client.get(path).json()["state"] == "STARTED")
    answers: list[httpx.Response] = []
    waiting = threading.Thread(target=lambda: answers.append(client.get(path, params={"wait": 20})))
    waiting.start()
    for _ in range(20):
        assert client.get("/ping").status_code == 200
    assert not answers, "the wait was answered before the task was done"
    client.delete(path, params={"terminate": "true"})
    waiting.join(25)
    assert answers[0].json()["state"] == "REVOKED"


def test_an_app_without_a_backend_sends_but_cannot_follow(client: httpx.Client, app: str) -> None:
    sent = send(client, app, "proj.tasks.add", args=[2, 3])
    for path in (f"tasks/{sent['id']}", *(f"query/{sent['id']}/{w}" for w in ("state", "result"))):
        body = assert_problem(client.get(f"/{app}/{path}"), 409)
        assert body["type"] == "urn:cyme:problem:no-result-backend"
        assert f"PUT /{app} with backend=" in body["detail"]
    assert client.delete(f"/{app}/tasks/{sent['id']}").status_code == 200  # no backend needed
    # A backend set later, and removed with null.
    assert client.put(f"/{app}", json={"backend": BACKEND}).json()["backend"] == (
        "redis://:**@results.example:6379/1"
    )
    assert client.get(f"/{app}/tasks/{sent['id']}").json()["state"] == "PENDING"
    assert "backend" not in client.put(f"/{app}", json={"backend": None}).json()


def test_the_original_routes(client: httpx.Client, shop: str) -> None:
    sent = send(client, shop, "proj.tasks.add", args=[2, 3])
    query = f"/{shop}/query/{sent['id']}"
    assert client.get(f"{query}/wait").json() == {"result": 5}
    assert client.get(f"{query}/state").json() == {"state": "SUCCESS"}
    assert client.get(f"{query}/result").json() == {"result": 5}
    pending = send(client, shop, "billing.tasks.invoice")
    assert client.get(f"/{shop}/query/{pending['id']}/result").json() == {"result": None}
    # The original's route that had a worker fetch a URL is not there.
    assert_problem(client.post(f"/{shop}/queue/celery/http%3A%2F%2Finternal%2F"), 404)


@pytest.mark.slow
def test_the_originals_wait_gives_up_after_20_seconds(client: httpx.Client, shop: str) -> None:
    sent = send(client, shop, "billing.tasks.invoice")
    body = assert_problem(client.get(f"/{shop}/query/{sent['id']}/wait", timeout=40), 504)
    assert body["task_id"] == sent["id"]
    assert "not done within 20 s (it is PENDING)" in body["detail"]


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({"args": {"x": 1}}, ["args"]),
        ({"args": "[1, 2]"}, ["args"]),
        ({"kwargs": [1]}, ["kwargs"]),
        ({"kwargs": {"not-a-name": 1}}, ["kwargs"]),
        ({"priority": 256}, ["priority"]),
        ({"priority": -1}, ["priority"]),
        ({"priority": 1.5}, ["priority"]),
        ({"countdown": -1}, ["countdown"]),
        ({"countdown": "soon"}, ["countdown"]),
        ({"eta": "tomorrow"}, ["eta"]),
        ({"eta": "2026-12-01T09:00:00"}, ["eta"]),  # no offset
        ({"expires": "next week"}, ["expires"]),
        ({"expires": -5}, ["expires"]),
        ({"countdown": 5, "eta": "2026-12-01T09:00:00Z"}, ["eta"]),
        ({"queue": "a b"}, ["queue"]),
        ({"routing_key": "a b"}, ["routing_key"]),
        ({"args": [], "callback": "http://internal/"}, ["callback"]),
    ],
)
def test_bad_fields_are_422_and_nothing_is_sent(
    client: httpx.Client, shop: str, body: dict[str, Any], fields: list[str]
) -> None:
    response = client.post(f"/{shop}/tasks/proj.tasks.add", json=body)
    problem = assert_problem(response, 422)
    assert [e["field"] for e in problem["errors"]] == fields


@pytest.mark.parametrize("name", ["proj tasks", "proj..add", "proj.", ".add", "1proj.add", "a-b"])
def test_a_task_name_must_be_a_dotted_identifier(
    client: httpx.Client, shop: str, name: str
) -> None:
    assert_problem(client.post(f"/{shop}/tasks/{name}"), 422, field="task")


def test_other_refusals(client: httpx.Client, shop: str) -> None:
    assert_problem(client.post(f"/{unique('nope')}/tasks/proj.tasks.add"), 404)
    assert_problem(client.get(f"/{unique('nope')}/tasks/abc"), 404)
    assert_problem(client.delete(f"/{unique('nope')}/tasks/abc"), 404)
    assert_problem(client.get(f"/{shop}/tasks/abc", params={"wait": 21}), 422, field="wait")
    assert_problem(client.delete(f"/{shop}/tasks/abc", params={"signal": "SIGKILL"}), 422)
    assert_problem(
        client.delete(f"/{shop}/tasks/abc", params={"terminate": "true", "signal": "SIGSTOP"}),
        422,
        field="signal",
    )
    big = {"args": ["x" * (1024 * 1024)]}
    assert_problem(client.post(f"/{shop}/tasks/proj.tasks.add", json=big), 413)
    assert_problem(client.put(f"/{shop}", json={"backend": "rpc://"}), 422, field="backend")
    assert_problem(client.put(f"/{shop}", json={"backend": "not a url"}), 422, field="backend")
    assert_problem(client.put(f"/{shop}", json={"backend": "rpc+amqp://x"}), 422, field="backend")


def test_a_retried_send_is_answered_once(client: httpx.Client, shop: str) -> None:
    key = {"Idempotency-Key": unique("send")}
    first = client.post(f"/{shop}/tasks/proj.tasks.add", json={"args": [2, 3]}, headers=key)
    again = client.post(f"/{shop}/tasks/proj.tasks.add", json={"args": [2, 3]}, headers=key)
    assert again.json() == first.json()
    assert again.headers["location"] == first.headers["location"]
    assert again.headers["idempotent-replayed"] == "true"
    other = client.post(f"/{shop}/tasks/proj.tasks.add", json={"args": [2, 4]}, headers=key)
    assert_problem(other, 422)


def test_the_backends_password_stays_in_the_branch(
    fresh_branch: LiveBranch, validator: ContractValidator
) -> None:
    bodies: list[str] = []
    with contract_client(fresh_branch.url, validator) as http:
        http.event_hooks["response"].append(lambda r: bodies.append(r.read().decode()))
        assert http.put("/pycon", params={"backend": BACKEND}).status_code == 201
        sent = http.post("/pycon/tasks/proj.tasks.fail", json={"args": ["boom"]})
        http.get(f"/pycon/tasks/{sent.json()['id']}", params={"wait": 5})
        assert http.put("/pycon", json={"backend": "rpc://guest:hunter2@h//"}).status_code == 422
        assert http.delete("/pycon").json()["backend"] == "redis://:**@results.example:6379/1"
    assert bodies
    assert [b for b in bodies if "hunter2" in b] == []
    assert "hunter2" not in fresh_branch.log_text()


def test_a_database_from_before_tasks_gets_the_backend_column(tmp_path: Path) -> None:
    state = tmp_path / "state"
    state.mkdir()
    db = sqlite3.connect(state / ".branch.sqlite3")
    db.execute(
        "CREATE TABLE app (name TEXT PRIMARY KEY, broker TEXT NOT NULL,"
        " arguments TEXT NOT NULL, extra_config TEXT NOT NULL)"
    )
    db.execute("INSERT INTO app VALUES ('old', 'amqp://', '', '{}')")
    db.commit()
    db.close()
    with LiveBranch(tmp_path / "branch", "old-state", state_dir=state) as branch:
        http = httpx.Client(base_url=branch.url)
        assert http.get("/old").json() == {
            "name": "old",
            "broker": "amqp://",
            "arguments": "",
            "extra_config": {},
        }
        updated = http.put("/old", json={"backend": "redis://localhost:6379/1"}).json()
        assert updated["backend"] == "redis://localhost:6379/1"
    with LiveBranch(tmp_path / "branch", "old-state", state_dir=state) as branch:
        again = httpx.get(f"{branch.url}/old").json()
        assert again["backend"] == "redis://localhost:6379/1"
