"""Tasks through real workers on the session's Redis: the README's section, run
as written from curl, Python and Ruby, and what only a real broker and backend
can show: one message on the broker for a retried send, a sleeping task
terminated, a failure's traceback, a broker or a backend out of reach.

The workers run the repository's example project (examples/proj).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis
from celery_support import CeleryBranch, RedisServer, wait_for
from contract import ContractValidator, assert_problem, contract_client, unique
from live import hanging_server
from test_readme import RUNNABLE, assert_output_matches, parse_readme

from cyme_branch.testing import free_port

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "examples"
README = REPO / "README.md"
SECTION = "## Tasks, from any language"
TIMEOUT = 5.0
MARGIN = 3.0  # what a request may take beyond the timeout on a busy machine
# Redis databases of this module's own: other modules' workers consume `celery` too.
BROKER_DB, BACKEND_DB, README_BROKER_DB, README_BACKEND_DB = 3, 4, 5, 6


@pytest.fixture(scope="module")
def celery_branch(
    tmp_path_factory: pytest.TempPathFactory, redis_server: RedisServer
) -> Iterator[CeleryBranch]:
    live = CeleryBranch(tmp_path_factory.mktemp("celery-tasks"), "tasks", timeout=TIMEOUT)
    live.start()
    yield live
    live.stop()


@pytest.fixture(scope="module")
def http(celery_branch: CeleryBranch, validator: ContractValidator) -> Iterator[httpx.Client]:
    with contract_client(celery_branch.url, validator, timeout=60) as client:
        yield client


@pytest.fixture(scope="module")
def proj(http: httpx.Client, redis_server: RedisServer) -> Iterator[str]:
    """An app running the example project, with a worker consuming `celery` (the
    README's section makes its own, `proj`)."""
    body = {
        "broker": redis_server.url(BROKER_DB),
        "backend": redis_server.url(BACKEND_DB),
        "arguments": f"--workdir={EXAMPLES} -A proj",
    }
    assert http.put("/tasks", json=body).status_code == 201
    assert http.post("/tasks/instances/tasks-w1").status_code == 201
    assert http.put("/tasks/queues/celery").status_code == 201
    assert http.put("/tasks/instances/tasks-w1/queues/celery").status_code == 201
    yield "tasks"
    http.delete("/tasks")


def send(http: httpx.Client, app: str, task: str, **body: Any) -> str:
    response = http.post(f"/{app}/tasks/{task}", json=body)
    assert response.status_code == 202, response.text
    task_id: str = response.json()["id"]
    return task_id


def timed(call: Callable[[], httpx.Response]) -> tuple[httpx.Response, float]:
    started = time.monotonic()
    response = call()
    return response, time.monotonic() - started


# -- the README's section, through real workers -----------------------------------------


def section() -> str:
    text = README.read_text(encoding="utf-8")
    assert SECTION in text, f"README.md has no section {SECTION!r}"
    return text.split(SECTION, 1)[1].split("\n## ", 1)[0]


def as_here(text: str, branch: CeleryBranch, redis_server: RedisServer) -> str:
    """The README's text with the test's branch and Redis (with its password)."""
    for db, here in ((0, README_BROKER_DB), (1, README_BACKEND_DB)):
        text = text.replace(f"redis://localhost:6379/{db}", redis_server.url(here))
    text = text.replace("http://localhost:8000", branch.url)
    return text.replace("http://:8000", branch.url)


def test_the_readme_sections_curl_lines(
    celery_branch: CeleryBranch, redis_server: RedisServer, tmp_path: Path
) -> None:
    examples = [e for e in parse_readme(section()) if RUNNABLE.match(e.command)]
    assert any("/tasks/proj.tasks.add" in e.command for e in examples)
    script = [
        "set -u -o pipefail",
        'curl() { command curl --silent --show-error --max-time 30 --fail-with-body "$@"; }',
        f"CYME_URL={celery_branch.url}",
    ]
    for n, example in enumerate(examples):
        command = as_here(example.command, celery_branch, redis_server)
        script += ["{", command, f"}} >{tmp_path}/{n}.out 2>{tmp_path}/{n}.err || exit {n + 1}"]
    (tmp_path / "section.sh").write_text("\n".join(script) + "\n")
    env = {k: v for k, v in os.environ.items() if not k.lower().endswith("_proxy")}
    argv = ["bash", str(tmp_path / "section.sh")]
    done = subprocess.run(argv, cwd=REPO, env=env, timeout=120, check=False)
    failed = done.returncode - 1 if done.returncode else None
    if failed is not None:
        example = examples[failed]
        stderr = (tmp_path / f"{failed}.err").read_text()
        pytest.fail(f"README.md line {example.line}: {example.command}\n{stderr}")
    for n, example in enumerate(examples):
        if example.expected:
            shown = as_here(example.expected, celery_branch, redis_server)
            assert_output_matches(shown, (tmp_path / f"{n}.out").read_text())


def _code_blocks(language: str) -> list[str]:
    return re.findall(rf"^```{language}\n(.*?)^```", section(), re.S | re.M)


def test_the_readme_sections_python(celery_branch: CeleryBranch, redis_server: RedisServer) -> None:
    (code,) = _code_blocks("python")
    # What each `print(...)  # shown` line shows is what it prints.
    shown = [line.split("# ", 1)[1] for line in code.splitlines() if "print(" in line]
    done = subprocess.run(
        [sys.executable, "-c", as_here(code, celery_branch, redis_server)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        env={k: v for k, v in os.environ.items() if not k.startswith("CYME_")},
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == shown


def test_the_readme_sections_ruby(
    celery_branch: CeleryBranch, redis_server: RedisServer, tmp_path: Path
) -> None:
    ruby = shutil.which("ruby")
    assert ruby is not None, "ruby is missing: `make install` installs it"
    (code,) = _code_blocks("ruby")
    # Each `# => value` line checked, as ruby-client/test/readme_test.rb checks them.
    lines = []
    for line in as_here(code, celery_branch, redis_server).splitlines():
        statement, arrow, expected = line.partition("# => ")
        if arrow:
            lines.append(
                f"got = ({statement.strip()}); want = ({expected}); "
                f'raise "#{{got.inspect}}, not #{{want.inspect}}: " + {json.dumps(line)} '
                "unless got == want"
            )
        else:
            lines.append(line)
    (tmp_path / "section.rb").write_text("\n".join(lines) + "\n")
    argv = [ruby, "-I", str(REPO / "ruby-client" / "lib"), str(tmp_path / "section.rb")]
    done = subprocess.run(argv, cwd=REPO, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr


# -- what a real broker and backend show -------------------------------------------------


def messages_in(redis_server: RedisServer, queue: str) -> int:
    """The messages waiting in a queue on the broker: its list and kombu's priority lists."""
    client = redis.Redis(port=redis_server.port, password=redis_server.password, db=BROKER_DB)
    try:
        return sum(int(client.llen(key)) for key in client.keys(f"{queue}*"))
    finally:
        client.close()


def test_an_idempotent_retry_leaves_one_message_on_the_broker(
    http: httpx.Client, proj: str, redis_server: RedisServer
) -> None:
    queue = unique("parked")  # no worker consumes it
    body = {"args": [2, 3], "queue": queue}
    key = {"Idempotency-Key": unique("key")}
    first = http.post(f"/{proj}/tasks/proj.tasks.add", json=body, headers=key)
    again = http.post(f"/{proj}/tasks/proj.tasks.add", json=body, headers=key)
    assert first.status_code == again.status_code == 202
    assert again.json()["id"] == first.json()["id"]
    assert again.headers["idempotent-replayed"] == "true"
    assert messages_in(redis_server, queue) == 1
    # Without the key, a second send is a second message.
    assert http.post(f"/{proj}/tasks/proj.tasks.add", json=body).status_code == 202
    assert messages_in(redis_server, queue) == 2
    pending = http.get(f"/{proj}/tasks/{first.json()['id']}").json()
    assert pending["state"] == "PENDING"


def test_revoke_terminates_a_sleeping_task_and_the_worker_goes_on(
    http: httpx.Client, proj: str
) -> None:
    task_id = send(http, proj, "proj.tasks.sleep", args=[120])
    path = f"/{proj}/tasks/{task_id}"
    started = wait_for(
        lambda: (s := http.get(path).json())["state"] == "STARTED" and s, 20, "STARTED"
    )
    assert started["result"]["hostname"].startswith("tasks-w1@")
    worker = http.get(f"/{proj}/instances/tasks-w1").json()["pid"]
    revoked = http.delete(path, params={"terminate": "true", "signal": "SIGKILL"})
    assert revoked.json() == {"id": task_id, "terminate": True, "signal": "SIGKILL"}
    done = http.get(path, params={"wait": 15}).json()
    assert done["state"] == "REVOKED"
    assert done["result"]["exc_type"] == "TaskRevokedError"
    assert done["result"]["exc_message"] == ["terminated"]
    # The pool lost a process, not the worker.
    assert http.get(f"/{proj}/instances/tasks-w1").json()["pid"] == worker
    after = send(http, proj, "proj.tasks.add", args=[1, 2])
    assert http.get(f"/{proj}/tasks/{after}", params={"wait": 15}).json()["result"] == 3


def test_a_failure_comes_with_the_workers_traceback(http: httpx.Client, proj: str) -> None:
    task_id = send(http, proj, "proj.tasks.fail", kwargs={"message": "boom"})
    done = http.get(f"/{proj}/tasks/{task_id}", params={"wait": 15, "traceback": "true"}).json()
    assert done["state"] == "FAILURE"
    assert done["result"] == {
        "exc_type": "ValueError",
        "exc_message": ["boom"],
        "exc_module": "builtins",
    }
    assert done["traceback"].startswith("Traceback (most recent call last):")
    assert str(EXAMPLES / "proj" / "tasks.py") in done["traceback"]
    assert done["traceback"].rstrip().endswith("ValueError: boom")
    assert done["date_done"].endswith("Z")
    bad = send(http, proj, "proj.tasks.add", args=[1])
    wrong = http.get(f"/{proj}/tasks/{bad}", params={"wait": 15}).json()
    assert (wrong["state"], wrong["result"]["exc_type"]) == ("FAILURE", "TypeError")


def test_the_originals_routes_and_an_unknown_id(http: httpx.Client, proj: str) -> None:
    task_id = send(http, proj, "proj.tasks.add", args=[20, 22])
    assert http.get(f"/{proj}/query/{task_id}/wait").json() == {"result": 42}
    assert http.get(f"/{proj}/query/{task_id}/state").json() == {"state": "SUCCESS"}
    assert http.get(f"/{proj}/query/{task_id}/result").json() == {"result": 42}
    unknown = http.get(f"/{proj}/tasks/{unique('never-sent')}").json()
    assert (unknown["state"], unknown["result"], unknown["date_done"]) == ("PENDING", None, None)


def test_a_broker_out_of_reach_sends_nothing(http: httpx.Client, redis_server: RedisServer) -> None:
    app = unique("nobroker")
    dead = f"redis://127.0.0.1:{free_port()}/0"
    assert http.put(f"/{app}", json={"broker": dead, "backend": redis_server.url(9)}).status_code
    response, took = timed(lambda: http.post(f"/{app}/tasks/proj.tasks.add", json={"args": [1]}))
    body = assert_problem(response, 503)
    assert body["type"] == "urn:cyme:problem:broker-unavailable"
    assert body["sent"] is False
    assert "task_id" not in body
    assert took < TIMEOUT + MARGIN
    response, took = timed(lambda: http.delete(f"/{app}/tasks/abc", params={"terminate": "true"}))
    assert assert_problem(response, 503)["type"] == "urn:cyme:problem:broker-unavailable"
    assert took < TIMEOUT + MARGIN
    http.delete(f"/{app}")


def test_a_backend_out_of_reach_names_the_task_that_was_sent(
    http: httpx.Client, proj: str, redis_server: RedisServer
) -> None:
    app = unique("nobackend")
    dead = f"redis://127.0.0.1:{free_port()}/0"
    assert http.put(f"/{app}", json={"broker": redis_server.url(BROKER_DB), "backend": dead})
    sent = http.post(f"/{app}/tasks/proj.tasks.add", json={"args": [1, 1], "queue": "nowhere"})
    assert sent.status_code == 202  # sending needs no backend
    task_id = sent.json()["id"]
    response, took = timed(lambda: http.get(f"/{app}/tasks/{task_id}", params={"wait": 5}))
    body = assert_problem(response, 503)
    assert (body["type"], body["task_id"]) == ("urn:cyme:problem:backend-unavailable", task_id)
    assert took < TIMEOUT + MARGIN
    http.delete(f"/{app}")


def test_a_backend_that_does_not_answer_is_a_503_within_the_timeout(
    http: httpx.Client, redis_server: RedisServer
) -> None:
    app = unique("mute")
    with hanging_server() as port:
        body = {"broker": redis_server.url(BROKER_DB), "backend": f"redis://127.0.0.1:{port}/0"}
        assert http.put(f"/{app}", json=body).status_code == 201
        response, took = timed(lambda: http.get(f"/{app}/tasks/abc", params={"wait": 1}))
    assert assert_problem(response, 503)["task_id"] == "abc"
    assert took < TIMEOUT + MARGIN
    http.delete(f"/{app}")


def test_the_backend_reaches_workers_in_their_environment_only(
    http: httpx.Client, proj: str, celery_branch: CeleryBranch, redis_server: RedisServer
) -> None:
    pid = celery_branch.worker_pid("tasks-w1")
    assert pid is not None
    cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().decode()
    assert redis_server.password not in cmdline
    environ = Path(f"/proc/{pid}/environ").read_bytes().decode().split("\0")
    assert f"CELERY_RESULT_BACKEND={redis_server.url(BACKEND_DB)}" in environ
    shown = http.get(f"/{proj}").json()
    assert shown["backend"] == f"redis://:**@127.0.0.1:{redis_server.port}/{BACKEND_DB}"
    assert redis_server.password not in celery_branch.log_text()
