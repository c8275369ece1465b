"""Cluster declarations: the apps and queues declared on the whole cluster.

An app or a queue declared (or deleted) with `scope=cluster` becomes a
declaration: its kind, app, queue, the whole of what it declares (an
app's or queue's fields as the declaring branch then held them, so that
a member applying only the last declaration ends up with the same thing),
a version and the branch it came from. Every member keeps, per app and per
queue, the declaration with the highest `(version, origin)`; applying one
is idempotent and the order they come in does not matter, so members that
push their declarations to each other agree in the end whatever was lost
on the way (see `cluster/__init__.py`).

The version is the declaring branch's clock in seconds, never behind a
version it has seen: two declarations of one name made on two machines
within the clocks' skew are ordered by those clocks. They are kept in a
database of their own (`DIR/.cluster.sqlite3`).
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..masking import mask_url

FILE_NAME = ".cluster.sqlite3"  # a dot name: no instance can be called that
SECRET_FIELDS = ("broker", "backend")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS declaration (
    kind     TEXT NOT NULL,
    app      TEXT NOT NULL,
    queue    TEXT NOT NULL,
    version  REAL NOT NULL,
    origin   TEXT NOT NULL,
    deleted  INTEGER NOT NULL,
    fields   TEXT NOT NULL,
    PRIMARY KEY (kind, app, queue)
);
"""


@dataclass(frozen=True)
class Declaration:
    kind: str  # app | queue
    app: str
    queue: str | None
    version: float
    origin: str
    deleted: bool
    fields: dict[str, Any]

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.kind, self.app, self.queue or "")

    @property
    def order(self) -> tuple[float, str]:
        """Which of two declarations of one name wins: the higher."""
        return (self.version, self.origin)

    def wire(self) -> dict[str, Any]:
        """As members send it to each other: whole, passwords included."""
        body: dict[str, Any] = {
            "kind": self.kind,
            "app": self.app,
            "version": self.version,
            "origin": self.origin,
            "deleted": self.deleted,
            "fields": self.fields,
        }
        if self.queue is not None:
            body["queue"] = self.queue
        return body

    def public(self) -> dict[str, Any]:
        """As the branch shows it: passwords masked."""
        body = self.wire()
        body["fields"] = {
            k: mask_url(v) if k in SECRET_FIELDS and isinstance(v, str) else v
            for k, v in self.fields.items()
        }
        return body

    @classmethod
    def of(cls, body: dict[str, Any]) -> Declaration:
        """From a body the spec's `Declaration` schema has checked."""
        queue = body.get("queue")
        if (body["kind"] == "queue") != (queue is not None):
            raise ValueError("a queue's declaration names its queue, an app's none")
        return cls(
            kind=body["kind"],
            app=body["app"],
            queue=queue,
            version=float(body["version"]),
            origin=body["origin"],
            deleted=bool(body["deleted"]),
            fields=dict(body["fields"]),
        )


class Declarations:
    """The declarations this branch holds, and its clock for new ones."""

    def __init__(self, path: Path) -> None:
        path.touch(mode=0o600, exist_ok=True)
        self._db = sqlite3.connect(path, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.executescript(_SCHEMA)
        latest = self._db.execute("SELECT COALESCE(MAX(version), 0) FROM declaration")
        self._seen: float = latest.fetchone()[0]
        self._digest: str | None = None

    def close(self) -> None:
        self._db.close()

    def next_version(self) -> float:
        """Now, or just after the highest version seen, whichever is later."""
        version = max(round(time.time(), 6), round(self._seen + 1e-6, 6))
        self._seen = version
        return version

    def held(self, declaration: Declaration) -> Declaration | None:
        row = self._db.execute(
            "SELECT * FROM declaration WHERE kind = ? AND app = ? AND queue = ?",
            declaration.key,
        ).fetchone()
        return None if row is None else _of_row(row)

    def is_newer(self, declaration: Declaration) -> bool:
        held = self.held(declaration)
        return held is None or declaration.order > held.order

    def keep(self, declaration: Declaration) -> None:
        self._db.execute(
            "INSERT OR REPLACE INTO declaration VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                *declaration.key,
                declaration.version,
                declaration.origin,
                int(declaration.deleted),
                json.dumps(declaration.fields, sort_keys=True),
            ),
        )
        self._seen = max(self._seen, declaration.version)
        self._digest = None

    def all(self, since: float = 0.0) -> list[Declaration]:
        rows = self._db.execute(
            "SELECT * FROM declaration WHERE version > ? ORDER BY version, origin", (since,)
        )
        return [_of_row(row) for row in rows]

    @property
    def digest(self) -> str:
        """Tells two members whether they hold the same declarations; "" for none."""
        if self._digest is None:
            rows = self._db.execute(
                "SELECT kind, app, queue, version, origin FROM declaration "
                "ORDER BY kind, app, queue"
            ).fetchall()
            if not rows:
                self._digest = ""
            else:
                text = json.dumps(rows, separators=(",", ":"))
                self._digest = hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]
        return self._digest


def _of_row(row: tuple[Any, ...]) -> Declaration:
    kind, app, queue, version, origin, deleted, fields = row
    return Declaration(kind, app, queue or None, version, origin, bool(deleted), json.loads(fields))
