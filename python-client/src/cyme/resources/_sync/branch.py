# Generated from resources/_async/branch.py by tools/generate_sync.py; do not edit.
"""The operations of the branch itself (`ping`, `branches`, ...) and the client's app shortcuts.

These are methods of the client (`client.ping()`, `client.add("pycon")`), so
they live in a base class of it: the client (`cyme._client`) is this class
with its resources bound. Each is a thin layer over the typed `call()`; the
app shortcuts, those of the talk's session, are `client.apps`'s methods.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ..._calls import SyncCalls

if TYPE_CHECKING:
    from typing_extensions import Unpack

    from ... import types
    from ..._options import RequestOptions
    from .apps import App, Apps
    from .cluster import Branch, Cluster
    from .scheduled import Scheduled


class BranchOperations(SyncCalls):
    """A client's own operations: the branch, and shortcuts to `apps`."""

    apps: Apps
    """The apps of the branch; the client binds them when it is made."""
    cluster: Cluster
    """The cluster the branch is a member of (`scope=cluster`); bound as `apps` is."""

    def ping(self, **options: Unpack[RequestOptions]) -> str:
        """Check that the branch is up; returns `"pong"` (`ping`)."""
        return (self.call("ping", **options)).ok

    def spec(self, **options: Unpack[RequestOptions]) -> str:
        """The branch's openapi.yaml, as text (`getOpenAPI`)."""
        return self.call("getOpenAPI", **options)

    def docs(self, **options: Unpack[RequestOptions]) -> str:
        """The branch's HTML reference page (`getDocs`)."""
        return self.call("getDocs", **options)

    def ui(self, **options: Unpack[RequestOptions]) -> str:
        """The branch's HTML admin page (`getUI`); it needs no token."""
        return self.call("getUI", **options)

    def get_branch(self, id: str, **options: Unpack[RequestOptions]) -> Branch:
        """Describe this branch, or a member of its cluster or a neighbour, by its id
        (`getBranch`); `connect()` on the answer gives a client of that branch."""
        from .cluster import Branch  # noqa: PLC0415 - deferred as in _scheduled

        return self._request(
            "getBranch",
            path={"branch": id},
            cast_to=lambda data: Branch.bind(self, data),
            options=options,
        )

    def get_operation(self, id: str, **options: Unpack[RequestOptions]) -> types.Operation:
        """Where a change asked for with nowait stands, by its `id` (`getOperation`)."""
        return self.call("getOperation", operation=id, **options)

    def metrics(self, **options: Unpack[RequestOptions]) -> str:
        """The branch's metrics, in Prometheus' text format (`getMetrics`)."""
        return self.call("getMetrics", **options)

    def _scheduled(self, data: Any) -> Scheduled:
        # Every 202 answer is bound to this client, so that `wait()` can follow it.
        # Deferred, as the resources are: the models load with the first client.
        from .scheduled import Scheduled  # noqa: PLC0415

        return Scheduled.bind(self, data)

    @property
    def branches(self) -> list[str]:
        """Ids of this branch (first), of the members of its cluster and of its
        neighbours (`listBranches`)."""
        return self.call("listBranches")

    def add(
        self,
        name: str,
        broker: str | None = None,
        arguments: str | None = None,
        extra_config: Mapping[str, Any] | None = None,
        backend: str | None = None,
        **options: Unpack[RequestOptions],
    ) -> App:
        """Create or update the app `name` (`putApp`); the same as `client.apps.add`."""
        return self.apps.add(name, broker, arguments, extra_config, backend, **options)

    def get(self, name: str, **options: Unpack[RequestOptions]) -> App:
        """The app `name` (`getApp`)."""
        return self.apps.get(name, **options)

    def all(self, **options: Unpack[RequestOptions]) -> list[App]:
        """Every app of the branch, fetched one by one."""
        return self.apps.all(**options)

    def all_names(self, **options: Unpack[RequestOptions]) -> list[str]:
        """The names of the branch's apps (`listApps`)."""
        return self.apps.all_names(**options)

    def delete(self, name: str, **options: Unpack[RequestOptions]) -> App:
        """Delete the app `name` with its instances and queues (`deleteApp`)."""
        return self.apps.delete(name, **options)
