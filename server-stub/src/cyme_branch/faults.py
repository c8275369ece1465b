"""Faults on demand, for testing clients against a real server.

Only a branch started with `--allow-fault-injection` reads the `Cyme-Fault`
request header; see "Fault injection" in openapi.yaml for its settings.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from .problems import MalformedRequest

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


def parse(value: str) -> Fault:
    """Read a `Cyme-Fault` header value, or refuse it with 400."""
    settings: dict[str, str] = {}
    for item in value.split(";"):
        key, _, setting = item.strip().partition("=")
        key = key.strip().lower()
        if key:
            settings[key] = setting.strip()
    unknown = set(settings) - {"id", "times", "status", "retry-after", "delay", "drop", "after"}
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
    )
    if fault.status is None and not fault.drop and not fault.delay:
        raise MalformedRequest(f"{HEADER}: give status=, delay= or drop.")
    if fault.after and fault.status is None and not fault.drop:
        raise MalformedRequest(f"{HEADER}: after goes with status= or drop.")
    return fault


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
