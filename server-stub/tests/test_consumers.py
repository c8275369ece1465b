"""The queues an instance consumes from."""

from __future__ import annotations

import httpx
import pytest
from contract import assert_problem, unique


def consumers(client: httpx.Client, app: str, name: str) -> list[str]:
    response = client.get(f"/{app}/instances/{name}/queues")
    assert response.status_code == 200
    return sorted(entry["name"] for entry in response.json())


def test_private_queue_is_always_consumed(client: httpx.Client, app: str, instance: dict):
    name = instance["name"]
    assert consumers(client, app, name) == [f"dq.{name}"]


def test_consuming_needs_a_declared_queue(client: httpx.Client, app: str, instance: dict):
    name = instance["name"]
    assert_problem(client.put(f"/{app}/instances/{name}/queues/celery"), 404)
    assert consumers(client, app, name) == [f"dq.{name}"]
    assert client.get(f"/{app}/instances/{name}").json()["queues"] == []


@pytest.mark.parametrize("method", ["PUT", "POST"])
def test_start_consuming(client: httpx.Client, app: str, instance: dict, method: str):
    name = instance["name"]
    client.put(f"/{app}/queues/celery")
    url = f"/{app}/instances/{name}/queues/celery"
    first = client.request(method, url)
    assert first.status_code == 201
    consumer = first.json()
    assert consumer["name"] == "celery"
    assert consumer["routing_key"] == "celery"
    assert consumer["exchange"]["name"] == "celery"
    assert consumer["exchange"]["type"] == "direct"
    again = client.request(method, url)
    assert again.status_code == 200
    assert again.json()["name"] == "celery"
    assert consumers(client, app, name) == sorted(["celery", f"dq.{name}"])
    assert client.get(f"/{app}/instances/{name}").json()["queues"] == ["celery"]


def test_stop_consuming(client: httpx.Client, app: str, instance: dict):
    name = instance["name"]
    client.put(f"/{app}/queues/celery")
    client.put(f"/{app}/instances/{name}/queues/celery")
    response = client.delete(f"/{app}/instances/{name}/queues/celery")
    assert response.status_code == 200
    assert response.json()["name"] == "celery"
    assert consumers(client, app, name) == [f"dq.{name}"]
    assert client.get(f"/{app}/instances/{name}").json()["queues"] == []
    assert_problem(client.delete(f"/{app}/instances/{name}/queues/celery"), 404)
    # The declaration itself stays.
    assert client.get(f"/{app}/queues/celery").status_code == 200


def test_private_queue_cannot_be_cancelled(client: httpx.Client, app: str, instance: dict):
    name = instance["name"]
    body = assert_problem(client.delete(f"/{app}/instances/{name}/queues/dq.{name}"), 409)
    assert body["type"] == "urn:cyme:problem:conflict"
    assert consumers(client, app, name) == [f"dq.{name}"]


def test_consumer_follows_the_queue_declaration(client: httpx.Client, app: str, instance: dict):
    name = instance["name"]
    client.put(f"/{app}/queues/images", json={"exchange": "media", "exchange_type": "topic"})
    consumer = client.put(f"/{app}/instances/{name}/queues/images").json()
    assert consumer["exchange"] == {**consumer["exchange"], "name": "media", "type": "topic"}
    client.put(f"/{app}/queues/images", json={"routing_key": "images.#"})
    entries = client.get(f"/{app}/instances/{name}/queues").json()
    images = next(entry for entry in entries if entry["name"] == "images")
    assert images["routing_key"] == "images.#"
    assert images["exchange"]["name"] == "media"


def test_deleting_a_queue_stops_every_consumer(client: httpx.Client, app: str):
    client.put(f"/{app}/queues/celery")
    client.put(f"/{app}/queues/other")
    names = [client.post(f"/{app}/instances/{unique('w')}").json()["name"] for _ in range(2)]
    for name in names:
        client.put(f"/{app}/instances/{name}/queues/celery")
        client.put(f"/{app}/instances/{name}/queues/other")

    assert client.delete(f"/{app}/queues/celery").status_code == 200

    for name in names:
        assert consumers(client, app, name) == sorted(["other", f"dq.{name}"])
        assert client.get(f"/{app}/instances/{name}").json()["queues"] == ["other"]


def test_consumer_of_unknown_instance_is_404(client: httpx.Client, app: str):
    client.put(f"/{app}/queues/celery")
    assert_problem(client.put(f"/{app}/instances/{unique('w')}/queues/celery"), 404)
    assert_problem(client.delete(f"/{app}/instances/{unique('w')}/queues/celery"), 404)


def test_queue_of_another_app_cannot_be_consumed(client: httpx.Client, app: str, instance: dict):
    other = unique("app")
    client.put(f"/{other}")
    try:
        client.put(f"/{other}/queues/theirs")
        url = f"/{app}/instances/{instance['name']}/queues/theirs"
        assert_problem(client.put(url), 404)
    finally:
        client.delete(f"/{other}")
