"""Neighbours: `--peer URL` / `--peer ID=URL`, listed and asked on the caller's behalf."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest
from contract import ContractValidator, assert_problem, contract_client
from live import fake_peer, hanging_server

from cyme_branch.testing import LiveBranch, free_port

pytestmark = pytest.mark.slow


@dataclass
class Pair:
    a: LiveBranch
    b: LiveBranch


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pair]:
    """Branches A and B, each started with `--peer` pointing at the other: each
    needs the other's URL before it starts, so both ports are chosen first."""
    port_a, port_b = free_port(), free_port()
    while port_b == port_a:
        port_b = free_port()
    root = tmp_path_factory.mktemp("neighbours")
    peer_a, peer_b = f"http://127.0.0.1:{port_a}", f"http://127.0.0.1:{port_b}"
    with (
        LiveBranch(root / "a", "branch-a", port=port_a, peers=[peer_b], peer_timeout=2) as a,
        LiveBranch(root / "b", "branch-b", port=port_b, peers=[peer_a], peer_timeout=2) as b,
    ):
        yield Pair(a, b)


@pytest.fixture(scope="module")
def lonely(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveBranch]:
    """A branch whose neighbours are a ghost (nothing listens) and a hanging server.

    It also has a neighbour by URL only that never answers: its id cannot be known.
    """
    with (
        hanging_server() as hang_port,
        LiveBranch(
            tmp_path_factory.mktemp("lonely"),
            "lonely",
            peers=[
                f"ghost=http://127.0.0.1:{free_port()}",
                f"slow=http://127.0.0.1:{hang_port}",
                f"http://127.0.0.1:{free_port()}",
            ],
            peer_timeout=1,
        ) as live,
    ):
        yield live


@pytest.fixture
def on_a(pair: Pair, validator: ContractValidator) -> Iterator[httpx.Client]:
    with contract_client(pair.a.url, validator, timeout=10) as http:
        yield http


@pytest.fixture
def on_lonely(lonely: LiveBranch, validator: ContractValidator) -> Iterator[httpx.Client]:
    with contract_client(lonely.url, validator, timeout=10) as http:
        yield http


def test_branches_lists_itself_first_then_its_neighbour(pair: Pair, validator):
    for me, other in ((pair.a, pair.b), (pair.b, pair.a)):
        with contract_client(me.url, validator, timeout=10) as http:
            response = http.get("/branches")
            assert response.status_code == 200
            assert response.json() == [me.id, other.id]


def test_get_branch_asks_the_neighbour(on_a: httpx.Client, pair: Pair):
    response = on_a.get(f"/branches/{pair.b.id}")
    assert response.status_code == 200, response.text
    info = response.json()
    assert info["id"] == pair.b.id
    assert info["port"] == pair.b.port
    assert str(pair.b.port) in info["url"]
    own = on_a.get(f"/branches/{pair.a.id}").json()
    assert own["id"] == pair.a.id
    assert own["port"] == pair.a.port


def test_an_unknown_branch_is_still_404(on_a: httpx.Client):
    assert_problem(on_a.get("/branches/no-such-branch"), 404)


def test_a_stopped_neighbour_is_502(on_a: httpx.Client, pair: Pair):
    """Runs last in this module: it stops B."""
    assert on_a.get(f"/branches/{pair.b.id}").status_code == 200
    assert pair.b.stop() == 0
    started = time.monotonic()
    response = on_a.get(f"/branches/{pair.b.id}")
    elapsed = time.monotonic() - started
    body = assert_problem(response, 502)
    assert body["type"] == "urn:cyme:problem:bad-gateway"
    assert body["instance"] == f"/branches/{pair.b.id}"
    assert "Traceback" not in response.text
    # The margin over the timeout is for slow machines, not for the branch.
    assert elapsed < 4.0, f"answered after {elapsed:.2f}s (peer timeout 2s)"
    listing = on_a.get("/branches")
    assert listing.status_code == 200
    assert listing.json()[0] == pair.a.id


def test_id_form_peers_are_listed_without_asking(on_lonely: httpx.Client):
    started = time.monotonic()
    response = on_lonely.get("/branches")
    assert response.status_code == 200
    ids = response.json()
    assert ids[0] == "lonely"
    assert sorted(ids[1:]) == ["ghost", "slow"]
    assert time.monotonic() - started < 4.0


def test_an_unreachable_neighbour_is_502(on_lonely: httpx.Client):
    started = time.monotonic()
    body = assert_problem(on_lonely.get("/branches/ghost"), 502)
    assert body["type"] == "urn:cyme:problem:bad-gateway"
    assert time.monotonic() - started < 3.0


def test_a_hanging_neighbour_is_504_within_the_timeout(on_lonely: httpx.Client):
    started = time.monotonic()
    response = on_lonely.get("/branches/slow")
    elapsed = time.monotonic() - started
    body = assert_problem(response, 504)
    assert body["type"] == "urn:cyme:problem:gateway-timeout"
    assert 0.8 <= elapsed < 4.0, f"answered after {elapsed:.2f}s (peer timeout 1s)"
    # The branch keeps serving, and its own description still works.
    assert on_lonely.get("/branches/lonely").json()["id"] == "lonely"


JSON = {"Content-Type": "application/json"}
ODD_ANSWERS = {
    "/ping": (200, {**JSON, "Cyme-Branch": "not a name!"}, b'{"ok":"pong"}'),
    "/branches/html": (200, {"Content-Type": "text/html"}, b"<html>hello</html>"),
    "/branches/badjson": (200, JSON, b'{"id": "badjson", '),
    "/branches/shape": (200, JSON, b'{"hello": "world"}'),
    "/branches/list": (200, JSON, b"[]"),
    "/branches/crash": (500, JSON, b'{"error": "boom"}'),
}


@pytest.fixture(scope="module")
def odd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveBranch]:
    """A branch whose neighbours answer, but not what a branch would."""
    with fake_peer(ODD_ANSWERS) as (port, _seen):
        url = f"http://127.0.0.1:{port}"
        peers = [f"{name}={url}" for name in ("html", "badjson", "shape", "list", "crash")]
        with LiveBranch(
            tmp_path_factory.mktemp("odd"), "odd", peers=[*peers, url], peer_timeout=2
        ) as live:
            yield live


@pytest.mark.parametrize("peer", ["html", "badjson", "shape", "list", "crash"])
def test_a_neighbour_with_a_bad_answer_is_502(odd: LiveBranch, validator, peer: str):
    with contract_client(odd.url, validator, timeout=10) as http:
        body = assert_problem(http.get(f"/branches/{peer}"), 502)
        assert body["type"] == "urn:cyme:problem:bad-gateway"


def test_a_neighbour_with_an_invalid_id_is_not_listed(odd: LiveBranch, validator):
    with contract_client(odd.url, validator, timeout=10) as http:
        response = http.get("/branches")
        assert response.status_code == 200
        assert response.json() == ["odd", "html", "badjson", "shape", "list", "crash"]
