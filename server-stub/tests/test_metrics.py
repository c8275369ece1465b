"""`GET /metrics`, read with prometheus_client's own parser; queue depth, simulated."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from contract import ContractValidator, assert_problem, contract_client, unique
from live import poll
from prometheus_client.parser import text_string_to_metric_families

from cyme_branch.testing import LiveBranch

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def scrape(http: httpx.Client) -> Samples:
    """Every sample of /metrics, by name and labels, parsed by prometheus_client."""
    response = http.get("/metrics")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    samples: Samples = {}
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def value(samples: Samples, name: str, **labels: str) -> float | None:
    return samples.get((name, tuple(sorted(labels.items()))))


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveBranch]:
    root = tmp_path_factory.mktemp("metrics")
    with LiveBranch(root, "metrics", fault_injection=True, sup_interval=0.1) as branch:
        yield branch


@pytest.fixture
def http(live: LiveBranch, validator: ContractValidator) -> Iterator[httpx.Client]:
    with contract_client(live.url, validator) as client:
        yield client


@pytest.fixture
def app(http: httpx.Client) -> Iterator[str]:
    name = unique("app")
    http.put(f"/{name}")
    yield name
    http.delete(f"/{name}")


def test_every_instance_has_its_series_and_a_deleted_one_none(http: httpx.Client, app: str):
    http.post(f"/{app}/instances/w-one")
    http.put(f"/{app}/instances/w-one/autoscale", json={"min": 2, "max": 5})
    samples = scrape(http)
    one = {"app": app, "instance": "w-one"}
    assert value(samples, "cyme_instance_up", **one) == 1.0
    assert value(samples, "cyme_instance_state", **one, state="running") == 1.0
    states = [k for k in samples if k[0] == "cyme_instance_state" and ("instance", "w-one") in k[1]]
    assert len(states) == 8
    assert sum(samples[k] for k in states) == 1.0
    assert value(samples, "cyme_instance_restarts_total", **one) == 0.0
    assert value(samples, "cyme_instance_pool_processes", **one) == 2.0
    assert value(samples, "cyme_instance_autoscale_min", **one) == 2.0
    assert value(samples, "cyme_instance_autoscale_max", **one) == 5.0
    info = [k for k in samples if k[0] == "cyme_branch_info"]
    assert info and dict(info[0][1])["id"] == "metrics"

    http.delete(f"/{app}/instances/w-one")
    after = scrape(http)
    assert not [k for k in after if ("instance", "w-one") in k[1]]


def test_a_killed_worker_and_its_restart(http: httpx.Client, app: str):
    http.post(f"/{app}/instances/w-kill")
    labels = {"app": app, "instance": "w-kill"}
    fault = {"Cyme-Fault": f"kill=SIGKILL; id={unique('f')}"}
    http.get(f"/{app}/instances/w-kill", headers=fault)
    down = scrape(http)
    assert value(down, "cyme_instance_up", **labels) == 0.0
    assert value(down, "cyme_instance_pool_processes", **labels) is None
    states = [
        dict(labels)["state"]
        for (name, labels), found in down.items()
        if name == "cyme_instance_state" and found == 1.0 and ("instance", "w-kill") in labels
    ]
    assert states in (["stopped"], ["backoff"])
    back = poll(lambda: value(s := scrape(http), "cyme_instance_up", **labels) == 1.0 and s, 5)
    assert back, "the worker did not show up again"
    assert value(back, "cyme_instance_restarts_total", **labels) == 1.0


def test_requests_are_counted_by_operation_and_status(http: httpx.Client, app: str):
    before = scrape(http)
    http.get(f"/{app}")
    http.get(f"/{unique('app')}")
    after = scrape(http)
    for status in ("200", "404"):
        key = ("cyme_requests_total", (("operation", "getApp"), ("status", status)))
        assert after[key] == before.get(key, 0.0) + 1
    count = ("cyme_request_duration_seconds_count", (("operation", "getApp"),))
    inf = ("cyme_request_duration_seconds_bucket", (("le", "+Inf"), ("operation", "getApp")))
    assert after[count] == after[inf] == before.get(count, 0.0) + 2
    rounds = ("cyme_supervisor_rounds_total", ())
    assert after[rounds] >= before[rounds]


def test_queue_depth_and_consumers(http: httpx.Client, app: str):
    http.put(f"/{app}/queues/jobs")
    http.put(f"/{app}/queues/gone")
    for name in ("w-a", "w-b"):
        http.post(f"/{app}/instances/{name}")
        http.put(f"/{app}/instances/{name}/queues/jobs")
    http.post(f"/{app}/instances/w-b/disable")
    fill = {"Cyme-Fault": f"depth=7; id={unique('f')}"}
    jobs = http.get(f"/{app}/queues/jobs", headers=fill).json()
    # On a broker that counts no consumers, they are the branch's running workers.
    assert (jobs["messages"], jobs["consumers"], jobs["depth_error"]) == (7, 1, None)
    down = {"Cyme-Fault": f"depth=error; id={unique('f')}"}
    gone = http.get(f"/{app}/queues/gone", headers=down).json()
    assert (gone["messages"], gone["consumers"]) == (None, None)
    assert "cannot be reached" in gone["depth_error"]
    assert gone["exchange"] == "gone"  # the declaration is answered all the same

    listed = http.get(f"/{app}/queues", params={"details": "true"}).json()
    assert [(q["name"], q["messages"]) for q in listed] == [("gone", None), ("jobs", 7)]
    samples = scrape(http)
    assert value(samples, "cyme_queue_messages", app=app, queue="jobs") == 7.0
    assert value(samples, "cyme_queue_consumers", app=app, queue="jobs") == 1.0
    assert value(samples, "cyme_queue_depth_up", app=app, queue="jobs") == 1.0
    assert value(samples, "cyme_queue_depth_up", app=app, queue="gone") == 0.0
    assert value(samples, "cyme_queue_messages", app=app, queue="gone") is None


def test_metrics_need_the_token_unless_public(tmp_path, validator: ContractValidator):
    with LiveBranch(tmp_path / "closed", "closed", token="s3cret") as closed:
        assert_problem(httpx.get(f"{closed.url}/metrics"), 401)
        auth = {"Authorization": "Bearer s3cret"}
        assert httpx.get(f"{closed.url}/metrics", headers=auth).status_code == 200
    args = ["--metrics-public"]
    with LiveBranch(tmp_path / "open", "open", token="s3cret", args=args) as public:
        assert httpx.get(f"{public.url}/metrics").status_code == 200
        assert_problem(httpx.get(f"{public.url}/"), 401)  # nothing else is public
