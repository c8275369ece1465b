"""The branch's own routes and its command line."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import uuid
from pathlib import Path

import httpx
import pytest
from contract import ContractValidator, assert_problem, contract_client
from live import ipv6_loopback, run_cli

from cyme_branch import __version__
from cyme_branch.testing import BranchFailed, LiveBranch, branch_command


def test_ping(client: httpx.Client):
    response = client.get("/ping")
    assert response.status_code == 200
    assert response.json() == {"ok": "pong"}


def test_branches_lists_this_branch_by_its_id(client: httpx.Client, branch: LiveBranch):
    response = client.get("/branches")
    assert response.status_code == 200
    assert response.json() == [branch.id]


def test_get_branch_describes_it(client: httpx.Client, branch: LiveBranch):
    response = client.get(f"/branches/{branch.id}")
    assert response.status_code == 200
    info = response.json()
    assert info["id"] == branch.id
    assert info["port"] == branch.port != 0
    assert info["url"] == f"{branch.url}/"
    assert info["logfile"] is None  # it logs to stderr
    assert info["sup_interval"] > 0


def test_unknown_branch_is_404(client: httpx.Client):
    body = assert_problem(client.get("/branches/no-such-branch"), 404)
    assert body["instance"] == "/branches/no-such-branch"


def test_invalid_branch_id_is_422(client: httpx.Client):
    assert_problem(client.get("/branches/a..b"), 422, field="branch", location="path")


def test_list_apps_shows_created_apps(client: httpx.Client, app: str):
    response = client.get("/")
    assert response.status_code == 200
    assert app in response.json()


@pytest.mark.parametrize(
    "path", ["/no/such/route/at/all", "/pycon/instances/w1/stats/extra", "/pycon/nothing"]
)
def test_unknown_path_is_404_problem(client: httpx.Client, path: str):
    body = assert_problem(client.get(path), 404)
    assert body["instance"] == path


def test_errors_carry_the_request_path_as_instance(client: httpx.Client):
    body = assert_problem(client.get("/no-such-app-x1/instances"), 404)
    assert body["type"] == "urn:cyme:problem:not-found"
    assert body["instance"] == "/no-such-app-x1/instances"
    assert body["title"]
    assert "no-such-app-x1" in body["detail"]


@pytest.mark.slow
def test_port_0_binds_a_free_port_and_says_so_in_one_line_on_stdout(tmp_path: Path):
    """The ready line: one JSON object on stdout, with the port really bound."""
    proc = subprocess.Popen(
        [*branch_command(), "127.0.0.1:0", "-i", "said", "-D", str(tmp_path / "state")],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()  # blocks until the branch listens
        ready = json.loads(line)
        assert set(ready) == {"event", "url", "id", "pid", "version"}, ready
        assert ready["event"] == "ready"
        assert ready["id"] == "said"
        assert ready["pid"] == proc.pid
        assert ready["version"] == __version__
        host, _, port = ready["url"].removeprefix("http://").rpartition(":")
        assert (host, ready["url"][:7]) == ("127.0.0.1", "http://")
        assert int(port) > 0
        assert httpx.get(f"{ready['url']}/branches/said").json()["port"] == int(port)
    finally:
        proc.send_signal(signal.SIGTERM)
        rest, errors = proc.communicate(timeout=15)
    assert proc.returncode == 0
    assert rest == b"", "the ready line is the only thing on stdout"
    assert b"serving on " + ready["url"].encode() in errors, "logs go to stderr"


@pytest.mark.slow
@pytest.mark.skipif(not ipv6_loopback(), reason="no IPv6 loopback here")
def test_the_ready_line_puts_an_ipv6_host_in_brackets(tmp_path: Path):
    with LiveBranch(tmp_path, "six", host="::1") as live:
        assert live.url == f"http://[::1]:{live.port}"
        info = httpx.get(f"{live.url}/branches/six").json()
        assert (info["url"], info["port"]) == (f"{live.url}/", live.port)


@pytest.mark.slow
def test_a_restarted_branch_keeps_its_port_and_says_ready_again(fresh_branch: LiveBranch):
    url, pid = fresh_branch.url, fresh_branch.pid
    fresh_branch.restart()
    assert (fresh_branch.url, fresh_branch.exit_codes) == (url, [0])
    assert fresh_branch.pid != pid
    lines = [json.loads(line) for line in fresh_branch.stdout_text().splitlines()]
    assert [(r["event"], r["url"]) for r in lines] == [("ready", url)] * 2
    assert lines[1]["pid"] == fresh_branch.pid


@pytest.mark.slow
def test_a_restarted_branch_whose_port_was_taken_gets_another(fresh_branch: LiveBranch):
    old = fresh_branch.port
    fresh_branch.stop()
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", old))
        squatter.listen()
        fresh_branch.start()
        assert fresh_branch.port != old
        assert httpx.get(f"{fresh_branch.url}/branches").json() == ["fresh-branch"]
    assert "cannot listen on 127.0.0.1" in fresh_branch.log_text()


@pytest.mark.slow
def test_a_branch_not_ready_in_time_is_stopped_and_reported(tmp_path: Path):
    live = LiveBranch(tmp_path, "late", start_timeout=0.01)
    with pytest.raises(BranchFailed, match=r"late was not ready in 0.01 s"):
        live.start()
    assert not live.running
    assert live.proc is None


@pytest.mark.slow
def test_a_branch_that_cannot_start_is_reported_with_its_log(tmp_path: Path):
    live = LiveBranch(tmp_path, "bad", args=["--peer", "ftp://nowhere"])
    with pytest.raises(BranchFailed, match=r"exited with 2:\n(.|\n)*ftp://nowhere"):
        live.start()
    assert not live.running
    assert live.exit_codes == [2]


@pytest.mark.slow
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_branch_stops_on_signal(tmp_path: Path, sig: signal.Signals):
    live = LiveBranch(tmp_path / "branch", "signalled")
    live.start()
    assert live.stop(sig) == 0, f"exit code {live.exit_codes}:\n{live.log_tail()}"
    with pytest.raises(httpx.TransportError):
        httpx.get(f"{live.url}/ping", timeout=2)


@pytest.mark.slow
def test_cli_defaults_id_to_a_uuid_and_dir_to_instances(
    tmp_path: Path, validator: ContractValidator
):
    """`cyme-branch :PORT` serves on 127.0.0.1, with a new UUID for id, in ./instances."""
    live = LiveBranch(tmp_path / "logs", argv=[":0"], cwd=tmp_path)
    live.start()
    try:
        assert live.url == f"http://127.0.0.1:{live.port}"
        ident = live.info["id"]
        assert str(uuid.UUID(ident)) == ident
        assert (tmp_path / "instances" / ".branch-id").read_text().strip() == ident
        with contract_client(live.url, validator) as http:
            assert http.get("/branches").json() == [ident]
            assert http.put("/defaults").status_code == 201
            created = http.post("/defaults/instances/defaults-w1")
            assert created.status_code == 201
            assert (tmp_path / "instances" / "defaults-w1").is_dir()
    finally:
        live.stop()


@pytest.mark.slow
def test_logging_and_supervisor_options(tmp_path: Path, validator: ContractValidator):
    logfile = tmp_path / "branch.log"
    live = LiveBranch(
        tmp_path / "branch", "opts", loglevel="DEBUG", sup_interval=2, args=["-f", str(logfile)]
    )
    live.start()
    try:
        with contract_client(live.url, validator) as http:
            info = http.get("/branches/opts").json()
            assert info["logfile"] == str(logfile)
            assert info["loglevel"] == "DEBUG"
            assert info["sup_interval"] == 2
            http.put("/logged")
            assert http.post("/logged/instances/lw1").status_code == 201
        assert "> Restarting node lw1: OK" in logfile.read_text()
    finally:
        live.stop()


@pytest.mark.slow
def test_a_second_branch_on_the_same_directory_refuses_to_start(
    fresh_branch: LiveBranch, validator: ContractValidator
):
    with contract_client(fresh_branch.url, validator) as http:
        http.put("/pycon")
        http.post("/pycon/instances/w1")
    second = run_cli(["127.0.0.1:0", "-i", "second", "-D", str(fresh_branch.dir)], timeout=15)
    assert second.returncode != 0
    assert second.stdout == "", "a branch that cannot start says it is ready"
    assert str(fresh_branch.dir) in second.stderr
    with contract_client(fresh_branch.url, validator) as http:
        assert http.get("/pycon/instances").json() == ["w1"]
        assert http.get("/branches").json() == ["fresh-branch"]
