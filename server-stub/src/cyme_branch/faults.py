"""Faults on demand, for testing clients against a real server.

Only a branch started with `--allow-fault-injection` reads the `Cyme-Fault`
request header; see "Fault injection" in openapi.yaml for its settings.
Besides failures of the request itself, a fault may upset what the branch
watches (`upset`): kill the worker of the instance the request names
(`kill=SIGKILL`, `exit=1`), or set the depth of the queue it names
(`depth=7`), before the request is handled.
"""

from __future__ import annotations

import signal
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .problems import MalformedRequest, NotFound

if TYPE_CHECKING:
    from .supervisor import Supervisor

HEADER = "Cyme-Fault"
MAX_DELAY = 60.0
_FORGET_AFTER = 600.0  # seconds an exhausted or idle fault id is remembered


@dataclass(frozen=True)
class Fault:
    id: str
    times: int = 1
    status: int | None = None
    retry_after: float | None = None
    delay: float = 0.0
    drop: bool = False
    # Fail after the request was handled, its work done: the answer is lost
    # on the way, which is what a retry with an Idempotency-Key is for.
    after: bool = False
    # The worker of the instance named by the path gets this signal, or exits
    # with this code; the queue named by the path gets this depth (None in
    # `depth`: reading it fails).
    kill: int | None = None
    exit: int | None = None
    depth: int | None = None
    set_depth: bool = False

    @property
    def upsets(self) -> bool:
        return self.kill is not None or self.exit is not None or self.set_depth


def parse(value: str) -> Fault:
    """Read a `Cyme-Fault` header value, or refuse it with 400."""
    settings: dict[str, str] = {}
    for item in value.split(";"):
        key, _, setting = item.strip().partition("=")
        key = key.strip().lower()
        if key:
            settings[key] = setting.strip()
    known = {"id", "times", "status", "retry-after", "delay", "drop", "after", "kill", "exit"}
    unknown = set(settings) - known - {"depth"}
    if unknown:
        raise MalformedRequest(f"{HEADER}: unknown setting {sorted(unknown)[0]!r}.")
    status = _number(settings, "status", 400, 599, integer=True)
    retry_after = _number(settings, "retry-after", 0, 3600)
    if retry_after is None and status in (429, 503):
        retry_after = 1
    fault = Fault(
        id=settings.get("id") or value.strip(),
        times=int(_number(settings, "times", 1, 1000, integer=True) or 1),
        status=int(status) if status is not None else None,
        retry_after=retry_after,
        delay=_number(settings, "delay", 0, MAX_DELAY) or 0.0,
        drop="drop" in settings,
        after="after" in settings,
        kill=_signal(settings["kill"]) if "kill" in settings else None,
        exit=int(_number(settings, "exit", 0, 255, integer=True) or 0)
        if "exit" in settings
        else None,
        depth=_depth(settings["depth"]) if "depth" in settings else None,
        set_depth="depth" in settings,
    )
    if fault.kill is not None and fault.exit is not None:
        raise MalformedRequest(f"{HEADER}: give kill= or exit=, not both.")
    if fault.status is None and not fault.drop and not fault.delay and not fault.upsets:
        raise MalformedRequest(f"{HEADER}: give status=, delay=, drop, kill=, exit= or depth=.")
    if fault.after and fault.status is None and not fault.drop:
        raise MalformedRequest(f"{HEADER}: after goes with status= or drop.")
    return fault


def _signal(text: str) -> int:
    """`SIGKILL`, `KILL` or `9`."""
    name = text.strip().upper()
    if name.isdigit():
        number = int(name)
    else:
        name = name if name.startswith("SIG") else f"SIG{name}"
        number = getattr(signal, name, 0) if name.isidentifier() else 0
    try:
        return int(signal.Signals(number))
    except ValueError:
        raise MalformedRequest(f"{HEADER}: kill must name a signal, such as SIGKILL.") from None


def _depth(text: str) -> int | None:
    """A number of messages, or `error` (None: reading the queue fails)."""
    if text.strip().lower() == "error":
        return None
    if not text.strip().isdigit() or int(text) > 10**9:
        raise MalformedRequest(f"{HEADER}: depth must be a number of messages, or error.")
    return int(text)


def upset(supervisor: Supervisor, fault: Fault, path: Mapping[str, str]) -> None:
    """What a fault does to the workers or the broker, before the request is handled."""
    if fault.kill is not None or fault.exit is not None:
        instance = path.get("instance")
        if instance is None:
            raise MalformedRequest(
                f"{HEADER}: kill= and exit= go with a request naming an instance."
            )
        if supervisor.observe(instance) is None:
            raise NotFound(f"No worker of instance '{instance}' to kill.")
        supervisor.inject_exit(instance, signal=fault.kill, code=fault.exit)
    if fault.set_depth:
        app, queue = path.get("app"), path.get("queue")
        if app is None or queue is None:
            raise MalformedRequest(f"{HEADER}: depth= goes with a request naming a queue.")
        supervisor.inject_depth(app, queue, fault.depth)


def _number(
    settings: dict[str, str], key: str, low: float, high: float, *, integer: bool = False
) -> float | None:
    if key not in settings:
        return None
    try:
        number = int(settings[key]) if integer else float(settings[key])
    except ValueError:
        kind = "an integer" if integer else "a number"
        raise MalformedRequest(f"{HEADER}: {key} must be {kind}.") from None
    if not low <= number <= high:
        raise MalformedRequest(f"{HEADER}: {key} must be between {low:g} and {high:g}.")
    return number


class FaultInjector:
    """Counts, per fault id, how many requests have had their fault."""

    def __init__(self) -> None:
        self._used: dict[str, tuple[int, float]] = {}

    def take(self, value: str | None) -> Fault | None:
        """The fault a request is to suffer, if any is left for its id."""
        if not value:
            return None
        fault = parse(value)
        now = time.monotonic()
        used, _ = self._used.get(fault.id, (0, now))
        if len(self._used) > 10_000:
            self._used = {k: v for k, v in self._used.items() if now - v[1] < _FORGET_AFTER}
        if used >= fault.times:
            return None
        self._used[fault.id] = (used + 1, now)
        return fault
