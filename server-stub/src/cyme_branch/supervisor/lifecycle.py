"""What a worker is doing: the observed state of one instance, kept by its supervisor.

Both supervisors keep a `Lifecycle` per instance and tell it what they see
happen (a worker started, answered, went silent, exited) and what they do
(a warm shutdown, a restart); it keeps the state the API shows
(openapi.yaml, "What the workers are doing"):

    starting --answers--> running --exits--> stopped / backoff / failed
        ^                    |                   |
        |                  silent -> unknown     | the next round, once the
        +--------------------+-------------------+ pause is over: a restart
    restart:  stopping -> starting -> running
    disable:  stopping -> disabled;   enable: starting -> running

and decides, when a worker exits on its own, what comes next: a restart at
the next round (`stopped`), after a pause that doubles with each restart
that was not followed by an answer (`backoff`), or none at all when the
worker would need more than `RestartPolicy.max_restarts` restarts within
`RestartPolicy.window` seconds (`failed`, until it is enabled again).

It lives in memory: a branch started again begins every enabled instance's
lifecycle anew.
"""

from __future__ import annotations

import json
import signal
import time
from collections import deque
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

STATES = ("starting", "running", "stopping", "stopped", "disabled", "backoff", "failed", "unknown")
MAX_PAUSE = 60.0  # the longest pause between two restarts of a worker that keeps exiting
# last_exit.reason of an exit the branch asked for.
RESTARTED = "restarted"
DISABLED = "disabled"
ADOPTED = "unknown: the worker was adopted from an earlier branch, which alone could read its exit"


@dataclass(frozen=True)
class RestartPolicy:
    """When a worker that keeps exiting is restarted, and when it is left `failed`."""

    max_restarts: int = 5
    window: float = 300.0
    # The supervisor's round: the unit of the pauses between restarts.
    interval: float = 5.0

    def pause(self, restarts_in_a_row: int) -> float:
        """The pause before the next restart, after this many without an answer between."""
        return min(MAX_PAUSE, self.interval * (2.0**restarts_in_a_row - 1))


def utc(timestamp: float) -> str:
    """RFC 3339 in UTC, to the millisecond: `2026-11-30T21:02:03.114Z`."""
    moment = datetime.fromtimestamp(timestamp, timezone.utc)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"


@dataclass(frozen=True)
class Exit:
    """How a worker exited: its code or the signal that killed it (neither when unknown)."""

    at: float
    code: int | None
    signal: str | None
    reason: str | None = None

    @classmethod
    def of(cls, returncode: int | None, reason: str | None = None) -> Exit:
        """From `Popen.returncode` (negative: the signal); None: not known."""
        now = time.time()
        if returncode is None:
            return cls(now, None, None, reason)
        if returncode < 0:
            return cls(now, None, signal_name(-returncode), reason)
        return cls(now, returncode, None, reason)

    def public(self) -> dict[str, Any]:
        return {"at": utc(self.at), "code": self.code, "signal": self.signal, "reason": self.reason}


class Lifecycle:
    """The observed state of one instance's worker; see the module's docstring."""

    def __init__(self, policy: RestartPolicy, *, enabled: bool = True) -> None:
        self.policy = policy
        self.state = "starting" if enabled else "disabled"
        self.since = time.time()
        self.pid: int | None = None
        self.processes: int | None = None
        self.restarts = 0
        self.last_exit: Exit | None = None
        self.retry_at = 0.0  # time.monotonic() before which no restart happens
        self._restarted_at: deque[float] = deque()  # monotonic times of the restarts
        self._in_a_row = 0  # restarts not followed by an answer
        self._json: bytes | None = None

    def __repr__(self) -> str:
        return f"Lifecycle(state={self.state!r}, pid={self.pid!r}, restarts={self.restarts})"

    # -- what the API shows ---------------------------------------------------

    def public(self) -> dict[str, Any]:
        return {
            "state": self.state,
            "since": utc(self.since),
            "pid": self.pid,
            "processes": self.processes,
            "restarts": self.restarts,
            "last_exit": self.last_exit.public() if self.last_exit is not None else None,
        }

    def json_fields(self) -> bytes:
        """`public()` as the members of a JSON object (no braces), made once per change."""
        if self._json is None:
            self._json = json.dumps(self.public(), separators=(",", ":")).encode()[1:-1]
        return self._json

    @property
    def running(self) -> bool:
        """Whether a worker process is there (it may be starting, or silent)."""
        return self.state in ("starting", "running", "unknown")

    # -- what happens ---------------------------------------------------------

    def _enter(self, state: str) -> None:
        if state != self.state:
            self.state = state
            self.since = time.time()
        self._json = None

    def started(self, pid: int | None) -> None:
        """A worker was started (or adopted) and has not answered yet."""
        self.pid = pid
        self.processes = None
        self._enter("starting")

    def adopted(self, pid: int) -> None:
        """A worker left running by an earlier branch is taken over: it runs."""
        self.pid = pid
        self._enter("running")

    def answered(self, processes: int | None = None) -> None:
        """The worker answered the branch: it runs, and counts as having come back."""
        if processes is not None and processes != self.processes:
            self.processes = processes
            self._json = None
        if self.state in ("starting", "unknown"):
            self._enter("running")
        self._in_a_row = 0

    def silent(self) -> None:
        """The worker's process is there, but it did not answer."""
        if self.state == "running":
            self._enter("unknown")

    def stopping(self) -> None:
        self._enter("stopping")

    def stopped(self, returncode: int | None, reason: str, *, disabled: bool = False) -> None:
        """The worker exited because the branch asked it to (a restart, a disable)."""
        self.last_exit = Exit.of(returncode, reason)
        self.pid = None
        self.processes = None
        self._enter("disabled" if disabled else "stopping")

    def disabled(self) -> None:
        """Disabled while no worker ran (it had exited): its last exit stays."""
        self.pid = None
        self.processes = None
        self._enter("disabled")

    def exited(self, returncode: int | None, reason: str | None = None) -> None:
        """The worker exited on its own: stopped, backoff, or failed (a restart storm)."""
        self.last_exit = Exit.of(returncode, reason)
        self.pid = None
        self.processes = None
        now = time.monotonic()
        while self._restarted_at and self._restarted_at[0] <= now - self.policy.window:
            self._restarted_at.popleft()
        policy = self.policy
        if len(self._restarted_at) >= policy.max_restarts:
            storm = (
                f"exited again after {_restarts(len(self._restarted_at))} within "
                f"{policy.window:g} s (at most {policy.max_restarts} allowed): "
                f"enable the instance to start it again"
            )
            self.last_exit = Exit(
                self.last_exit.at, self.last_exit.code, self.last_exit.signal, storm
            )
            self._enter("failed")
        elif now < self.retry_at:
            self._enter("backoff")
        else:
            self._enter("stopped")

    def due(self) -> bool:
        """Whether the supervisor is to start the worker again now."""
        return self.state in ("stopped", "backoff") and time.monotonic() >= self.retry_at

    def restarted(self, pid: int | None) -> None:
        """The supervisor started the worker again after it exited on its own."""
        now = time.monotonic()
        self.restarts += 1
        self._restarted_at.append(now)
        self._in_a_row += 1
        self.retry_at = now + self.policy.pause(self._in_a_row)
        self.started(pid)

    def enabled(self, pid: int | None) -> None:
        """Started again by request (enable): the restart storm is forgotten."""
        self._restarted_at.clear()
        self._in_a_row = 0
        self.retry_at = 0.0
        self.started(pid)


def _restarts(count: int) -> str:
    return f"{count} restart" if count == 1 else f"{count} restarts"
