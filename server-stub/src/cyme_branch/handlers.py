"""The operations of openapi.yaml: a check and an effect per operationId.

Handlers see validated inputs only: the request was checked against the spec
before they run. A check looks the request's names up in the store and
raises the problems the request is refused with (see `operations.py`); an
effect changes the store first (the desired state) and then tells the
supervisor, so that a branch that stops between the two brings the instance
up as stored when it starts again.

`HANDLERS`, at the end, binds every operationId to its check and effect;
`PAGES` names the operations that answer an HTML page, and how to get it
with its headers (its Content-Security-Policy), which the pipeline's
browser headers step adds to the page.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from . import depth, docs, scheduled, tasks, ui
from .browsers import Page
from .cluster import Declaration, scope
from .metrics import CONTENT_TYPE as METRICS_TYPE
from .operations import Handler, Reply, nothing, template_target
from .peers import ID_HEADER
from .problems import Conflict, InternalError, NotFound, Problem, invalid
from .scheduled import Change
from .store import App, Instance, Queue
from .supervisor import QueueDecl, WorkerSpec, deadline
from .supervisor.lifecycle import Lifecycle, RestartPolicy
from .supervisor.tasks import TaskMessage
from .validation import Inputs

if TYPE_CHECKING:
    from .branch import Branch

log = logging.getLogger("cyme.branch")


def _ok(body: Any) -> Reply:
    return Reply(200, body)


def _created(body: Any, location: str) -> Reply:
    return Reply(201, body, {"Location": location})


# branch


async def ping(branch: Branch, inputs: Inputs, _: None) -> Reply:
    # Neighbours learn this branch's id here, the one route needing no token.
    return Reply(200, {"ok": "pong"}, {ID_HEADER: branch.config.id})


async def get_openapi(branch: Branch, inputs: Inputs, _: None) -> Reply:
    return Reply(200, branch.spec.text, content_type="application/yaml")


async def list_branches(branch: Branch, inputs: Inputs, _: None) -> Reply:
    return _ok(await branch.cluster.ids())


async def get_branch(branch: Branch, inputs: Inputs, _: None) -> Reply:
    ident = inputs.path["branch"]
    if ident == branch.config.id:
        return _ok(branch.describe())
    member = branch.cluster.describe(ident)
    if member is not None:
        return _ok(member)
    return _ok(await branch.neighbours.describe(ident))


# the cluster's declarations


async def list_declarations(branch: Branch, inputs: Inputs, _: None) -> Reply:
    held = branch.cluster.declarations
    since = float(inputs.query.get("since", 0))
    return _ok({"digest": held.digest, "declarations": [d.public() for d in held.all(since)]})


def declarations_valid(branch: Branch, inputs: Inputs) -> list[Declaration]:
    return scope.declarations_of(inputs.body)


async def apply_declarations(
    branch: Branch, inputs: Inputs, declarations: list[Declaration]
) -> Reply:
    return _ok(await scope.apply(branch, declarations, LOCAL))


# apps


def _find_app(branch: Branch, name: str) -> App:
    app = branch.store.app(name)
    if app is None:
        raise NotFound(f"No app named '{name}'.")
    return app


def app_exists(branch: Branch, inputs: Inputs) -> App:
    """404 unless the path's app exists."""
    return _find_app(branch, inputs.path["app"])


def backend_usable(branch: Branch, inputs: Inputs) -> None:
    """422 for a result backend the branch could not read its tasks' results in."""
    backend = inputs.body.get("backend")
    if backend is not None:
        branch.supervisor.tasks.check_backend(backend)


async def list_apps(branch: Branch, inputs: Inputs, _: None) -> Reply:
    return _ok(branch.store.app_names())


async def get_app(branch: Branch, inputs: Inputs, app: App) -> Reply:
    return _ok(app.public())


