"""Idempotency keys: a retried POST gets the first answer, and no work is done twice.

The first answer to a `POST` carrying `Idempotency-Key` is kept for 24
hours in a database of its own (`DIR/.idempotency.sqlite3`), apart from the
branch's state, so keys survive a restart. A key used again with another
request (see `fingerprint`) is refused with 422. An answer of 5xx is not
kept: it says nothing about what happened, so a retry tries again. Requests
with the same key run one after the other: a retry that arrives while the
first attempt is still running waits for it and then gets its answer.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from .locks import KeyedLocks
from .problems import invalid
from .rendering import Answer

KEEP_FOR = 24 * 3600.0
REPLAYED = "Idempotent-Replayed"
FILE_NAME = ".idempotency.sqlite3"  # a dot name: no instance can be called that

_SCHEMA = """
CREATE TABLE IF NOT EXISTS answer (
    key          TEXT PRIMARY KEY,
    fingerprint  TEXT NOT NULL,
    status       INTEGER NOT NULL,
    headers      TEXT NOT NULL,
    body         BLOB NOT NULL,
    created      REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS answer_created ON answer(created);
"""


def fingerprint(operation_id: str, path: Any, query: Any, body: Any) -> str:
    """What makes two requests the same request, for an Idempotency-Key."""
    same = {"op": operation_id, "path": path, "query": query, "body": body}
    text = json.dumps(same, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class IdempotencyCache:
    """The first answers to POSTs with an Idempotency-Key, by key."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.touch(mode=0o600, exist_ok=True)
        self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.executescript(_SCHEMA)
        self._lock = KeyedLocks()

    def close(self) -> None:
        self._db.close()

    async def replay_or_run(
        self, key: str, fingerprint: str, run: Callable[[], Awaitable[Answer]]
    ) -> Answer:
        """The answer kept for `key`, or `run()`'s, kept unless it is a 5xx."""
        async with self._lock(key):
            now = time.time()
            kept = self._get(key, since=now - KEEP_FOR)
            if kept is not None:
                first_fingerprint, answer = kept
                if first_fingerprint != fingerprint:
                    raise invalid(
                        "header",
                        "Idempotency-Key",
                        "was used for another request in the last 24 hours; use a new key",
                    )
                return Answer(answer.status, {**answer.headers, REPLAYED: "true"}, answer.body)
            answer = await run()
            if answer.status < 500:
                self._put(key, fingerprint, answer, now)
            return answer

    def _get(self, key: str, since: float) -> tuple[str, Answer] | None:
        row = self._db.execute(
            "SELECT fingerprint, status, headers, body FROM answer WHERE key = ? AND created >= ?",
            (key, since),
        ).fetchone()
        if row is None:
            return None
        return row[0], Answer(row[1], json.loads(row[2]), row[3])

    def _put(self, key: str, fingerprint: str, answer: Answer, now: float) -> None:
        self._db.execute("BEGIN IMMEDIATE")
        try:
            self._db.execute("DELETE FROM answer WHERE created < ?", (now - KEEP_FOR,))
            self._db.execute(
                "INSERT OR REPLACE INTO answer"
                " (key, fingerprint, status, headers, body, created) VALUES (?, ?, ?, ?, ?, ?)",
                (key, fingerprint, answer.status, json.dumps(answer.headers), answer.body, now),
            )
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")
