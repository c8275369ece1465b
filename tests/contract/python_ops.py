"""operationId -> the Python SDK call that performs it: the runner's one table.

Each entry gets the `Sdk` of the step (its client, `Client` or `AsyncClient`,
and handles for apps and instances), the step's `Args` (by the spec's names) and the
per-call options (`extra_headers`, `idempotency_key`). It makes exactly one
SDK call, so that a fault or an error belongs to that operation alone: the
handles are the SDK's own `App` and `Instance` objects for a name, made
without a request, as if the app or instance had been fetched before.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Callable
from typing import Any, Literal

import cyme
import httpx
from cyme import RequestOptions
from cyme.types import CymeModel

from contract import Call, Failure, Outcome, canonical
from matching import ScenarioError

# The runs of every scenario: `Client`, `AsyncClient` on httpx's transport,
# and `AsyncClient` on aiohttp's (`DefaultAioHttpClient`); verdict.py expects each.
Mode = Literal["sync", "async", "aiohttp"]
MODES: tuple[Mode, ...] = ("sync", "async", "aiohttp")


class Args:
    """A step's arguments; every one must be used by the table's entry."""

    def __init__(self, op: str, values: dict[str, Any]) -> None:
        self.op = op
        self._values = values
        self._used: set[str] = set()

    def req(self, name: str) -> Any:
        if name not in self._values:
            raise ScenarioError(f"{self.op} needs the argument {name!r}")
        self._used.add(name)
        return self._values[name]

    def opt(self, name: str) -> Any:
        self._used.add(name)
        return self._values.get(name)

    def nowait(self) -> bool:
        return bool(self.opt("nowait"))

    def check_all_used(self) -> None:
        unused = sorted(set(self._values) - self._used)
        if unused:
            raise ScenarioError(f"the Python table's {self.op} does not take {unused}")


class Sdk:
    """The step's client, and handles bound to it."""

    def __init__(self, client: cyme.Client | cyme.AsyncClient, mode: Mode) -> None:
        self.client: Any = client
        self.mode = mode

    def app(self, name: str) -> Any:
        cls = cyme.App if self.mode == "sync" else cyme.AsyncApp
        handle = cls.model_construct(name=name)
        handle._client = self.client  # what the SDK does with an app it fetched
        return handle

    def instance(self, app: str, name: str) -> Any:
        cls = cyme.Instance if self.mode == "sync" else cyme.AsyncInstance
        handle = cls.model_construct(app=app, name=name)
        handle._client = self.client
        return handle

    def task(self, app: str, task_id: str) -> Any:
        cls = cyme.Task if self.mode == "sync" else cyme.AsyncTask
        handle = cls.model_construct(app=app, id=task_id, state="PENDING")
        handle._client = self.client
        return handle


Entry = Callable[[Sdk, Args, RequestOptions], Any]


def _no_options(op: str, options: RequestOptions) -> None:
    if options:
        raise ScenarioError(f"{op} takes no per-call options in the Python SDK")


def _branches(s: Sdk, a: Args, o: RequestOptions) -> Any:
    _no_options("listBranches", o)
    return s.client.branches


def _cluster(a: Args) -> bool:
    """Whether the step asks for the cluster (`scope: cluster`): `client.cluster`'s call."""
    return bool(a.opt("scope") == "cluster")


def _list_apps(s: Sdk, a: Args, o: RequestOptions) -> Any:
    return s.client.cluster.apps(**o) if _cluster(a) else s.client.apps.all_names(**o)


def _put_app(s: Sdk, a: Args, o: RequestOptions) -> Any:
    fields = {name: a.opt(name) for name in ("broker", "arguments", "extra_config", "backend")}
    if _cluster(a):
        return s.client.cluster.add(a.req("app"), **fields, **o)
    return s.client.apps.add(a.req("app"), **fields, **o)


def _delete_app(s: Sdk, a: Args, o: RequestOptions) -> Any:
    if _cluster(a):
        return s.client.cluster.delete(a.req("app"), **o)
    return s.client.apps.delete(a.req("app"), **o)


def _add_instance(s: Sdk, a: Args, o: RequestOptions, named: bool) -> Any:
    fields = {name: a.opt(name) for name in ("broker", "pool", "arguments", "extra_config")}
    if not named and _cluster(a):
        return s.client.cluster.add_instance(a.req("app"), a.opt("branch"), **fields, **o)
    name = a.req("instance") if named else None
    return s.app(a.req("app")).instances.add(name, **fields, nowait=a.nowait(), **o)


def _autoscale(s: Sdk, a: Args, o: RequestOptions) -> Any:
    instance = s.instance(a.req("app"), a.req("instance"))
    return instance.autoscale(min=a.opt("min"), max=a.opt("max"), nowait=a.nowait(), **o)


