"""The tasks a worker of the Celery tests runs: started with `-A cyme_probe`."""

from __future__ import annotations

import time
from pathlib import Path

from celery import Celery

app = Celery("cyme_probe")


@app.task(name="cyme_probe.touch")
def touch(path: str, text: str) -> str:
    """Write `text` to `path`: the test sees the task ran."""
    Path(path).write_text(text, encoding="utf-8")
    return text


@app.task(name="cyme_probe.hold")
def hold(path: str, seconds: float) -> str:
    """Say it started (`path`.started), take `seconds`, then say it is done (`path`)."""
    Path(f"{path}.started").write_text("started", encoding="utf-8")
    time.sleep(seconds)
    Path(path).write_text("done", encoding="utf-8")
    return "done"
