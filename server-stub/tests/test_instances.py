"""Instances: create (generated or given name), read, list, delete; their directories."""

from __future__ import annotations

import threading
import uuid
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from contract import ContractValidator, assert_problem, contract_client, unique

from cyme_branch.testing import LiveBranch

INSTANCE_FILES = ("worker.log", "worker.pid", "worker.statedb")


def test_create_instance_with_generated_name(client: httpx.Client, app: str):
    response = client.post(f"/{app}/instances")
    assert response.status_code == 201
    instance = response.json()
    assert str(uuid.UUID(instance["name"])) == instance["name"]
    assert response.headers["location"] == f"/{app}/instances/{instance['name']}"
    assert instance == {
        "name": instance["name"],
        "app": app,
        "broker": "amqp://guest:**@localhost:5672//",
        "pool": "prefork",
        "arguments": "",
        "extra_config": {},
        "queues": [],
        "min_concurrency": 1,
        "max_concurrency": 1,
        "is_enabled": True,
        # What its worker is doing: started, answering, never exited.
        "state": "running",
        "since": instance["since"],
        "pid": instance["pid"],
        "processes": 1,
        "restarts": 0,
        "last_exit": None,
    }
    assert isinstance(instance["pid"], int)
    assert client.get(f"/{app}/instances/{instance['name']}").json() == instance
    assert client.get(f"/{app}/instances").json() == [instance["name"]]


def test_generated_names_differ(client: httpx.Client, app: str):
    names = {client.post(f"/{app}/instances").json()["name"] for _ in range(3)}
    assert len(names) == 3
    assert sorted(client.get(f"/{app}/instances").json()) == sorted(names)


def test_create_named_instance(client: httpx.Client, app: str):
    name = unique("w")
    response = client.post(f"/{app}/instances/{name}")
    assert response.status_code == 201
    assert response.headers["location"] == f"/{app}/instances/{name}"
    assert response.json()["name"] == name
    assert response.json()["app"] == app
    assert name in client.get(f"/{app}/instances").json()


def test_instance_takes_its_broker_from_the_app(client: httpx.Client):
    app = unique("app")
    client.put(f"/{app}", json={"broker": "redis://localhost:6379/1"})
    try:
        instance = client.post(f"/{app}/instances").json()
        assert instance["broker"] == "redis://localhost:6379/1"
    finally:
        client.delete(f"/{app}")


def test_instance_follows_the_app_broker_unless_it_has_its_own(client: httpx.Client, app: str):
    inherits = client.post(f"/{app}/instances").json()["name"]
    own = client.post(f"/{app}/instances", json={"broker": "redis://own:6379/0"}).json()["name"]
    client.put(f"/{app}", json={"broker": "amqp://rabbit.example//"})
    assert client.get(f"/{app}/instances/{inherits}").json()["broker"] == "amqp://rabbit.example//"
    assert client.get(f"/{app}/instances/{own}").json()["broker"] == "redis://own:6379/0"


def test_instance_settings(client: httpx.Client):
    app = unique("app")
    client.put(
        f"/{app}",
        json={"arguments": "--workdir=/srv", "extra_config": {"a_setting": 1, "b_setting": 2}},
    )
    try:
        response = client.post(
            f"/{app}/instances",
            json={
                "broker": "redis://localhost:6379/2",
                "pool": "threads",
                "arguments": "--loglevel=INFO",
                "extra_config": {"b_setting": 3},
            },
        )
        assert response.status_code == 201
        instance = response.json()
        assert instance["broker"] == "redis://localhost:6379/2"
        assert instance["pool"] == "threads"
        # Added after the app's arguments; merged over the app's extra_config.
        assert instance["arguments"].endswith("--loglevel=INFO")
        assert instance["extra_config"]["b_setting"] == 3
        assert client.get(f"/{app}/instances/{instance['name']}").json() == instance
    finally:
        client.delete(f"/{app}")


def test_instance_settings_from_form_and_query(client: httpx.Client, app: str):
    by_form = client.post(f"/{app}/instances", data={"pool": "solo"})
    assert by_form.status_code == 201
    assert by_form.json()["pool"] == "solo"
    by_query = client.post(f"/{app}/instances/{unique('w')}", params={"pool": "threads"})
    assert by_query.status_code == 201
    assert by_query.json()["pool"] == "threads"


def test_invalid_pool_is_refused(client: httpx.Client, app: str):
    name = unique("w")
    assert_problem(
        client.post(f"/{app}/instances/{name}", json={"pool": "forking"}), 422, field="pool"
    )
    assert_problem(client.get(f"/{app}/instances/{name}"), 404)
    assert client.get(f"/{app}/instances").json() == []


def test_duplicate_instance_name_is_409(client: httpx.Client, app: str, instance: dict):
    body = assert_problem(client.post(f"/{app}/instances/{instance['name']}"), 409)
    assert body["type"] == "urn:cyme:problem:conflict"
    assert client.get(f"/{app}/instances").json() == [instance["name"]]


