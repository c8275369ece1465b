"""`?nowait=true` (and the original `!` segment): 202 at once, the change right after."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass

import httpx
import pytest
from contract import ContractValidator, assert_problem, unique
from live import poll

from cyme_branch.testing import LiveBranch

NOWAIT = {"nowait": "true"}


def assert_scheduled(
    response: httpx.Response, operation: str, target: str | None, validator: ContractValidator
) -> dict:
    assert response.status_code == 202, (
        f"{response.request.method} {response.request.url} -> {response.status_code}: "
        f"{response.text}"
    )
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert validator.schema_errors("/components/schemas/Scheduled", body) == []
    assert body["ok"] == "operation scheduled"
    assert body["operation"] == operation
    if target is not None:
        assert body["target"] == target
    return body


def consumers(client: httpx.Client, app: str, name: str) -> list[str]:
    return sorted(c["name"] for c in client.get(f"/{app}/instances/{name}/queues").json())


def eventually(check: Callable[[], bool], what: str) -> None:
    assert poll(check, timeout=5), f"not done within 5 s: {what}"


@dataclass
class Case:
    operation: str
    method: str
    path: str  # {app}, {name}, {new}, {queue} are filled in
    body: dict | None = None
    before: Callable[[httpx.Client, str, str, str], None] | None = None
    done: Callable[[httpx.Client, str, str, str, str], bool] | None = None


def _declare(client: httpx.Client, app: str, name: str, queue: str) -> None:
    assert client.put(f"/{app}/queues/{queue}").status_code == 201


def _consume(client: httpx.Client, app: str, name: str, queue: str) -> None:
    _declare(client, app, name, queue)
    assert client.put(f"/{app}/instances/{name}/queues/{queue}").status_code == 201


CASES = [
    Case(
        "createNamedInstance",
        "POST",
        "/{app}/instances/{new}",
        {"pool": "solo"},
        done=lambda c, app, name, new, queue: (
            c.get(f"/{app}/instances/{new}").status_code == 200
            and c.get(f"/{app}/instances/{new}").json()["pool"] == "solo"
        ),
    ),
    Case(
        "deleteInstance",
        "DELETE",
        "/{app}/instances/{name}",
        done=lambda c, app, name, new, queue: c.get(f"/{app}/instances/{name}").status_code == 404,
    ),
    Case(
        "putAutoscale",
        "PUT",
        "/{app}/instances/{name}/autoscale",
        {"min": 2, "max": 3},
        done=lambda c, app, name, new, queue: (
            c.get(f"/{app}/instances/{name}/autoscale").json() == {"min": 2, "max": 3}
        ),
    ),
    Case(
        "postAutoscale",
        "POST",
        "/{app}/instances/{name}/autoscale",
        {"min": 3, "max": 5},
        done=lambda c, app, name, new, queue: (
            c.get(f"/{app}/instances/{name}/autoscale").json() == {"min": 3, "max": 5}
        ),
    ),
    Case(
        "putConsumer",
        "PUT",
        "/{app}/instances/{name}/queues/{queue}",
        before=_declare,
        done=lambda c, app, name, new, queue: queue in consumers(c, app, name),
    ),
    Case(
        "postConsumer",
        "POST",
        "/{app}/instances/{name}/queues/{queue}",
        before=_declare,
        done=lambda c, app, name, new, queue: queue in consumers(c, app, name),
    ),
    Case(
        "deleteConsumer",
        "DELETE",
        "/{app}/instances/{name}/queues/{queue}",
        before=_consume,
        done=lambda c, app, name, new, queue: queue not in consumers(c, app, name),
    ),
    Case(
        "putQueue",
        "PUT",
        "/{app}/queues/{queue}",
        {"routing_key": "rk.put"},
        done=lambda c, app, name, new, queue: (
            c.get(f"/{app}/queues/{queue}").status_code == 200
            and c.get(f"/{app}/queues/{queue}").json()["routing_key"] == "rk.put"
        ),
    ),
    Case(
        "postQueue",
        "POST",
        "/{app}/queues/{queue}",
        {"routing_key": "rk.post"},
        done=lambda c, app, name, new, queue: (
            c.get(f"/{app}/queues/{queue}").status_code == 200
            and c.get(f"/{app}/queues/{queue}").json()["routing_key"] == "rk.post"
        ),
    ),
    Case(
        "deleteQueue",
        "DELETE",
        "/{app}/queues/{queue}",
        before=_declare,
        done=lambda c, app, name, new, queue: c.get(f"/{app}/queues/{queue}").status_code == 404,
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[c.operation for c in CASES])
def test_nowait_answers_202_then_applies_the_change(
    client: httpx.Client, app: str, instance: dict, validator: ContractValidator, case: Case
):
    name, new, queue = instance["name"], unique("w"), unique("q")
    if case.before:
        case.before(client, app, name, queue)
    path = case.path.format(app=app, name=name, new=new, queue=queue)
    response = client.request(case.method, path, params=NOWAIT, json=case.body)
    # The target is the resource's path, to be polled; a consumer has no GET
    # of its own, so its target is the instance's consumer list.
    target = f"/{app}/instances/{name}/queues" if "Consumer" in case.operation else path
    assert_scheduled(response, case.operation, target, validator)
    assert case.done is not None
    eventually(lambda: case.done(client, app, name, new, queue), f"{case.method} {path}")
    polled = client.get(target)
    assert polled.status_code == (404 if target == path and case.method == "DELETE" else 200)


def test_nowait_create_instance_names_its_target(
    client: httpx.Client, app: str, validator: ContractValidator
):
    response = client.post(f"/{app}/instances", params=NOWAIT, json={"pool": "threads"})
    body = assert_scheduled(response, "createInstance", None, validator)
    prefix = f"/{app}/instances/"
    assert body["target"].startswith(prefix), body
    name = body["target"][len(prefix) :]
    assert str(uuid.UUID(name)) == name
    eventually(lambda: client.get(body["target"]).status_code == 200, body["target"])
    assert client.get(body["target"]).json()["pool"] == "threads"
    assert client.get(f"/{app}/instances").json() == [name]


def test_nowait_false_waits(client: httpx.Client, app: str):
    response = client.post(f"/{app}/instances", params={"nowait": "false"})
    assert response.status_code == 201
    assert client.get(f"/{app}/instances/{response.json()['name']}").status_code == 200


def test_legacy_bang_creates_a_named_instance(
    branch: LiveBranch, client: httpx.Client, app: str, validator: ContractValidator
):
    name = unique("w")
    response = httpx.post(f"{branch.url}/{app}/instances/!/{name}", timeout=5)
    assert_scheduled(response, "createNamedInstance", f"/{app}/instances/{name}", validator)
    eventually(lambda: client.get(f"/{app}/instances/{name}").status_code == 200, name)
    assert client.get(f"/{app}/instances").json() == [name]


def test_legacy_bang_sets_autoscale(
    branch: LiveBranch, client: httpx.Client, app: str, instance: dict, validator: ContractValidator
):
    name = instance["name"]
    response = httpx.put(f"{branch.url}/{app}/instances/!/{name}/autoscale?min=2&max=4", timeout=5)
    target = f"/{app}/instances/{name}/autoscale"
    assert_scheduled(response, "putAutoscale", target, validator)
    eventually(lambda: client.get(target).json() == {"min": 2, "max": 4}, target)


def test_legacy_bang_still_validates(branch: LiveBranch, app: str):
    missing_app = unique("app")
    response = httpx.post(f"{branch.url}/{missing_app}/instances/!/{unique('w')}", timeout=5)
    assert_problem(response, 404)
    response = httpx.post(f"{branch.url}/{app}/instances/!/a..b", timeout=5)
    assert_problem(response, 422, field="instance")
    response = httpx.put(f"{branch.url}/{app}/instances/!/{unique('w')}/autoscale", timeout=5)
    assert_problem(response, 404)


def test_legacy_bang_on_a_get_is_400(branch: LiveBranch, app: str, instance: dict):
    response = httpx.get(f"{branch.url}/{app}/instances/!/{instance['name']}", timeout=5)
    body = assert_problem(response, 400)
    assert body["type"] == "urn:cyme:problem:malformed-request"


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/branches",
        "/{app}",
        "/{app}/instances",
        "/{app}/instances/{name}",
        "/{app}/instances/{name}/autoscale",
        "/{app}/instances/{name}/queues",
        "/{app}/queues",
    ],
)
def test_nowait_on_a_get_is_400(client: httpx.Client, app: str, instance: dict, path: str):
    url = path.format(app=app, name=instance["name"])
    body = assert_problem(client.get(url, params=NOWAIT), 400)
    assert body["type"] == "urn:cyme:problem:malformed-request"


PERHAPS = {"nowait": "perhaps"}
INVALID = {
    "autoscale-type": ("PUT", "/{app}/instances/{name}/autoscale", NOWAIT, {"min": "x"}, "min"),
    "min-over-max": (
        "PUT",
        "/{app}/instances/{name}/autoscale",
        NOWAIT,
        {"min": 5, "max": 2},
        "min",
    ),
    # The same 422 a waiting request gets: min over the instance's current max (1).
    "min-over-current-max": (
        "POST",
        "/{app}/instances/{name}/autoscale",
        NOWAIT,
        {"min": 2},
        "min",
    ),
    "create-pool": ("POST", "/{app}/instances", NOWAIT, {"pool": "x"}, "pool"),
    "create-named-pool": ("POST", "/{app}/instances/{new}", NOWAIT, {"pool": "x"}, "pool"),
    "queue-options": ("PUT", "/{app}/queues/q1", NOWAIT, {"options": 3}, "options"),
    "nowait-not-boolean": ("POST", "/{app}/instances", PERHAPS, None, "nowait"),
}


@pytest.mark.parametrize(
    ("method", "path", "params", "body", "field"), INVALID.values(), ids=INVALID.keys()
)
def test_nowait_still_validates_the_request(
    client: httpx.Client,
    app: str,
    instance: dict,
    method: str,
    path: str,
    params: dict,
    body: dict | None,
    field: str,
):
    name, new = instance["name"], unique("w")
    url = path.format(app=app, name=name, new=new)
    assert_problem(client.request(method, url, params=params, json=body), 422, field=field)
    time.sleep(0.2)  # had it been scheduled anyway, give it time to show
    assert client.get(f"/{app}/instances/{name}/autoscale").json() == {"min": 1, "max": 1}
    assert client.get(f"/{app}/instances").json() == [name]
    assert client.get(f"/{app}/queues").json() == []


def test_nowait_still_needs_the_app_and_instance(client: httpx.Client, app: str):
    missing_app = unique("app")
    missing = unique("w")
    assert_problem(client.post(f"/{missing_app}/instances", params=NOWAIT), 404)
    assert_problem(client.post(f"/{missing_app}/instances/{missing}", params=NOWAIT), 404)
    assert_problem(client.delete(f"/{app}/instances/{missing}", params=NOWAIT), 404)
    autoscale = f"/{app}/instances/{missing}/autoscale"
    assert_problem(client.put(autoscale, params=NOWAIT, json={"min": 1, "max": 2}), 404)
    consumer = f"/{app}/instances/{missing}/queues/celery"
    assert_problem(client.put(consumer, params=NOWAIT), 404)
    assert_problem(client.put(f"/{missing_app}/queues/q1", params=NOWAIT), 404)
    assert client.get(f"/{app}/instances").json() == []
    assert missing_app not in client.get("/").json()


def test_nowait_checks_queues_and_consumers_at_once(client: httpx.Client, app: str, instance: dict):
    """What would fail later fails now: a 202 means the change will be made."""
    name = instance["name"]
    undeclared = f"/{app}/instances/{name}/queues/nodecl"
    assert_problem(client.put(undeclared, params=NOWAIT), 404)
    assert_problem(client.post(undeclared, params=NOWAIT), 404)
    assert_problem(client.delete(undeclared, params=NOWAIT), 404)
    private = f"/{app}/instances/{name}/queues/dq.{name}"
    assert_problem(client.delete(private, params=NOWAIT), 409)
    assert_problem(client.delete(f"/{app}/queues/nosuch", params=NOWAIT), 404)
    assert client.get(f"/{app}/instances/{name}").json()["queues"] == []
    assert client.get(f"/{app}/queues").json() == []
