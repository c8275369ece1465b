# Generated from resources/_async/queues.py by tools/generate_sync.py; do not edit.
"""Queues: `app.queues`, the queue declarations of an app."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Literal, overload

from ... import types
from ._base import Resource, changed, names

if TYPE_CHECKING:
    from typing_extensions import Unpack

    from ..._base_client import SyncAPIClient
    from ..._options import RequestOptions
    from .scheduled import Scheduled

ExchangeType = Literal["direct", "topic", "fanout", "headers"]


class Queues(Resource):
    """The queues declared in one app.

    (`options` is a field of a queue, so the per-call settings of these
    methods are named `request` rather than `options`.)
    """

    def __init__(self, client: SyncAPIClient, app: str) -> None:
        super().__init__(client)
        self.app = app

    def __repr__(self) -> str:
        return f"<{type(self).__name__}: {self._client.url_for(self.app, 'queues')!r}>"

    @overload
    def add(
        self,
        name: str,
        *,
        exchange: str | None = None,
        exchange_type: ExchangeType | None = None,
        routing_key: str | None = None,
        options: Mapping[str, Any] | None = None,
        nowait: Literal[False] = False,
        **request: Unpack[RequestOptions],
    ) -> types.Queue: ...
    @overload
    def add(
        self,
        name: str,
        *,
        exchange: str | None = None,
        exchange_type: ExchangeType | None = None,
        routing_key: str | None = None,
        options: Mapping[str, Any] | None = None,
        nowait: Literal[True],
        **request: Unpack[RequestOptions],
    ) -> Scheduled: ...
    def add(
        self,
        name: str,
        *,
        exchange: str | None = None,
        exchange_type: ExchangeType | None = None,
        routing_key: str | None = None,
        options: Mapping[str, Any] | None = None,
        nowait: bool = False,
        **request: Unpack[RequestOptions],
    ) -> types.Queue | Scheduled:
        """Declare the queue, or update the fields given (`putQueue`; `postQueue` is the same).

        `exchange` and `routing_key` default to the queue's name,
        `exchange_type` to `direct`; `options` go to kombu.

        >>> app.queues.add("celery", exchange="celery", routing_key="celery")
        """
        fields = {
            "exchange": exchange,
            "exchange_type": exchange_type,
            "routing_key": routing_key,
            "options": options,
        }
        return changed(
            self._client._request(
                "putQueue",
                path={"app": self.app, "queue": name},
                body=fields,
                nowait=nowait,
                cast_to=types.Queue.model_validate,
                options=request,
            )
        )

    def get(self, name: str, **request: Unpack[RequestOptions]) -> types.Queue:
        """The queue `name`, with its depth on the app's broker: `messages` and
        `consumers`, or why they cannot be read (`depth_error`) (`getQueue`)."""
        return self._client._request(
            "getQueue",
            path={"app": self.app, "queue": name},
            cast_to=types.Queue.model_validate,
            options=request,
        )

    def all_names(self, **request: Unpack[RequestOptions]) -> list[str]:
        """The names of the app's queues (`listQueues`)."""
        return self._client._request(
            "listQueues", path={"app": self.app}, cast_to=names, options=request
        )

    def all(self, **request: Unpack[RequestOptions]) -> list[types.Queue]:
        """Every queue of the app, with its depth, in one request (`listQueues` with
        `details`)."""
        return self._client._request(
            "listQueues",
            path={"app": self.app},
            query={"details": True},
            cast_to=lambda data: [types.Queue.model_validate(item) for item in data],
            options=request,
        )

    def delete(
        self, name: str, *, nowait: bool = False, **request: Unpack[RequestOptions]
    ) -> types.Queue | Scheduled:
        """Delete the queue; its consumers stop consuming from it (`deleteQueue`)."""
        return changed(
            self._client._request(
                "deleteQueue",
                path={"app": self.app, "queue": name},
                nowait=nowait,
                cast_to=types.Queue.model_validate,
                options=request,
            )
        )