async def put_app(branch: Branch, inputs: Inputs, _: None) -> Reply:
    name = inputs.path["app"]
    app, created = branch.store.put_app(name, inputs.body)
    if created:
        log.info("app %s created", name)
        return _created(app.public(), f"/{name}")
    return _ok(app.public())


async def delete_app(branch: Branch, inputs: Inputs, app: App) -> Reply:
    instances = branch.store.delete_app(app)

    async def stop(name: str) -> None:
        async with branch.instance_lock(name):
            await branch.supervisor.stop(name)

    # At once: each warm shutdown may take the whole control timeout.
    await asyncio.gather(*(stop(i.name) for i in instances))
    log.info("app %s deleted with %d instances", app.name, len(instances))
    return _ok(app.public())


# instances


def instance_exists(branch: Branch, inputs: Inputs) -> Instance:
    """404 unless the path's instance exists in the path's app (saying which is missing)."""
    app, name = inputs.path["app"], inputs.path["instance"]
    instance = branch.store.instance(app, name)
    if instance is None:
        _find_app(branch, app)
        raise NotFound(f"No instance named '{name}' in app '{app}'.")
    return instance


def name_new_instance(inputs: Inputs) -> None:
    """`POST /{app}/instances` leaves the name to the branch: a new UUID."""
    inputs.path.setdefault("instance", str(uuid.uuid4()))


def new_instance_target(template: str, path: Mapping[str, str]) -> str:
    return f"{template_target(template, path)}/{path['instance']}"


def name_is_free(branch: Branch, inputs: Inputs) -> App:
    """404 unless the app exists; 409 when any app has an instance of that name."""
    app = app_exists(branch, inputs)
    name = inputs.path["instance"]
    if branch.store.instance_exists(name):
        raise Conflict(f"An instance named '{name}' already exists on this branch.")
    return app


async def list_instances(branch: Branch, inputs: Inputs, app: App) -> Reply:
    names = branch.store.instance_names(app.name)
    if not inputs.query.get("details"):
        return _ok(names)
    found = (branch.store.instance(app.name, name) for name in names)
    return _ok(b"[" + b",".join(instance_json(branch, i) for i in found if i is not None) + b"]")


async def create_instance(branch: Branch, inputs: Inputs, app: App) -> Reply:
    name = inputs.path["instance"]
    instance = branch.store.create_instance(app, name, inputs.body, time.time_ns())
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
    return _created(instance_json(branch, instance), f"/{app.name}/instances/{name}")


async def get_instance(branch: Branch, inputs: Inputs, instance: Instance) -> Reply:
    return _ok(instance_json(branch, instance))


async def delete_instance(branch: Branch, inputs: Inputs, instance: Instance) -> Reply:
    removed = instance_json(branch, instance)  # what it was doing when it was removed
    branch.store.delete_instance(instance.app.name, instance.name)
    await branch.supervisor.stop(instance.name)
    return _ok(removed)


# autoscale and stats


def _bounds(max_: int, min_: int) -> dict[str, int]:
    return {"max": max_, "min": min_}


async def get_autoscale(branch: Branch, inputs: Inputs, instance: Instance) -> Reply:
    return _ok(_bounds(instance.max_concurrency, instance.min_concurrency))


def bounds_in_order(branch: Branch, inputs: Inputs) -> tuple[Instance, int, int]:
    """The instance and the bounds asked for, a bound left out keeping its value;
    422 when min would exceed max."""
    instance = instance_exists(branch, inputs)
    max_ = int(inputs.body.get("max", instance.max_concurrency))
    min_ = int(inputs.body.get("min", instance.min_concurrency))
    if min_ > max_:
        # Celery itself does not check this; the branch must.
        field_name = "min" if "min" in inputs.body else "max"
        other = max_ if field_name == "min" else min_
        bound = "at most max" if field_name == "min" else "at least min"
        raise invalid("body", field_name, f"must be {bound} ({other})")
    return instance, max_, min_


