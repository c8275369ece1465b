"""Membership: who is in the cluster, learnt from announcements on its broker.

Every member publishes an announcement on a fanout exchange named after the
cluster (`cyme.cluster.NAME`) when it joins, every heartbeat, and a last one
when it stops (`leaving`). Every member binds a queue of its own to that
exchange, so each hears every announcement, its own included (ignored). A
member not heard from for `LOST_AFTER` heartbeats is `lost`: it leaves the
list of live members, and is forgotten after `FORGET_AFTER` heartbeats.

kombu's connections are blocking, so the talking runs on a thread of its
own. What it shares with the event loop is small and swapped whole: the
announcement to send (a dict the loop replaces each heartbeat), and the
members (behind a lock).

When the broker cannot be reached (at start, or later) the thread tries
again with a growing pause, never longer than one heartbeat, so that the
branch is back within two heartbeats of the broker's return. Meanwhile the
view is kept as it was, marked `stale`, and nobody is dropped from it: not
hearing anyone is then no news of them. Each change of state is logged
once.
"""

from __future__ import annotations

import contextlib
import importlib
import logging
import math
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from typing import Any

from ..masking import mask_url

log = logging.getLogger("cyme.branch")

LOST_AFTER = 3  # heartbeats without an announcement: lost
FORGET_AFTER = 100  # heartbeats: a lost member is forgotten
EXCHANGE_PREFIX = "cyme.cluster."
# An announcement is small; anything much larger is not one of ours.
MAX_ANNOUNCEMENT = 16 * 1024
FIRST_RETRY = 0.1  # seconds before the first retry to reach the broker


def kombu_module() -> Any:
    """kombu, imported when a branch joins a cluster (not before: it takes a while)."""
    return importlib.import_module("kombu")


def utc(timestamp: float) -> str:
    """An ISO 8601 date and time, in UTC, to the millisecond."""
    moment = datetime.fromtimestamp(timestamp, timezone.utc)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass(frozen=True)
class Member:
    """What a member said of itself in its last announcement, and when it said it."""

    id: str
    url: str
    version: str
    started: str
    instances: int
    load: float
    digest: str
    settings: Mapping[str, Any]
    last_seen: float  # time.time() when heard
    heard: float = field(repr=False, default=0.0)  # time.monotonic() when heard
    state: str = "alive"


