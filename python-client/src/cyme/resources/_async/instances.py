"""Instances: `app.instances`, and the instance model with its stats and autoscale."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Literal, overload

from ... import types
from ._base import AsyncBound, AsyncResource, changed, names
from .consumers import AsyncConsumers

if TYPE_CHECKING:
    from typing_extensions import Unpack

    from ..._base_client import AsyncAPIClient
    from ..._options import RequestOptions
    from .scheduled import AsyncScheduled

Pool = Literal["prefork", "threads", "solo", "eventlet", "gevent"]


class AsyncInstance(types.Instance, AsyncBound):
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
    def consumers(self) -> AsyncConsumers:
        """The queues this instance consumes from."""
        return AsyncConsumers(self.client, self.app, self.name)

    async def stats(self, **options: Unpack[RequestOptions]) -> types.Stats:
        """What the worker reports (`getInstanceStats`): `stats()["pool"]["processes"]`."""
        return await self.client._request(
            "getInstanceStats",
            path=self._path(),
            cast_to=types.Stats.model_validate,
            options=options,
        )

    @overload
    async def autoscale(
        self,
        min: int | None = None,
        max: int | None = None,
        *,
        nowait: Literal[False] = False,
        **options: Unpack[RequestOptions],
    ) -> types.Autoscale: ...
    @overload
    async def autoscale(
        self,
        min: int | None = None,
        max: int | None = None,
        *,
        nowait: Literal[True],
        **options: Unpack[RequestOptions],
    ) -> AsyncScheduled: ...
    async def autoscale(
        self,
        min: int | None = None,
        max: int | None = None,
        *,
        nowait: bool = False,
        **options: Unpack[RequestOptions],
    ) -> types.Autoscale | AsyncScheduled:
        """The pool bounds: read them (`getAutoscale`), or set them (`putAutoscale`).

        `min` processes are kept, the pool grows up to `max`; a bound left
        out keeps its value. `postAutoscale` is the same operation.

        >>> instance.autoscale(min=4, max=10)
        Autoscale(max=10, min=4)
        """
        if min is None and max is None and not nowait:
            return await self.client._request(
                "getAutoscale",
                path=self._path(),
                cast_to=types.Autoscale.model_validate,
                options=options,
            )
        return changed(
            await self.client._request(
                "putAutoscale",
                path=self._path(),
                body={"min": min, "max": max},
                nowait=nowait,
                cast_to=types.Autoscale.model_validate,
                options=options,
            )
        )

    @overload
    async def delete(
        self, *, nowait: Literal[False] = False, **options: Unpack[RequestOptions]
    ) -> AsyncInstance: ...
    @overload
    async def delete(
        self, *, nowait: Literal[True], **options: Unpack[RequestOptions]
    ) -> AsyncScheduled: ...
    async def delete(
        self, *, nowait: bool = False, **options: Unpack[RequestOptions]
    ) -> AsyncInstance | AsyncScheduled:
        """Stop the instance and delete it (`deleteInstance`)."""
        return await self._lever("deleteInstance", nowait, options)

    @overload
    async def restart(
        self, *, nowait: Literal[False] = False, **options: Unpack[RequestOptions]
    ) -> AsyncInstance: ...
    @overload
    async def restart(
        self, *, nowait: Literal[True], **options: Unpack[RequestOptions]
    ) -> AsyncScheduled: ...
    async def restart(
        self, *, nowait: bool = False, **options: Unpack[RequestOptions]
    ) -> AsyncInstance | AsyncScheduled:
        """A warm restart (`restartInstance`): the tasks in flight finish, a new worker
        starts with the same consumers and bounds. The instance as it is then.

        >>> instance.restart().pid != instance.pid
        True
        """
        return await self._lever("restartInstance", nowait, options)

    @overload
    async def disable(
        self, *, nowait: Literal[False] = False, **options: Unpack[RequestOptions]
    ) -> AsyncInstance: ...
    @overload
    async def disable(
        self, *, nowait: Literal[True], **options: Unpack[RequestOptions]
    ) -> AsyncScheduled: ...
    async def disable(
        self, *, nowait: bool = False, **options: Unpack[RequestOptions]
    ) -> AsyncInstance | AsyncScheduled:
        """Stop the worker and keep it stopped, across restarts of the branch, until
        `enable()` (`disableInstance`). The instance, `disabled`."""
        return await self._lever("disableInstance", nowait, options)

    @overload
    async def enable(
        self, *, nowait: Literal[False] = False, **options: Unpack[RequestOptions]
    ) -> AsyncInstance: ...
    @overload
    async def enable(
        self, *, nowait: Literal[True], **options: Unpack[RequestOptions]
    ) -> AsyncScheduled: ...
    async def enable(
        self, *, nowait: bool = False, **options: Unpack[RequestOptions]
    ) -> AsyncInstance | AsyncScheduled:
        """Start the worker of a disabled or failed instance again (`enableInstance`)."""
        return await self._lever("enableInstance", nowait, options)

    async def _lever(
        self, operation: str, nowait: bool, options: RequestOptions
    ) -> AsyncInstance | AsyncScheduled:
        """An operation on this instance that answers the instance."""
        return changed(
            await self.client._request(
                operation, path=self._path(), nowait=nowait, cast_to=self._sibling, options=options
            )
        )


class AsyncInstances(AsyncResource):
    """The instances of one app."""

    def __init__(self, client: AsyncAPIClient, app: str) -> None:
        super().__init__(client)
        self.app = app

    def __repr__(self) -> str:
        return f"<{type(self).__name__}: {self._client.url_for(self.app, 'instances')!r}>"

    def _instance(self, data: Any) -> AsyncInstance:
        return AsyncInstance.bind(self._client, data)

    @overload
    async def add(
        self,
        name: str | None = None,
        *,
        broker: str | None = None,
        pool: Pool | None = None,
        arguments: str | None = None,
        extra_config: Mapping[str, Any] | None = None,
        nowait: Literal[False] = False,
        **options: Unpack[RequestOptions],
    ) -> AsyncInstance: ...
    @overload
    async def add(
        self,
        name: str | None = None,
        *,
        broker: str | None = None,
        pool: Pool | None = None,
        arguments: str | None = None,
        extra_config: Mapping[str, Any] | None = None,
        nowait: Literal[True],
        **options: Unpack[RequestOptions],
    ) -> AsyncScheduled: ...
    async def add(
        self,
        name: str | None = None,
        *,
        broker: str | None = None,
        pool: Pool | None = None,
        arguments: str | None = None,
        extra_config: Mapping[str, Any] | None = None,
        nowait: bool = False,
        **options: Unpack[RequestOptions],
    ) -> AsyncInstance | AsyncScheduled:
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
            await self._client._request(
                operation,
                path=path,
                body=fields,
                nowait=nowait,
                cast_to=self._instance,
                options=options,
            )
        )

    async def get(self, name: str, **options: Unpack[RequestOptions]) -> AsyncInstance:
        """The instance `name` (`getInstance`)."""
        return await self._client._request(
            "getInstance",
            path={"app": self.app, "instance": name},
            cast_to=self._instance,
            options=options,
        )

    async def all_names(self, **options: Unpack[RequestOptions]) -> list[str]:
        """The names of the app's instances (`listInstances`)."""
        return await self._client._request(
            "listInstances", path={"app": self.app}, cast_to=names, options=options
        )

    async def all(self, **options: Unpack[RequestOptions]) -> list[AsyncInstance]:
        """Every instance of the app, with what its worker is doing, in one request
        (`listInstances` with `details`)."""
        return await self._client._request(
            "listInstances",
            path={"app": self.app},
            query={"details": True},
            cast_to=lambda data: [self._instance(item) for item in data],
            options=options,
        )

    @overload
    async def delete(
        self, name: str, *, nowait: Literal[False] = False, **options: Unpack[RequestOptions]
    ) -> AsyncInstance: ...
    @overload
    async def delete(
        self, name: str, *, nowait: Literal[True], **options: Unpack[RequestOptions]
    ) -> AsyncScheduled: ...
    async def delete(
        self, name: str, *, nowait: bool = False, **options: Unpack[RequestOptions]
    ) -> AsyncInstance | AsyncScheduled:
        """Stop and delete the instance `name` (`deleteInstance`)."""
        return changed(
            await self._client._request(
                "deleteInstance",
                path={"app": self.app, "instance": name},
                nowait=nowait,
                cast_to=self._instance,
                options=options,
            )
        )
