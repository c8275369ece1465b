"""The clients: `Client` and `AsyncClient`, a branch's operations with its resources bound.

    cyme.Client        <- resources._sync.BranchOperations  <- _calls.SyncCalls
                          <- _base_client.SyncAPIClient
    cyme.AsyncClient   <- resources._async.AsyncBranchOperations  <- _calls.AsyncCalls
                          <- _base_client.AsyncAPIClient

The base client sends operations of the route table; `call()` types every
operation; the branch's operations (`ping`, `add`, ...) and the resources
(`client.apps`) are written on top. Each client binds its resources here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .resources._async.branch import AsyncBranchOperations
from .resources._sync.branch import BranchOperations

if TYPE_CHECKING:
    from .resources._async.apps import AsyncApps
    from .resources._async.cluster import AsyncCluster
    from .resources._sync.apps import Apps
    from .resources._sync.cluster import Cluster

__all__ = ["AsyncClient", "Client"]


class Client(BranchOperations):
    """A client of one branch, keeping its connection alive between calls.

    >>> cyme = Client("http://:8000")
    >>> app = cyme.add("pycon", broker="amqp://")
    >>> app.instances.add().autoscale(min=4, max=10)
    """

    apps: Apps
    cluster: Cluster

    def _bind_resources(self) -> None:
        # Deferred: the resources, and with them the models and pydantic, load
        # with the first client rather than with `import cyme`.
        from .resources._sync.apps import Apps  # noqa: PLC0415
        from .resources._sync.cluster import Cluster  # noqa: PLC0415

        self.apps = Apps(self)
        self.cluster = Cluster(self)


class AsyncClient(AsyncBranchOperations):
    """The asyncio client: the same operations as `Client`, to be awaited.

    Its models are bound to it (`AsyncApp`, `AsyncInstance`), so that their
    own operations are awaited too.

    >>> cyme = AsyncClient("http://:8000")
    >>> app = await cyme.add("pycon", broker="amqp://")
    >>> instance = await app.instances.add()
    """

    apps: AsyncApps
    cluster: AsyncCluster

    def _bind_resources(self) -> None:
        from .resources._async.apps import AsyncApps  # noqa: PLC0415 - as Client's
        from .resources._async.cluster import AsyncCluster  # noqa: PLC0415

        self.apps = AsyncApps(self)
        self.cluster = AsyncCluster(self)
