"""One handler per operationId of openapi.yaml.

Handlers see validated inputs only: the request was checked against the spec
before they run. They change the store first (the desired state) and then
tell the supervisor, so that a branch that stops between the two brings the
instance up as stored when it starts again.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .peers import ID_HEADER
from .problems import Conflict, InternalError, NotFound, Problem, invalid
from .store import App, Instance, NameTaken, Queue
from .supervisor import QueueDecl, WorkerSpec, deadline
from .validation import Inputs

if TYPE_CHECKING:
    from .branch import Branch

log = logging.getLogger("cyme.branch")


@dataclass
class Reply:
    status: int
    body: Any
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str = "application/json"


Handler = Callable[["Branch", Inputs], Awaitable[Reply]]
HANDLERS: dict[str, Handler] = {}
_CONSUMER_OPERATIONS = frozenset({"putConsumer", "postConsumer", "deleteConsumer"})


def operation(*operation_ids: str, serial: bool = False) -> Callable[[Handler], Handler]:
    """Bind a handler to the operationIds it serves.

    `serial` handlers change one instance (named by the path): they run one
    at a time per instance, holding the branch's lock for it.
    """

    def bind(handler: Handler) -> Handler:
        bound = handler
        if serial:

            async def bound(branch: Branch, inputs: Inputs) -> Reply:
                async with branch.instance_lock(inputs.path["instance"]):
                    return await handler(branch, inputs)

        for operation_id in operation_ids:
            HANDLERS[operation_id] = bound
        return handler

    return bind


def _ok(body: Any) -> Reply:
    return Reply(200, body)


def _created(body: Any, location: str) -> Reply:
    return Reply(201, body, {"Location": location})


# branch


@operation("ping")
async def ping(branch: Branch, inputs: Inputs) -> Reply:
    # Neighbours learn this branch's id here, the one route needing no token.
    return Reply(200, {"ok": "pong"}, {ID_HEADER: branch.config.id})


@operation("getOpenAPI")
async def get_openapi(branch: Branch, inputs: Inputs) -> Reply:
    return Reply(200, branch.spec.text, content_type="application/yaml")


@operation("listBranches")
async def list_branches(branch: Branch, inputs: Inputs) -> Reply:
    return _ok([branch.config.id, *await branch.neighbours.ids()])


@operation("getBranch")
async def get_branch(branch: Branch, inputs: Inputs) -> Reply:
    if inputs.path["branch"] == branch.config.id:
        return _ok(branch.describe())
    return _ok(await branch.neighbours.describe(inputs.path["branch"]))


# apps


def _app(branch: Branch, name: str) -> App:
    app = branch.store.app(name)
    if app is None:
        raise NotFound(f"No app named '{name}'.")
    return app


@operation("listApps")
async def list_apps(branch: Branch, inputs: Inputs) -> Reply:
    return _ok(branch.store.app_names())


@operation("getApp")
async def get_app(branch: Branch, inputs: Inputs) -> Reply:
    return _ok(_app(branch, inputs.path["app"]).public())


@operation("putApp", "postApp")
async def put_app(branch: Branch, inputs: Inputs) -> Reply:
    name = inputs.path["app"]
    app, created = branch.store.put_app(name, inputs.body)
    if created:
        log.info("app %s created", name)
        return _created(app.public(), f"/{name}")
    return _ok(app.public())


@operation("deleteApp")
async def delete_app(branch: Branch, inputs: Inputs) -> Reply:
    name = inputs.path["app"]
    deleted = branch.store.delete_app(name)
    if deleted is None:
        raise NotFound(f"No app named '{name}'.")
    app, instances = deleted

    async def stop(name: str) -> None:
        async with branch.instance_lock(name):
            await branch.supervisor.stop(name)

    # At once: each warm shutdown may take the whole control timeout.
    await asyncio.gather(*(stop(i.name) for i in instances))
    log.info("app %s deleted with %d instances", name, len(instances))
    return _ok(app.public())


# instances


def _instance(branch: Branch, app: str, name: str) -> Instance:
    instance = branch.store.instance(app, name)
    if instance is None:
        _app(branch, app)  # say which of the two is missing
        raise NotFound(f"No instance named '{name}' in app '{app}'.")
    return instance


@operation("listInstances")
async def list_instances(branch: Branch, inputs: Inputs) -> Reply:
    app = _app(branch, inputs.path["app"])
    return _ok(branch.store.instance_names(app.name))


@operation("createInstance", "createNamedInstance")
async def create_instance(branch: Branch, inputs: Inputs) -> Reply:
    app = _app(branch, inputs.path["app"])
    name = inputs.path.get("instance") or str(uuid.uuid4())
    async with branch.instance_lock(name):
        try:
            instance = branch.store.create_instance(app, name, inputs.body, time.time_ns())
        except NameTaken:
            raise Conflict(f"An instance named '{name}' already exists on this branch.") from None
        try:
            await branch.supervisor.start(WorkerSpec.of(instance, branch.config.directory))
        except Exception as exc:
            # Leave nothing half-made: the instance exists whole or not at all.
            branch.store.delete_instance(app.name, name)
            with deadline(branch.config.control_timeout):
                await branch.supervisor.stop(name)
            if isinstance(exc, Problem):
                raise  # the worker's answer (broker down, worker exited): the caller's to know
            log.exception("instance %s failed to start", name)
            raise InternalError(f"Instance '{name}' failed to start; see the branch log.") from None
        if branch.store.instance(app.name, name) is None:
            # The app was deleted while the worker started: do not leave it running.
            await branch.supervisor.stop(name)
            raise NotFound(f"App '{app.name}' was deleted while the instance started.")
    return _created(instance.public(), f"/{app.name}/instances/{name}")


@operation("getInstance")
async def get_instance(branch: Branch, inputs: Inputs) -> Reply:
    return _ok(_instance(branch, inputs.path["app"], inputs.path["instance"]).public())


@operation("deleteInstance", serial=True)
async def delete_instance(branch: Branch, inputs: Inputs) -> Reply:
    instance = _instance(branch, inputs.path["app"], inputs.path["instance"])
    branch.store.delete_instance(instance.app.name, instance.name)
    await branch.supervisor.stop(instance.name)
    return _ok(instance.public())


# autoscale and stats


def _bounds(max_: int, min_: int) -> dict[str, int]:
    return {"max": max_, "min": min_}


@operation("getAutoscale")
async def get_autoscale(branch: Branch, inputs: Inputs) -> Reply:
    instance = _instance(branch, inputs.path["app"], inputs.path["instance"])
    return _ok(_bounds(instance.max_concurrency, instance.min_concurrency))


@operation("putAutoscale", "postAutoscale", serial=True)
async def put_autoscale(branch: Branch, inputs: Inputs) -> Reply:
    instance = _instance(branch, inputs.path["app"], inputs.path["instance"])
    max_, min_ = _new_bounds(instance, inputs)
    branch.store.set_autoscale(instance, max_, min_)
    await branch.supervisor.autoscale(instance.name, max_, min_)
    return _ok(_bounds(max_, min_))


def _new_bounds(instance: Instance, inputs: Inputs) -> tuple[int, int]:
    """The bounds asked for, a bound left out keeping its value."""
    max_ = int(inputs.body.get("max", instance.max_concurrency))
    min_ = int(inputs.body.get("min", instance.min_concurrency))
    if min_ > max_:
        # Celery itself does not check this; the branch must.
        field_name = "min" if "min" in inputs.body else "max"
        other = max_ if field_name == "min" else min_
        bound = "at most max" if field_name == "min" else "at least min"
        raise invalid("body", field_name, f"must be {bound} ({other})")
    return max_, min_


@operation("getInstanceStats")
async def get_stats(branch: Branch, inputs: Inputs) -> Reply:
    instance = _instance(branch, inputs.path["app"], inputs.path["instance"])
    return _ok(await branch.supervisor.stats(instance.name))


# consumers


@operation("listConsumers")
async def list_consumers(branch: Branch, inputs: Inputs) -> Reply:
    instance = _instance(branch, inputs.path["app"], inputs.path["instance"])
    return _ok(await branch.supervisor.active_queues(instance.name))


async def _consumer_entry(branch: Branch, instance: str, queue: str) -> dict[str, Any]:
    for entry in await branch.supervisor.active_queues(instance):
        if entry["name"] == queue:
            return entry
    raise NotFound(f"Instance '{instance}' does not consume from '{queue}'.")


def _declared_queue(branch: Branch, instance: Instance, name: str) -> Queue | None:
    """The app's queue an instance is to consume; None for its private queue."""
    if name == QueueDecl.private(instance.name).name:
        return None
    queue = branch.store.queue(instance.app.name, name)
    if queue is None:
        raise NotFound(
            f"No queue named '{name}' in app '{instance.app.name}'; "
            f"declare it first with PUT /{instance.app.name}/queues/{name}."
        )
    return queue


