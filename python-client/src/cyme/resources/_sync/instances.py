# Generated from resources/_async/instances.py by tools/generate_sync.py; do not edit.
"""Instances: `app.instances`, and the instance model with its stats and autoscale."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Literal, overload

from ... import types
from ._base import Bound, Resource, changed, names
from .consumers import Consumers

if TYPE_CHECKING:
    from typing_extensions import Unpack

    from ..._base_client import SyncAPIClient
    from ..._options import RequestOptions
    from .scheduled import Scheduled

Pool = Literal["prefork", "threads", "solo", "eventlet", "gevent"]


class Instance(types.Instance, Bound):
    """A worker instance: `instance.stats()`, `instance.autoscale(min=4, max=10)`.

    Besides its settings it shows what its worker was doing when it was
    fetched: `state` (`running`, `stopped`, `failed`...), `pid`,
    `processes`, `restarts`, `last_exit` and `since`; `restart()`,
    `disable()` and `enable()` steer it.
    """

    def __repr__(self) -> str:
        return f"<{type(self).__name__}: {self.name!r}>"

    def _path(self) -> dict[str, str]:
        return {"app": self.app, "instance": self.name}

    @property
    def consumers(self) -> Consumers:
        """The queues this instance consumes from."""
        return Consumers(self.client, self.app, self.name)

    def stats(self, **options: Unpack[RequestOptions]) -> types.Stats:
        """What the worker reports (`getInstanceStats`): `stats()["pool"]["processes"]`."""
        return self.client._request(
            "getInstanceStats",
            path=self._path(),
            cast_to=types.Stats.model_validate,
            options=options,
        )

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
    ) -> Scheduled: ...
    def autoscale(
        self,
        min: int | None = None,
        max: int | None = None,
        *,
        nowait: bool = False,
        **options: Unpack[RequestOptions],
    ) -> types.Autoscale | Scheduled:
        """The pool bounds: read them (`getAutoscale`), or set them (`putAutoscale`).

        `min` processes are kept, the pool grows up to `max`; a bound left
        out keeps its value. `postAutoscale` is the same operation.

        >>> instance.autoscale(min=4, max=10)
        Autoscale(max=10, min=4)
        """
        if min is None and max is None and not nowait:
            return self.client._request(
                "getAutoscale",
                path=self._path(),
                cast_to=types.Autoscale.model_validate,
                options=options,
            )
        return changed(
            self.client._request(
                "putAutoscale",
                path=self._path(),
                body={"min": min, "max": max},
                nowait=nowait,
                cast_to=types.Autoscale.model_validate,
                options=options,
            )
        )

    @overload
    def delete(
        self, *, nowait: Literal[False] = False, **options: Unpack[RequestOptions]
    ) -> Instance: ...
    @overload
    def delete(self, *, nowait: Literal[True], **options: Unpack[RequestOptions]) -> Scheduled: ...
    def delete(
        self, *, nowait: bool = False, **options: Unpack[RequestOptions]
    ) -> Instance | Scheduled:
        """Stop the instance and delete it (`deleteInstance`)."""
        return self._lever("deleteInstance", nowait, options)

    @overload
    def restart(
        self, *, nowait: Literal[False] = False, **options: Unpack[RequestOptions]
    ) -> Instance: ...
    @overload
    def restart(self, *, nowait: Literal[True], **options: Unpack[RequestOptions]) -> Scheduled: ...
    def restart(
        self, *, nowait: bool = False, **options: Unpack[RequestOptions]
    ) -> Instance | Scheduled:
        """A warm restart (`restartInstance`): the tasks in flight finish, a new worker
        starts with the same consumers and bounds. The instance as it is then.

        >>> instance.restart().pid != instance.pid
        True
        """
        return self._lever("restartInstance", nowait, options)

    @overload
    def disable(
        self, *, nowait: Literal[False] = False, **options: Unpack[RequestOptions]
    ) -> Instance: ...
    @overload
    def disable(self, *, nowait: Literal[True], **options: Unpack[RequestOptions]) -> Scheduled: ...
    def disable(
        self, *, nowait: bool = False, **options: Unpack[RequestOptions]
    ) -> Instance | Scheduled:
        """Stop the worker and keep it stopped, across restarts of the branch, until
        `enable()` (`disableInstance`). The instance, `disabled`."""
        return self._lever("disableInstance", nowait, options)

    @overload
    def enable(
        self, *, nowait: Literal[False] = False, **options: Unpack[RequestOptions]
    ) -> Instance: ...
    @overload
    def enable(self, *, nowait: Literal[True], **options: Unpack[RequestOptions]) -> Scheduled: ...
    def enable(
        self, *, nowait: bool = False, **options: Unpack[RequestOptions]
    ) -> Instance | Scheduled:
        """Start the worker of a disabled or failed instance again (`enableInstance`)."""
        return self._lever("enableInstance", nowait, options)

    def _lever(self, operation: str, nowait: bool, options: RequestOptions) -> Instance | Scheduled:
        """An operation on this instance that answers the instance."""
        return changed(
            self.client._request(
                operation, path=self._path(), nowait=nowait, cast_to=self._sibling, options=options
            )
        )


class Instances(Resource):
    """The instances of one app."""

    def __init__(self, client: SyncAPIClient, app: str) -> None:
        super().__init__(client)
        self.app = app

    def __repr__(self) -> str:
        return f"<{type(self).__name__}: {self._client.url_for(self.app, 'instances')!r}>"

    def _instance(self, data: Any) -> Instance:
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
    ) -> Scheduled: ...
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
    ) -> Instance | Scheduled:
        """Create and start an instance, named by the branch unless `name` is given.

        (`createInstance`, or `createNamedInstance` with a name.) The POST is
        sent with an Idempotency-Key, so a retry never makes two instances.

        >>> instance = app.instances.add()
        """
        operation, path = "createInstance", {"app": self.app}
        if name is not None:
            operation, path = "createNamedInstance", {"app": self.app, "instance": name}
        fields = {
            "broker": broker,
            "pool": pool,
            "arguments": arguments,
            "extra_config": extra_config,
        }
        return changed(
            self._client._request(
                operation,
                path=path,
                body=fields,
                nowait=nowait,
                cast_to=self._instance,
                options=options,
            )
        )

    def get(self, name: str, **options: Unpack[RequestOptions]) -> Instance:
        """The instance `name` (`getInstance`)."""
        return self._client._request(
            "getInstance",
            path={"app": self.app, "instance": name},
            cast_to=self._instance,
            options=options,
        )

    def all_names(self, **options: Unpack[RequestOptions]) -> list[str]:
        """The names of the app's instances (`listInstances`)."""
        return self._client._request(
            "listInstances", path={"app": self.app}, cast_to=names, options=options
        )

    def all(self, **options: Unpack[RequestOptions]) -> list[Instance]:
        """Every instance of the app, with what its worker is doing, in one request
        (`listInstances` with `details`)."""
        return self._client._request(
            "listInstances",
            path={"app": self.app},
            query={"details": True},
            cast_to=lambda data: [self._instance(item) for item in data],
            options=options,
        )

    @overload
    def delete(
        self, name: str, *, nowait: Literal[False] = False, **options: Unpack[RequestOptions]
    ) -> Instance: ...
    @overload
    def delete(
        self, name: str, *, nowait: Literal[True], **options: Unpack[RequestOptions]
    ) -> Scheduled: ...
    def delete(
        self, name: str, *, nowait: bool = False, **options: Unpack[RequestOptions]
    ) -> Instance | Scheduled:
        """Stop and delete the instance `name` (`deleteInstance`)."""
        return changed(
            self._client._request(
                "deleteInstance",
                path={"app": self.app, "instance": name},
                nowait=nowait,
                cast_to=self._instance,
                options=options,
            )
        )
