# Generated from resources/_async/apps.py by tools/generate_sync.py; do not edit.
"""Apps: `client.apps` (`client.add(...)` and friends call it), and the app model."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Literal, overload

from ... import types
from ._base import Bound, Resource, changed, names
from .instances import Instances
from .queues import Queues
from .tasks import Tasks

if TYPE_CHECKING:
    from typing_extensions import Unpack

    from ..._options import RequestOptions
    from .scheduled import Scheduled


class App(types.App, Bound):
    """An app, with its instances and queues: `app.instances.add()`."""

    def __repr__(self) -> str:
        # Only the URL: the broker may carry a user name worth keeping private.
        return f"<{type(self).__name__}: {self.client.url_for(self.name)!r}>"

    @property
    def instances(self) -> Instances:
        """The instances of this app."""
        return Instances(self.client, self.name)

    @property
    def queues(self) -> Queues:
        """The queues declared in this app."""
        return Queues(self.client, self.name)

    @property
    def tasks(self) -> Tasks:
        """The Celery tasks of this app: `app.tasks.send("proj.tasks.add", args=[2, 3])`."""
        return Tasks(self.client, self.name)

    def delete(self, **options: Unpack[RequestOptions]) -> App:
        """Delete this app with all its instances and queues (`deleteApp`)."""
        return self.client._request(
            "deleteApp", path={"app": self.name}, cast_to=self._sibling, options=options
        )

    @overload
    def restart(
        self, *, nowait: Literal[False] = False, **options: Unpack[RequestOptions]
    ) -> types.RollingRestart: ...
    @overload
    def restart(self, *, nowait: Literal[True], **options: Unpack[RequestOptions]) -> Scheduled: ...
    def restart(
        self, *, nowait: bool = False, **options: Unpack[RequestOptions]
    ) -> types.RollingRestart | Scheduled:
        """A rolling restart (`restartApp`): each instance in turn, the next once the
        previous one's new worker answers; what was done to each.

        A roll of many real workers takes a while: ask with `nowait=True`, and
        `wait()` on the answer (its `status()` tells the progress).
        """
        return changed(
            self.client._request(
                "restartApp",
                path={"app": self.name},
                nowait=nowait,
                cast_to=types.RollingRestart.model_validate,
                options=options,
            )
        )


class Apps(Resource):
    """The apps of a branch."""

    def _app(self, data: Any) -> App:
        return App.bind(self._client, data)

    def add(
        self,
        name: str,
        broker: str | None = None,
        arguments: str | None = None,
        extra_config: Mapping[str, Any] | None = None,
        backend: str | None = None,
        **options: Unpack[RequestOptions],
    ) -> App:
        """Create the app, or update the fields given (`putApp`; `postApp` is the same).

        `backend` is the Celery result backend its tasks are followed in.

        >>> app = cyme.add("pycon", broker="amqp://", arguments="--workdir=/opt/play/proj")
        """
        return self._client._request(
            "putApp",
            path={"app": name},
            body={
                "broker": broker,
                "arguments": arguments,
                "extra_config": extra_config,
                "backend": backend,
            },
            cast_to=self._app,
            options=options,
        )

    def get(self, name: str, **options: Unpack[RequestOptions]) -> App:
        """The app `name` (`getApp`)."""
        return self._client._request(
            "getApp", path={"app": name}, cast_to=self._app, options=options
        )

    def all_names(self, **options: Unpack[RequestOptions]) -> list[str]:
        """The names of the apps (`listApps`)."""
        return self._client._request("listApps", cast_to=names, options=options)

    def all(self, **options: Unpack[RequestOptions]) -> list[App]:
        """Every app, fetched one by one (`listApps`, then `getApp` for each)."""
        return [self.get(name, **options) for name in self.all_names(**options)]

    def delete(self, name: str, **options: Unpack[RequestOptions]) -> App:
        """Delete the app with all its instances and queues (`deleteApp`)."""
        return self._client._request(
            "deleteApp", path={"app": name}, cast_to=self._app, options=options
        )
