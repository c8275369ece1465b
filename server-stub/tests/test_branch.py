"""The branch's own routes and its command line."""

from __future__ import annotations

import signal
import socket
import subprocess
from pathlib import Path

import httpx
import pytest
from contract import (
    Branch,
    ContractValidator,
    assert_problem,
    branch_command,
    contract_client,
    free_port,
)


def test_ping(client: httpx.Client):
    response = client.get("/ping")
    assert response.status_code == 200
    assert response.json() == {"ok": "pong"}


def test_branches_lists_this_branch_by_its_id(client: httpx.Client, branch: Branch):
    response = client.get("/branches")
    assert response.status_code == 200
    assert response.json() == [branch.id]


def test_get_branch_describes_it(client: httpx.Client, branch: Branch):
    response = client.get(f"/branches/{branch.id}")
    assert response.status_code == 200
    info = response.json()
    assert info["id"] == branch.id
    assert info["port"] == branch.port
    assert str(branch.port) in info["url"]
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
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_branch_stops_on_signal(tmp_path: Path, sig: signal.Signals):
    live = Branch(tmp_path / "branch", "signalled")
    live.start()
    assert live.stop(sig) == 0, f"exit code {live.exit_codes}:\n{live.log_tail()}"
    with pytest.raises(httpx.TransportError):
        httpx.get(f"{live.url}/ping", timeout=2)


@pytest.mark.slow
def test_cli_defaults_id_to_hostname_and_dir_to_instances(
    tmp_path: Path, validator: ContractValidator
):
    """`cyme-branch :PORT` serves on 127.0.0.1, named after the host, in ./instances."""
    live = Branch(tmp_path / "logs", "unused")
    port = free_port()
    live.start([f":{port}"], port=port, cwd=tmp_path)
    try:
        with contract_client(f"http://127.0.0.1:{port}", validator) as http:
            assert http.get("/branches").json() == [socket.gethostname()]
            assert http.put("/defaults").status_code == 201
            created = http.post("/defaults/instances/defaults-w1")
            assert created.status_code == 201
            assert (tmp_path / "instances" / "defaults-w1").is_dir()
    finally:
        live.stop()


@pytest.mark.slow
def test_logging_and_supervisor_options(tmp_path: Path, validator: ContractValidator):
    live = Branch(tmp_path / "branch", "opts")
    logfile = tmp_path / "branch.log"
    port = free_port()
    options = ["-f", str(logfile), "-l", "DEBUG", "--sup-interval", "2"]
    live.start([f"127.0.0.1:{port}", "-i", "opts", "-D", str(live.dir), *options], port=port)
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
    fresh_branch: Branch, validator: ContractValidator
):
    with contract_client(fresh_branch.url, validator) as http:
        http.put("/pycon")
        http.post("/pycon/instances/w1")
    second = subprocess.run(
        [
            *branch_command(),
            f"127.0.0.1:{free_port()}",
            "-i",
            "second",
            "-D",
            str(fresh_branch.dir),
        ],
        capture_output=True,
        text=True,
        timeout=15,
        check=False,
    )
    assert second.returncode != 0
    assert str(fresh_branch.dir) in second.stderr
    with contract_client(fresh_branch.url, validator) as http:
        assert http.get("/pycon/instances").json() == ["w1"]
        assert http.get("/branches").json() == ["fresh-branch"]
