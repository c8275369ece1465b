"""The branch's log: one handler for stderr or `--logfile`, and a cheap access log.

Records are formatted with `LOG_FORMAT`. The access log writes a line per
request, which through `logging` costs more than the rest of a simple
request (a record object, its caller, its thread and process...): the
handler therefore takes access lines directly (`LineHandler.access`), in
the same format, and writes those of one turn of the event loop at once.
Every other record is written at once, after the access lines before it, so
the log keeps its order.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import TextIO

LOG_FORMAT = "[%(asctime)s: %(levelname)s] %(message)s"


class LineHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """A StreamHandler with `LOG_FORMAT`, and `access(message)` for access lines."""

    def __init__(self, stream: TextIO) -> None:
        super().__init__(stream)
        self.setFormatter(logging.Formatter(LOG_FORMAT))
        self._pending: list[str] = []
        # The handler's own (reentrant) lock: records of other threads (the
        # Celery supervisor's) are written under it too.
        assert self.lock is not None
        self._lock = self.lock
        self._second = -1
        self._stamp = ""

    def access(self, message: str) -> None:
        """Log `message` at INFO, as `logging` would write it, within this turn of the loop."""
        now = time.time()
        second = int(now)
        if second != self._second:
            # What logging.Formatter.formatTime writes, computed once a second.
            self._second = second
            self._stamp = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(second))
        line = f"[{self._stamp},{int((now - second) * 1000):03d}: INFO] {message}\n"
        with self._lock:
            self._pending.append(line)
            first = len(self._pending) == 1
        if first:
            try:
                asyncio.get_running_loop().call_soon(self._write_pending)
            except RuntimeError:  # no event loop: at once
                self._write_pending()

    def _write_pending(self) -> None:
        with self._lock:
            if not self._pending:
                return
            lines, self._pending = "".join(self._pending), []
            try:
                self.stream.write(lines)
                self.stream.flush()
            except (OSError, ValueError):
                pass  # stderr closed: nothing more can be said

    def emit(self, record: logging.LogRecord) -> None:
        self._write_pending()
        super().emit(record)

    def flush(self) -> None:
        self._write_pending()
        super().flush()


def access_writer(logger: logging.Logger) -> LineHandler | None:
    """The handler to give `logger`'s INFO lines to directly: when they would go to
    one `LineHandler` only (through the root logger), and nothing filters them."""
    if not logger.isEnabledFor(logging.INFO) or logger.filters:
        return None
    handlers: list[logging.Handler] = []
    current: logging.Logger | None = logger
    while current is not None:
        handlers += current.handlers
        current = current.parent if current.propagate else None
    if len(handlers) != 1 or not isinstance(handlers[0], LineHandler):
        return None
    handler = handlers[0]
    if handler.level > logging.INFO or handler.filters:
        return None
    return handler
