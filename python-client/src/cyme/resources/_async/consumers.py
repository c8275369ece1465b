"""Consumers: `instance.consumers`, the queues an instance consumes from."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ... import types
from ._base import AsyncResource, changed

if TYPE_CHECKING:
    from typing_extensions import Unpack

    from ..._base_client import AsyncAPIClient
    from ..._options import RequestOptions
    from .scheduled import AsyncScheduled


def _consumers(data: Any) -> list[types.Consumer]:
    return [types.Consumer.model_validate(item) for item in data]


class AsyncConsumers(AsyncResource):
    """The consumers of one instance; entries are shaped like Celery's `active_queues`."""

    def __init__(self, client: AsyncAPIClient, app: str, instance: str) -> None:
        super().__init__(client)
        self.app = app
        self.instance = instance

    def __repr__(self) -> str:
        url = self._client.url_for(self.app, "instances", self.instance, "queues")
        return f"<{type(self).__name__}: {url!r}>"

    def _path(self, queue: str) -> dict[str, str]:
        return {"app": self.app, "instance": self.instance, "queue": queue}

    async def add(
        self, queue: str, *, nowait: bool = False, **options: Unpack[RequestOptions]
    ) -> types.Consumer | AsyncScheduled:
        """Start consuming from a queue declared in the app (`putConsumer`; `postConsumer`)."""
        return changed(
            await self._client._request(
                "putConsumer",
                path=self._path(queue),
                nowait=nowait,
                cast_to=types.Consumer.model_validate,
                options=options,
            )
        )

    async def delete(
        self, queue: str, *, nowait: bool = False, **options: Unpack[RequestOptions]
    ) -> types.Consumer | AsyncScheduled:
        """Stop consuming from the queue (`deleteConsumer`); `dq.<instance>` cannot be."""
        return changed(
            await self._client._request(
                "deleteConsumer",
                path=self._path(queue),
                nowait=nowait,
                cast_to=types.Consumer.model_validate,
                options=options,
            )
        )

    async def all(self, **options: Unpack[RequestOptions]) -> list[types.Consumer]:
        """The queues consumed, the private `dq.<instance>` among them (`listConsumers`)."""
        return await self._client._request(
            "listConsumers",
            path={"app": self.app, "instance": self.instance},
            cast_to=_consumers,
            options=options,
        )
