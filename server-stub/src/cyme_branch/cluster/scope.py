"""`?scope=cluster`: an operation done on every live member.

`scoped` wraps an operation's handler: without `scope=cluster` the request
is this branch's, as always; with it, the cluster effect below runs instead.

- **Reads** ask every member at once (`ClusterList`).
- **Apps and queues** are applied here first, with this branch's own checks
  (a bad field is refused before anything is declared), then recorded as a
  declaration and pushed to every other live member (`ClusterChange`).
- **Instances** go to the member named with `?branch=`, or to the least
  loaded: the fewest instances (as last announced, plus those this branch
  placed there since), then the lowest load, then the smallest id; a
  member that lacks the app or does not answer is passed over. The
  instance keeps the name this branch gave it, and the request's
  `Idempotency-Key` goes with it (`Placement`).
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from ..operations import Handler, Reply
from ..problems import (
    BadGateway,
    Conflict,
    GatewayTimeout,
    NotFound,
    Problem,
    WorkerUnavailable,
    invalid,
)
from ..validation import Inputs
from . import Declaration, Part, Target

if TYPE_CHECKING:
    from ..branch import Branch

log = logging.getLogger("cyme.branch")

CLUSTER = "cluster"
# A member answering these to a placement is passed over for the next one:
# it lacks the app, or its workers cannot start now.
PASSED_OVER = (404, 502, 503, 504)
RELAYED: dict[int, type[Problem]] = {
    404: NotFound,
    409: Conflict,
    503: WorkerUnavailable,
    504: GatewayTimeout,
}
IDEMPOTENCY_KEY = "Idempotency-Key"

ClusterEffect = Callable[["Branch", Inputs, Handler[Any]], Awaitable[Reply]]


class _Cluster:
    """What a scoped check returns for a cluster request."""


_ASKED = _Cluster()


def asks_cluster(inputs: Inputs) -> bool:
    return bool(inputs.query.get("scope") == CLUSTER)


def scoped(
    local: Handler[Any], cluster: ClusterEffect, cluster_only: tuple[str, ...] = ()
) -> Handler[Any]:
    """`local`, or `cluster` for a request with `scope=cluster`; the query
    parameters `cluster_only` are refused (422) without it.

    The local handler's lock (a serial operation) is taken inside, by
    `local.perform`, for local requests only: a cluster request may call
    this branch itself over HTTP for the same instance."""

    def check(branch: Branch, inputs: Inputs) -> Any:
        if asks_cluster(inputs):
            return _ASKED
        for name in cluster_only:
            if name in inputs.query:
                raise invalid("query", name, "is for scope=cluster only")
        return local.check(branch, inputs)

    async def effect(branch: Branch, inputs: Inputs, found: Any) -> Reply:
        if found is _ASKED:
            return await cluster(branch, inputs, local)
        if local.serial:
            return await local.perform(branch, inputs)
        return await local.effect(branch, inputs, found)

    return Handler(check, effect, complete=local.complete, target=local.target)


def _path(*names: str) -> str:
    return "".join(f"/{quote(name, safe='@:')}" for name in names)


# reads


def read(*tail: str) -> ClusterEffect:
    """A list read on every member: `GET /{app}/<tail>`, or `GET /` without tail."""

    async def effect(branch: Branch, inputs: Inputs, local: Handler[Any]) -> Reply:
        cluster = branch.cluster
        path = _path(inputs.path["app"], *tail) if tail else "/"
        query = {"details": "true"} if inputs.query.get("details") else None
        targets = await cluster.targets()
        parts = await asyncio.gather(
            *(cluster.calls.call(t.id, t.url, "GET", path, query=query) for t in targets)
        )
        body = {"scope": CLUSTER, "stale": cluster.stale, "branches": [p.public() for p in parts]}
        return Reply(200, body)

    return effect


# declarations


async def declare_app(branch: Branch, inputs: Inputs, local: Handler[Any]) -> Reply:
    await local.perform(branch, Inputs(path=dict(inputs.path), body=dict(inputs.body)))
    app = branch.store.app(inputs.path["app"])
    assert app is not None
    fields = {
        "broker": app.broker,
        "arguments": app.arguments,
        "extra_config": app.extra_config,
        "backend": app.backend,
    }
    return await _declared(branch, "app", inputs.path["app"], None, deleted=False, fields=fields)


async def declare_queue(branch: Branch, inputs: Inputs, local: Handler[Any]) -> Reply:
    app, name = inputs.path["app"], inputs.path["queue"]
    await local.perform(branch, Inputs(path=dict(inputs.path), body=dict(inputs.body)))
    queue = branch.store.queue(app, name)
    assert queue is not None
    fields = {
        "exchange": queue.exchange,
        "exchange_type": queue.exchange_type,
        "routing_key": queue.routing_key,
        "options": queue.options,
    }
    return await _declared(branch, "queue", app, name, deleted=False, fields=fields)


async def delete_app(branch: Branch, inputs: Inputs, local: Handler[Any]) -> Reply:
    app = inputs.path["app"]
    if branch.store.app(app) is not None:
        await local.perform(branch, Inputs(path=dict(inputs.path)))
    return await _declared(branch, "app", app, None, deleted=True, fields={})


async def delete_queue(branch: Branch, inputs: Inputs, local: Handler[Any]) -> Reply:
    app, name = inputs.path["app"], inputs.path["queue"]
    if branch.store.queue(app, name) is not None:
        await local.perform(branch, Inputs(path=dict(inputs.path)))
    return await _declared(branch, "queue", app, name, deleted=True, fields={})


async def _declared(
    branch: Branch,
    kind: str,
    app: str,
    queue: str | None,
    *,
    deleted: bool,
    fields: dict[str, Any],
) -> Reply:
    """Keep the declaration made here, push it to the other members; how each took it."""
    cluster = branch.cluster
    declarations = cluster.declarations
    declaration = Declaration(
        kind, app, queue, declarations.next_version(), branch.config.id, deleted, fields
    )
    declarations.keep(declaration)
    targets = await cluster.targets()
    me, others = targets[0], targets[1:]
    pushed = await asyncio.gather(*(cluster.push(t, [declaration]) for t in others))
    parts = [Part(me.id, me.url, "ok", 200), *(_taken(p) for p in pushed)]
    body = {
        "scope": CLUSTER,
        "stale": cluster.stale,
        "declaration": declaration.public(),
        "branches": [p.public(items=False) for p in parts],
    }
    return Reply(200, body)


def _taken(part: Part) -> Part:
    """A member's answer to a push: an error when it kept it but could not apply it."""
    if part.state == "ok" and isinstance(part.body, dict) and part.body.get("failed"):
        failure = part.body["failed"][0]
        return Part(part.branch, part.url, "error", 409, str(failure.get("detail", "failed")))
    return part