class Membership:
    """This branch's membership of one cluster, on one broker."""

    def __init__(
        self,
        broker_url: str,
        name: str,
        branch_id: str,
        heartbeat: float,
        *,
        valid_id: Callable[[str], bool],
    ) -> None:
        self.broker_url = broker_url
        self.name = name
        self.id = branch_id
        self.heartbeat = heartbeat
        self._valid_id = valid_id
        # What to announce: replaced whole by the branch every heartbeat.
        self.announcement: dict[str, Any] = {}
        self._members: dict[str, Member] = {}
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self.connected = False
        self._ever_connected = False
        # While away from the broker nobody expires; once back, everyone gets
        # LOST_AFTER heartbeats from the return to be heard again.
        self._back_at = 0.0
        self._state = "starting"
        self._queue_name = f"{EXCHANGE_PREFIX}{name}.{branch_id}.{uuid.uuid4().hex[:8]}"

    # -- what the branch asks ------------------------------------------------

    @property
    def stale(self) -> bool:
        """The view is from before the broker was lost (or there is none yet)."""
        return not self.connected

    def alive(self) -> list[Member]:
        """The live members but this branch, in the order they were first heard."""
        self._expire()
        with self._lock:
            return [m for m in self._members.values() if m.state == "alive"]

    def get(self, ident: str) -> Member | None:
        """A member, alive or lost (until forgotten)."""
        self._expire()
        with self._lock:
            return self._members.get(ident)

    # -- starting and stopping -------------------------------------------------

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="cyme-cluster", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Say goodbye (when connected) and stop talking."""
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    # -- the thread --------------------------------------------------------------

    def _run(self) -> None:
        kombu = kombu_module()
        pause = FIRST_RETRY
        while not self._stopping.is_set():
            connection = kombu.Connection(
                self.broker_url,
                connect_timeout=max(0.5, self.heartbeat / 2),
                transport_options={"socket_timeout": max(1.0, self.heartbeat)},
            )
            try:
                connection.connect()
                pause = FIRST_RETRY
                self._talk(connection)
            except Exception as exc:  # whatever the transport raises on a broken broker
                self._went_away(exc)
                self._stopping.wait(pause)
                pause = min(pause * 2, self.heartbeat)
            finally:
                # A dead connection may fail to close: nothing to do about it.
                with contextlib.suppress(Exception):
                    connection.release()

    def _talk(self, connection: Any) -> None:
        kombu = kombu_module()
        exchange = kombu.Exchange(
            f"{EXCHANGE_PREFIX}{self.name}", type="fanout", durable=False, auto_delete=True
        )
        queue = kombu.Queue(
            self._queue_name,
            exchange,
            durable=False,
            auto_delete=True,
            exclusive=True,
            # Announcements older than a lost member's silence tell nothing.
            message_ttl=LOST_AFTER * self.heartbeat,
        )
        channel = connection.channel()
        producer = kombu.Producer(channel, exchange=exchange, serializer="json")
        # Taken without acknowledgement: a heartbeat lost is replaced by the
        # next, and on Redis an acknowledged message costs a write of it into
        # kombu's `unacked` hash and a delete, for every member it reaches.
        consumer = kombu.Consumer(
            channel, [queue], callbacks=[self._on_message], accept=["json"], no_ack=True
        )
        with consumer:
            self._arrived()
            next_beat = 0.0
            while not self._stopping.is_set():
                now = time.monotonic()
                if now >= next_beat:
                    producer.publish({**self.announcement, "kind": "announce"}, retry=False)
                    next_beat = now + self.heartbeat
                with contextlib.suppress(TimeoutError):
                    connection.drain_events(timeout=max(0.01, min(0.2, next_beat - now)))
            # A clean stop: the others drop this branch at once.
            producer.publish({"kind": "leaving", "id": self.id, "cluster": self.name}, retry=False)

    def _arrived(self) -> None:
        with self._lock:
            self.connected = True
            self._back_at = time.monotonic()
        where = mask_url(self.broker_url)
        if self._ever_connected:
            log.info("cluster %s: back on the broker %s", self.name, where)
        else:
            log.info("cluster %s: joined on %s as %s", self.name, where, self.id)
        self._ever_connected = True
        self._state = "connected"

    def _went_away(self, exc: BaseException) -> None:
        with self._lock:
            self.connected = False
        state = "lost" if self._ever_connected else "unreachable"
        if state == self._state or self._stopping.is_set():
            return
        self._state = state
        what = type(exc).__name__
        where = mask_url(self.broker_url)
        if state == "lost":
            log.warning(
                "cluster %s: lost the broker %s (%s); keeping the last view, trying again",
                self.name,
                where,
                what,
            )
        else:
            log.warning(
                "cluster %s: cannot reach the broker %s (%s); serving this branch, trying again",
                self.name,
                where,
                what,
            )

    def _on_message(self, body: Any, message: Any) -> None:
        member = self._parse(body)
        if member is None:
            return
        with self._lock:
            if isinstance(member, str):  # leaving
                if self._members.pop(member, None) is not None:
                    log.info("cluster %s: %s left", self.name, member)
                return
            known = self._members.get(member.id)
            if known is None or known.state != "alive":
                log.info("cluster %s: %s is here at %s", self.name, member.id, member.url)
            self._members[member.id] = member

    def _parse(self, body: Any) -> Member | str | None:
        """A member from an announcement, its id when it is leaving; None for
        anything else (this branch's own, another cluster's, not ours)."""
        if not isinstance(body, dict) or body.get("cluster") != self.name:
            return None
        ident = body.get("id")
        if not isinstance(ident, str) or ident == self.id or not self._valid_id(ident):
            return None
        if body.get("kind") == "leaving":
            return ident
        url, settings = str(body.get("url", "")), body.get("settings", {})
        if not url.startswith(("http://", "https://")) or len(url) > 2048:
            return None
        try:
            load = float(body.get("load", 0.0))
            return Member(
                id=ident,
                url=url.rstrip("/"),
                version=str(body.get("version", "")),
                started=str(body.get("started", "")),
                instances=int(body.get("instances", 0)),
                load=load if math.isfinite(load) and load >= 0 else 0.0,
                digest=str(body.get("digest", "")),
                settings=dict(settings),
                last_seen=time.time(),
                heard=time.monotonic(),
            )
        except (KeyError, TypeError, ValueError):
            return None

    def _expire(self) -> None:
        """Mark the silent lost, forget the long lost (only while connected)."""
        with self._lock:
            if not self.connected:
                return
            now = time.monotonic()
            for ident, member in list(self._members.items()):
                silent = now - max(member.heard, self._back_at)
                if silent > FORGET_AFTER * self.heartbeat:
                    del self._members[ident]
                elif member.state == "alive" and silent > LOST_AFTER * self.heartbeat:
                    log.warning(
                        "cluster %s: %s is lost (silent for %d heartbeats)",
                        self.name,
                        ident,
                        LOST_AFTER,
                    )
                    self._members[ident] = replace(member, state="lost")
