"""cyme: the Python SDK of the Cyme branch API.

>>> from cyme import Client
>>> cyme = Client("http://:8000")
>>> app = cyme.add("pycon", broker="amqp://", arguments="--workdir=/opt/play/proj")
>>> instance = app.instances.add()
>>> instance.autoscale(min=4, max=10)
"""

import typing as _typing

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

if _typing.TYPE_CHECKING:
    from . import types
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

# The models (pydantic classes) load on first use: with the first client made,
# or when one of these names is looked up, rather than with `import cyme`.
_LAZY = {
    **dict.fromkeys(
        ["Autoscale", "Branch", "Consumer", "Problem", "Queue", "Scheduled", "Stats"], "types"
    ),
    **dict.fromkeys(
        [
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
        ],
        "resources",
    ),
}


def __getattr__(name: str) -> object:
    import importlib  # noqa: PLC0415

    if name == "types":
        return importlib.import_module(".types", __name__)
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)


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
