"""The cluster: branches that find each other through their broker, no master.

- `membership.py` hears and makes announcements on the broker (kombu), and
  keeps the view: who is alive, who is lost.
- `declarations.py` keeps the apps and queues declared on the whole cluster.
- `calls.py` calls members over HTTP, with the cluster's token and trust.
- `scope.py` is what `?scope=cluster` does to an operation.

`Cluster` ties them to a branch. Every heartbeat it refreshes what the
branch announces (its instance count, its load, the digest of its
declarations), and pushes its declarations to each live member whose
digest differs (at most once every `LOST_AFTER` heartbeats per member):
members keep the highest version of each declaration, so a member that
joins late, or comes back from a partition, ends up with the cluster's
apps and queues. A branch without `--cluster` has a `Cluster` too, of one
branch and its `--peer` neighbours: `scope=cluster` then means them.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import jsonschema_rs

from .calls import Calls, Part
from .declarations import FILE_NAME, Declaration, Declarations
from .membership import LOST_AFTER, Member, Membership, utc

if TYPE_CHECKING:
    from ..branch import Branch

log = logging.getLogger("cyme.branch")

DEFAULT_NAME = "cyme"
DEFAULT_HEARTBEAT = 2.0
PUSH_BATCH = 1000  # declarations per request (the spec's maxItems)

__all__ = ["Cluster", "ClusterSettings", "Declaration", "Part", "Shapes", "Target"]


@dataclass(frozen=True)
class ClusterSettings:
    """How a branch joins a cluster (`--cluster` and the options after it)."""

    broker_url: str | None = field(default=None, repr=False)  # may hold a password
    name: str = DEFAULT_NAME
    heartbeat: float = DEFAULT_HEARTBEAT
    advertise_url: str | None = None
    token: str | None = field(default=None, repr=False)
    ca_file: str | None = None
    timeout: float = 5.0

    def calls(self) -> Calls:
        """How the branch calls members and `--peer` neighbours."""
        return Calls(self.token, self.timeout, self.ca_file)


class Shapes:
    """What the fields of a declaration must be: an app's or a queue's input."""

    def __init__(self, app: dict[str, Any], queue: dict[str, Any]) -> None:
        self._validators = {
            "app": jsonschema_rs.validator_for(app),
            "queue": jsonschema_rs.validator_for(queue),
        }

    def fields_error(self, declaration: Declaration) -> str | None:
        """Why the declaration's fields are not what its kind declares; None if they are."""
        if declaration.deleted:
            return None
        for error in self._validators[declaration.kind].iter_errors(declaration.fields):
            where = "/".join(str(p) for p in error.instance_path) or "fields"
            return f"{where}: {error.message}"[:500]
        return None


@dataclass(frozen=True)
class Target:
    """A member to call: its id and its URL (no trailing slash)."""

    id: str
    url: str
    instances: int = 0
    load: float = 0.0


def load_average() -> float:
    """The 1-minute load average over the CPUs (0 where the system has none)."""
    try:
        return round(os.getloadavg()[0] / (os.cpu_count() or 1), 3)
    except OSError:
        return 0.0