def _check_consumed(instance: Instance, name: str) -> None:
    """Refuse to cancel the private queue, or a queue not consumed."""
    if name == QueueDecl.private(instance.name).name:
        raise Conflict(f"'{name}' is the instance's private queue; it cannot be cancelled.")
    if name not in {q.name for q in instance.queues}:
        raise NotFound(f"Instance '{instance.name}' does not consume from '{name}'.")


@operation("putConsumer", "postConsumer", serial=True)
async def put_consumer(branch: Branch, inputs: Inputs) -> Reply:
    instance = _instance(branch, inputs.path["app"], inputs.path["instance"])
    name = inputs.path["queue"]
    queue = _declared_queue(branch, instance, name)
    if queue is None:
        return _ok(await _consumer_entry(branch, instance.name, name))
    if not branch.store.add_consumer(instance, queue, time.time_ns()):
        return _ok(await _consumer_entry(branch, instance.name, name))
    await branch.supervisor.add_consumer(instance.name, QueueDecl.of(queue))
    return Reply(201, await _consumer_entry(branch, instance.name, name))


@operation("deleteConsumer", serial=True)
async def delete_consumer(branch: Branch, inputs: Inputs) -> Reply:
    instance = _instance(branch, inputs.path["app"], inputs.path["instance"])
    name = inputs.path["queue"]
    _check_consumed(instance, name)
    entry = await _consumer_entry(branch, instance.name, name)
    branch.store.remove_consumer(instance, name)
    await branch.supervisor.cancel_consumer(instance.name, name)
    return _ok(entry)