def _put_queue(s: Sdk, a: Args, o: RequestOptions) -> Any:
    fields = {name: a.opt(name) for name in ("exchange", "exchange_type", "routing_key", "options")}
    if _cluster(a):
        return s.client.cluster.add_queue(a.req("app"), a.req("queue"), **fields, **o)
    queues = s.app(a.req("app")).queues
    return queues.add(a.req("queue"), **fields, nowait=a.nowait(), **o)


def _delete_queue(s: Sdk, a: Args, o: RequestOptions) -> Any:
    if _cluster(a):
        return s.client.cluster.delete_queue(a.req("app"), a.req("queue"), **o)
    queues = s.app(a.req("app")).queues
    return queues.delete(a.req("queue"), nowait=a.nowait(), **o)


def _consumers(s: Sdk, a: Args) -> Any:
    return s.instance(a.req("app"), a.req("instance")).consumers


def _instances(s: Sdk, a: Args, o: RequestOptions) -> Any:
    if _cluster(a):
        return s.client.cluster.instances(a.req("app"), details=bool(a.opt("details")), **o)
    instances = s.app(a.req("app")).instances
    return instances.all(**o) if a.opt("details") else instances.all_names(**o)


def _queues(s: Sdk, a: Args, o: RequestOptions) -> Any:
    if _cluster(a):
        return s.client.cluster.queues(a.req("app"), details=bool(a.opt("details")), **o)
    queues = s.app(a.req("app")).queues
    return queues.all(**o) if a.opt("details") else queues.all_names(**o)


def _send_task(s: Sdk, a: Args, o: RequestOptions) -> Any:
    names = ("queue", "routing_key", "countdown", "eta", "expires", "priority")
    fields = {name: a.opt(name) for name in names}
    tasks = s.app(a.req("app")).tasks
    return tasks.send(a.req("task"), a.opt("args"), a.opt("kwargs"), **fields, **o)


def _get_task(s: Sdk, a: Args, o: RequestOptions) -> Any:
    tasks = s.app(a.req("app")).tasks
    return tasks.get(a.req("task"), wait=a.opt("wait"), traceback=bool(a.opt("traceback")), **o)


def _revoke_task(s: Sdk, a: Args, o: RequestOptions) -> Any:
    task = s.task(a.req("app"), a.req("task"))
    return task.revoke(terminate=bool(a.opt("terminate")), signal=a.opt("signal"), **o)


def _original(operation_id: str) -> Entry:
    """The original branch's routes to a task, which the SDKs reach with `call`."""

    def entry(s: Sdk, a: Args, o: RequestOptions) -> Any:
        return s.client.call(operation_id, app=a.req("app"), task=a.req("task"), **o)

    return entry


def _lever(name: str) -> Entry:
    """`restart`, `disable` or `enable` of the step's instance."""

    def entry(s: Sdk, a: Args, o: RequestOptions) -> Any:
        instance = s.instance(a.req("app"), a.req("instance"))
        return getattr(instance, name)(nowait=a.nowait(), **o)

    return entry


OPS: dict[str, Entry] = {
    "ping": lambda s, a, o: s.client.ping(**o),
    "getOpenAPI": lambda s, a, o: s.client.spec(**o),
    "getDocs": lambda s, a, o: s.client.docs(**o),
    "getUI": lambda s, a, o: s.client.ui(**o),
    "listBranches": _branches,
    "getBranch": lambda s, a, o: s.client.get_branch(a.req("branch"), **o),
    "listDeclarations": lambda s, a, o: s.client.cluster.declarations(a.opt("since"), **o),
    "applyDeclarations": lambda s, a, o: s.client.cluster.apply(a.req("declarations"), **o),
    "listApps": _list_apps,
    "getApp": lambda s, a, o: s.client.apps.get(a.req("app"), **o),
    "putApp": _put_app,
    "postApp": _put_app,
    "deleteApp": _delete_app,
    "listInstances": _instances,
    "createInstance": lambda s, a, o: _add_instance(s, a, o, named=False),
    "createNamedInstance": lambda s, a, o: _add_instance(s, a, o, named=True),
    "getInstance": lambda s, a, o: s.app(a.req("app")).instances.get(a.req("instance"), **o),
    "deleteInstance": lambda s, a, o: s.app(a.req("app")).instances.delete(
        a.req("instance"), nowait=a.nowait(), **o
    ),
    "getAutoscale": _autoscale,
    "putAutoscale": _autoscale,
    "postAutoscale": _autoscale,
    "getInstanceStats": lambda s, a, o: s.instance(a.req("app"), a.req("instance")).stats(**o),
    "listConsumers": lambda s, a, o: _consumers(s, a).all(**o),
    "putConsumer": lambda s, a, o: _consumers(s, a).add(a.req("queue"), nowait=a.nowait(), **o),
    "postConsumer": lambda s, a, o: _consumers(s, a).add(a.req("queue"), nowait=a.nowait(), **o),
    "deleteConsumer": lambda s, a, o: _consumers(s, a).delete(
        a.req("queue"), nowait=a.nowait(), **o
    ),
    "listQueues": _queues,
    "getQueue": lambda s, a, o: s.app(a.req("app")).queues.get(a.req("queue"), **o),
    "putQueue": _put_queue,
    "postQueue": _put_queue,
    "deleteQueue": _delete_queue,
    "restartInstance": _lever("restart"),
    "disableInstance": _lever("disable"),
    "enableInstance": _lever("enable"),
    "restartApp": lambda s, a, o: s.app(a.req("app")).restart(nowait=a.nowait(), **o),
    "getOperation": lambda s, a, o: s.client.get_operation(a.req("operation"), **o),
    "getMetrics": lambda s, a, o: s.client.metrics(**o),
    "sendTask": _send_task,
    "getTask": _get_task,
    "revokeTask": _revoke_task,
    "getTaskState": _original("getTaskState"),
    "getTaskResult": _original("getTaskResult"),
    "waitTaskResult": _original("waitTaskResult"),
}