async def put_autoscale(
    branch: Branch, inputs: Inputs, checked: tuple[Instance, int, int]
) -> Reply:
    instance, max_, min_ = checked
    branch.store.set_autoscale(instance, max_, min_)
    await branch.supervisor.autoscale(instance.name, max_, min_)
    return _ok(_bounds(max_, min_))


async def get_stats(branch: Branch, inputs: Inputs, instance: Instance) -> Reply:
    return _ok(await branch.supervisor.stats(instance.name))


# consumers


def consumer_target(template: str, path: Mapping[str, str]) -> str:
    """A consumer's change is the instance's: the target is the instance."""
    return template_target(template, path).rsplit("/", 1)[0]


async def list_consumers(branch: Branch, inputs: Inputs, instance: Instance) -> Reply:
    return _ok(await branch.supervisor.active_queues(instance.name))


async def _consumer_entry(branch: Branch, instance: str, queue: str) -> dict[str, Any]:
    for entry in await branch.supervisor.active_queues(instance):
        if entry["name"] == queue:
            return entry
    raise NotFound(f"Instance '{instance}' does not consume from '{queue}'.")


def queue_declared(branch: Branch, inputs: Inputs) -> tuple[Instance, Queue | None]:
    """The instance, and the app's queue it is to consume (None for its private
    queue); 404 when the app has no such queue."""
    instance = instance_exists(branch, inputs)
    name = inputs.path["queue"]
    if name == QueueDecl.private(instance.name).name:
        return instance, None
    queue = branch.store.queue(instance.app.name, name)
    if queue is None:
        raise NotFound(
            f"No queue named '{name}' in app '{instance.app.name}'; "
            f"declare it first with PUT /{instance.app.name}/queues/{name}."
        )
    return instance, queue


def queue_consumed(branch: Branch, inputs: Inputs) -> Instance:
    """The instance; 409 for its private queue, 404 for a queue it does not consume."""
    instance = instance_exists(branch, inputs)
    name = inputs.path["queue"]
    if name == QueueDecl.private(instance.name).name:
        raise Conflict(f"'{name}' is the instance's private queue; it cannot be cancelled.")
    if name not in {q.name for q in instance.queues}:
        raise NotFound(f"Instance '{instance.name}' does not consume from '{name}'.")
    return instance


async def put_consumer(
    branch: Branch, inputs: Inputs, checked: tuple[Instance, Queue | None]
) -> Reply:
    instance, queue = checked
    name = inputs.path["queue"]
    if queue is None or not branch.store.add_consumer(instance, queue, time.time_ns()):
        return _ok(await _consumer_entry(branch, instance.name, name))
    await branch.supervisor.add_consumer(instance.name, QueueDecl.of(queue))
    return Reply(201, await _consumer_entry(branch, instance.name, name))


async def delete_consumer(branch: Branch, inputs: Inputs, instance: Instance) -> Reply:
    name = inputs.path["queue"]
    entry = await _consumer_entry(branch, instance.name, name)
    branch.store.remove_consumer(instance, name)
    await branch.supervisor.cancel_consumer(instance.name, name)
    return _ok(entry)


# queues


def queue_exists(branch: Branch, inputs: Inputs) -> Queue:
    """404 unless the path's queue exists in the path's app (saying which is missing)."""
    app, name = inputs.path["app"], inputs.path["queue"]
    queue = branch.store.queue(app, name)
    if queue is None:
        _find_app(branch, app)
        raise NotFound(f"No queue named '{name}' in app '{app}'.")
    return queue


async def list_queues(branch: Branch, inputs: Inputs, app: App) -> Reply:
    names = branch.store.queue_names(app.name)
    if not inputs.query.get("details"):
        return _ok(names)
    depths = await depth.read(branch, app, names)
    queues = (branch.store.queue(app.name, name) for name in names)
    return _ok([depth.public(q, depths.get(q.name)) for q in queues if q is not None])


