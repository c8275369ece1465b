"""Celery tasks through `app.tasks`: sent, followed, waited for and revoked.

Against the simulated branch, whose demo tasks (`proj.tasks.add`, `sleep`
and `fail`) reach every state without Celery; server-stub's tests run the
same calls against real workers.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from conftest import Api, unique

import cyme
from cyme import (
    APITimeoutError,
    AsyncTask,
    ConflictError,
    Task,
    TaskError,
    TaskFailedError,
    TaskRevokedError,
    UnprocessableEntityError,
    types,
)

BACKEND = "redis://:s3cret@localhost:6379/1"


def _app(api: Api, backend: str | None = BACKEND) -> cyme.App:
    app: cyme.App = api.run(api.client.add(unique("tasks"), backend=backend))
    return app


def test_a_task_is_sent_and_waited_for(api: Api) -> None:
    app = _app(api)
    assert app.backend == "redis://:**@localhost:6379/1"
    task = api.run(app.tasks.send("proj.tasks.add", args=[2, 3]))
    assert isinstance(task, AsyncTask if api.is_async else Task)
    assert (task.state, task.task, task.queue, task.app) == (
        "PENDING",
        "proj.tasks.add",
        "celery",
        app.name,
    )
    assert task.result is None and task.date_done is None
    assert repr(task).endswith(f"/{app.name}/tasks/{task.id}' PENDING>")
    assert api.run(task.wait(timeout=10)) == 5
    done = api.run(app.tasks.get(task.id))
    assert (done.id, done.state, done.result) == (task.id, "SUCCESS", 5)
    assert done.date_done is not None and done.date_done.tzinfo is not None
    assert done.traceback is None
    api.run(app.delete())


def test_a_failure_raises_with_the_workers_traceback(api: Api) -> None:
    app = _app(api)
    task = api.run(app.tasks.send("proj.tasks.fail", args=["boom"], queue="jobs"))
    assert task.queue == "jobs"
    with pytest.raises(TaskFailedError) as raised:
        api.run(task.wait(timeout=10))
    error = raised.value
    assert isinstance(error, TaskError) and isinstance(error, cyme.APIError)
    assert (error.task_id, error.state, error.reason) == (task.id, "FAILURE", "ValueError: boom")
    assert str(error).startswith(f"Task {task.id} failed: ValueError: boom")
    assert error.traceback is not None and error.traceback.endswith("ValueError: boom\n")
    assert error.task.result == {
        "exc_type": "ValueError",
        "exc_message": ["boom"],
        "exc_module": "builtins",
    }
    assert (error.method, error.url) == ("GET", task.client.url_for(app.name, "tasks", task.id))
    # The traceback only when asked for.
    assert api.run(app.tasks.get(task.id)).traceback is None
    assert api.run(app.tasks.get(task.id, traceback=True)).traceback == error.traceback
    api.run(app.delete())


def test_a_sleeping_task_is_started_and_revoked_with_terminate(api: Api) -> None:
    app = _app(api)
    task = api.run(app.tasks.send("proj.tasks.sleep", kwargs={"seconds": 60}))
    started = api.run(app.tasks.get(task.id, wait=0.2))
    assert started.state == "STARTED"
    assert set(started.result) == {"pid", "hostname"}
    # Without terminate, a running task goes on, as in Celery.
    plain = api.run(task.revoke())
    assert plain == {"id": task.id, "terminate": False, "signal": None}
    assert api.run(app.tasks.get(task.id)).state == "STARTED"
    revoked = api.run(task.revoke(terminate=True, signal="SIGKILL"))
    assert isinstance(revoked, types.TaskRevoked)
    assert (revoked.terminate, revoked.signal) == (True, "SIGKILL")
    with pytest.raises(TaskRevokedError) as raised:
        api.run(task.wait(timeout=10))
    assert (raised.value.state, raised.value.reason) == ("REVOKED", "terminated")
    api.run(app.delete())


def test_a_task_counted_down_is_revoked_before_it_runs(api: Api) -> None:
    app = _app(api)
    later = datetime.now(timezone.utc) + timedelta(hours=1)
    task = api.run(app.tasks.send("proj.tasks.add", [1, 1], eta=later, priority=9))
    assert api.run(app.tasks.get(task.id)).state == "PENDING"
    api.run(task.revoke())
    with pytest.raises(TaskRevokedError) as raised:
        api.run(task.wait(timeout=10))
    assert raised.value.reason == "revoked"
    expired = api.run(app.tasks.send("proj.tasks.add", [1, 1], countdown=30, expires=0.05))
    with pytest.raises(TaskRevokedError, match=r"\(expired\)"):
        api.run(expired.wait(timeout=10))
    api.run(app.delete())


def test_wait_times_out_on_a_task_no_worker_runs(api: Api) -> None:
    app = _app(api)
    task = api.run(app.tasks.send("proj.tasks.unknown_here", args=[1]))
    with pytest.raises(APITimeoutError, match=r"not done within 0\.3 s \(PENDING\)"):
        api.run(task.wait(timeout=0.3))
    # As Celery says of any id its backend does not know.
    assert api.run(app.tasks.get("no-such-task-id")).state == "PENDING"
    api.run(app.delete())


def test_an_app_without_a_backend_sends_but_cannot_follow(api: Api) -> None:
    app = _app(api, backend=None)
    assert app.backend is None
    task = api.run(app.tasks.send("proj.tasks.add", args=[2, 3]))
    with pytest.raises(ConflictError, match="no result backend") as raised:
        api.run(task.wait(timeout=5))
    assert raised.value.problem_type == "urn:cyme:problem:no-result-backend"
    # A backend set later follows tasks sent from then on.
    api.run(api.client.add(app.name, backend=BACKEND))
    task = api.run(app.tasks.send("proj.tasks.add", args=[2, 3]))
    assert api.run(task.wait(timeout=10)) == 5
    api.run(app.delete())


def test_bad_input_is_refused_before_anything_is_sent(api: Api) -> None:
    app = _app(api)
    with pytest.raises(UnprocessableEntityError) as raised:
        api.run(app.tasks.send("not a task", args=[1]))
    assert [e["field"] for e in raised.value.errors] == ["task"]
    with pytest.raises(UnprocessableEntityError) as raised:
        api.run(app.tasks.send("proj.tasks.add", countdown=5, eta="2026-12-01T09:00:00Z"))
    assert [e["field"] for e in raised.value.errors] == ["eta"]
    with pytest.raises(UnprocessableEntityError):
        api.run(app.tasks.send("proj.tasks.add", priority=256))
    with pytest.raises(UnprocessableEntityError):
        api.run(app.tasks.send("proj.tasks.add", eta=datetime(2026, 12, 1, 9)))  # no timezone
    with pytest.raises(cyme.NotFoundError):
        api.run(api.client.call("sendTask", app=unique("no-app"), task="proj.tasks.add"))
    api.run(app.delete())


def test_a_retried_send_gets_the_same_task(api: Api) -> None:
    app = _app(api)
    first = api.run(app.tasks.send("proj.tasks.add", [2, 3], idempotency_key=unique("send")))
    key = unique("send")
    once = api.run(app.tasks.send("proj.tasks.add", [2, 3], idempotency_key=key))
    again = api.run(app.tasks.send("proj.tasks.add", [2, 3], idempotency_key=key))
    assert once.id == again.id != first.id
    api.run(app.delete())


def test_call_reaches_the_tasks_and_the_original_routes(api: Api) -> None:
    app = _app(api)
    sent = api.run(api.client.call("sendTask", app=app.name, task="proj.tasks.add", args=[4, 5]))
    assert isinstance(sent, types.TaskSent)  # a 202 that is no Scheduled
    assert api.run(app.tasks.get(sent.id, wait=10)).result == 9
    state = api.run(api.client.call("getTaskState", app=app.name, task=sent.id))
    assert state == {"state": "SUCCESS"}
    assert api.run(api.client.call("getTaskResult", app=app.name, task=sent.id)) == {"result": 9}
    assert api.run(api.client.call("waitTaskResult", app=app.name, task=sent.id)) == {"result": 9}
    api.run(app.delete())
