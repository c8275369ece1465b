"""The cluster: `client.cluster`, its members (`AsyncBranch`) and where instances go
(`AsyncPlacement`).

Every method here is an operation of this branch asked with `scope=cluster`
(openapi.yaml, "Cluster"): the branch asks its members and answers for all
of them, so a caller needs no client per member. A member's own client, for
what only it can do (an instance's stats on the branch that runs it), comes
from `connect()` on its `Branch` or on a `Placement`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, cast

from ... import types
from ._base import AsyncBound, AsyncResource
from .queues import ExchangeType

if TYPE_CHECKING:
    from typing_extensions import Unpack

    from ..._options import RequestOptions
    from .branch import AsyncBranchOperations
    from .instances import Pool

CLUSTER = {"scope": "cluster"}


def _connect(model: AsyncBound, url: str, settings: Any) -> AsyncBranchOperations:
    # The model's client is a client (`AsyncClient`): its class makes the new one.
    return cast("AsyncBranchOperations", model.client._connect(url, **settings))


class AsyncBranch(types.Branch, AsyncBound):
    """A branch of the cluster, as `client.get_branch(id)` describes it: its `url`,
    `state` (`alive` or `lost`), `last_seen`, `instances` and `load`."""

    def __repr__(self) -> str:
        return f"<{type(self).__name__}: {self.id!r} at {self.url!r}>"

    def connect(self, **settings: Any) -> AsyncBranchOperations:
        """A client of this branch's `url`, with the token, timeout, retries and
        headers of the client that described it, sharing its connections.

        `settings` are `AsyncClient`'s keywords to change (`token=`, `timeout=`...).

        >>> member = cyme.get_branch(cyme.branches[1]).connect()
        >>> member.apps.all_names()          # that member's own apps
        """
        return _connect(self, self.url, settings)


class AsyncPlacement(types.Placement, AsyncBound):
    """An instance created on the cluster (`client.cluster.add_instance`): the
    `instance`, the `branch` that took it and that branch's `url`."""

    def __repr__(self) -> str:
        return f"<{type(self).__name__}: {self.instance.name!r} on {self.branch!r}>"

    def connect(self, **settings: Any) -> AsyncBranchOperations:
        """A client of the branch that took the instance, as `AsyncBranch.connect`.

        >>> member = placement.connect()
        >>> member.apps.get(placement.instance.app).instances.get(placement.instance.name)
        """
        return _connect(self, self.url, settings)


