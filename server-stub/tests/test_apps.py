"""Apps: create or update with PUT/POST, read, list, delete."""

from __future__ import annotations

import json
import threading
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from contract import ContractValidator, assert_problem, contract_client, unique

from cyme_branch.testing import LiveBranch

DEFAULT_BROKER = "amqp://guest:**@localhost:5672//"


@pytest.fixture
def name(client: httpx.Client):
    """An app name nobody uses yet; the app is deleted afterwards if created."""
    app = unique("app")
    yield app
    client.delete(f"/{app}")


@pytest.mark.parametrize("method", ["PUT", "POST"])
def test_create_app_with_defaults(client: httpx.Client, name: str, method: str):
    response = client.request(method, f"/{name}")
    assert response.status_code == 201
    assert response.headers["location"] == f"/{name}"
    assert response.json() == {
        "name": name,
        "broker": DEFAULT_BROKER,
        "arguments": "",
        "extra_config": {},
    }
    assert client.get(f"/{name}").json() == response.json()
    assert name in client.get("/").json()


@pytest.mark.parametrize("method", ["PUT", "POST"])
def test_second_write_updates_and_keeps_left_out_fields(
    client: httpx.Client, name: str, method: str
):
    created = client.put(
        f"/{name}",
        json={
            "broker": "redis://localhost:6379/0",
            "arguments": "--workdir=/opt/play/proj",
            "extra_config": {"worker_prefetch_multiplier": 4},
        },
    )
    assert created.status_code == 201
    updated = client.request(method, f"/{name}", json={"arguments": "--loglevel=INFO"})
    assert updated.status_code == 200
    assert updated.json() == {
        "name": name,
        "broker": "redis://localhost:6379/0",
        "arguments": "--loglevel=INFO",
        "extra_config": {"worker_prefetch_multiplier": 4},
    }
    assert client.get(f"/{name}").json() == updated.json()


def test_create_app_from_form_body(client: httpx.Client, name: str):
    """The talk's `curl -X PUT http://localhost:8000/pycon -d broker=amqp://`."""
    response = client.put(
        f"/{name}",
        data={"broker": "amqp://", "extra_config": json.dumps({"task_acks_late": True})},
    )
    assert response.status_code == 201
    assert response.json()["broker"] == "amqp://"
    assert response.json()["extra_config"] == {"task_acks_late": True}


def test_create_app_from_query_parameters(client: httpx.Client, name: str):
    response = client.put(
        f"/{name}",
        params={"arguments": "--autoscale=10,3", "extra_config": '{"worker_concurrency": 2}'},
    )
    assert response.status_code == 201
    assert response.json()["arguments"] == "--autoscale=10,3"
    assert response.json()["extra_config"] == {"worker_concurrency": 2}


def test_same_value_in_query_and_body_is_accepted(client: httpx.Client, name: str):
    response = client.put(f"/{name}", params={"broker": "amqp://"}, json={"broker": "amqp://"})
    assert response.status_code == 201
    assert response.json()["broker"] == "amqp://"


def test_different_values_in_query_and_body_are_refused(client: httpx.Client, name: str):
    response = client.put(
        f"/{name}", params={"broker": "amqp://a//"}, json={"broker": "amqp://b//"}
    )
    assert_problem(response, 422, field="broker")
    assert_problem(client.get(f"/{name}"), 404)


def test_get_unknown_app_is_404(client: httpx.Client, name: str):
    body = assert_problem(client.get(f"/{name}"), 404)
    assert body["type"] == "urn:cyme:problem:not-found"


def test_delete_app(client: httpx.Client, name: str):
    created = client.put(f"/{name}", json={"arguments": "--without-gossip"}).json()
    deleted = client.delete(f"/{name}")
    assert deleted.status_code == 200
    assert deleted.json() == created
    assert_problem(client.get(f"/{name}"), 404)
    assert name not in client.get("/").json()
    assert_problem(client.delete(f"/{name}"), 404)


def test_delete_app_removes_its_instances_and_queues(
    client: httpx.Client, branch: LiveBranch, name: str
):
    client.put(f"/{name}")
    client.put(f"/{name}/queues/celery")
    worker = unique("w")
    assert client.post(f"/{name}/instances/{worker}").status_code == 201
    assert client.put(f"/{name}/instances/{worker}/queues/celery").status_code == 201
    generated = client.post(f"/{name}/instances").json()["name"]
    assert (branch.dir / worker).is_dir()

    assert client.delete(f"/{name}").status_code == 200

    for path in (f"/{name}/instances", f"/{name}/queues", f"/{name}/instances/{worker}"):
        assert_problem(client.get(path), 404)
    assert not (branch.dir / worker).exists()
    assert not (branch.dir / generated).exists()
    # A new app of the same name starts empty, and the instance names are free again.
    assert client.put(f"/{name}").status_code == 201
    assert client.get(f"/{name}/instances").json() == []
    assert client.get(f"/{name}/queues").json() == []
    assert client.post(f"/{name}/instances/{worker}").status_code == 201


def test_unknown_body_field_is_refused(client: httpx.Client, name: str):
    assert_problem(client.put(f"/{name}", json={"brokr": "amqp://"}), 422, field="brokr")
    assert_problem(client.get(f"/{name}"), 404)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"broker": "not a url"}, "broker"),
        ({"broker": ""}, "broker"),
        ({"broker": 5}, "broker"),
        ({"arguments": "--a\n--b"}, "arguments"),
        ({"extra_config": {"Upper": 1}}, "extra_config"),
        ({"extra_config": "not an object"}, "extra_config"),
    ],
)
def test_invalid_app_fields_are_refused(client: httpx.Client, name: str, body: dict, field: str):
    problem = assert_problem(client.put(f"/{name}", json=body), 422)
    fields = [e["field"] for e in problem["errors"]]
    assert any(f == field or f.startswith(f"{field}.") for f in fields), fields
    assert_problem(client.get(f"/{name}"), 404)


def test_invalid_extra_config_json_in_query_is_refused(client: httpx.Client, name: str):
    response = client.put(f"/{name}", params={"extra_config": "{not json"})
    assert_problem(response, 422, field="extra_config", location="query")
    assert_problem(client.get(f"/{name}"), 404)


def test_longest_name_is_accepted(client: httpx.Client):
    name = unique("a") + "x" * (128 - len(unique("a")))
    assert len(name) == 128
    assert client.put(f"/{name}").status_code == 201
    assert client.get(f"/{name}").json()["name"] == name
    assert client.delete(f"/{name}").status_code == 200


def test_dotted_name_with_allowed_characters_is_accepted(client: httpx.Client):
    name = f"{unique('proj')}.tasks_v2@host:1"
    assert client.put(f"/{name}").status_code == 201
    assert client.get(f"/{name}").json()["name"] == name
    assert client.delete(f"/{name}").status_code == 200


@pytest.mark.slow
def test_concurrent_puts_create_the_app_once(
    client: httpx.Client, branch: LiveBranch, validator: ContractValidator, name: str
):
    attempts = 20
    barrier = threading.Barrier(attempts)

    def put(i: int) -> int:
        with contract_client(branch.url, validator) as http:
            barrier.wait(timeout=30)
            return http.put(f"/{name}", json={"arguments": f"--n={i}"}).status_code

    with ThreadPoolExecutor(max_workers=attempts) as pool:
        statuses = sorted(pool.map(put, range(attempts)))

    assert statuses == [200] * (attempts - 1) + [201]
    assert client.get("/").json().count(name) == 1
