"""cyme: the Python SDK of the Cyme branch API.

>>> from cyme import Client
>>> cyme = Client("http://:8000")
>>> app = cyme.add("pycon", broker="amqp://", arguments="--workdir=/opt/play/proj")
>>> instance = app.instances.add()
>>> instance.autoscale(min=4, max=10)
"""

from . import types
from ._client import AsyncClient, BaseClient, Client
from ._constants import (
    DEFAULT_MAX_RETRIES,
    DEFAULT_TIMEOUT,
    INITIAL_RETRY_DELAY,
    MAX_RETRY_AFTER,
    MAX_RETRY_DELAY,
    RETRY_JITTER,
    RETRY_STATUSES,
)
from ._exceptions import (
    APIConnectionError,
    APIError,
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    ConflictError,
    InternalServerError,
    NotFoundError,
    RateLimitError,
    UnprocessableEntityError,
)
from ._operation import RequestOptions
from ._operations import OPERATIONS
from ._version import __version__
from .resources import (
    App,
    Apps,
    AsyncApp,
    AsyncApps,
    AsyncConsumers,
    AsyncInstance,
    AsyncInstances,
    AsyncQueues,
    Consumers,
    Instance,
    Instances,
    Queues,
)
from .types import Autoscale, Branch, Consumer, Problem, Queue, Scheduled, Stats

__all__ = [
    "DEFAULT_MAX_RETRIES",
    "DEFAULT_TIMEOUT",
    "INITIAL_RETRY_DELAY",
    "MAX_RETRY_AFTER",
    "MAX_RETRY_DELAY",
    "OPERATIONS",
    "RETRY_JITTER",
    "RETRY_STATUSES",
    "APIConnectionError",
    "APIError",
    "APIStatusError",
    "APITimeoutError",
    "App",
    "Apps",
    "AsyncApp",
    "AsyncApps",
    "AsyncClient",
    "AsyncConsumers",
    "AsyncInstance",
    "AsyncInstances",
    "AsyncQueues",
    "AuthenticationError",
    "Autoscale",
    "BadRequestError",
    "BaseClient",
    "Branch",
    "Client",
    "ConflictError",
    "Consumer",
    "Consumers",
    "Instance",
    "Instances",
    "InternalServerError",
    "NotFoundError",
    "Problem",
    "Queue",
    "Queues",
    "RateLimitError",
    "RequestOptions",
    "Scheduled",
    "Stats",
    "UnprocessableEntityError",
    "__version__",
    "types",
]
