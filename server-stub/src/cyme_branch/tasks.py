"""The task operations: send a Celery task through an app, follow it, revoke it.

`POST /{app}/tasks/{task}` (sendTask), `GET /{app}/tasks/{id}` (getTask) and
`DELETE /{app}/tasks/{id}` (revokeTask), and the original branch's
`GET /{app}/query/{id}/state|result|wait`. The checks here look at what the
schemas cannot (an eta that is no date, countdown and eta together, a
signal without terminate, an app without a result backend); the work is the
supervisor's `TaskRunner` (supervisor/tasks.py): Celery's on real brokers,
demo tasks on a simulated branch. handlers.py binds them to their
operationIds, after the app is found.

The original's route to send a task, `/{app}/queue/{queue}/{url}`, had a
worker fetch a URL named in the request: anyone who could call the branch
could make its workers fetch any URL (server-side request forgery). It has
no counterpart here: a task is sent by name, with its arguments.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from .operations import Reply
from .problems import FieldError, GatewayTimeout, NoResultBackend, ValidationFailed
from .supervisor.tasks import TaskMessage, TaskMeta, parse_datetime
from .validation import Inputs

if TYPE_CHECKING:
    from .branch import Branch
    from .store import App

# The longest a GET waits for a task to be done (`?wait=`, and the original's
# `/wait`), well within a client's usual 30-second timeout.
WAIT_MAX = 20.0
DEFAULT_QUEUE = "celery"  # Celery's task_default_queue
DEFAULT_SIGNAL = "SIGTERM"


# -- checks ------------------------------------------------------------------------


def message(inputs: Inputs) -> TaskMessage:
    """The task to send, from a request the schemas found valid; 422 for what
    they cannot see: an eta or expiry that is not a date, countdown with eta."""
    body = inputs.body
    errors: list[FieldError] = []
    eta = _moment(body, "eta", errors)
    expires = body.get("expires")
    if isinstance(expires, str):
        expires = _moment(body, "expires", errors)
    if eta is not None and "countdown" in body:
        errors.append(FieldError("body", "eta", "give countdown or eta, not both"))
    if errors:
        raise ValidationFailed(errors)
    countdown = body.get("countdown")
    return TaskMessage(
        id=str(uuid.uuid4()),
        name=inputs.path["task"],
        args=list(body.get("args", [])),
        kwargs=dict(body.get("kwargs", {})),
        queue=body.get("queue"),
        routing_key=body.get("routing_key"),
        countdown=None if countdown is None else float(countdown),
        eta=eta,
        expires=float(expires) if isinstance(expires, int | float) else expires,
        priority=body.get("priority"),
    )


def _moment(body: dict[str, Any], name: str, errors: list[FieldError]) -> datetime | None:
    text = body.get(name)
    if text is None:
        return None
    try:
        when = parse_datetime(str(text))
    except ValueError:
        when = None
    if when is None or when.tzinfo is None:
        errors.append(
            FieldError(
                "body",
                name,
                "must be an ISO 8601 date and time with its offset, such as 2026-12-01T09:00:00Z",
            )
        )
        return None
    return when.astimezone(timezone.utc)


def with_backend(app: App) -> App:
    """The app; 409 when it has no result backend to follow tasks in."""
    if app.backend is None:
        raise NoResultBackend(
            f"App '{app.name}' has no result backend to follow its tasks in: set one, "
            f"as in PUT /{app.name} with backend=redis://localhost:6379/1."
        )
    return app


def revocation(inputs: Inputs) -> tuple[bool, str]:
    """Whether to terminate, and with which signal; 422 for a signal without terminate."""
    terminate = bool(inputs.query.get("terminate"))
    signal = inputs.query.get("signal")
    if signal is not None and not terminate:
        raise ValidationFailed([FieldError("query", "signal", "is only sent with terminate=true")])
    return terminate, signal or DEFAULT_SIGNAL


# -- effects -----------------------------------------------------------------------


async def send(branch: Branch, app: App, task: TaskMessage) -> Reply:
    await branch.supervisor.tasks.send(app.broker, app.backend, task)
    sent = {
        "id": task.id,
        "task": task.name,
        "queue": task.queue or DEFAULT_QUEUE,
        "state": "PENDING",
    }
    return Reply(202, sent, {"Location": f"/{app.name}/tasks/{task.id}"})


async def follow(branch: Branch, app: App, task_id: str, wait: float) -> TaskMeta:
    """The task as the app's backend has it, once done or after `wait` seconds."""
    assert app.backend is not None  # with_backend() saw to it
    return await branch.supervisor.tasks.meta(app.backend, task_id, wait=min(wait, WAIT_MAX))


async def get(branch: Branch, inputs: Inputs, app: App) -> Reply:
    task_id = inputs.path["task"]
    meta = await follow(branch, app, task_id, float(inputs.query.get("wait", 0)))
    task: dict[str, Any] = {
        "id": task_id,
        "state": meta.state,
        "result": meta.result,
        "date_done": meta.date_done,
    }
    if inputs.query.get("traceback"):
        task["traceback"] = meta.traceback
    return Reply(200, task)


async def revoke(branch: Branch, inputs: Inputs, checked: tuple[App, bool, str]) -> Reply:
    app, terminate, signal = checked
    task_id = inputs.path["task"]
    await branch.supervisor.tasks.revoke(
        app.broker, app.backend, task_id, terminate=terminate, signal=signal
    )
    revoked = {"id": task_id, "terminate": terminate, "signal": signal if terminate else None}
    return Reply(200, revoked)


# -- the original branch's routes -----------------------------------------------------


async def state(branch: Branch, inputs: Inputs, app: App) -> Reply:
    meta = await follow(branch, app, inputs.path["task"], 0)
    return Reply(200, {"state": meta.state})


async def result(branch: Branch, inputs: Inputs, app: App) -> Reply:
    meta = await follow(branch, app, inputs.path["task"], 0)
    return Reply(200, {"result": meta.result})


async def wait(branch: Branch, inputs: Inputs, app: App) -> Reply:
    task_id = inputs.path["task"]
    meta = await follow(branch, app, task_id, WAIT_MAX)
    if not meta.ready:
        raise GatewayTimeout(
            f"Task '{task_id}' was not done within {WAIT_MAX:g} s (it is {meta.state}): ask again.",
            members={"task_id": task_id},
        )
    return Reply(200, {"result": meta.result})
