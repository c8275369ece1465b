"""Queue declarations of an app."""

from __future__ import annotations

import json

import httpx
import pytest
from contract import assert_problem, unique


@pytest.mark.parametrize("method", ["PUT", "POST"])
def test_declare_queue_with_defaults(client: httpx.Client, app: str, method: str):
    response = client.request(method, f"/{app}/queues/celery")
    assert response.status_code == 201
    assert response.headers["location"] == f"/{app}/queues/celery"
    queue = {
        "name": "celery",
        "exchange": "celery",
        "routing_key": "celery",
        "exchange_type": "direct",
        "options": {},
    }
    assert response.json() == queue
    again = client.request(method, f"/{app}/queues/celery")
    assert again.status_code == 200
    assert again.json() == queue
    # A GET adds its depth: a simulated broker's queue is empty, and nobody consumes it.
    assert client.get(f"/{app}/queues/celery").json() == {**queue, **EMPTY}
    assert client.get(f"/{app}/queues").json() == ["celery"]


EMPTY = {"messages": 0, "consumers": 0, "depth_error": None}


def test_update_keeps_left_out_fields(client: httpx.Client, app: str):
    created = client.put(
        f"/{app}/queues/images",
        json={
            "exchange": "media",
            "exchange_type": "topic",
            "routing_key": "images.#",
            "options": {"queue_arguments": {"x-max-priority": 10}},
        },
    )
    assert created.status_code == 201
    updated = client.put(f"/{app}/queues/images", json={"routing_key": "images.*"})
    assert updated.status_code == 200
    assert updated.json() == {
        "name": "images",
        "exchange": "media",
        "exchange_type": "topic",
        "routing_key": "images.*",
        "options": {"queue_arguments": {"x-max-priority": 10}},
    }
    assert client.get(f"/{app}/queues/images").json() == {**updated.json(), **EMPTY}


def test_declare_queue_from_form_and_query(client: httpx.Client, app: str):
    by_form = client.put(
        f"/{app}/queues/q1",
        data={"exchange_type": "fanout", "options": json.dumps({"durable": False})},
    )
    assert by_form.status_code == 201
    assert by_form.json()["exchange_type"] == "fanout"
    assert by_form.json()["options"] == {"durable": False}
    by_query = client.put(
        f"/{app}/queues/q2", params={"exchange": "", "options": '{"auto_delete": true}'}
    )
    assert by_query.status_code == 201
    assert by_query.json()["exchange"] == ""  # the default exchange
    assert by_query.json()["options"] == {"auto_delete": True}


def test_queues_of_apps_are_separate(client: httpx.Client, app: str):
    other = unique("app")
    client.put(f"/{other}")
    try:
        client.put(f"/{app}/queues/celery", json={"routing_key": "mine"})
        assert client.get(f"/{other}/queues").json() == []
        assert_problem(client.get(f"/{other}/queues/celery"), 404)
        assert client.put(f"/{other}/queues/celery").json()["routing_key"] == "celery"
        assert client.get(f"/{app}/queues/celery").json()["routing_key"] == "mine"
    finally:
        client.delete(f"/{other}")


def test_delete_queue(client: httpx.Client, app: str):
    declared = client.put(f"/{app}/queues/celery").json()
    response = client.delete(f"/{app}/queues/celery")
    assert response.status_code == 200
    assert response.json() == declared
    assert_problem(client.get(f"/{app}/queues/celery"), 404)
    assert client.get(f"/{app}/queues").json() == []
    assert_problem(client.delete(f"/{app}/queues/celery"), 404)


def test_queue_of_unknown_app_is_404(client: httpx.Client):
    app = unique("nope")
    assert_problem(client.get(f"/{app}/queues"), 404)
    assert_problem(client.put(f"/{app}/queues/celery"), 404)
    assert_problem(client.get(f"/{app}/queues/celery"), 404)
    assert_problem(client.get(f"/{app}"), 404)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"exchange_type": "broadcast"}, "exchange_type"),
        ({"exchange": "has space"}, "exchange"),
        ({"routing_key": "a b"}, "routing_key"),
        ({"options": []}, "options"),
        ({"durable": True}, "durable"),
    ],
)
def test_invalid_queue_fields_are_refused(client: httpx.Client, app: str, body: dict, field: str):
    assert_problem(client.put(f"/{app}/queues/celery", json=body), 422, field=field)
    assert_problem(client.get(f"/{app}/queues/celery"), 404)
    assert client.get(f"/{app}/queues").json() == []
