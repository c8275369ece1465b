"""What every resource shares: the client that runs its operations."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from pydantic import PrivateAttr

from ..types import CymeModel, Scheduled

if TYPE_CHECKING:
    from typing_extensions import Self

    from .._client import BaseClient


class Resource:
    """A collection of the API, bound to a client (sync or async: the same code)."""

    def __init__(self, client: BaseClient) -> None:
        self._client = client


class Bound(CymeModel):
    """Base of the models that remember the client they came from.

    `App` and `Instance` are the sync models; `AsyncApp` and `AsyncInstance`
    (generated in `_async.py`) hold the same fields and run the same
    operations, awaited. `_of` turns one into the other, keeping the client.
    """

    _client: Any = PrivateAttr(default=None)

    @property
    def client(self) -> BaseClient:
        return self._client  # type: ignore[no-any-return]

    @classmethod
    def bind(cls, client: BaseClient, data: Any) -> Self:
        """A model made from an answer of the branch, bound to the client that got it."""
        model = cls.model_validate(data)
        model._client = client
        return model

    @classmethod
    def _of(cls, model: Bound) -> Self:
        """This class's view of another bound model of the same schema."""
        made = cls.model_construct(_fields_set=set(model.model_fields_set), **dict(model))
        made._client = model._client
        return made

    @classmethod
    def _of_each(cls, models: Sequence[Bound]) -> list[Self]:
        return [cls._of(model) for model in models]

    @classmethod
    def _of_or(cls, model: Bound | Scheduled) -> Self | Scheduled:
        """`_of`, or the `Scheduled` answer of a `nowait` call as it is."""
        return model if isinstance(model, Scheduled) else cls._of(model)
