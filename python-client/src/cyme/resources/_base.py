"""What every resource shares: the client that runs its operations."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pydantic import PrivateAttr

from ..types import CymeModel

if TYPE_CHECKING:
    from .._client import BaseClient


class Resource:
    """A collection of the API, bound to a client (sync or async: the same code)."""

    def __init__(self, client: BaseClient) -> None:
        self._client = client


class Bound(CymeModel):
    """Base of the models that remember the client they came from.

    With `Client` their methods return results; with `AsyncClient` they
    return awaitables, since both run the same operations through `_call`.
    """

    _client: Any = PrivateAttr(default=None)

    @property
    def client(self) -> BaseClient:
        return self._client  # type: ignore[no-any-return]