def test_instance_names_are_unique_across_apps(client: httpx.Client, app: str, instance: dict):
    other = unique("app")
    client.put(f"/{other}")
    try:
        assert_problem(client.post(f"/{other}/instances/{instance['name']}"), 409)
        assert client.get(f"/{other}/instances").json() == []
    finally:
        client.delete(f"/{other}")


def test_instance_is_reached_only_through_its_app(client: httpx.Client, app: str, instance: dict):
    other = unique("app")
    client.put(f"/{other}")
    try:
        assert_problem(client.get(f"/{other}/instances/{instance['name']}"), 404)
        assert_problem(client.delete(f"/{other}/instances/{instance['name']}"), 404)
        assert client.get(f"/{app}/instances/{instance['name']}").status_code == 200
    finally:
        client.delete(f"/{other}")


def test_instance_of_unknown_app_is_404(client: httpx.Client):
    app = unique("nope")
    assert_problem(client.post(f"/{app}/instances"), 404)
    assert_problem(client.post(f"/{app}/instances/{unique('w')}"), 404)
    assert_problem(client.get(f"/{app}/instances"), 404)
    assert_problem(client.get(f"/{app}"), 404)


def test_unknown_instance_is_404(client: httpx.Client, app: str):
    name = unique("w")
    for path in ("", "/autoscale", "/stats", "/queues"):
        assert_problem(client.get(f"/{app}/instances/{name}{path}"), 404)
    assert_problem(client.delete(f"/{app}/instances/{name}"), 404)


def test_put_on_an_instance_is_405(client: httpx.Client, app: str):
    name = unique("w")
    response = client.put(f"/{app}/instances/{name}")
    body = assert_problem(response, 405)
    assert body["type"] == "urn:cyme:problem:method-not-allowed"
    allowed = {m.strip() for m in response.headers["allow"].split(",")}
    assert {"GET", "POST", "DELETE"} <= allowed
    assert "PUT" not in allowed
    assert_problem(client.get(f"/{app}/instances/{name}"), 404)


def test_delete_instance(client: httpx.Client, branch: LiveBranch, app: str, instance: dict):
    name = instance["name"]
    response = client.delete(f"/{app}/instances/{name}")
    assert response.status_code == 200
    assert response.json()["name"] == name
    assert response.json()["app"] == app
    assert_problem(client.get(f"/{app}/instances/{name}"), 404)
    assert client.get(f"/{app}/instances").json() == []
    assert not (branch.dir / name).exists()
    assert_problem(client.delete(f"/{app}/instances/{name}"), 404)
    # The name is free again.
    assert client.post(f"/{app}/instances/{name}").status_code == 201


def test_instance_directory_and_log_lines(client: httpx.Client, branch: LiveBranch, app: str):
    name = unique("w")
    assert client.post(f"/{app}/instances/{name}").status_code == 201
    directory = branch.dir / name
    assert directory.is_dir()
    for filename in INSTANCE_FILES:
        assert (directory / filename).is_file(), f"{filename} missing in {directory}"
    assert branch.wait_for_log(f"> {name}: DOWN"), branch.log_tail()
    assert branch.wait_for_log(f"> Restarting node {name}: OK"), branch.log_tail()
    log = branch.log_text()
    assert log.index(f"> {name}: DOWN") < log.index(f"> Restarting node {name}: OK")

    assert client.delete(f"/{app}/instances/{name}").status_code == 200
    assert not directory.exists()


@pytest.mark.slow
def test_concurrent_creates_of_one_name(
    branch: LiveBranch, validator: ContractValidator, client: httpx.Client, app: str
):
    name = unique("race")
    attempts = 50
    barrier = threading.Barrier(attempts)

    def create(_: int) -> int:
        with contract_client(branch.url, validator) as http:
            barrier.wait(timeout=30)
            return http.post(f"/{app}/instances/{name}").status_code

    with ThreadPoolExecutor(max_workers=attempts) as pool:
        statuses = list(pool.map(create, range(attempts)))

    assert sorted(statuses) == [201] + [409] * (attempts - 1)
    assert client.get(f"/{app}/instances").json() == [name]
    assert client.get(f"/{app}/instances/{name}").status_code == 200
    assert (branch.dir / name).is_dir()
    # Exactly one worker was started for it.
    assert branch.wait_for_log(f"> Restarting node {name}: OK")
    assert branch.log_text().count(f"> Restarting node {name}: OK") == 1


@pytest.mark.slow
def test_concurrent_deletes_of_one_instance(
    branch: LiveBranch, validator: ContractValidator, client: httpx.Client, app: str, instance: dict
):
    name = instance["name"]
    attempts = 10
    barrier = threading.Barrier(attempts)

    def delete(_: int) -> int:
        with contract_client(branch.url, validator) as http:
            barrier.wait(timeout=30)
            return http.delete(f"/{app}/instances/{name}").status_code

    with ThreadPoolExecutor(max_workers=attempts) as pool:
        statuses = sorted(pool.map(delete, range(attempts)))

    assert statuses == [200] + [404] * (attempts - 1)
    assert client.get(f"/{app}/instances").json() == []
    assert not (branch.dir / name).exists()