# queues


def _queue(branch: Branch, app: str, name: str) -> Queue:
    queue = branch.store.queue(app, name)
    if queue is None:
        _app(branch, app)
        raise NotFound(f"No queue named '{name}' in app '{app}'.")
    return queue


@operation("listQueues")
async def list_queues(branch: Branch, inputs: Inputs) -> Reply:
    app = _app(branch, inputs.path["app"])
    return _ok(branch.store.queue_names(app.name))


@operation("getQueue")
async def get_queue(branch: Branch, inputs: Inputs) -> Reply:
    return _ok(_queue(branch, inputs.path["app"], inputs.path["queue"]).public())


@operation("putQueue", "postQueue")
async def put_queue(branch: Branch, inputs: Inputs) -> Reply:
    app = _app(branch, inputs.path["app"])
    queue, created = branch.store.put_queue(app.name, inputs.path["queue"], inputs.body)
    if created:
        return _created(queue.public(), f"/{app.name}/queues/{queue.name}")
    # Consumers follow the new declaration.
    for instance in branch.store.consumers_of(app.name, queue.name):
        async with branch.instance_lock(instance):
            await branch.supervisor.add_consumer(instance, QueueDecl.of(queue))
    return _ok(queue.public())


@operation("deleteQueue")
async def delete_queue(branch: Branch, inputs: Inputs) -> Reply:
    app = _app(branch, inputs.path["app"])
    deleted = branch.store.delete_queue(app.name, inputs.path["queue"])
    if deleted is None:
        raise NotFound(f"No queue named '{inputs.path['queue']}' in app '{app.name}'.")
    queue, consumers = deleted
    for instance in consumers:
        async with branch.instance_lock(instance):
            await branch.supervisor.cancel_consumer(instance, queue.name)
    return _ok(queue.public())


# nowait


async def schedule(branch: Branch, operation_id: str, template: str, inputs: Inputs) -> Reply:
    """Answer 202 now and run the operation right after (`?nowait=true`).

    What can be checked at once is, with the handlers' own checks: the app,
    instance, queue or consumer must exist, a new instance's name must be
    free, bounds must be in order. So a 202 means the change will be made,
    not that it may fail unseen.
    """
    app = inputs.path["app"]
    if operation_id == "createInstance":
        inputs.path["instance"] = str(uuid.uuid4())
    name = inputs.path.get("instance")
    if operation_id in ("createInstance", "createNamedInstance"):
        _app(branch, app)
        if name and branch.store.instance_exists(name):
            raise Conflict(f"An instance named '{name}' already exists on this branch.")
    elif name is not None:
        instance = _instance(branch, app, name)
        if operation_id in ("putAutoscale", "postAutoscale"):
            _new_bounds(instance, inputs)
        elif operation_id in ("putConsumer", "postConsumer"):
            _declared_queue(branch, instance, inputs.path["queue"])
        elif operation_id == "deleteConsumer":
            _check_consumed(instance, inputs.path["queue"])
    elif operation_id == "deleteQueue":
        _queue(branch, app, inputs.path["queue"])
    else:
        _app(branch, app)
    target = template.format(**inputs.path)
    if operation_id == "createInstance":
        target += f"/{name}"
    elif operation_id in _CONSUMER_OPERATIONS:
        target = target.rsplit("/", 1)[0]
    task = asyncio.create_task(_run_later(branch, operation_id, inputs))
    branch.background.add(task)
    task.add_done_callback(branch.background.discard)
    return Reply(202, {"ok": "operation scheduled", "operation": operation_id, "target": target})


async def _run_later(branch: Branch, operation_id: str, inputs: Inputs) -> None:
    try:
        with deadline(branch.config.control_timeout):
            await HANDLERS[operation_id](branch, inputs)
    except Problem as problem:
        log.warning("scheduled %s failed: %s", operation_id, problem.detail)
    except Exception:
        log.exception("scheduled %s failed", operation_id)
    else:
        log.info("scheduled %s done", operation_id)
