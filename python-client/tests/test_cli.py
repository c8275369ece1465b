"""The `cyme` command, run through its installed entry point."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from conftest import env_without_cyme, unique
from cyme_branch.testing import LiveBranch, free_port

CYME = str(Path(sys.executable).parent / "cyme")


def cli(branch: LiveBranch, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    env = {**env_without_cyme(), "CYME_URL": branch.url}
    return subprocess.run(
        [CYME, *args], capture_output=True, text=True, env=env, check=check, timeout=30
    )


def test_a_session(branch: LiveBranch) -> None:
    app = unique("cli")
    assert cli(branch, "branches").stdout.split() == [branch.id]
    out = cli(branch, "apps", "add", app, "--broker", "amqp://u:pw@host//", "--arguments=-l info")
    assert "amqp://u:**@host//" in out.stdout
    assert app in cli(branch, "apps", "list").stdout.split()
    assert json.loads(cli(branch, "apps", "get", app, "--json").stdout)["arguments"] == "-l info"

    cli(branch, "instances", "add", app, "w-" + app)
    name = "w-" + app
    assert cli(branch, "instances", "list", app).stdout.split() == [name]
    scaled = cli(branch, "--json", "instances", "autoscale", app, name, "--min", "4", "--max", "10")
    assert json.loads(scaled.stdout) == {"max": 10, "min": 4}
    stats = json.loads(cli(branch, "instances", "stats", app, name, "--json").stdout)
    assert len(stats["pool"]["processes"]) == 4
    assert "min_concurrency  4" in cli(branch, "instances", "get", app, name).stdout

    cli(branch, "queues", "add", app, "celery", "--exchange-type", "topic")
    assert cli(branch, "queues", "list", app).stdout.split() == ["celery"]
    assert "topic" in cli(branch, "queues", "get", app, "celery").stdout
    cli(branch, "consumers", "add", app, name, "celery")
    assert "celery" in cli(branch, "consumers", "list", app, name).stdout.split()
    cli(branch, "consumers", "delete", app, name, "celery")
    cli(branch, "queues", "delete", app, "celery")
    cli(branch, "instances", "delete", app, name)
    cli(branch, "apps", "delete", app)
    assert app not in cli(branch, "apps", "list").stdout.split()


def test_errors_are_one_line(branch: LiveBranch) -> None:
    failed = cli(branch, "apps", "get", unique("missing"), check=False)
    assert failed.returncode == 1
    assert failed.stdout == ""
    assert failed.stderr.startswith("cyme: 404")
    assert len(failed.stderr.strip().splitlines()) == 1
    down = cli(branch, "--url", f"http://127.0.0.1:{free_port()}", "branches", check=False)
    assert down.returncode == 1
    assert down.stderr.startswith("cyme: Connection error")
