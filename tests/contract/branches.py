"""Fresh branches for the scenarios: the Python half; branches.rb is the Ruby half."""

from __future__ import annotations

import shutil
import socket
import tempfile
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from cyme_branch.testing import LiveBranch, LiveCluster, RedisServer, free_port

from contract import canonical
from matching import ScenarioError


def branch_key(config: Mapping[str, Any]) -> str:
    return canonical(config)


def _arguments(config: Mapping[str, Any]) -> list[str]:
    """The arguments a config asks for beyond LiveBranch's own: the
    supervisor's pace and restart storms (`--sup-interval`, `--restart-max`,
    `--restart-window`), `--allow-origin` and `--allow-host`."""
    args = []
    for key in ("sup_interval", "restart_max", "restart_window"):
        if key in config:
            args += [f"--{key.replace('_', '-')}", str(config[key])]
    for origin in config.get("allow_origins", []):
        args += ["--allow-origin", origin]
    for host in config.get("allow_hosts", []):
        args += ["--allow-host", host]
    return args


class Branch:
    """A fresh `cyme-branch` with fault injection (a `LiveBranch`), and what its
    config asks for: a token, neighbours (live branches, dead URLs, listeners
    that never answer), the supervisor's pace, origins and host names allowed. It starts at once;
    `wait_up` waits for its ready line.

    With `cluster: {size: N}` it is the first member of a fresh cluster of N
    (a `LiveCluster`) on a Redis broker that `broker()` gives; `wait_up`
    waits until every member lists all. branches.rb starts the same with
    `python -m cyme_branch.testing cluster`, which takes a token only."""

    def __init__(
        self,
        config: Mapping[str, Any],
        branch_id: str = "contract",
        broker: Callable[[], str] | None = None,
    ) -> None:
        self.config = dict(config)
        self.id = branch_id
        self.token: str | None = config.get("token")
        self.neighbours: list[LiveBranch] = []
        self.listeners: list[socket.socket] = []
        self.cluster: LiveCluster | None = None
        if "cluster" in config:
            extra = sorted(set(config) - {"token", "cluster"})
            if extra or broker is None:
                raise ScenarioError(f"a cluster takes a token only, not {extra}; and a broker")
            self.cluster = LiveCluster(
                broker(),
                config["cluster"]["size"],
                token=self.token,
                fault_injection=True,
            )
            for member in self.cluster.members:
                member.start(wait=False)
            self.live = self.cluster.members[0]
            self.id = self.live.id
            return
        peers = [
            f"{peer}={self._peer_url(peer, kind)}" for peer, kind in config.get("peers", {}).items()
        ]
        self.live = LiveBranch(
            branch_id=branch_id,
            token=self.token,
            peers=peers,
            peer_timeout=config.get("peer_timeout"),
            fault_injection=True,
            args=_arguments(config),
        ).start(wait=False)

    @property
    def url(self) -> str:
        return self.live.url

    def _peer_url(self, peer: str, kind: str) -> str:
        if kind == "branch":
            neighbour = LiveBranch(branch_id=peer, token=self.token).start()
            self.neighbours.append(neighbour)
            return neighbour.url
        if kind == "silent":
            # Connections are accepted by the kernel, and never answered.
            listener = socket.socket()
            listener.bind(("127.0.0.1", 0))
            listener.listen(16)
            self.listeners.append(listener)
            return f"http://127.0.0.1:{listener.getsockname()[1]}"
        if kind == "unreachable":
            return f"http://127.0.0.1:{free_port()}"
        raise ScenarioError(f"unknown kind of neighbour {kind!r}")

    def wait_up(self) -> Branch:
        if self.cluster is not None:
            for member in self.cluster.members:
                member.wait_ready()
            self.cluster.wait_converged()
            return self
        self.live.wait_ready()
        return self

    def stop(self) -> None:
        if self.cluster is not None:
            self.cluster.close()
            return
        self.live.close()
        for neighbour in self.neighbours:
            neighbour.close()
        for listener in self.listeners:
            listener.close()


class BranchPool:
    """Fresh branches, one per scenario run, started one ahead.

    Taking a branch starts the next one of the same config in the background,
    so a branch's start-up (half a second, mostly imports) overlaps the
    scenario run before it. No branch is used twice. The clusters share one
    redis-server, started with the first, each under a cluster name of its own.
    """

    def __init__(self) -> None:
        self._spares: dict[str, Branch] = {}
        self._redis: RedisServer | None = None

    def broker(self) -> str:
        if self._redis is None:
            self._redis = RedisServer(Path(tempfile.mkdtemp(prefix="cyme-contract-redis-"))).start()
        return self._redis.url()

    def _new(self, config: Mapping[str, Any]) -> Branch:
        return Branch(config, broker=self.broker)

    @contextmanager
    def take(self, config: Mapping[str, Any]) -> Iterator[Branch]:
        key = branch_key(config)
        branch = self._spares.pop(key, None) or self._new(config)
        self._spares[key] = self._new(config)
        try:
            yield branch.wait_up()
        finally:
            branch.stop()

    def close(self) -> None:
        for spare in self._spares.values():
            spare.stop()
        self._spares.clear()
        if self._redis is not None:
            self._redis.stop()
            shutil.rmtree(self._redis.root, ignore_errors=True)
            self._redis = None
