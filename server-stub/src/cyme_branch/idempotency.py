"""Idempotency keys: a retried POST gets the first answer, and no work is done twice.

The first response to a `POST` carrying `Idempotency-Key` is kept in the
store for 24 hours, so keys survive a restart. Requests with the same key run
one after the other: a retry that arrives while the first attempt is still
running waits for it and then gets its answer.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from aiohttp import web

from .problems import invalid
from .store import StoredResponse

if TYPE_CHECKING:
    from .branch import Branch

KEEP_FOR = 24 * 3600.0
REPLAYED = "Idempotent-Replayed"


async def replay_or_run(
    branch: Branch,
    key: str,
    fingerprint: str,
    run: Callable[[], Awaitable[web.Response]],
) -> web.Response:
    async with branch.idempotency_lock(key):
        now = time.time()
        stored = branch.store.stored_response(key, since=now - KEEP_FOR)
        if stored is not None:
            if stored.fingerprint != fingerprint:
                raise invalid(
                    "header",
                    "Idempotency-Key",
                    "was used for another request in the last 24 hours; use a new key",
                )
            headers = {**stored.headers, REPLAYED: "true"}
            return web.Response(body=stored.body, status=stored.status, headers=headers)
        response = await run()
        # A 5xx says nothing about what happened: let a retry try again.
        if response.status < 500 and isinstance(response.body, bytes):
            first = StoredResponse(
                fingerprint, response.status, dict(response.headers), response.body
            )
            branch.store.store_response(key, first, now, forget_before=now - KEEP_FOR)
        return response