class AsyncCluster(AsyncResource):
    """The cluster this branch is a member of: every member's apps, instances and
    queues in one request, apps and queues declared on all of them, instances
    placed on the least-loaded, and the declarations members share.

    (`options` is a field of a queue, so the per-call settings of these
    methods are named `request` rather than `options`.)
    """

    def __repr__(self) -> str:
        return f"<{type(self).__name__}: {self._client.base_url!r}>"

    async def apps(self, **request: Unpack[RequestOptions]) -> types.ClusterList:
        """The app names of every member (`listApps` with `scope=cluster`).

        >>> cyme.cluster.apps().by_branch()     # {branch id: [app names]}
        """
        return await self._client._request(
            "listApps", query=CLUSTER, cast_to=types.ClusterList.model_validate, options=request
        )

    async def instances(
        self, app: str, details: bool = False, **request: Unpack[RequestOptions]
    ) -> types.ClusterList:
        """The app's instances on every member, their names or with `details`
        the instances (`listInstances` with `scope=cluster`)."""
        return await self._client._request(
            "listInstances",
            path={"app": app},
            query={**CLUSTER, "details": details or None},
            cast_to=types.ClusterList.model_validate,
            options=request,
        )

    async def queues(
        self, app: str, details: bool = False, **request: Unpack[RequestOptions]
    ) -> types.ClusterList:
        """The app's queues on every member, their names or with `details` the
        queues (`listQueues` with `scope=cluster`)."""
        return await self._client._request(
            "listQueues",
            path={"app": app},
            query={**CLUSTER, "details": details or None},
            cast_to=types.ClusterList.model_validate,
            options=request,
        )

    async def add(
        self,
        app: str,
        broker: str | None = None,
        arguments: str | None = None,
        extra_config: Mapping[str, Any] | None = None,
        backend: str | None = None,
        **request: Unpack[RequestOptions],
    ) -> types.ClusterChange:
        """Declare the app on every member, now and joining later (`putApp` with
        `scope=cluster`); how each member took it.

        >>> change = cyme.cluster.add("pycon", broker="amqp://")
        >>> change.unreachable                  # members that get it when they are back
        """
        return await self._client._request(
            "putApp",
            path={"app": app},
            query=CLUSTER,
            body={
                "broker": broker,
                "arguments": arguments,
                "extra_config": extra_config,
                "backend": backend,
            },
            cast_to=types.ClusterChange.model_validate,
            options=request,
        )

    async def delete(self, app: str, **request: Unpack[RequestOptions]) -> types.ClusterChange:
        """Delete the app, its instances and queues on every member (`deleteApp`
        with `scope=cluster`)."""
        return await self._client._request(
            "deleteApp",
            path={"app": app},
            query=CLUSTER,
            cast_to=types.ClusterChange.model_validate,
            options=request,
        )

    async def add_queue(
        self,
        app: str,
        queue: str,
        *,
        exchange: str | None = None,
        exchange_type: ExchangeType | None = None,
        routing_key: str | None = None,
        options: Mapping[str, Any] | None = None,
        **request: Unpack[RequestOptions],
    ) -> types.ClusterChange:
        """Declare the app's queue on every member (`putQueue` with `scope=cluster`)."""
        return await self._client._request(
            "putQueue",
            path={"app": app, "queue": queue},
            query=CLUSTER,
            body={
                "exchange": exchange,
                "exchange_type": exchange_type,
                "routing_key": routing_key,
                "options": options,
            },
            cast_to=types.ClusterChange.model_validate,
            options=request,
        )

    async def delete_queue(
        self, app: str, queue: str, **request: Unpack[RequestOptions]
    ) -> types.ClusterChange:
        """Delete the app's queue on every member (`deleteQueue` with `scope=cluster`)."""
        return await self._client._request(
            "deleteQueue",
            path={"app": app, "queue": queue},
            query=CLUSTER,
            cast_to=types.ClusterChange.model_validate,
            options=request,
        )

    async def add_instance(
        self,
        app: str,
        branch: str | None = None,
        *,
        broker: str | None = None,
        pool: Pool | None = None,
        arguments: str | None = None,
        extra_config: Mapping[str, Any] | None = None,
        **request: Unpack[RequestOptions],
    ) -> AsyncPlacement:
        """Create an instance of the app on the member `branch`, or on the
        least-loaded one (`createInstance` with `scope=cluster`); the placement
        names the member and its URL.

        Retried with the same Idempotency-Key (the SDK's retries, or
        `idempotency_key=`), it places one instance.

        >>> placement = cyme.cluster.add_instance("pycon")
        >>> placement.branch, placement.url, placement.instance.name
        """
        return await self._client._request(
            "createInstance",
            path={"app": app},
            query={**CLUSTER, "branch": branch},
            body={
                "broker": broker,
                "pool": pool,
                "arguments": arguments,
                "extra_config": extra_config,
            },
            cast_to=lambda data: AsyncPlacement.bind(self._client, data),
            options=request,
        )

    async def declarations(
        self, since: float | None = None, **request: Unpack[RequestOptions]
    ) -> types.DeclarationList:
        """The cluster declarations this branch holds, oldest first, only those
        with a version above `since` if given (`listDeclarations`)."""
        return await self._client._request(
            "listDeclarations",
            query={"since": since},
            cast_to=types.DeclarationList.model_validate,
            options=request,
        )

    async def apply(
        self,
        declarations: Sequence[types.Declaration | Mapping[str, Any]],
        **request: Unpack[RequestOptions],
    ) -> types.DeclarationsApplied:
        """Apply declarations as members push them to each other (`applyDeclarations`):
        each newer than what the branch holds is applied and kept.

        Listed declarations have their passwords masked: apply them to
        another cluster only with the passwords put back.
        """
        return await self._client._request(
            "applyDeclarations",
            body={
                "declarations": [
                    item.to_dict() if isinstance(item, types.CymeModel) else dict(item)
                    for item in declarations
                ]
            },
            cast_to=types.DeclarationsApplied.model_validate,
            options=request,
        )