class Cluster:
    """A branch's cluster: its view, its declarations, and calls to members."""

    def __init__(
        self,
        branch: Branch,
        settings: ClusterSettings,
        valid_id: Callable[[str], bool],
        shapes: Shapes,
    ) -> None:
        self.branch = branch
        self.shapes = shapes
        self.settings = settings
        self.started = time.time()
        self.calls = branch.neighbours.calls
        self.membership: Membership | None = None
        if settings.broker_url:
            self.membership = Membership(
                settings.broker_url,
                settings.name,
                branch.config.id,
                settings.heartbeat,
                valid_id=valid_id,
            )
        self._declarations: Declarations | None = None
        self._ticking: asyncio.Task[None] | None = None
        self._pushed: dict[str, float] = {}  # member id -> when its last push began
        self._placements: dict[str, list[float]] = {}  # member id -> when, by monotonic time
        self._pushing: set[asyncio.Task[Part]] = set()

    @property
    def name(self) -> str | None:
        return self.settings.name if self.membership is not None else None

    @property
    def declarations(self) -> Declarations:
        if self._declarations is None:
            raise RuntimeError("the branch is not started")
        return self._declarations

    @property
    def stale(self) -> bool:
        return self.membership is not None and self.membership.stale

    @property
    def url(self) -> str:
        """Where members reach this branch."""
        return (self.settings.advertise_url or self.branch.url).rstrip("/")

    # -- starting and stopping -------------------------------------------------

    async def start(self, directory: Path) -> None:
        self._declarations = Declarations(directory / FILE_NAME)

    def join(self) -> None:
        """Start announcing: once the branch listens, so its URL is known."""
        if self.membership is not None and self._ticking is None:
            self.membership.announcement = self.announcement()
            self.membership.start()
            self._ticking = asyncio.create_task(self._tick())

    async def stop(self) -> None:
        if self._ticking is not None:
            self._ticking.cancel()
            await asyncio.gather(self._ticking, return_exceptions=True)
            self._ticking = None
        if self._pushing:
            await asyncio.gather(*self._pushing, return_exceptions=True)
        if self.membership is not None:
            await asyncio.to_thread(self.membership.stop)
        await self.calls.close()
        if self._declarations is not None:
            self._declarations.close()
            self._declarations = None

    # -- the view ------------------------------------------------------------------

    def announcement(self) -> dict[str, Any]:
        """What this branch says of itself every heartbeat: no token, no password."""
        described = self.branch.describe()
        settings = {
            key: described[key]
            for key in (
                "port",
                "loglevel",
                "logfile",
                "sup_interval",
                "supervisor",
                "restart_max",
                "restart_window",
            )
        }
        return {
            "cluster": self.settings.name,
            "id": self.branch.config.id,
            "url": self.url,
            "version": described["version"],
            "started": described["started"],
            "instances": described["instances"],
            "load": described["load"],
            "digest": self.declarations.digest,
            "settings": settings,
        }

    def alive(self) -> list[Member]:
        return self.membership.alive() if self.membership is not None else []

    def describe(self, ident: str) -> dict[str, Any] | None:
        """A member as its last announcement told, alive or lost; None if unknown."""
        if self.membership is None:
            return None
        member = self.membership.get(ident)
        if member is None:
            return None
        return {
            "id": member.id,
            "url": f"{member.url}/",
            **member.settings,
            "version": member.version,
            "state": member.state,
            "last_seen": utc(member.last_seen),
            "started": member.started,
            "instances": member.instances,
            "load": member.load,
            "cluster": self.settings.name,
            "stale": self.stale,
        }

    async def ids(self) -> list[str]:
        """`GET /branches`: this branch, the live members, the neighbours."""
        return [target.id for target in await self.targets()]

    async def targets(self) -> list[Target]:
        """Who a cluster-wide request goes to: this branch first, then the live
        members (as last heard), then the `--peer` neighbours not among them."""
        me = self.branch
        targets = [Target(me.config.id, self.url, me.store.instance_count(), load_average())]
        seen = {me.config.id}
        for member in self.alive():
            if member.id not in seen:
                seen.add(member.id)
                count = member.instances + self._placed_since(member)
                targets.append(Target(member.id, member.url, count, member.load))
        for peer_id in await me.neighbours.ids():
            if peer_id not in seen:
                seen.add(peer_id)
                targets.append(Target(peer_id, me.neighbours.url_of(peer_id)))
        return targets

    def placed(self, ident: str) -> None:
        """This branch placed an instance on the member `ident`."""
        self._placements.setdefault(ident, []).append(time.monotonic())

    def _placed_since(self, member: Member) -> int:
        """Instances this branch placed on `member` since its last announcement,
        which does not count them yet: without them, a burst of placements
        between two heartbeats would all go to the same member."""
        recent = [t for t in self._placements.get(member.id, []) if t > member.heard]
        if recent:
            self._placements[member.id] = recent
        else:
            self._placements.pop(member.id, None)
        return len(recent)

    # -- every heartbeat ---------------------------------------------------------

    async def _tick(self) -> None:
        assert self.membership is not None
        heartbeat = self.settings.heartbeat
        while True:
            try:
                self.membership.announcement = self.announcement()
                if self.membership.connected:
                    self._push_to_those_behind()
            except Exception:
                log.exception("cluster: a heartbeat failed")
            await asyncio.sleep(heartbeat)

    def _push_to_those_behind(self) -> None:
        digest = self.declarations.digest
        if not digest:
            return
        now = time.monotonic()
        every = LOST_AFTER * self.settings.heartbeat
        for member in self.alive():
            if member.digest == digest or now - self._pushed.get(member.id, -every) < every:
                continue
            self._pushed[member.id] = now
            task = asyncio.create_task(self.push(Target(member.id, member.url)))
            self._pushing.add(task)
            task.add_done_callback(self._pushing.discard)

    async def push(self, target: Target, declarations: list[Declaration] | None = None) -> Part:
        """Send declarations (by default all) to a member; what it answered."""
        every = self.declarations.all() if declarations is None else declarations
        part = Part(target.id, target.url, "ok", 200, body={"applied": 0, "failed": []})
        for start in range(0, len(every), PUSH_BATCH):
            batch = [d.wire() for d in every[start : start + PUSH_BATCH]]
            part = await self.calls.call(
                target.id, target.url, "POST", "/cluster/declarations", body={"declarations": batch}
            )
            if part.state != "ok":
                break
        if declarations is None:
            if part.state == "ok":
                log.info("cluster: pushed %d declarations to %s", len(every), target.id)
            else:
                log.warning("cluster: could not push to %s: %s", target.id, part.detail)
        return part
