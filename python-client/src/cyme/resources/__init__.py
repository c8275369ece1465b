"""The resources of the API; each runs on `Client` and `AsyncClient` alike."""

from .apps import App, Apps
from .consumers import Consumers
from .instances import Instance, Instances
from .queues import Queues

__all__ = ["App", "Apps", "Consumers", "Instance", "Instances", "Queues"]
