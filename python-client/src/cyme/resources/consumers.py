"""Consumers: `instance.consumers`, the queues an instance consumes from."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .. import types
from .._operation import Operation, RequestOptions, nowait_params
from ._base import Resource

if TYPE_CHECKING:
    from typing_extensions import Unpack

    from .._client import BaseClient

_parse = types.Consumer.model_validate


def _consumers(data: Any) -> list[types.Consumer]:
    return [_parse(item) for item in data]


class Consumers(Resource):
    """The consumers of one instance; entries are shaped like Celery's `active_queues`."""

    def __init__(self, client: BaseClient, app: str, instance: str) -> None:
        super().__init__(client)
        self.app = app
        self.instance = instance

    def __repr__(self) -> str:
        return f"<Consumers: {self._client.url_for(*self._path())!r}>"

    def _path(self, *rest: str) -> tuple[str, ...]:
        return (self.app, "instances", self.instance, "queues", *rest)

    def add(
        self, queue: str, *, nowait: bool = False, **options: Unpack[RequestOptions]
    ) -> types.Consumer | types.Scheduled:
        """Start consuming from a queue declared in the app (`putConsumer`; `postConsumer`)."""
        return self._client._call(self._op_add(queue, nowait, options))

    def delete(
        self, queue: str, *, nowait: bool = False, **options: Unpack[RequestOptions]
    ) -> types.Consumer | types.Scheduled:
        """Stop consuming from the queue (`deleteConsumer`); `dq.<instance>` cannot be."""
        return self._client._call(self._op_delete(queue, nowait, options))

    def all(self, **options: Unpack[RequestOptions]) -> list[types.Consumer]:
        """The queues consumed, the private `dq.<instance>` among them (`listConsumers`)."""
        return self._client._call(self._op_all(options))

    def _op_add(
        self, queue: str, nowait: bool, options: RequestOptions
    ) -> Operation[types.Consumer]:
        return Operation(
            "putConsumer", "PUT", self._path(queue), _parse,
            params=nowait_params(nowait), options=options,
        )  # fmt: skip

    def _op_delete(
        self, queue: str, nowait: bool, options: RequestOptions
    ) -> Operation[types.Consumer]:
        return Operation(
            "deleteConsumer", "DELETE", self._path(queue), _parse,
            params=nowait_params(nowait), options=options,
        )  # fmt: skip

    def _op_all(self, options: RequestOptions) -> Operation[list[types.Consumer]]:
        return Operation("listConsumers", "GET", self._path(), _consumers, options=options)