async def get_queue(branch: Branch, inputs: Inputs, queue: Queue) -> Reply:
    app = _find_app(branch, queue.app)
    found = await depth.read(branch, app, [queue.name])
    return _ok(depth.public(queue, found.get(queue.name)))


async def put_queue(branch: Branch, inputs: Inputs, app: App) -> Reply:
    queue, created = branch.store.put_queue(app.name, inputs.path["queue"], inputs.body)
    if created:
        return _created(queue.public(), f"/{app.name}/queues/{queue.name}")
    # Consumers follow the new declaration.
    for instance in branch.store.consumers_of(app.name, queue.name):
        async with branch.instance_lock(instance):
            await branch.supervisor.add_consumer(instance, QueueDecl.of(queue))
    return _ok(queue.public())


async def delete_queue(branch: Branch, inputs: Inputs, queue: Queue) -> Reply:
    consumers = branch.store.delete_queue(queue)
    for instance in consumers:
        async with branch.instance_lock(instance):
            await branch.supervisor.cancel_consumer(instance, queue.name)
    return _ok(queue.public())


# what the workers are doing, and the levers to steer them


def instance_json(branch: Branch, instance: Instance) -> bytes:
    """An instance as the API shows it: what it was told (`Instance.public_json`,
    rendered once), and what its worker is doing (rendered once per change)."""
    life = branch.supervisor.observe(instance.name)
    if life is None:  # its worker is being made: the supervisor has no record yet
        life = Lifecycle(RestartPolicy(), enabled=instance.is_enabled)
    return b"%s,%s}" % (instance.public_json[:-1], life.json_fields())


def restartable(branch: Branch, inputs: Inputs) -> Instance:
    """The instance; 409 when it is disabled or failed: it must be enabled instead."""
    instance = instance_exists(branch, inputs)
    if not instance.is_enabled:
        raise Conflict(f"Instance '{instance.name}' is disabled: enable it to start its worker.")
    life = branch.supervisor.observe(instance.name)
    if life is not None and life.state == "failed":
        raise Conflict(
            f"Instance '{instance.name}' failed (a restart storm): enable it to start its worker."
        )
    return instance


def _again(branch: Branch, instance: Instance) -> Reply:
    """The instance as it is now, after a change to its worker."""
    now = branch.store.instance(instance.app.name, instance.name)
    return _ok(instance_json(branch, now or instance))


async def restart_instance(branch: Branch, inputs: Inputs, instance: Instance) -> Reply:
    await branch.supervisor.restart(WorkerSpec.of(instance, branch.config.directory))
    log.info("instance %s restarted", instance.name)
    return _again(branch, instance)


async def disable_instance(branch: Branch, inputs: Inputs, instance: Instance) -> Reply:
    if instance.is_enabled:
        branch.store.set_enabled(instance, False)  # first: a branch restarted now keeps it down
    await branch.supervisor.disable(instance.name)
    return _again(branch, instance)


async def enable_instance(branch: Branch, inputs: Inputs, instance: Instance) -> Reply:
    if not instance.is_enabled:
        branch.store.set_enabled(instance, True)
    enabled = branch.store.instance(instance.app.name, instance.name) or instance
    await branch.supervisor.enable(WorkerSpec.of(enabled, branch.config.directory))
    return _again(branch, enabled)


def _outcome(
    name: str, outcome: str, pid: int | None = None, detail: str | None = None
) -> dict[str, Any]:
    return {"name": name, "outcome": outcome, "pid": pid, "detail": detail}


