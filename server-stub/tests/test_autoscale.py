"""Autoscale bounds and the simulated pool that follows them, seen through stats."""

from __future__ import annotations

import httpx
import pytest
from contract import assert_problem, unique


def base(app: str, instance: dict) -> str:
    return f"/{app}/instances/{instance['name']}"


def test_new_instance_has_a_pool_of_one(client: httpx.Client, app: str, instance: dict):
    assert client.get(f"{base(app, instance)}/autoscale").json() == {"max": 1, "min": 1}
    stats = client.get(f"{base(app, instance)}/stats")
    assert stats.status_code == 200
    assert len(stats.json()["pool"]["processes"]) == 1
    assert isinstance(stats.json()["pid"], int)


@pytest.mark.parametrize("how", ["json", "form", "query", "post-json"])
def test_set_autoscale_grows_the_pool(client: httpx.Client, app: str, instance: dict, how: str):
    url = f"{base(app, instance)}/autoscale"
    bounds = {"min": 4, "max": 10}
    if how == "json":
        response = client.put(url, json=bounds)
    elif how == "form":
        response = client.put(url, data=bounds)
    elif how == "query":  # the talk's curl line
        response = client.put(f"{url}?min=4&max=10")
    else:
        response = client.post(url, json=bounds)
    assert response.status_code == 200
    assert response.json() == {"max": 10, "min": 4}
    assert client.get(url).json() == {"max": 10, "min": 4}

    stats = client.get(f"{base(app, instance)}/stats").json()
    processes = stats["pool"]["processes"]
    assert len(processes) == 4
    assert len(set(processes)) == 4
    assert all(isinstance(pid, int) for pid in processes)
    assert stats["autoscaler"]["max"] == 10
    assert stats["autoscaler"]["min"] == 4
    assert stats["autoscaler"]["current"] == 4

    detail = client.get(base(app, instance)).json()
    assert (detail["min_concurrency"], detail["max_concurrency"]) == (4, 10)


def test_a_bound_left_out_keeps_its_value(client: httpx.Client, app: str, instance: dict):
    url = f"{base(app, instance)}/autoscale"
    client.put(url, json={"min": 4, "max": 10})
    assert client.put(url, json={"max": 20}).json() == {"max": 20, "min": 4}
    assert client.put(url, json={"min": 2}).json() == {"max": 20, "min": 2}
    assert client.put(url).json() == {"max": 20, "min": 2}
    assert len(client.get(f"{base(app, instance)}/stats").json()["pool"]["processes"]) == 2


def test_pool_shrinks_with_min(client: httpx.Client, app: str, instance: dict):
    url = f"{base(app, instance)}/autoscale"
    client.put(url, json={"min": 6, "max": 8})
    client.put(url, json={"min": 3})
    stats = client.get(f"{base(app, instance)}/stats").json()
    assert len(stats["pool"]["processes"]) == 3
    assert stats["autoscaler"]["current"] == 3


def test_min_zero_is_allowed(client: httpx.Client, app: str, instance: dict):
    response = client.put(f"{base(app, instance)}/autoscale", json={"min": 0, "max": 1})
    assert response.status_code == 200
    assert response.json() == {"max": 1, "min": 0}


@pytest.mark.parametrize(
    ("bounds", "field"),
    [
        ({"min": "x"}, "min"),
        ({"max": "ten"}, "max"),
        ({"min": 5, "max": 4}, "min"),
        ({"min": 2}, "min"),  # more than the current max (1)
        ({"min": -1}, "min"),
        ({"max": 100000}, "max"),
        ({"max": 0}, "max"),
        ({"min": 1.5}, "min"),
        ({"min": True}, "min"),
        ({"min": 1, "mx": 3}, "mx"),
    ],
)
def test_invalid_bounds_are_refused(
    client: httpx.Client, app: str, instance: dict, bounds: dict, field: str
):
    url = f"{base(app, instance)}/autoscale"
    before = client.get(f"{base(app, instance)}/stats").json()["pool"]["processes"]
    assert_problem(client.put(url, json=bounds), 422, field=field, location="body")
    assert client.get(url).json() == {"max": 1, "min": 1}
    after = client.get(f"{base(app, instance)}/stats").json()["pool"]["processes"]
    assert len(after) == len(before) == 1


def test_invalid_bound_in_query_names_the_query(client: httpx.Client, app: str, instance: dict):
    url = f"{base(app, instance)}/autoscale"
    assert_problem(client.put(f"{url}?min=x"), 422, field="min", location="query")
    assert_problem(client.put(f"{url}?min=4&max=2"), 422, field="min")
    assert client.get(url).json() == {"max": 1, "min": 1}


def test_query_and_body_must_agree(client: httpx.Client, app: str, instance: dict):
    url = f"{base(app, instance)}/autoscale"
    assert_problem(client.put(f"{url}?max=10", json={"max": 12}), 422, field="max")
    assert client.get(url).json() == {"max": 1, "min": 1}
    agreed = client.put(f"{url}?max=10", json={"max": 10, "min": 2})
    assert agreed.status_code == 200
    assert agreed.json() == {"max": 10, "min": 2}


def test_autoscale_of_unknown_instance_is_404(client: httpx.Client, app: str):
    assert_problem(client.put(f"/{app}/instances/nobody-here/autoscale", json={"max": 2}), 404)


def test_stats_report_the_broker_without_password(client: httpx.Client):
    app = unique("app")
    client.put(f"/{app}", json={"broker": "amqp://guest:hunter2@rabbit.example:5673/vhost"})
    try:
        instance = client.post(f"/{app}/instances").json()
        stats = client.get(f"{base(app, instance)}/stats")
        assert stats.status_code == 200
        assert "hunter2" not in stats.text
        broker = stats.json().get("broker", {})
        assert broker.get("hostname") == "rabbit.example"
        assert broker.get("port") == 5673
    finally:
        client.delete(f"/{app}")
