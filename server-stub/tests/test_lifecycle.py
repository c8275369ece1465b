"""What the workers are doing, and the levers: simulated workers that die, come back,
restart, are disabled and enabled, and storm into `failed`.

The branch of this module runs its supervisor every 0.1 s, with at most 2
restarts in 60 s, so that the rounds that bring a worker back (or do not)
come quickly. Workers are killed with `Cyme-Fault: kill=...` and `exit=...`.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from contract import ContractValidator, assert_problem, contract_client, unique
from live import poll, run_cli

from cyme_branch.testing import LiveBranch

KILL = "kill=SIGKILL"


@pytest.fixture(scope="module")
def lively(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveBranch]:
    root = tmp_path_factory.mktemp("lifecycle")
    args = ["--restart-max", "2", "--restart-window", "60"]
    with LiveBranch(root, "lifecycle", fault_injection=True, sup_interval=0.1, args=args) as live:
        yield live


@pytest.fixture
def http(lively: LiveBranch, validator: ContractValidator) -> Iterator[httpx.Client]:
    with contract_client(lively.url, validator) as client:
        yield client


@pytest.fixture
def app(http: httpx.Client) -> Iterator[str]:
    name = unique("app")
    assert http.put(f"/{name}").status_code == 201
    yield name
    http.delete(f"/{name}")


def create(http: httpx.Client, app: str) -> tuple[str, dict]:
    name = unique("w")
    response = http.post(f"/{app}/instances/{name}")
    assert response.status_code == 201, response.text
    return name, response.json()


def fault(value: str) -> dict[str, str]:
    """A Cyme-Fault header of its own id: each applies once."""
    return {"Cyme-Fault": f"{value}; id={unique('fault')}"}


def wait_state(http: httpx.Client, path: str, *states: str, timeout: float = 5.0) -> dict:
    """The instance, once its state is one of `states` (the test fails otherwise)."""
    found = poll(lambda: (i := http.get(path).json())["state"] in states and i, timeout)
    assert found, f"{path} never got to {states}: {http.get(path).json()}"
    return found


def test_a_new_instance_runs_and_never_exited(http: httpx.Client, app: str):
    name, created = create(http, app)
    assert created["state"] == "running"
    assert created["is_enabled"] is True
    assert isinstance(created["pid"], int)
    assert (created["restarts"], created["last_exit"], created["processes"]) == (0, None, 1)
    assert http.get(f"/{app}/instances/{name}").json() == created


def test_details_list_every_instance_with_its_state_in_one_request(http: httpx.Client, app: str):
    first, _ = create(http, app)
    second, _ = create(http, app)
    assert http.get(f"/{app}/instances").json() == [first, second]  # names, as before
    listed = http.get(f"/{app}/instances", params={"details": "true"}).json()
    assert [i["name"] for i in listed] == [first, second]
    assert listed == [http.get(f"/{app}/instances/{n}").json() for n in (first, second)]
    assert http.get(f"/{app}/instances", params={"details": "false"}).json() == [first, second]


def test_a_killed_worker_shows_at_once_and_the_supervisor_brings_it_back(
    http: httpx.Client, app: str
):
    name, created = create(http, app)
    path = f"/{app}/instances/{name}"
    killed = http.get(path, headers=fault(KILL)).json()
    assert killed["state"] in ("stopped", "backoff")
    assert killed["pid"] is None and killed["processes"] is None
    assert killed["last_exit"]["signal"] == "SIGKILL"
    assert killed["last_exit"]["code"] is None and killed["last_exit"]["reason"] is None

    back = wait_state(http, path, "running")
    assert back["restarts"] == 1
    assert back["pid"] not in (None, created["pid"])
    assert back["last_exit"] == killed["last_exit"]
    assert http.get(f"{path}/stats").json()["pid"] == back["pid"]
    # A worker killed by the request itself (faults apply before the handler):
    # a stats request sent after a kill could find it already brought back,
    # since the supervisor of this module runs every 0.1 s.
    assert_problem(http.get(f"{path}/stats", headers=fault(KILL)), 503)


def test_an_exit_code_is_kept(http: httpx.Client, app: str):
    name, _ = create(http, app)
    exited = http.get(f"/{app}/instances/{name}", headers=fault("exit=3")).json()
    assert (exited["last_exit"]["code"], exited["last_exit"]["signal"]) == (3, None)


def test_a_frozen_worker_is_silent_then_unknown_until_it_goes_on(http: httpx.Client, app: str):
    name, created = create(http, app)
    path = f"/{app}/instances/{name}"
    assert_problem(http.get(f"{path}/stats", headers=fault("kill=SIGSTOP")), 504)
    frozen = wait_state(http, path, "unknown")
    assert frozen["pid"] == created["pid"]
    http.get(path, headers=fault("kill=SIGCONT"))
    assert wait_state(http, path, "running")["pid"] == created["pid"]


def test_a_restart_storm_leaves_the_worker_failed_until_it_is_enabled(http: httpx.Client, app: str):
    name, _ = create(http, app)
    path = f"/{app}/instances/{name}"
    for restarts in (1, 2):
        http.get(path, headers=fault(KILL))
        assert wait_state(http, path, "running", timeout=10)["restarts"] == restarts
    failed = http.get(path, headers=fault(KILL)).json()
    assert failed["state"] == "failed"
    assert "2 restarts within 60 s" in failed["last_exit"]["reason"]
    assert failed["last_exit"]["signal"] == "SIGKILL"

    # No round starts it again, and it is not restarted by request either.
    rounds = poll(lambda: http.get(path).json()["state"] != "failed", timeout=1.0)
    assert not rounds
    assert_problem(http.post(f"{path}/restart"), 409)

    enabled = http.post(f"{path}/enable")
    assert enabled.status_code == 200
    assert enabled.json()["state"] == "running"
    assert enabled.json()["restarts"] == 2  # counted still; the storm is forgotten
    http.get(path, headers=fault(KILL))
    assert wait_state(http, path, "running", timeout=10)["restarts"] == 3


def test_a_restart_is_a_new_worker_with_the_same_consumers_and_bounds(http: httpx.Client, app: str):
    name, created = create(http, app)
    path = f"/{app}/instances/{name}"
    http.put(f"/{app}/queues/celery")
    http.put(f"{path}/queues/celery")
    http.put(f"{path}/autoscale", json={"min": 2, "max": 3})
    restarted = http.post(f"{path}/restart")
    assert restarted.status_code == 200
    body = restarted.json()
    assert body["state"] == "running"
    assert body["pid"] != created["pid"]
    assert body["restarts"] == 0  # asked for: not counted
    assert body["last_exit"]["reason"] == "restarted"
    assert body["last_exit"]["code"] == 0
    assert body["queues"] == ["celery"]
    stats = http.get(f"{path}/stats").json()
    assert (stats["pid"], len(stats["pool"]["processes"])) == (body["pid"], 2)
    assert {q["name"] for q in http.get(f"{path}/queues").json()} == {f"dq.{name}", "celery"}


def test_a_disabled_instance_stays_down_and_keeps_its_changes_for_later(
    http: httpx.Client, app: str
):
    name, _ = create(http, app)
    path = f"/{app}/instances/{name}"
    disabled = http.post(f"{path}/disable")
    assert disabled.status_code == 200
    body = disabled.json()
    assert (body["state"], body["is_enabled"], body["pid"]) == ("disabled", False, None)
    assert body["last_exit"]["reason"] == "disabled"
    assert http.post(f"{path}/disable").json()["state"] == "disabled"  # again: no change
    assert not poll(lambda: http.get(path).json()["state"] != "disabled", timeout=0.5)

    assert_problem(http.post(f"{path}/restart"), 409)
    assert_problem(http.get(f"{path}/stats"), 503)
    # Changes are kept for when it runs again; its consumers are those it will have.
    assert http.put(f"{path}/autoscale", json={"min": 3, "max": 4}).status_code == 200
    http.put(f"/{app}/queues/later")
    assert http.put(f"{path}/queues/later").status_code == 201
    assert {q["name"] for q in http.get(f"{path}/queues").json()} == {f"dq.{name}", "later"}

    enabled = http.post(f"{path}/enable").json()
    assert (enabled["state"], enabled["is_enabled"], enabled["processes"]) == ("running", True, 3)
    assert http.post(f"{path}/enable").json()["pid"] == enabled["pid"]  # again: no change


def test_disabled_is_kept_across_a_restart_of_the_branch(
    tmp_path: Path, validator: ContractValidator
):
    with LiveBranch(tmp_path, "disabled-kept") as live:
        with contract_client(live.url, validator) as http:
            http.put("/pycon")
            http.post("/pycon/instances/w1")
            http.post("/pycon/instances/w2")
            http.post("/pycon/instances/w1/disable")
        live.restart()
        with contract_client(live.url, validator) as http:
            w1 = http.get("/pycon/instances/w1").json()
            assert (w1["state"], w1["is_enabled"], w1["pid"]) == ("disabled", False, None)
            assert http.get("/pycon/instances/w2").json()["state"] == "running"
            assert "w1: disabled, left stopped" in live.log_text()


def test_a_rolling_restart_restarts_each_instance_and_skips_the_disabled(
    http: httpx.Client, app: str
):
    names = [create(http, app)[0] for _ in range(3)]
    before = {n: http.get(f"/{app}/instances/{n}").json()["pid"] for n in names}
    http.post(f"/{app}/instances/{names[1]}/disable")
    response = http.post(f"/{app}/restart")
    assert response.status_code == 200
    body = response.json()
    assert body["app"] == app
    assert [(i["name"], i["outcome"]) for i in body["instances"]] == [
        (names[0], "restarted"),
        (names[1], "skipped"),
        (names[2], "restarted"),
    ]
    assert body["instances"][1]["detail"] == "the instance is disabled"
    for entry in (body["instances"][0], body["instances"][2]):
        now = http.get(f"/{app}/instances/{entry['name']}").json()
        assert entry["pid"] == now["pid"] != before[entry["name"]]
    assert http.post(f"/{unique('app')}/restart").status_code == 404


def test_levers_on_what_is_not_there_are_404(http: httpx.Client, app: str):
    for lever in ("restart", "disable", "enable"):
        assert_problem(http.post(f"/{app}/instances/nope/{lever}"), 404)
        assert_problem(http.post(f"/{unique('app')}/instances/nope/{lever}"), 404)


@pytest.mark.parametrize(
    ("value", "path", "status"),
    [
        ("kill=SIGKILL", "/{app}", 400),  # names no instance
        ("kill=SIGNOPE", "/{app}/instances/{name}", 400),
        ("kill=SIGKILL; exit=1", "/{app}/instances/{name}", 400),
        ("exit=300", "/{app}/instances/{name}", 400),
        ("depth=many", "/{app}/queues/celery", 400),
        ("depth=7", "/{app}/instances/{name}", 400),  # names no queue
        ("kill=SIGKILL", "/{app}/instances/nope", 404),
    ],
)
def test_faults_that_cannot_be_are_refused(
    http: httpx.Client, app: str, value: str, path: str, status: int
):
    name, created = create(http, app)
    response = http.get(path.format(app=app, name=name), headers=fault(value))
    assert_problem(response, status)
    assert http.get(f"/{app}/instances/{name}").json()["pid"] == created["pid"]


def test_the_restart_policy_is_shown_and_checked(http: httpx.Client, lively: LiveBranch):
    described = http.get(f"/branches/{lively.id}").json()
    assert (described["restart_max"], described["restart_window"]) == (2, 60.0)
    for bad in (["--restart-max", "-1"], ["--restart-max", "x"], ["--restart-window", "0"]):
        done = run_cli(bad)
        assert done.returncode == 2, done.stderr
        assert "--restart-" in done.stderr
