"""cyme: the Python SDK of the Cyme branch API.

>>> from cyme import Client
>>> cyme = Client("http://:8000")
>>> app = cyme.add("pycon", broker="amqp://", arguments="--workdir=/opt/play/proj")
>>> instance = app.instances.add()
>>> instance.autoscale(min=4, max=10)

The layers, each importing only those below it (`make lint` checks it):
`_cli` on top, then the clients (`_client`), the resources (`resources`),
the typed `call()` (`_calls`), the base client (`_base_client`), the
recording of answers (`_response`) beside httpx on aiohttp (`_aiohttp`), the
httpx clients with the SDK's defaults (`_http`), and at the bottom the models
(`types`), the route table (`_routes`) and the plain modules (exceptions,
options, constants).
"""

import typing as _typing

from ._base_client import BaseClient
from ._client import AsyncClient, Client
from ._constants import (
    DEFAULT_CONNECTION_LIMITS,
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
    PermissionDeniedError,
    RateLimitError,
    TaskError,
    TaskFailedError,
    TaskRevokedError,
    UnprocessableEntityError,
)
from ._http import DefaultAsyncHttpxClient, DefaultHttpxClient
from ._options import RequestOptions
from ._response import RawResponse
from ._routes import ROUTES as OPERATIONS
from ._version import __version__

if _typing.TYPE_CHECKING:
    from . import types
    from ._aiohttp import DefaultAioHttpClient
    from .resources import (
        App,
        Apps,
        AsyncApp,
        AsyncApps,
        AsyncBranch,
        AsyncCluster,
        AsyncConsumers,
        AsyncInstance,
        AsyncInstances,
        AsyncPlacement,
        AsyncQueues,
        AsyncScheduled,
        AsyncTask,
        AsyncTasks,
        Branch,
        Cluster,
        Consumers,
        Instance,
        Instances,
        Placement,
        Queues,
        Scheduled,
        Task,
        Tasks,
    )
    from .types import (
        Autoscale,
        ClusterChange,
        ClusterList,
        Consumer,
        Declaration,
        DeclarationList,
        DeclarationsApplied,
        Operation,
        Problem,
        Queue,
        RollingRestart,
        Stats,
        TaskRevoked,
    )


# The models (pydantic classes) load on first use: with the first client made,
# or when one of the names above is looked up, rather than with `import cyme`;
# so does aiohttp, with `DefaultAioHttpClient` (the `aiohttp` extra).
def __getattr__(name: str) -> object:
    if name not in __all__:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    # import_module, not `from . import`: that would look the name up here again.
    from importlib import import_module  # noqa: PLC0415

    if name == "DefaultAioHttpClient":
        try:
            aiohttp_module = import_module("._aiohttp", __name__)
        except ModuleNotFoundError as exc:
            raise ModuleNotFoundError(
                f"cyme.DefaultAioHttpClient needs the aiohttp extra ({exc.name} is missing):"
                " pip install 'cyme[aiohttp]'",
                name=exc.name,
            ) from exc
        globals()[name] = aiohttp_module.DefaultAioHttpClient
        return aiohttp_module.DefaultAioHttpClient
    types = import_module(".types", __name__)
    if name == "types":
        return types
    resources = import_module(".resources", __name__)
    # `types.App` is the plain model; `cyme.App` is the resource's bound one.
    value = getattr(resources if name in resources.__all__ else types, name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)


__all__ = [
    "DEFAULT_CONNECTION_LIMITS",
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
    "AsyncBranch",
    "AsyncClient",
    "AsyncCluster",
    "AsyncConsumers",
    "AsyncInstance",
    "AsyncInstances",
    "AsyncPlacement",
    "AsyncQueues",
    "AsyncScheduled",
    "AsyncTask",
    "AsyncTasks",
    "AuthenticationError",
    "Autoscale",
    "BadRequestError",
    "BaseClient",
    "Branch",
    "Client",
    "Cluster",
    "ClusterChange",
    "ClusterList",
    "ConflictError",
    "Consumer",
    "Consumers",
    "Declaration",
    "DeclarationList",
    "DeclarationsApplied",
    "DefaultAioHttpClient",
    "DefaultAsyncHttpxClient",
    "DefaultHttpxClient",
    "Instance",
    "Instances",
    "InternalServerError",
    "NotFoundError",
    "Operation",
    "PermissionDeniedError",
    "Placement",
    "Problem",
    "Queue",
    "Queues",
    "RateLimitError",
    "RawResponse",
    "RequestOptions",
    "RollingRestart",
    "Scheduled",
    "Stats",
    "Task",
    "TaskError",
    "TaskFailedError",
    "TaskRevoked",
    "TaskRevokedError",
    "Tasks",
    "UnprocessableEntityError",
    "__version__",
    "types",
]
