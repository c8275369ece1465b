"""The branch's state, kept in SQLite inside the instance directory.

Every change is one transaction, so a branch killed in the middle of a
request comes back with the change made whole or not at all. The branch
serves requests on one event loop and calls this module synchronously, so
two requests never interleave inside a transaction; SQLite's own locking
protects the file against a second process.

Reads of one app, instance or queue are kept in memory until the next
change: every transaction, committed or not, forgets them all, so a read
never returns what the database does not hold.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from .masking import mask_url

DEFAULT_BROKER = "amqp://guest:guest@localhost:5672//"
# 2: the idempotency keys moved to a database of their own (idempotency.py).
# 3: apps have a result backend (`app.backend`, added to older databases).
SCHEMA_VERSION = 3
# Reads kept in memory at most; more are forgotten all at once.
CACHE_SIZE = 4096

_SCHEMA = """
DROP TABLE IF EXISTS idempotency;
CREATE TABLE IF NOT EXISTS app (
    name          TEXT PRIMARY KEY,
    broker        TEXT NOT NULL,
    arguments     TEXT NOT NULL,
    extra_config  TEXT NOT NULL,
    backend       TEXT
);
CREATE TABLE IF NOT EXISTS instance (
    name             TEXT PRIMARY KEY,
    app              TEXT NOT NULL REFERENCES app(name) ON DELETE CASCADE,
    broker           TEXT,
    pool             TEXT NOT NULL,
    arguments        TEXT NOT NULL,
    extra_config     TEXT NOT NULL,
    min_concurrency  INTEGER NOT NULL,
    max_concurrency  INTEGER NOT NULL,
    is_enabled       INTEGER NOT NULL,
    created          INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS instance_app ON instance(app);
CREATE TABLE IF NOT EXISTS queue (
    app            TEXT NOT NULL REFERENCES app(name) ON DELETE CASCADE,
    name           TEXT NOT NULL,
    exchange       TEXT NOT NULL,
    exchange_type  TEXT NOT NULL,
    routing_key    TEXT NOT NULL,
    options        TEXT NOT NULL,
    PRIMARY KEY (app, name)
);
CREATE TABLE IF NOT EXISTS consumer (
    instance  TEXT NOT NULL REFERENCES instance(name) ON DELETE CASCADE,
    app       TEXT NOT NULL,
    queue     TEXT NOT NULL,
    created   INTEGER NOT NULL,
    PRIMARY KEY (instance, queue),
    FOREIGN KEY (app, queue) REFERENCES queue(app, name) ON DELETE CASCADE
);
"""


class NameTaken(Exception):
    """An instance of that name exists already."""


@dataclass(frozen=True)
class App:
    name: str
    broker: str
    arguments: str
    extra_config: dict[str, Any]
    # The result backend its tasks are followed in; None: it has none.
    backend: str | None = None

    def public(self) -> dict[str, Any]:
        public = {
            "name": self.name,
            "broker": mask_url(self.broker),
            "arguments": self.arguments,
            "extra_config": self.extra_config,
        }
        if self.backend is not None:  # left out for an app without one
            public["backend"] = mask_url(self.backend)
        return public


@dataclass(frozen=True)
class Queue:
    app: str
    name: str
    exchange: str
    exchange_type: str
    routing_key: str
    options: dict[str, Any]

    def public(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "exchange": self.exchange,
            "exchange_type": self.exchange_type,
            "routing_key": self.routing_key,
            "options": self.options,
        }


@dataclass(frozen=True)
class Instance:
    name: str
    app: App
    broker: str | None
    pool: str
    arguments: str
    extra_config: dict[str, Any]
    min_concurrency: int
    max_concurrency: int
    is_enabled: bool
    queues: tuple[Queue, ...] = field(default=())

    @property
    def effective_broker(self) -> str:
        return self.broker or self.app.broker

    def public(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "app": self.app.name,
            "broker": mask_url(self.effective_broker),
            "pool": self.pool,
            "arguments": self.arguments,
            "extra_config": self.extra_config,
            "queues": [q.name for q in self.queues],
            "min_concurrency": self.min_concurrency,
            "max_concurrency": self.max_concurrency,
            "is_enabled": self.is_enabled,
        }

    @cached_property
    def public_json(self) -> bytes:
        """`public()` rendered as JSON once: an instance never changes (a change
        to the store makes new ones)."""
        return json.dumps(self.public(), separators=(",", ":")).encode("utf-8")


class Store:
    """Apps, instances, queues and consumers of one branch."""

    def __init__(self, path: Path) -> None:
        self.path = path
        # isolation_level=None: transactions are opened explicitly below, so
        # sqlite3 never commits behind our back.
        # The database holds broker URLs with their passwords: owner only.
        path.touch(mode=0o600, exist_ok=True)
        self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self._db.row_factory = sqlite3.Row
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.execute("PRAGMA foreign_keys=ON")
        self._db.execute("PRAGMA busy_timeout=5000")
        self._cache: dict[tuple[str, str, str], Any] = {}
        with self._transaction():
            for statement in _SCHEMA.split(";"):
                if statement.strip():
                    self._db.execute(statement)
            columns = {row[1] for row in self._db.execute("PRAGMA table_info(app)")}
            if "backend" not in columns:  # a database of a branch before tasks
                self._db.execute("ALTER TABLE app ADD COLUMN backend TEXT")
            self._db.execute(f"PRAGMA user_version={SCHEMA_VERSION}")

    def close(self) -> None:
        self._db.close()

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield self._db
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        else:
            self._db.execute("COMMIT")
        finally:
            # What was read before, or inside, the transaction may be stale.
            self._cache.clear()

    def _cached(self, key: tuple[str, str, str], read: Callable[[], Any]) -> Any:
        try:
            return self._cache[key]
        except KeyError:
            pass
        value = read()
        if len(self._cache) >= CACHE_SIZE:
            self._cache.clear()
        self._cache[key] = value
        return value

    # apps

    def app_names(self) -> list[str]:
        return [r[0] for r in self._db.execute("SELECT name FROM app ORDER BY name")]

    def app(self, name: str) -> App | None:
        found: App | None = self._cached(("app", name, ""), lambda: self._read_app(name))
        return found

    def _read_app(self, name: str) -> App | None:
        row = self._db.execute("SELECT * FROM app WHERE name = ?", (name,)).fetchone()
        return _app(row) if row else None

    def put_app(self, name: str, fields: dict[str, Any]) -> tuple[App, bool]:
        """Create the app or update the fields given; True when created."""
        with self._transaction() as db:
            current = self.app(name)
            if current is None:
                app = App(
                    name=name,
                    broker=fields.get("broker", DEFAULT_BROKER),
                    arguments=fields.get("arguments", ""),
                    extra_config=fields.get("extra_config", {}),
                    backend=fields.get("backend"),
                )
            else:
                app = App(
                    name=name,
                    broker=fields.get("broker", current.broker),
                    arguments=fields.get("arguments", current.arguments),
                    extra_config=fields.get("extra_config", current.extra_config),
                    backend=fields.get("backend", current.backend),  # null removes it
                )
            db.execute(
                "INSERT INTO app (name, broker, arguments, extra_config, backend)"
                " VALUES (?, ?, ?, ?, ?)"
                " ON CONFLICT(name) DO UPDATE SET broker = excluded.broker,"
                " arguments = excluded.arguments, extra_config = excluded.extra_config,"
                " backend = excluded.backend",
                (app.name, app.broker, app.arguments, json.dumps(app.extra_config), app.backend),
            )
        return app, current is None

    def delete_app(self, app: App) -> list[Instance]:
        """Delete the app with its instances, queues and consumers; returns the instances."""
        with self._transaction() as db:
            instances = [
                self._instance_of(app, row)
                for row in db.execute(
                    "SELECT * FROM instance WHERE app = ? ORDER BY created, name", (app.name,)
                ).fetchall()
            ]
            db.execute("DELETE FROM app WHERE name = ?", (app.name,))
        return instances

    # instances

    def instance_names(self, app: str) -> list[str]:
        rows = self._db.execute(
            "SELECT name FROM instance WHERE app = ? ORDER BY created, name", (app,)
        )
        return [r[0] for r in rows]

    def instance_count(self) -> int:
        count: int = self._db.execute("SELECT COUNT(*) FROM instance").fetchone()[0]
        return count

    def instance_exists(self, name: str) -> bool:
        """Whether any app has an instance of that name."""
        row = self._db.execute("SELECT 1 FROM instance WHERE name = ?", (name,)).fetchone()
        return row is not None

    def instance(self, app: str, name: str) -> Instance | None:
        found: Instance | None = self._cached(
            ("instance", app, name), lambda: self._read_instance(app, name)
        )
        return found

    def _read_instance(self, app: str, name: str) -> Instance | None:
        row = self._db.execute(
            "SELECT * FROM instance WHERE name = ? AND app = ?", (name, app)
        ).fetchone()
        if row is None:
            return None
        app_row = self.app(app)
        assert app_row is not None  # the foreign key guarantees it
        return self._instance_of(app_row, row)

    def all_instances(self) -> list[Instance]:
        apps = {a.name: a for a in map(_app, self._db.execute("SELECT * FROM app"))}
        rows = self._db.execute("SELECT * FROM instance ORDER BY created, name").fetchall()
        return [self._instance_of(apps[row["app"]], row) for row in rows]

    def create_instance(self, app: App, name: str, fields: dict[str, Any], now: int) -> Instance:
        with self._transaction() as db:
            try:
                db.execute(
                    "INSERT INTO instance (name, app, broker, pool, arguments, extra_config,"
                    " min_concurrency, max_concurrency, is_enabled, created)"
                    " VALUES (?, ?, ?, ?, ?, ?, 1, 1, 1, ?)",
                    (
                        name,
                        app.name,
                        fields.get("broker"),
                        fields.get("pool", "prefork"),
                        fields.get("arguments", ""),
                        json.dumps(fields.get("extra_config", {})),
                        now,
                    ),
                )
            except sqlite3.IntegrityError:
                raise NameTaken(name) from None
        instance = self.instance(app.name, name)
        assert instance is not None
        return instance

    def delete_instance(self, app: str, name: str) -> Instance | None:
        with self._transaction() as db:
            instance = self.instance(app, name)
            if instance is not None:
                db.execute("DELETE FROM instance WHERE name = ?", (name,))
        return instance

    def set_autoscale(self, instance: Instance, max_: int, min_: int) -> None:
        with self._transaction() as db:
            db.execute(
                "UPDATE instance SET max_concurrency = ?, min_concurrency = ? WHERE name = ?",
                (max_, min_, instance.name),
            )

    def set_enabled(self, instance: Instance, enabled: bool) -> None:
        """Disable the instance (its worker stays stopped), or enable it again."""
        with self._transaction() as db:
            db.execute(
                "UPDATE instance SET is_enabled = ? WHERE name = ?", (int(enabled), instance.name)
            )

    # queues

    def queue_names(self, app: str) -> list[str]:
        rows = self._db.execute("SELECT name FROM queue WHERE app = ? ORDER BY name", (app,))
        return [r[0] for r in rows]

    def queue(self, app: str, name: str) -> Queue | None:
        found: Queue | None = self._cached(
            ("queue", app, name), lambda: self._read_queue(app, name)
        )
        return found

    def _read_queue(self, app: str, name: str) -> Queue | None:
        row = self._db.execute(
            "SELECT * FROM queue WHERE app = ? AND name = ?", (app, name)
        ).fetchone()
        return _queue(row) if row else None

    def put_queue(self, app: str, name: str, fields: dict[str, Any]) -> tuple[Queue, bool]:
        with self._transaction() as db:
            current = self.queue(app, name)
            base: dict[str, Any] = (
                current.public()
                if current
                else {
                    "exchange": name,
                    "exchange_type": "direct",
                    "routing_key": name,
                    "options": {},
                }
            )
            queue = Queue(
                app=app,
                name=name,
                exchange=fields.get("exchange", base["exchange"]),
                exchange_type=fields.get("exchange_type", base["exchange_type"]),
                routing_key=fields.get("routing_key", base["routing_key"]),
                options=fields.get("options", base["options"]),
            )
            db.execute(
                "INSERT INTO queue (app, name, exchange, exchange_type, routing_key, options)"
                " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(app, name) DO UPDATE SET"
                " exchange = excluded.exchange, exchange_type = excluded.exchange_type,"
                " routing_key = excluded.routing_key, options = excluded.options",
                (
                    app,
                    name,
                    queue.exchange,
                    queue.exchange_type,
                    queue.routing_key,
                    json.dumps(queue.options),
                ),
            )
        return queue, current is None

    def delete_queue(self, queue: Queue) -> list[str]:
        """Delete the queue; returns the instances that consumed from it."""
        with self._transaction() as db:
            consumers = self._consumers_of(queue.app, queue.name)
            db.execute("DELETE FROM queue WHERE app = ? AND name = ?", (queue.app, queue.name))
        return consumers

    def consumers_of(self, app: str, queue: str) -> list[str]:
        """Names of the instances consuming from a queue."""
        return self._consumers_of(app, queue)

    def _consumers_of(self, app: str, queue: str) -> list[str]:
        rows = self._db.execute(
            "SELECT instance FROM consumer WHERE app = ? AND queue = ? ORDER BY instance",
            (app, queue),
        )
        return [r[0] for r in rows]

    # consumers

    def add_consumer(self, instance: Instance, queue: Queue, now: int) -> bool:
        """Consume from the queue; False when the instance already did."""
        with self._transaction() as db:
            cursor = db.execute(
                "INSERT OR IGNORE INTO consumer (instance, app, queue, created)"
                " VALUES (?, ?, ?, ?)",
                (instance.name, instance.app.name, queue.name, now),
            )
        return cursor.rowcount == 1

    def remove_consumer(self, instance: Instance, queue: str) -> bool:
        with self._transaction() as db:
            cursor = db.execute(
                "DELETE FROM consumer WHERE instance = ? AND queue = ?", (instance.name, queue)
            )
        return cursor.rowcount == 1

    def _instance_of(self, app: App, row: sqlite3.Row) -> Instance:
        queues = tuple(
            _queue(q)
            for q in self._db.execute(
                "SELECT queue.* FROM consumer JOIN queue"
                " ON queue.app = consumer.app AND queue.name = consumer.queue"
                " WHERE consumer.instance = ? ORDER BY consumer.created, queue.name",
                (row["name"],),
            )
        )
        return Instance(
            name=row["name"],
            app=app,
            broker=row["broker"],
            pool=row["pool"],
            arguments=row["arguments"],
            extra_config=json.loads(row["extra_config"]),
            min_concurrency=row["min_concurrency"],
            max_concurrency=row["max_concurrency"],
            is_enabled=bool(row["is_enabled"]),
            queues=queues,
        )


def _app(row: sqlite3.Row) -> App:
    return App(
        name=row["name"],
        broker=row["broker"],
        arguments=row["arguments"],
        extra_config=json.loads(row["extra_config"]),
        backend=row["backend"],
    )


def _queue(row: sqlite3.Row) -> Queue:
    return Queue(
        app=row["app"],
        name=row["name"],
        exchange=row["exchange"],
        exchange_type=row["exchange_type"],
        routing_key=row["routing_key"],
        options=json.loads(row["options"]),
    )