async def restart_app(branch: Branch, inputs: Inputs, app: App) -> Reply:
    """A rolling restart: one instance at a time, each once the previous one answers."""
    names = branch.store.instance_names(app.name)
    timeout = branch.config.control_timeout
    outcomes: list[dict[str, Any]] = []
    stopped = False
    for done, name in enumerate(names):
        scheduled.progress(done, len(names), name)
        if stopped:
            outcomes.append(_outcome(name, "untouched", detail="the roll stopped before it"))
            continue
        async with branch.instance_lock(name):
            outcome = await _restart_one(branch, app, name, timeout)
        outcomes.append(outcome)
        stopped = outcome["outcome"] == "failed"
    scheduled.progress(len(names), len(names), None)
    log.info("app %s: rolling restart of %d instances done", app.name, len(names))
    return _ok({"app": app.name, "instances": outcomes})


async def _restart_one(branch: Branch, app: App, name: str, timeout: float) -> dict[str, Any]:
    instance = branch.store.instance(app.name, name)
    if instance is None:
        return _outcome(name, "skipped", detail="the instance was deleted meanwhile")
    life = branch.supervisor.observe(name)
    if not instance.is_enabled:
        return _outcome(name, "skipped", detail="the instance is disabled")
    if life is not None and life.state == "failed":
        return _outcome(name, "skipped", detail="the instance failed: enable it first")
    try:
        with deadline(timeout):  # each instance gets the whole timeout
            await branch.supervisor.restart(WorkerSpec.of(instance, branch.config.directory))
    except Problem as problem:
        return _outcome(name, "failed", detail=problem.detail)
    life = branch.supervisor.observe(name)
    if life is None or life.state != "running":
        return _outcome(
            name, "failed", detail=f"its new worker did not answer a ping within {timeout:g} s"
        )
    return _outcome(name, "restarted", pid=life.pid)


def change_exists(branch: Branch, inputs: Inputs) -> Change:
    """404 unless the branch remembers the change."""
    change = branch.scheduled.get(inputs.path["operation"])
    if change is None:
        raise NotFound(
            f"No change '{inputs.path['operation']}' on this branch: it finished more than "
            f"15 minutes ago, the branch was restarted since, or it never was."
        )
    return change


async def get_operation(branch: Branch, inputs: Inputs, change: Change) -> Reply:
    return _ok(change.public())


async def get_metrics(branch: Branch, inputs: Inputs, _: None) -> Reply:
    return Reply(200, await branch.metrics.scrape(), content_type=METRICS_TYPE)


# tasks (tasks.py): the app first (404), then what the request asks of it


def task_sendable(branch: Branch, inputs: Inputs) -> tuple[App, TaskMessage]:
    return app_exists(branch, inputs), tasks.message(inputs)


async def send_task(branch: Branch, inputs: Inputs, checked: tuple[App, TaskMessage]) -> Reply:
    return await tasks.send(branch, *checked)


def task_followable(branch: Branch, inputs: Inputs) -> App:
    """The app; 409 when it has no result backend."""
    return tasks.with_backend(app_exists(branch, inputs))


def task_revocable(branch: Branch, inputs: Inputs) -> tuple[App, bool, str]:
    return (app_exists(branch, inputs), *tasks.revocation(inputs))


# Every operationId of the spec, with its check and its effect. PUT and POST
# of one resource share theirs.

_PUT_APP = Handler(backend_usable, put_app)
_PUT_AUTOSCALE = Handler(bounds_in_order, put_autoscale, serial=True)
_PUT_CONSUMER = Handler(queue_declared, put_consumer, serial=True, target=consumer_target)
_PUT_QUEUE = Handler(app_exists, put_queue)

