"""The `cyme` command, run through its installed entry point."""

from __future__ import annotations

import json
import os
import pty
import signal
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


def test_status_is_one_table_of_what_the_workers_are_doing(branch: LiveBranch) -> None:
    app = unique("status")
    cli(branch, "apps", "add", app)
    cli(branch, "instances", "add", app, f"a-{app}")
    cli(branch, "instances", "add", app, f"b-{app}")
    cli(branch, "instances", "autoscale", app, f"a-{app}", "--min", "2", "--max", "4")
    cli(branch, "instances", "disable", app, f"b-{app}")
    lines = cli(branch, "status", app).stdout.splitlines()
    assert lines[0].split() == ["APP", "NAME", "STATE", "PID", "POOL", "QUEUES", "RESTARTS", "AGE"]
    first, second = (line.split() for line in lines[1:])
    assert first[:3] == [app, f"a-{app}", "running"]
    assert first[4:7] == ["2/2/4", f"dq.a-{app}", "0"]
    assert second[:5] == [app, f"b-{app}", "disabled", "-", "-/1/1"]
    listed = json.loads(cli(branch, "status", app, "--json").stdout)
    assert [(i["name"], i["state"]) for i in listed] == [
        (f"a-{app}", "running"),
        (f"b-{app}", "disabled"),
    ]
    everything = cli(branch, "status").stdout
    assert f"a-{app}" in everything and f"b-{app}" in everything
    cli(branch, "apps", "delete", app)


def test_status_watch_shows_it_again_until_interrupted(branch: LiveBranch) -> None:
    app = unique("watch")
    cli(branch, "apps", "add", app)
    cli(branch, "instances", "add", app, f"w-{app}")
    env = {**env_without_cyme(), "CYME_URL": branch.url}
    argv = [CYME, "status", app, "--watch", "--interval", "0.1"]
    with subprocess.Popen(argv, stdout=subprocess.PIPE, text=True, env=env) as proc:
        assert proc.stdout is not None
        seen = [proc.stdout.readline() for _ in range(5)]
        proc.send_signal(signal.SIGINT)
        rest, _ = proc.communicate(timeout=10)
    assert proc.returncode == 0
    # Not a terminal: each showing is a plain table, a blank line between two.
    assert seen[0].split()[:2] == ["APP", "NAME"]
    assert seen[1].split()[1] == f"w-{app}"
    assert (seen[2], seen[3].split()[:2]) == ("\n", ["APP", "NAME"])
    assert "\x1b" not in "".join(seen) + rest
    cli(branch, "apps", "delete", app)


def test_levers_and_a_rolling_restart_from_the_shell(branch: LiveBranch) -> None:
    app = unique("levers")
    name = f"w-{app}"
    cli(branch, "apps", "add", app)
    before = json.loads(cli(branch, "instances", "add", app, name, "--json").stdout)
    restarted = json.loads(cli(branch, "instances", "restart", app, name, "--json").stdout)
    assert restarted["pid"] != before["pid"]
    scheduled = json.loads(
        cli(branch, "instances", "disable", app, name, "--nowait", "--json").stdout
    )
    assert (scheduled["operation"], scheduled["target"]) == (
        "disableInstance",
        f"/{app}/instances/{name}",
    )
    waited = cli(branch, "instances", "enable", app, name, "--wait", "--json")
    assert json.loads(waited.stdout)["state"] == "running"
    # Not a terminal: the progress is plain lines on stderr, the last one its end.
    assert waited.stderr.splitlines()[-1] == f"enableInstance /{app}/instances/{name}: succeeded"
    rolled = cli(branch, "apps", "restart", app)
    lines = rolled.stdout.splitlines()
    assert lines[0].split() == ["NAME", "OUTCOME", "PID", "DETAIL"]
    assert lines[1].split()[:2] == [name, "restarted"]
    assert rolled.stderr.splitlines()[-1] == f"restartApp /{app}: succeeded, 1/1"
    cli(branch, "apps", "delete", app)


def test_a_long_wait_rewrites_one_line_on_a_terminal(branch: LiveBranch) -> None:
    app = unique("tty")
    cli(branch, "apps", "add", app)
    cli(branch, "instances", "add", app, f"w-{app}")
    env = {**env_without_cyme(), "CYME_URL": branch.url}
    leader, follower = pty.openpty()
    try:
        done = subprocess.run(
            [CYME, "apps", "restart", app],
            stdout=subprocess.PIPE,
            stderr=follower,
            text=True,
            env=env,
            timeout=30,
            check=True,
        )
        os.close(follower)
        follower = -1
        shown = b""
        while True:
            try:
                chunk = os.read(leader, 4096)
            except OSError:  # the terminal's other end is closed: all is read
                break
            if not chunk:
                break
            shown += chunk
    finally:
        os.close(leader)
        if follower >= 0:
            os.close(follower)
    text = shown.decode()
    assert text.startswith("\r\x1b[K") and text.endswith("\n")
    assert f"restartApp /{app}: succeeded, 1/1" in text
    assert f"w-{app}" in done.stdout
    cli(branch, "apps", "delete", app)
