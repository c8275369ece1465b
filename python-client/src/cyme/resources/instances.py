"""Instances: `app.instances`, and the `Instance` model with its stats and autoscale."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Literal, overload

from .. import types
from .._operation import Flow, Operation, RequestOptions, body, names, nowait_params
from ._base import Bound, Resource
from .consumers import Consumers

if TYPE_CHECKING:
    from typing_extensions import Unpack

    from .._client import BaseClient
Pool = Literal["prefork", "threads", "solo", "eventlet", "gevent"]


class Instance(types.Instance, Bound):
    """A worker instance: `instance.stats()`, `instance.autoscale(min=4, max=10)`."""

    def __repr__(self) -> str:
        return f"<Instance: {self.name!r}>"

    def _path(self, *rest: str) -> tuple[str, ...]:
        return (self.app, "instances", self.name, *rest)

    @property
    def consumers(self) -> Consumers:
        """The queues this instance consumes from."""
        return Consumers(self.client, self.app, self.name)

    def stats(self, **options: Unpack[RequestOptions]) -> types.Stats:
        """What the worker reports (`getInstanceStats`): `stats()["pool"]["processes"]`."""
        return self.client._call(self._op_stats(options))

    @overload
    def autoscale(
        self,
        min: int | None = None,
        max: int | None = None,
        *,
        nowait: Literal[False] = False,
        **options: Unpack[RequestOptions],
    ) -> types.Autoscale: ...
    @overload
    def autoscale(
        self,
        min: int | None = None,
        max: int | None = None,
        *,
        nowait: Literal[True],
        **options: Unpack[RequestOptions],
    ) -> types.Scheduled: ...
    def autoscale(
        self,
        min: int | None = None,
        max: int | None = None,
        *,
        nowait: bool = False,
        **options: Unpack[RequestOptions],
    ) -> types.Autoscale | types.Scheduled:
        """The pool bounds: read them (`getAutoscale`), or set them (`putAutoscale`).

        `min` processes are kept, the pool grows up to `max`; a bound left
        out keeps its value. `postAutoscale` is the same operation.

        >>> instance.autoscale(min=4, max=10)
        Autoscale(max=10, min=4)
        """
        return self.client._call(self._op_autoscale(min, max, nowait, options))

    def delete(self, **options: Unpack[RequestOptions]) -> Instance:
        """Stop the instance and delete it (`deleteInstance`)."""
        return self.client._call(self._op_delete(options))

    def _op_stats(self, options: RequestOptions) -> Operation[types.Stats]:
        return Operation(
            "getInstanceStats", "GET", self._path("stats"), types.Stats.model_validate,
            options=options,
        )  # fmt: skip

    def _op_autoscale(
        self, min: int | None, max: int | None, nowait: bool, options: RequestOptions
    ) -> Operation[types.Autoscale]:
        parse = types.Autoscale.model_validate
        if min is None and max is None and not nowait:
            return Operation("getAutoscale", "GET", self._path("autoscale"), parse, options=options)
        return Operation(
            "putAutoscale", "PUT", self._path("autoscale"), parse,
            params=nowait_params(nowait), json=body(min=min, max=max) or {}, options=options,
        )  # fmt: skip

    def _op_delete(self, options: RequestOptions) -> Operation[Instance]:
        return Operation(
            "deleteInstance", "DELETE", self._path(), lambda data: Instance.bind(self.client, data),
            options=options,
        )  # fmt: skip


class Instances(Resource):
    """The instances of one app."""

    def __init__(self, client: BaseClient, app: str) -> None:
        super().__init__(client)
        self.app = app

    def __repr__(self) -> str:
        return f"<Instances: {self._client.url_for(self.app, 'instances')!r}>"

    def _bind(self, data: Any) -> Instance:
        return Instance.bind(self._client, data)

    @overload
    def add(
        self,
        name: str | None = None,
        *,
        broker: str | None = None,
        pool: Pool | None = None,
        arguments: str | None = None,
        extra_config: Mapping[str, Any] | None = None,
        nowait: Literal[False] = False,
        **options: Unpack[RequestOptions],
    ) -> Instance: ...
    @overload
    def add(
        self,
        name: str | None = None,
        *,
        broker: str | None = None,
        pool: Pool | None = None,
        arguments: str | None = None,
        extra_config: Mapping[str, Any] | None = None,
        nowait: Literal[True],
        **options: Unpack[RequestOptions],
    ) -> types.Scheduled: ...
    def add(
        self,
        name: str | None = None,
        *,
        broker: str | None = None,
        pool: Pool | None = None,
        arguments: str | None = None,
        extra_config: Mapping[str, Any] | None = None,
        nowait: bool = False,
        **options: Unpack[RequestOptions],
    ) -> Instance | types.Scheduled:
        """Create and start an instance, named by the branch unless `name` is given.

        (`createInstance`, or `createNamedInstance` with a name.) The POST is
        sent with an Idempotency-Key, so a retry never makes two instances.

        >>> instance = app.instances.add()
        """
        op = self._op_add(
            name, broker=broker, pool=pool, arguments=arguments, extra_config=extra_config,
            nowait=nowait, options=options,
        )  # fmt: skip
        return self._client._call(op)

    def get(self, name: str, **options: Unpack[RequestOptions]) -> Instance:
        """The instance `name` (`getInstance`)."""
        return self._client._call(self._op_get(name, options))

    def all_names(self, **options: Unpack[RequestOptions]) -> list[str]:
        """The names of the app's instances (`listInstances`)."""
        return self._client._call(self._op_all_names(options))

    def all(self, **options: Unpack[RequestOptions]) -> list[Instance]:
        """Every instance of the app, fetched one by one."""
        return self._client._call(self._op_all(options))

    def delete(
        self, name: str, *, nowait: bool = False, **options: Unpack[RequestOptions]
    ) -> Instance | types.Scheduled:
        """Stop and delete the instance `name` (`deleteInstance`)."""
        return self._client._call(self._op_delete(name, nowait, options))

    def _op_add(
        self,
        name: str | None,
        *,
        broker: str | None,
        pool: Pool | None,
        arguments: str | None,
        extra_config: Mapping[str, Any] | None,
        nowait: bool,
        options: RequestOptions,
    ) -> Operation[Instance]:
        path: tuple[str, ...] = (self.app, "instances")
        operation_id = "createInstance"
        if name is not None:
            operation_id, path = "createNamedInstance", (*path, name)
        json = body(broker=broker, pool=pool, arguments=arguments, extra_config=extra_config)
        return Operation(
            operation_id, "POST", path, self._bind,
            params=nowait_params(nowait), json=json or {}, options=options,
        )  # fmt: skip

    def _op_delete(self, name: str, nowait: bool, options: RequestOptions) -> Operation[Instance]:
        return Operation(
            "deleteInstance", "DELETE", (self.app, "instances", name), self._bind,
            params=nowait_params(nowait), options=options,
        )  # fmt: skip

    def _op_get(self, name: str, options: RequestOptions) -> Operation[Instance]:
        return Operation(
            "getInstance", "GET", (self.app, "instances", name), self._bind, options=options
        )

    def _op_all_names(self, options: RequestOptions) -> Operation[list[str]]:
        return Operation("listInstances", "GET", (self.app, "instances"), names, options=options)

    def _op_all(self, options: RequestOptions) -> Flow[list[Instance]]:
        found: list[str] = yield self._op_all_names(options)
        instances = []
        for name in found:
            instances.append((yield self._op_get(name, options)))
        return instances