# The operations as this branch does them, whatever the scope (the cluster's
# declarations are applied with these).
LOCAL: Mapping[str, Handler[Any]] = {
    "ping": Handler(nothing, ping),
    "getOpenAPI": Handler(nothing, get_openapi),
    "getDocs": Handler(nothing, docs.get_docs),
    "getUI": Handler(nothing, ui.get_ui),
    "listBranches": Handler(nothing, list_branches),
    "getBranch": Handler(nothing, get_branch),
    "listApps": Handler(nothing, list_apps),
    "getApp": Handler(app_exists, get_app),
    "putApp": _PUT_APP,
    "postApp": _PUT_APP,
    "deleteApp": Handler(app_exists, delete_app),
    "listInstances": Handler(app_exists, list_instances),
    "createInstance": Handler(
        name_is_free,
        create_instance,
        serial=True,
        complete=name_new_instance,
        target=new_instance_target,
    ),
    "createNamedInstance": Handler(name_is_free, create_instance, serial=True),
    "getInstance": Handler(instance_exists, get_instance),
    "deleteInstance": Handler(instance_exists, delete_instance, serial=True),
    "getAutoscale": Handler(instance_exists, get_autoscale),
    "putAutoscale": _PUT_AUTOSCALE,
    "postAutoscale": _PUT_AUTOSCALE,
    "getInstanceStats": Handler(instance_exists, get_stats),
    "listConsumers": Handler(instance_exists, list_consumers),
    "putConsumer": _PUT_CONSUMER,
    "postConsumer": _PUT_CONSUMER,
    "deleteConsumer": Handler(queue_consumed, delete_consumer, serial=True, target=consumer_target),
    "listQueues": Handler(app_exists, list_queues),
    "getQueue": Handler(queue_exists, get_queue),
    "putQueue": _PUT_QUEUE,
    "postQueue": _PUT_QUEUE,
    "deleteQueue": Handler(queue_exists, delete_queue),
    # what the workers are doing, and the levers to steer them
    # A lever's nowait target is what it acts on: the instance, or the app.
    "restartInstance": Handler(restartable, restart_instance, serial=True, target=consumer_target),
    "disableInstance": Handler(
        instance_exists, disable_instance, serial=True, target=consumer_target
    ),
    "enableInstance": Handler(
        instance_exists, enable_instance, serial=True, target=consumer_target
    ),
    "restartApp": Handler(app_exists, restart_app, target=consumer_target),
    "getOperation": Handler(change_exists, get_operation),
    "getMetrics": Handler(nothing, get_metrics),
    # tasks
    "sendTask": Handler(task_sendable, send_task),
    "getTask": Handler(task_followable, tasks.get),
    "revokeTask": Handler(task_revocable, tasks.revoke),
    "getTaskState": Handler(task_followable, tasks.state),
    "getTaskResult": Handler(task_followable, tasks.result),
    "waitTaskResult": Handler(task_followable, tasks.wait),
}

HANDLERS: Mapping[str, Handler[Any]] = {
    **LOCAL,
    "listDeclarations": Handler(nothing, list_declarations),
    "applyDeclarations": Handler(declarations_valid, apply_declarations),
    # ?scope=cluster: every live member (cluster/scope.py).
    "listApps": scope.scoped(LOCAL["listApps"], scope.read()),
    "listInstances": scope.scoped(LOCAL["listInstances"], scope.read("instances")),
    "listQueues": scope.scoped(LOCAL["listQueues"], scope.read("queues")),
    "putApp": scope.scoped(_PUT_APP, scope.declare_app),
    "postApp": scope.scoped(_PUT_APP, scope.declare_app),
    "deleteApp": scope.scoped(LOCAL["deleteApp"], scope.delete_app),
    "putQueue": scope.scoped(_PUT_QUEUE, scope.declare_queue),
    "postQueue": scope.scoped(_PUT_QUEUE, scope.declare_queue),
    "deleteQueue": scope.scoped(LOCAL["deleteQueue"], scope.delete_queue),
    "createInstance": scope.scoped(LOCAL["createInstance"], scope.place, ("branch",)),
}

# The operations whose answer is an HTML page: each with the page and its
# headers (browsers.Page). openapi.yaml's `text/html` answers and these must
# be the same operations, or the branch does not start.
PAGES: Mapping[str, Callable[[Branch], Page]] = {
    "getDocs": docs.reference_page,
    "getUI": ui.admin_page,
}
