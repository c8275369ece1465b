"""Apps: `client.apps` (`client.add(...)` and friends delegate here), and the `App` model."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from .. import types
from .._operation import Flow, Operation, RequestOptions, body, names
from ._base import Bound, Resource
from .instances import Instances
from .queues import Queues

if TYPE_CHECKING:
    from typing_extensions import Unpack


class App(types.App, Bound):
    """An app, with its instances and queues: `app.instances.add()`."""

    def __repr__(self) -> str:
        # Only the URL: the broker may carry a user name worth keeping private.
        return f"<App: {self.client.url_for(self.name)!r}>"

    @property
    def instances(self) -> Instances:
        return Instances(self.client, self.name)

    @property
    def queues(self) -> Queues:
        return Queues(self.client, self.name)

    def delete(self, **options: Unpack[RequestOptions]) -> App:
        """Delete this app with all its instances and queues (`deleteApp`)."""
        return self.client._call(self._op_delete(options))

    def _op_delete(self, options: RequestOptions) -> Operation[App]:
        return Apps(self.client)._op_delete(self.name, options)


class Apps(Resource):
    """The apps of a branch."""

    def _bind(self, data: Any) -> App:
        return App.bind(self._client, data)

    def add(
        self,
        name: str,
        broker: str | None = None,
        arguments: str | None = None,
        extra_config: Mapping[str, Any] | None = None,
        **options: Unpack[RequestOptions],
    ) -> App:
        """Create the app, or update the fields given (`putApp`; `postApp` is the same).

        >>> app = cyme.add("pycon", broker="amqp://", arguments="--workdir=/opt/play/proj")
        """
        return self._client._call(self._op_add(name, broker, arguments, extra_config, options))

    def get(self, name: str, **options: Unpack[RequestOptions]) -> App:
        """The app `name` (`getApp`)."""
        return self._client._call(self._op_get(name, options))

    def all_names(self, **options: Unpack[RequestOptions]) -> list[str]:
        """The names of the apps (`listApps`)."""
        return self._client._call(self._op_all_names(options))

    def all(self, **options: Unpack[RequestOptions]) -> list[App]:
        """Every app, fetched one by one (`listApps`, then `getApp` for each)."""
        return self._client._call(self._op_all(options))

    def delete(self, name: str, **options: Unpack[RequestOptions]) -> App:
        """Delete the app with all its instances and queues (`deleteApp`)."""
        return self._client._call(self._op_delete(name, options))

    def _op_add(
        self,
        name: str,
        broker: str | None,
        arguments: str | None,
        extra_config: Mapping[str, Any] | None,
        options: RequestOptions,
    ) -> Operation[App]:
        json = body(broker=broker, arguments=arguments, extra_config=extra_config)
        return Operation("putApp", "PUT", (name,), self._bind, json=json or {}, options=options)

    def _op_delete(self, name: str, options: RequestOptions) -> Operation[App]:
        return Operation("deleteApp", "DELETE", (name,), self._bind, options=options)

    def _op_get(self, name: str, options: RequestOptions) -> Operation[App]:
        return Operation("getApp", "GET", (name,), self._bind, options=options)

    def _op_all_names(self, options: RequestOptions) -> Operation[list[str]]:
        return Operation("listApps", "GET", (), names, options=options)

    def _op_all(self, options: RequestOptions) -> Flow[list[App]]:
        found: list[str] = yield self._op_all_names(options)
        apps = []
        for name in found:
            apps.append((yield self._op_get(name, options)))
        return apps
