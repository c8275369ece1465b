"""The resources of the API: the sync ones, and their generated async twins (`_async.py`)."""

from ._async import AsyncApp, AsyncApps, AsyncConsumers, AsyncInstance, AsyncInstances, AsyncQueues
from .apps import App, Apps
from .consumers import Consumers
from .instances import Instance, Instances
from .queues import Queues

__all__ = [
    "App",
    "Apps",
    "AsyncApp",
    "AsyncApps",
    "AsyncConsumers",
    "AsyncInstance",
    "AsyncInstances",
    "AsyncQueues",
    "Consumers",
    "Instance",
    "Instances",
    "Queues",
]
