"""The resources of the API: collections (`Apps`, `Instances`, ...) and bound models.

`App`, `Instance`, `Scheduled`, `Task`, `Branch` and `Placement` are models
bound to the `Client` that fetched them; their `Async` twins to an
`AsyncClient`. Each client has its own
classes (`_sync/` and `_async/`), made from one source: see
`_async/__init__.py`.

The modules load on first use, with the first client: they hold the pydantic
models, which `import cyme` does not load.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ._async.apps import AsyncApp, AsyncApps
    from ._async.branch import AsyncBranchOperations
    from ._async.cluster import AsyncBranch, AsyncCluster, AsyncPlacement
    from ._async.consumers import AsyncConsumers
    from ._async.instances import AsyncInstance, AsyncInstances
    from ._async.queues import AsyncQueues
    from ._async.scheduled import AsyncScheduled
    from ._async.tasks import AsyncTask, AsyncTasks
    from ._sync.apps import App, Apps
    from ._sync.branch import BranchOperations
    from ._sync.cluster import Branch, Cluster, Placement
    from ._sync.consumers import Consumers
    from ._sync.instances import Instance, Instances
    from ._sync.queues import Queues
    from ._sync.scheduled import Scheduled
    from ._sync.tasks import Task, Tasks

# Each class's module, in `_sync/` and, with the `Async` prefix, in `_async/`.
_MODULES = {
    "App": "apps",
    "Apps": "apps",
    "Branch": "cluster",
    "BranchOperations": "branch",
    "Cluster": "cluster",
    "Consumers": "consumers",
    "Instance": "instances",
    "Instances": "instances",
    "Placement": "cluster",
    "Queues": "queues",
    "Scheduled": "scheduled",
    "Task": "tasks",
    "Tasks": "tasks",
}

__all__ = [
    "App",
    "Apps",
    "AsyncApp",
    "AsyncApps",
    "AsyncBranch",
    "AsyncBranchOperations",
    "AsyncCluster",
    "AsyncConsumers",
    "AsyncInstance",
    "AsyncInstances",
    "AsyncPlacement",
    "AsyncQueues",
    "AsyncScheduled",
    "AsyncTask",
    "AsyncTasks",
    "Branch",
    "BranchOperations",
    "Cluster",
    "Consumers",
    "Instance",
    "Instances",
    "Placement",
    "Queues",
    "Scheduled",
    "Task",
    "Tasks",
]


def __getattr__(name: str) -> object:
    sync_name = name.removeprefix("Async")
    if name not in __all__:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    side = "_async" if name != sync_name else "_sync"
    value = getattr(import_module(f".{side}.{_MODULES[sync_name]}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
