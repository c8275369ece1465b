"""The operations of the branch itself (`ping`, `branches`, ...) and the client's app shortcuts.

These are methods of the client (`client.ping()`, `client.add("pycon")`), so
they live in a base class of it: the client (`cyme._client`) is this class
with its resources bound. Each is a thin layer over the typed `call()`; the
app shortcuts, those of the talk's session, are `client.apps`'s methods.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ..._calls import AsyncCalls

if TYPE_CHECKING:
    from typing_extensions import Unpack

    from ... import types
    from ..._options import RequestOptions
    from .apps import AsyncApp, AsyncApps
    from .cluster import AsyncBranch, AsyncCluster
    from .scheduled import AsyncScheduled


class AsyncBranchOperations(AsyncCalls):
    """A client's own operations: the branch, and shortcuts to `apps`."""

    apps: AsyncApps
    """The apps of the branch; the client binds them when it is made."""
    cluster: AsyncCluster
    """The cluster the branch is a member of (`scope=cluster`); bound as `apps` is."""

    async def ping(self, **options: Unpack[RequestOptions]) -> str:
        """Check that the branch is up; returns `"pong"` (`ping`)."""
        return (await self.call("ping", **options)).ok

    async def spec(self, **options: Unpack[RequestOptions]) -> str:
        """The branch's openapi.yaml, as text (`getOpenAPI`)."""
        return await self.call("getOpenAPI", **options)

    async def docs(self, **options: Unpack[RequestOptions]) -> str:
        """The branch's HTML reference page (`getDocs`)."""
        return await self.call("getDocs", **options)

    async def ui(self, **options: Unpack[RequestOptions]) -> str:
        """The branch's HTML admin page (`getUI`); it needs no token."""
        return await self.call("getUI", **options)

    async def get_branch(self, id: str, **options: Unpack[RequestOptions]) -> AsyncBranch:
        """Describe this branch, or a member of its cluster or a neighbour, by its id
        (`getBranch`); `connect()` on the answer gives a client of that branch."""
        from .cluster import AsyncBranch  # noqa: PLC0415 - deferred as in _scheduled

        return await self._request(
            "getBranch",
            path={"branch": id},
            cast_to=lambda data: AsyncBranch.bind(self, data),
            options=options,
        )

    async def get_operation(self, id: str, **options: Unpack[RequestOptions]) -> types.Operation:
        """Where a change asked for with nowait stands, by its `id` (`getOperation`)."""
        return await self.call("getOperation", operation=id, **options)

    async def metrics(self, **options: Unpack[RequestOptions]) -> str:
        """The branch's metrics, in Prometheus' text format (`getMetrics`)."""
        return await self.call("getMetrics", **options)

    def _scheduled(self, data: Any) -> AsyncScheduled:
        # Every 202 answer is bound to this client, so that `wait()` can follow it.
        # Deferred, as the resources are: the models load with the first client.
        from .scheduled import AsyncScheduled  # noqa: PLC0415

        return AsyncScheduled.bind(self, data)

    @property
    async def branches(self) -> list[str]:
        """Ids of this branch (first), of the members of its cluster and of its
        neighbours (`listBranches`)."""
        return await self.call("listBranches")

    async def add(
        self,
        name: str,
        broker: str | None = None,
        arguments: str | None = None,
        extra_config: Mapping[str, Any] | None = None,
        backend: str | None = None,
        **options: Unpack[RequestOptions],
    ) -> AsyncApp:
        """Create or update the app `name` (`putApp`); the same as `client.apps.add`."""
        return await self.apps.add(name, broker, arguments, extra_config, backend, **options)

    async def get(self, name: str, **options: Unpack[RequestOptions]) -> AsyncApp:
        """The app `name` (`getApp`)."""
        return await self.apps.get(name, **options)

    async def all(self, **options: Unpack[RequestOptions]) -> list[AsyncApp]:
        """Every app of the branch, fetched one by one."""
        return await self.apps.all(**options)

    async def all_names(self, **options: Unpack[RequestOptions]) -> list[str]:
        """The names of the branch's apps (`listApps`)."""
        return await self.apps.all_names(**options)

    async def delete(self, name: str, **options: Unpack[RequestOptions]) -> AsyncApp:
        """Delete the app `name` with its instances and queues (`deleteApp`)."""
        return await self.apps.delete(name, **options)