async def apply(
    branch: Branch, declarations: list[Declaration], local: Mapping[str, Handler[Any]]
) -> dict[str, Any]:
    """`POST /cluster/declarations`: apply those newer than what is held, keep them."""
    held = branch.cluster.declarations
    applied, skipped = 0, 0
    failed: list[dict[str, Any]] = []
    shapes = branch.cluster.shapes
    for declaration in sorted(declarations, key=lambda d: d.order):
        if not held.is_newer(declaration):
            skipped += 1
            continue
        failure = {"kind": declaration.kind, "app": declaration.app}
        if declaration.queue is not None:
            failure["queue"] = declaration.queue
        wrong = shapes.fields_error(declaration)
        if wrong is not None:
            failed.append({**failure, "detail": wrong})  # not kept: it is no declaration
            continue
        try:
            await _apply_one(branch, declaration, local)
        except Problem as problem:
            failed.append({**failure, "detail": problem.detail})
        except Exception:
            log.exception("cluster: applying a declaration of %s failed", declaration.app)
            failed.append({**failure, "detail": "the change failed; see the branch's log"})
        held.keep(declaration)
        applied += 1
    return {"applied": applied, "skipped": skipped, "failed": failed, "digest": held.digest}


async def _apply_one(branch: Branch, d: Declaration, local: Mapping[str, Handler[Any]]) -> None:
    store = branch.store
    path = {"app": d.app} if d.queue is None else {"app": d.app, "queue": d.queue}
    if d.kind == "app":
        if d.deleted:
            if store.app(d.app) is not None:
                await local["deleteApp"].perform(branch, Inputs(path=path))
        else:
            body = {k: v for k, v in d.fields.items() if v is not None or k == "backend"}
            await local["putApp"].perform(branch, Inputs(path=path, body=body))
    elif d.deleted:
        if store.queue(d.app, d.queue or "") is not None:
            await local["deleteQueue"].perform(branch, Inputs(path=path))
    else:
        await local["putQueue"].perform(branch, Inputs(path=path, body=dict(d.fields)))


def declarations_of(body: dict[str, Any]) -> list[Declaration]:
    """The declarations of a `DeclarationsInput` body (already checked by the spec)."""
    found = []
    for index, item in enumerate(body["declarations"]):
        try:
            found.append(Declaration.of(item))
        except ValueError as exc:
            raise invalid("body", f"declarations/{index}", str(exc)) from None
    return found


# placement


async def place(branch: Branch, inputs: Inputs, local: Handler[Any]) -> Reply:
    """Create the instance on the named member, or on the least-loaded one."""
    cluster = branch.cluster
    app, name = inputs.path["app"], inputs.path["instance"]
    targets = await cluster.targets()
    named = inputs.query.get("branch")
    if named is not None:
        chosen = [t for t in targets if t.id == named]
        if not chosen:
            raise NotFound(f"No live member of the cluster is named '{named}'.")
    else:
        chosen = sorted(targets, key=lambda t: (t.instances, t.load, t.id))
    key = inputs.headers.get(IDEMPOTENCY_KEY)
    headers = {IDEMPOTENCY_KEY: placement_key(key)} if key else None
    path = _path(app, "instances", name)
    tried: list[str] = []
    for target in chosen:
        part = await cluster.calls.call(
            target.id, target.url, "POST", path, body=dict(inputs.body), headers=headers
        )
        if part.state == "ok":
            cluster.placed(target.id)
            url = f"{target.url}/"
            body = {"scope": CLUSTER, "branch": target.id, "url": url, "instance": part.body}
            return Reply(201, body, {"Location": f"{target.url}{path}"})
        if named is not None or (part.state == "error" and part.status not in PASSED_OVER):
            raise _relayed(target, part)
        tried.append(f"{target.id}: {part.detail}")
    raise BadGateway("No member could take the instance (" + "; ".join(tried) + ").")


def placement_key(key: str) -> str:
    """The key a placement is made with on the member: derived from the
    request's, not the same, for this branch may be the member, and holds the
    request's key while it places."""
    return "placement-" + hashlib.sha256(key.encode("utf-8")).hexdigest()[:48]


def _relayed(target: Target, part: Part) -> Problem:
    """A member's refusal, as this branch's problem of the same status."""
    where = f"Member '{target.id}' at {target.url}/"
    if part.state == "unreachable":
        return BadGateway(f"{where} {part.detail}.")
    kind = RELAYED.get(part.status or 502, BadGateway)
    return kind(f"{where} answered: {part.detail}")
