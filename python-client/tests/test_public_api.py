"""The package itself: its public names, its route table, its generated models."""

from __future__ import annotations

import inspect
import subprocess
import sys

import httpx
import pytest
import respx
import yaml
from conftest import REPO

import cyme
import cyme.types._generated
from cyme import Autoscale, Stats
from cyme._base_client import escape_segment, normalize_base_url
from cyme._options import REQUEST_OPTIONS
from cyme.types import CymeModel

HTTP_METHODS = {"get", "put", "post", "delete", "patch", "head", "options", "trace"}


def test_all_is_complete() -> None:
    public = {name for name in vars(cyme) if not name.startswith("_")}
    submodules = {"resources", "types"}  # imported as a side effect of the package
    assert public - submodules - set(cyme.__all__) == set()
    for name in cyme.__all__:
        assert hasattr(cyme, name), name
    assert len(cyme.__all__) == len(set(cyme.__all__))


def test_import_loads_no_model_until_a_client_is_made() -> None:
    code = (
        "import sys, cyme\n"
        "assert 'pydantic.main' not in sys.modules and 'cyme.types' not in sys.modules\n"
        "assert 'App' in dir(cyme) and 'types' in dir(cyme)\n"
        "cyme.Client('http://:8000')\n"
        "assert 'cyme.types' in sys.modules and 'cyme.resources._sync.apps' in sys.modules\n"
        "assert cyme.App.__module__ == 'cyme.resources._sync.apps'\n"
        "assert cyme.AsyncApp.__module__ == 'cyme.resources._async.apps'\n"
        "assert cyme.types.Stats is cyme.Stats\n"
        "try:\n"
        "    cyme.Nope\n"
        "except AttributeError as exc:\n"
        "    assert 'Nope' in str(exc)\n"
        "else:\n"
        "    raise AssertionError('cyme.Nope')\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_import_needs_no_server_package() -> None:
    code = "import sys, cyme; assert not any(m.startswith('cyme_branch') for m in sys.modules)"
    subprocess.run([sys.executable, "-c", code], check=True)


def test_every_operation_has_a_method() -> None:
    spec = yaml.safe_load((REPO / "openapi.yaml").read_text())
    ids = {
        op["operationId"]
        for item in spec["paths"].values()
        for method, op in item.items()
        if method in HTTP_METHODS
    }
    assert len(ids) == 43
    assert set(cyme.OPERATIONS) == ids
    for operation_id, route in cyme.OPERATIONS.items():
        assert route.operation_id == operation_id
        owner, attribute = route.sdk_method.split(".")
        # The method named by the spec, on the sync class and on its async twin.
        for cls in (getattr(cyme, owner), getattr(cyme, "Async" + owner)):
            member = inspect.getattr_static(cls, attribute)
            assert callable(member) or isinstance(member, property), (cls, attribute)
    for cls in (cyme.Client, cyme.AsyncClient):
        assert isinstance(inspect.getattr_static(cls, "branches"), property)


def test_request_options_are_no_operation_arguments() -> None:
    """`call()` tells its per-call options from the operation's arguments by name."""
    for route in cyme.OPERATIONS.values():
        arguments = {*route.path_params, *route.query_params, *(route.body_fields or ())}
        assert arguments.isdisjoint(REQUEST_OPTIONS), route.operation_id


def test_every_model_is_exported() -> None:
    generated = {
        name
        for name, value in vars(cyme.types._generated).items()
        if isinstance(value, type) and issubclass(value, CymeModel) and value is not CymeModel
    }
    assert generated == set(cyme.types.__all__) - {"CymeModel"}


def test_models_index_and_compare_like_dicts() -> None:
    scale = Autoscale(max=10, min=4)
    assert scale == {"max": 10, "min": 4}
    assert scale != {"max": 10, "min": 5}
    assert scale["min"] == 4
    assert scale.min == 4
    stats = Stats.model_validate(
        {"pid": 1, "pool": {"processes": [2, 3], "max-concurrency": 2}, "odd": {"k": 1}}
    )
    assert stats["pool"]["processes"] == [2, 3]
    assert stats["odd"]["k"] == 1  # a key the schema does not name is kept
    assert "odd" in stats
    assert stats.get("nope", 7) == 7
    with pytest.raises(KeyError):
        stats["nope"]


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("http://:8000", "http://localhost:8000"),
        ("http://:8000/", "http://localhost:8000"),
        (":8001", "http://localhost:8001"),
        ("https://branch.example/cyme/", "https://branch.example/cyme"),
    ],
)
def test_base_urls(given: str, expected: str) -> None:
    assert normalize_base_url(given) == expected


def test_default_base_url(monkeypatch: pytest.MonkeyPatch) -> None:
    assert cyme.Client().base_url == "http://localhost:8000"
    monkeypatch.setenv("CYME_URL", "http://:9000")
    assert cyme.Client().base_url == "http://localhost:9000"


def test_segments_are_escaped() -> None:
    assert escape_segment("a b/c?d#e") == "a%20b%2Fc%3Fd%23e"
    assert escape_segment("..") == "%2E%2E"
    assert escape_segment("w1@host:1") == "w1@host:1"
    assert escape_segment(".") == "%2E"
    assert escape_segment("a.b_c-d~e") == "a.b_c-d~e"
    assert escape_segment("café") == "caf%C3%A9"
    assert escape_segment("") == ""


def test_constants() -> None:
    assert cyme.DEFAULT_TIMEOUT.read == 30.0
    assert cyme.DEFAULT_TIMEOUT.connect == 5.0
    assert cyme.DEFAULT_MAX_RETRIES == 2
    limits = cyme.DEFAULT_CONNECTION_LIMITS
    assert limits.max_connections == limits.max_keepalive_connections == 100
    assert {408, 429, 500, 502, 503, 504} == cyme.RETRY_STATUSES


@pytest.mark.parametrize("given", [None, httpx.Client, cyme.DefaultHttpxClient])
def test_default_headers_reach_the_branch(given: type[httpx.Client] | None) -> None:
    """Whether the SDK made its httpx client or was given one (which carries the
    SDK's headers or not), every request carries them."""
    with respx.mock(base_url="http://branch.test") as mock:
        route = mock.get("/ping").respond(json={"ok": "pong"})
        http = None if given is None else given(headers={"User-Agent": "not-cyme"})
        client = cyme.Client(
            "http://branch.test", token="t0k", headers={"X-Team": "ops"}, http_client=http
        )
        client.with_options(max_retries=0).ping(extra_headers={"X-Call": "1"})
        sent = route.calls.last.request.headers
        assert sent["Authorization"] == "Bearer t0k"
        assert sent["X-Team"] == "ops"
        assert sent["X-Call"] == "1"
        assert sent["Accept"] == "application/json"
        assert sent.get_list("User-Agent") == [f"cyme-python/{cyme.__version__}"]
        client.close()
        if http is not None:
            http.close()


def test_clients_of_other_tokens_share_an_http_client() -> None:
    with respx.mock(base_url="http://branch.test") as mock:
        route = mock.get("/ping").respond(json={"ok": "pong"})
        with cyme.DefaultHttpxClient() as http:
            for token in ("one", "two", None):
                cyme.Client("http://branch.test", token=token or "", http_client=http).ping()
        sent = [call.request.headers.get("authorization") for call in route.calls]
        assert sent == ["Bearer one", "Bearer two", None]
        agents = {call.request.headers["user-agent"] for call in route.calls}
        assert agents == {f"cyme-python/{cyme.__version__}"}