def plain(value: Any) -> Any:
    """A result as JSON data: models as the JSON they came from."""
    if isinstance(value, CymeModel):
        return value.to_dict()
    if isinstance(value, list | tuple):
        return [plain(item) for item in value]
    if isinstance(value, dict):
        return {str(key): plain(item) for key, item in value.items()}
    return value


def failure(error: cyme.APIError) -> Failure:
    if isinstance(error, cyme.APIStatusError):
        fields = tuple(str(item.get("field")) for item in error.errors)
        return Failure(type(error).__name__, error.status_code, error.problem_type, fields)
    return Failure(type(error).__name__)


class PythonSdk:
    """Runs calls through `cyme.Client` or `cyme.AsyncClient`, one client per
    distinct client setting of the scenario; in the `aiohttp` mode they all
    send through one `DefaultAioHttpClient`, as a program's clients may."""

    def __init__(self, mode: Mode, url: str, token: str | None) -> None:
        self.mode = mode
        self.url = url
        self.token = token
        self.loop = asyncio.new_event_loop()
        self._clients: dict[tuple[Any, ...], cyme.Client | cyme.AsyncClient] = {}
        self._http: httpx.AsyncClient | None = None

    def client(self, settings: dict[str, Any]) -> cyme.Client | cyme.AsyncClient:
        token = settings.get("token", self.token)
        headers = settings.get("headers", {})
        key = (token, settings.get("max_retries"), settings.get("timeout"), canonical(headers))
        if key not in self._clients:
            # "" and not None: None would fall back to CYME_TOKEN.
            options: dict[str, Any] = {
                "token": token or "",
                "max_retries": settings.get("max_retries"),
                "timeout": settings.get("timeout"),
                "headers": headers,
            }
            if self.mode == "sync":
                self._clients[key] = cyme.Client(self.url, **options)
            else:
                if self.mode == "aiohttp" and self._http is None:
                    self._http = cyme.DefaultAioHttpClient()
                self._clients[key] = cyme.AsyncClient(self.url, http_client=self._http, **options)
        return self._clients[key]

    def call(self, call: Call) -> Outcome:
        if call.op not in OPS:
            raise ScenarioError(f"no SDK call for {call.op} in the Python table")
        options: RequestOptions = {}
        if call.headers:
            options["extra_headers"] = call.headers
        if call.idempotency_key is not None:
            options["idempotency_key"] = call.idempotency_key
        args = Args(call.op, call.args)
        try:
            value = OPS[call.op](Sdk(self.client(call.client), self.mode), args, options)
            if inspect.isawaitable(value):
                value = self.loop.run_until_complete(value)
            if call.wait is not None:
                # The answer to a nowait change, or a task: what it comes to.
                value = value.wait(timeout=call.wait)
                if inspect.isawaitable(value):
                    value = self.loop.run_until_complete(value)
        except cyme.APIError as error:
            args.check_all_used()
            return Outcome(failure=failure(error))
        args.check_all_used()
        return Outcome(result=plain(value))

    def close(self) -> None:
        for client in self._clients.values():
            if isinstance(client, cyme.AsyncClient):
                self.loop.run_until_complete(client.aclose())
            else:
                client.close()
        if self._http is not None:
            self.loop.run_until_complete(self._http.aclose())
        self.loop.close()
