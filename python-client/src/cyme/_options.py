"""The per-call options every SDK method takes (`timeout=`, `max_retries=`, ...)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TypedDict

import httpx

__all__ = ["REQUEST_OPTIONS", "RequestOptions"]


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


REQUEST_OPTIONS = frozenset(RequestOptions.__annotations__)
"""Their names: `client.call()` tells them from the operation's own arguments."""
