# Generated from resources/_async/_base.py by tools/generate_sync.py; do not edit.
"""What every resource and bound model shares: the client that sends their operations."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypeVar

from pydantic import PrivateAttr

from ... import types
from ...types import CymeModel

if TYPE_CHECKING:
    from typing_extensions import Self

    from ..._base_client import SyncAPIClient
    from .scheduled import Scheduled

T = TypeVar("T")


def names(data: Any) -> list[str]:
    """A list of names (apps, instances, queues), from the branch's JSON array."""
    return [str(name) for name in data]


def changed(result: T | types.Scheduled) -> T | Scheduled:
    """What a change returns: its result, or with nowait its `AsyncScheduled`, to wait on.

    The client makes every 202 answer an `AsyncScheduled` bound to itself
    (`AsyncBranchOperations._scheduled`); this only tells the type checker.
    """
    return result  # type: ignore[return-value]  # a Scheduled here is an AsyncScheduled


class Resource:
    """A collection of the API (the apps of a branch, the queues of an app, ...)."""

    def __init__(self, client: SyncAPIClient) -> None:
        self._client = client


class Bound(CymeModel):
    """A model that remembers the client it came from, to run its own operations.

    `app.instances.add()` and `instance.autoscale()` need no client argument:
    the model holds the one that fetched it.
    """

    _client: SyncAPIClient = PrivateAttr()

    @property
    def client(self) -> SyncAPIClient:
        """The client that fetched this model, and that runs its operations."""
        return self._client

    @classmethod
    def bind(cls, client: SyncAPIClient, data: Any) -> Self:
        """A model made from an answer of the branch, bound to the client that got it."""
        model = cls.model_validate(data)
        model._client = client
        return model

    def _sibling(self, data: Any) -> Self:
        """A model of this class made from an answer, bound to this model's client."""
        return self.bind(self._client, data)
