"""Every default of the SDK, in one place (the Ruby SDK uses the same values)."""

from __future__ import annotations

import httpx

DEFAULT_BASE_URL = "http://localhost:8000"
"""Used when neither `base_url=` nor the variable CYME_URL is given."""

DEFAULT_TIMEOUT = httpx.Timeout(30.0, connect=5.0)
"""30 s to read an answer, 5 s to connect."""

DEFAULT_CONNECTION_LIMITS = httpx.Limits(
    max_connections=100, max_keepalive_connections=100, keepalive_expiry=5.0
)
"""At most 100 connections to the branch, each kept alive 5 s when idle.

Every connection is kept, not only 20 as httpx keeps by default: aiohttp has
no such bound, and the two transports of `AsyncClient` (httpx's own and
`DefaultAioHttpClient`) are to mean the same by one setting. It also spares
more than 20 calls in flight from httpx's pool closing each connection that
falls idle while it holds more than 20, and opening another for the next call.
"""

DEFAULT_MAX_RETRIES = 2
"""Retries after the first attempt, so at most three requests per call."""

INITIAL_RETRY_DELAY = 0.5
"""Seconds before the first retry; doubled for each next one."""

MAX_RETRY_DELAY = 8.0
"""The backoff never waits longer than this (Retry-After may, up to MAX_RETRY_AFTER)."""

MAX_RETRY_AFTER = 60.0
"""A server's Retry-After is obeyed up to this many seconds."""

RETRY_JITTER = 0.25
"""Each backoff delay is shortened by a random part of up to this fraction."""

RETRY_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
"""Statuses worth another attempt: the request may well succeed later."""

IDEMPOTENCY_HEADER = "Idempotency-Key"
REQUEST_ID_HEADER = "X-Request-Id"
