"""The talk's session (slides 26-32) through both SDKs, against real workers.

As typed in the talk, but with a broker that runs here (the session's redis)
and, for `--workdir`, the directory of the tests' task module, so that the
worker also runs the task a plain Celery producer sends it.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from celery_support import TASKS_DIR, CeleryBranch, Probe, RedisServer, alive, children, wait_for
from cyme import Client

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
ARGUMENTS = f"--workdir={TASKS_DIR} -A cyme_probe"

RUBY_SESSION = """
require "cyme"
require "json"

port, broker, arguments = ARGV
cyme = Cyme::Client.new("http://:#{port}")
seen = { "branches" => cyme.branches }
app = cyme.add("rubyconf", broker: broker, arguments: arguments)
instance = app.instances.add
seen["names"] = app.instances.all_names
seen["instance"] = instance.name
seen["first_stats"] = app.instances.get(seen["names"][0]).stats["autoscaler"]
seen["autoscale"] = instance.autoscale(min: 4, max: 10)
stats = instance.stats
seen["pid"] = stats["pid"]
seen["processes"] = stats["pool"]["processes"]
seen["queue"] = app.queues.add("celery").name
seen["consumer"] = instance.consumers.add("celery")["name"]
puts JSON.generate(seen)
"""


@pytest.fixture(scope="module")
def celery_branch(
    tmp_path_factory: pytest.TempPathFactory, redis_server: RedisServer
) -> Iterator[CeleryBranch]:
    live = CeleryBranch(tmp_path_factory.mktemp("celery-sdks"), "celery-sdks")
    live.start()
    yield live
    live.stop()


@pytest.fixture(scope="module")
def probe(redis_server: RedisServer) -> Iterator[Probe]:
    probe = Probe(redis_server.url())
    yield probe
    probe.close()


def assert_task_runs(probe: Probe, tmp_path: Path, text: str) -> None:
    out = tmp_path / f"{text}.txt"
    probe.send("cyme_probe.touch", "celery", str(out), text)
    wait_for(out.exists, 15, "the task to run")
    assert out.read_text() == text


def test_the_talk_session_through_the_python_sdk(
    celery_branch: CeleryBranch, redis_server: RedisServer, probe: Probe, tmp_path: Path
):
    cyme = Client(f"http://:{celery_branch.port}")
    assert cyme.branches == [celery_branch.id]

    app = cyme.add("pycon", broker=redis_server.url(), arguments=ARGUMENTS)
    assert app.broker == f"redis://:**@127.0.0.1:{redis_server.port}/0"
    instance = app.instances.add()
    assert app.instances.all_names() == [instance.name]
    stats = app.instances.get(app.instances.all_names()[0]).stats()
    assert stats["autoscaler"] == {"current": 1, "max": 1, "min": 1, "qty": 0}
    assert stats["pid"] == celery_branch.worker_pid(instance.name)

    assert instance.autoscale(min=4, max=10) == {"max": 10, "min": 4}
    stats = instance.stats()
    processes = stats["pool"]["processes"]
    assert len(processes) == 4
    assert all(alive(pid) for pid in processes), "the pool's processes are not running"
    assert set(processes) <= children(stats["pid"])

    queue = app.queues.add("celery")
    assert queue == {
        "name": "celery",
        "exchange": "celery",
        "exchange_type": "direct",
        "routing_key": "celery",
        "options": {},
    }
    assert instance.consumers.add("celery")["name"] == "celery"
    assert_task_runs(probe, tmp_path, "from-python")

    pid = stats["pid"]
    app.delete()
    assert not alive(pid)
    assert "pycon" not in cyme.all_names()


def test_the_talk_session_through_the_ruby_sdk(
    celery_branch: CeleryBranch, redis_server: RedisServer, probe: Probe, tmp_path: Path
):
    ruby = shutil.which("ruby")
    assert ruby is not None, "ruby is missing: `make install` installs it"
    script = tmp_path / "session.rb"
    script.write_text(RUBY_SESSION, encoding="utf-8")
    argv = [ruby, "-I", str(REPO / "ruby-client/lib"), str(script)]
    argv += [str(celery_branch.port), redis_server.url(), ARGUMENTS]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    seen = json.loads(done.stdout)

    assert seen["branches"] == [celery_branch.id]
    assert seen["names"] == [seen["instance"]]
    assert seen["first_stats"] == {"current": 1, "max": 1, "min": 1, "qty": 0}
    assert seen["autoscale"] == {"max": 10, "min": 4}
    assert len(seen["processes"]) == 4
    assert all(alive(pid) for pid in seen["processes"])
    assert set(seen["processes"]) <= children(seen["pid"])
    assert seen["queue"] == seen["consumer"] == "celery"
    assert_task_runs(probe, tmp_path, "from-ruby")

    response = httpx.delete(f"{celery_branch.url}/rubyconf", timeout=30)
    assert response.status_code == 200
    assert not alive(seen["pid"])
