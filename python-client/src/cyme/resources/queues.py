"""Queues: `app.queues`, the queue declarations of an app."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Literal, overload

from .. import types
from .._operation import Flow, Operation, RequestOptions, body, names, nowait_params
from ._base import Resource

if TYPE_CHECKING:
    from typing_extensions import Unpack

    from .._client import BaseClient

ExchangeType = Literal["direct", "topic", "fanout", "headers"]
_parse = types.Queue.model_validate


class Queues(Resource):
    """The queues declared in one app."""

    def __init__(self, client: BaseClient, app: str) -> None:
        super().__init__(client)
        self.app = app

    def __repr__(self) -> str:
        return f"<Queues: {self._client.url_for(self.app, 'queues')!r}>"

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
    ) -> types.Scheduled: ...
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
    ) -> types.Queue | types.Scheduled:
        """Declare the queue, or update the fields given (`putQueue`; `postQueue` is the same).

        `exchange` and `routing_key` default to the queue's name,
        `exchange_type` to `direct`; `options` go to kombu. (`options` is the
        spec's field, so the per-call settings are named `request` here.)

        >>> app.queues.add("celery", exchange="celery", routing_key="celery")
        """
        op = self._op_add(
            name, exchange=exchange, exchange_type=exchange_type, routing_key=routing_key,
            options=options, nowait=nowait, request=request,
        )  # fmt: skip
        return self._client._call(op)

    def get(self, name: str, **request: Unpack[RequestOptions]) -> types.Queue:
        """The queue `name` (`getQueue`)."""
        return self._client._call(self._op_get(name, request))

    def all_names(self, **request: Unpack[RequestOptions]) -> list[str]:
        """The names of the app's queues (`listQueues`)."""
        return self._client._call(self._op_all_names(request))

    def all(self, **request: Unpack[RequestOptions]) -> list[types.Queue]:
        """Every queue of the app, fetched one by one."""
        return self._client._call(self._op_all(request))

    def delete(
        self, name: str, *, nowait: bool = False, **request: Unpack[RequestOptions]
    ) -> types.Queue | types.Scheduled:
        """Delete the queue; its consumers stop consuming from it (`deleteQueue`)."""
        return self._client._call(self._op_delete(name, nowait, request))

    def _op_add(
        self,
        name: str,
        *,
        exchange: str | None,
        exchange_type: ExchangeType | None,
        routing_key: str | None,
        options: Mapping[str, Any] | None,
        nowait: bool,
        request: RequestOptions,
    ) -> Operation[types.Queue]:
        json = body(
            exchange=exchange, exchange_type=exchange_type, routing_key=routing_key, options=options
        )
        return Operation(
            "putQueue", "PUT", (self.app, "queues", name), _parse,
            params=nowait_params(nowait), json=json or {}, options=request,
        )  # fmt: skip

    def _op_delete(
        self, name: str, nowait: bool, request: RequestOptions
    ) -> Operation[types.Queue]:
        return Operation(
            "deleteQueue", "DELETE", (self.app, "queues", name), _parse,
            params=nowait_params(nowait), options=request,
        )  # fmt: skip

    def _op_get(self, name: str, request: RequestOptions) -> Operation[types.Queue]:
        return Operation("getQueue", "GET", (self.app, "queues", name), _parse, options=request)

    def _op_all_names(self, request: RequestOptions) -> Operation[list[str]]:
        return Operation("listQueues", "GET", (self.app, "queues"), names, options=request)

    def _op_all(self, request: RequestOptions) -> Flow[list[types.Queue]]:
        found: list[str] = yield self._op_all_names(request)
        queues = []
        for name in found:
            queues.append((yield self._op_get(name, request)))
        return queues
