"""What a resource asks the client to do: a request described, not sent.

Resources build `Operation`s (one request each) or flows: generators that
yield operations, receive each result, and return the value of the call, so
`apps.all()` (list the names, then get each app) is written once and runs on
`Client` and `AsyncClient` alike. Only the clients do I/O.
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, TypedDict, TypeVar

import httpx

T = TypeVar("T")

Flow = Generator["Operation[Any]", Any, T]
"""A generator yielding operations, sent their results, returning T."""


class RequestOptions(TypedDict, total=False):
    """Keywords every SDK method takes, to change one call."""

    timeout: float | httpx.Timeout | None
    """Overrides the client's timeout for this call."""

    max_retries: int
    """Overrides the client's retry count for this call."""

    extra_headers: Mapping[str, str]
    """Headers added to the request (such as `Cyme-Fault` in tests)."""

    idempotency_key: str
    """The Idempotency-Key of a POST; by default a new UUID per call."""


@dataclass(frozen=True)
class Operation(Generic[T]):
    """One request of the API, with what to make of its answer.

    `path` holds raw segments (names as the user gave them); the client
    escapes each one. `parse` gets the decoded JSON body (or the text, with
    `text=True`); a 202 answer is parsed as `Scheduled` instead.
    """

    operation_id: str
    method: str
    path: tuple[str, ...]
    parse: Callable[[Any], T]
    params: Mapping[str, Any] | None = None
    json: Mapping[str, Any] | None = None
    text: bool = False
    options: RequestOptions = field(default_factory=RequestOptions)


def body(**fields: Any) -> dict[str, Any] | None:
    """A JSON body of the fields given (None values left out), or None when empty."""
    given = {key: value for key, value in fields.items() if value is not None}
    return given or None


def names(data: Any) -> list[str]:
    """A list of names (apps, instances, queues, branches)."""
    return [str(name) for name in data]


def nowait_params(nowait: bool) -> dict[str, str] | None:
    return {"nowait": "true"} if nowait else None
