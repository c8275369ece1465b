"""The project's tasks; a simulated branch runs the same three, by the same names."""

import time
from typing import Any, NoReturn

from .celery import app


@app.task
def add(x: Any, y: Any) -> Any:
    """`proj.tasks.add(2, 3)` returns 5."""
    return x + y


@app.task
def sleep(seconds: float) -> float:
    """STARTED for `seconds`, then returns them."""
    time.sleep(seconds)
    return seconds


@app.task
def fail(message: str = "proj.tasks.fail failed, as asked") -> NoReturn:
    """Fails with `ValueError(message)`."""
    raise ValueError(message)
