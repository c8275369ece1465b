"""Celery tasks on real brokers: Celery's own `send_task`, result backends and `revoke`.

Send. A task's message is published by Celery's `send_task`, on a Celery app
of the app's broker (one per broker and thread, as the supervisor's remote
control uses them), with no result backend: sending never touches one.
Celery's producer blocks, so it runs in a pool of threads of its own, and
its connection and retries are kept within the control timeout (kombu's
connect timeout is a third of it, and a publish is tried twice at most), so
that a broker that is down is a 503 and the message was not sent. Only a
broker that takes longer than the whole timeout leaves it unknown (504).

Follow. A task's state is read with Celery's result backend for the app's
backend URL (`get_task_meta`, in the same threads; one Celery app per
backend URL, whose backend Celery keeps per thread), again and again until
it is done or the wait is over, a quarter longer between two reads each
time (1 ms to 100 ms). The first read gets the request's deadline; a later
one that does not answer before the wait is over ends the wait with the
state read before.

Revoke. Celery's remote control `revoke`, broadcast on the app's broker.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import Any

from celery import Celery
from celery.app.backends import by_url

from ..problems import BackendUnavailable, BrokerUnavailable, GatewayTimeout, invalid
from . import time_left
from .tasks import (
    FIRST_POLL,
    LAST_POLL,
    POLL_GROWTH,
    TaskMessage,
    TaskMeta,
    check_readable,
    exception_result,
    iso,
    plain,
)

TASK_THREADS = 8
CONNECT_TIMEOUT = 4.0  # kombu's default; a third of the control timeout when that is less
# A publish that fails on a broken connection is tried once more, at once.
PUBLISH_RETRY = {"max_retries": 1, "interval_start": 0, "interval_step": 0.1, "interval_max": 0.1}
LAST_READ = 0.05  # seconds a read may take at least, even at the end of a wait

# `app_for(broker)`: this thread's Celery app for a broker, with `.app` and
# `.errors` (the exceptions that mean the broker is not there); the Celery
# supervisor's own.
ProducerFor = Callable[[str], Any]


class _Unreachable(Exception):
    """A broker or backend error, carried out of a task thread."""

    def __init__(self, cause: BaseException) -> None:
        super().__init__(type(cause).__name__)
        self.cause = cause


class CeleryTasks:
    """The Celery supervisor's `TaskRunner`; see the module's docstring."""

    def __init__(self, timeout: float, app_for: ProducerFor) -> None:
        self._timeout = timeout
        self._app_for = app_for
        self._executor = ThreadPoolExecutor(TASK_THREADS, thread_name_prefix="cyme-tasks")
        self._results: dict[str, Any] = {}  # Celery apps by result backend URL
        self._results_lock = threading.Lock()

    def check_backend(self, url: str) -> None:
        check_readable(url)
        try:
            by_url(url)  # Celery's backend class for the URL's scheme, imported
        except Exception as exc:
            scheme = url.partition("://")[0]
            raise invalid(
                "body",
                "backend",
                f"Celery cannot use a result backend '{scheme}://' here ({type(exc).__name__})",
            ) from None

    async def send(self, broker: str, backend: str | None, message: TaskMessage) -> None:
        # The workers store the results in their own backend: `backend` is theirs to use.
        try:
            await self._in_thread(_send, partial(self._app_for, broker), message)
        except asyncio.TimeoutError:
            raise GatewayTimeout(
                f"The app's broker did not take task '{message.id}' within "
                f"{self._timeout:g} s: it may have been sent.",
                members={"task_id": message.id, "sent": None},
            ) from None
        except _Unreachable as exc:
            raise BrokerUnavailable(
                f"The app's broker cannot be reached ({_reason(exc.cause)}): "
                f"the task was not sent.",
                members={"sent": False},
            ) from None

    async def meta(self, backend: str, task_id: str, *, wait: float) -> TaskMeta:
        end = time.monotonic() + wait
        limit = max(time_left(self._timeout), LAST_READ)
        pause = FIRST_POLL
        meta: TaskMeta | None = None
        while True:
            try:
                meta = await self._in_thread(_read, self._backend, backend, task_id, limit=limit)
            except asyncio.TimeoutError:
                if meta is not None:
                    return meta  # the wait is over: the state read last
                raise BackendUnavailable(
                    f"The app's result backend did not answer within {limit:.3g} s.",
                    members={"task_id": task_id},
                ) from None
            except _Unreachable as exc:
                raise BackendUnavailable(
                    f"The app's result backend cannot be read ({_reason(exc.cause)}).",
                    members={"task_id": task_id},
                ) from None
            left = end - time.monotonic()
            if meta.ready or left <= 0:
                return meta
            await asyncio.sleep(min(pause, left))
            pause = min(pause * POLL_GROWTH, LAST_POLL)
            limit = min(self._timeout, max(end - time.monotonic(), LAST_READ))

    async def revoke(
        self, broker: str, backend: str | None, task_id: str, *, terminate: bool, signal: str
    ) -> None:
        try:
            await self._in_thread(
                _revoke, partial(self._app_for, broker), task_id, terminate, signal
            )
        except asyncio.TimeoutError:
            raise GatewayTimeout(
                f"The app's broker did not take the revoke of task '{task_id}' within "
                f"{self._timeout:g} s.",
                members={"task_id": task_id},
            ) from None
        except _Unreachable as exc:
            raise BrokerUnavailable(
                f"The app's broker cannot be reached ({_reason(exc.cause)}): "
                f"the task was not revoked.",
                members={"task_id": task_id},
            ) from None

    async def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)

    async def _in_thread(self, call: Callable[..., Any], *args: Any, limit: float = 0) -> Any:
        """`call(*args)` in a task thread, for at most `limit` seconds (the
        request's deadline by default)."""
        wait = limit or max(time_left(self._timeout), LAST_READ)
        loop = asyncio.get_running_loop()
        return await asyncio.wait_for(loop.run_in_executor(self._executor, call, *args), wait)

    def _backend(self, url: str) -> Any:
        """This thread's Celery result backend for a URL."""
        with self._results_lock:
            app = self._results.get(url)
            if app is None:
                app = Celery("cyme-branch-results", backend=url, set_as_current=False)
                # Without these a Redis that accepts and never answers would
                # hold the thread for good.
                app.conf.update(
                    redis_socket_timeout=self._timeout,
                    redis_socket_connect_timeout=min(CONNECT_TIMEOUT, self._timeout / 3),
                    redis_retry_on_timeout=False,
                )
                self._results[url] = app
        return app.backend  # Celery keeps one per thread


def _send(app_for: Callable[[], Any], message: TaskMessage) -> None:
    """Publish a task's message with Celery's `send_task` (in a task thread)."""
    producer = app_for()
    options: dict[str, Any] = {
        name: value
        for name, value in (
            ("queue", message.queue),
            ("routing_key", message.routing_key),
            ("countdown", message.countdown),
            ("eta", message.eta),
            ("priority", message.priority),
        )
        if value is not None
    }
    try:
        producer.app.send_task(
            message.name,
            args=message.args,
            kwargs=message.kwargs,
            task_id=message.id,
            expires=message.expires,
            add_to_parent=False,
            retry=True,
            retry_policy=PUBLISH_RETRY,
            **options,
        )
    except producer.errors as exc:
        raise _Unreachable(exc) from None


def _read(backend_for: Callable[[str], Any], url: str, task_id: str) -> TaskMeta:
    """A task's meta from Celery's result backend (in a task thread)."""
    try:
        meta = backend_for(url).get_task_meta(task_id)
    except Exception as exc:  # whatever the backend's client raises: it cannot be read
        raise _Unreachable(exc) from None
    result = meta.get("result")
    result = exception_result(result) if isinstance(result, BaseException) else plain(result)
    trace = meta.get("traceback")
    return TaskMeta(
        str(meta.get("status") or "PENDING"),
        result,
        iso(meta.get("date_done")),
        None if trace is None else str(trace),
    )


def _revoke(app_for: Callable[[], Any], task_id: str, terminate: bool, signal: str) -> None:
    """Broadcast Celery's `revoke` (in a task thread)."""
    producer = app_for()
    try:
        producer.app.control.revoke(task_id, terminate=terminate, signal=signal)
    except producer.errors as exc:
        raise _Unreachable(exc) from None


def _reason(exc: BaseException) -> str:
    """What went wrong, by the exception's kind: its text may hold a URL."""
    return type(exc).__name__
