"""The exceptions of the SDK; the Ruby SDK raises the same names.

    APIError                        anything that went wrong talking to a branch
    ├── APIConnectionError          no answer: refused, reset, dropped
    │   └── APITimeoutError         no answer in time
    ├── TaskError                   a task's wait() saw it end otherwise than in SUCCESS
    │   ├── TaskFailedError             FAILURE: the task raised
    │   └── TaskRevokedError            REVOKED: revoked, terminated or expired
    └── APIStatusError              an answer with a 4xx or 5xx status
        ├── BadRequestError             400
        ├── AuthenticationError         401
        ├── PermissionDeniedError       403
        ├── NotFoundError               404
        ├── ConflictError               409
        ├── UnprocessableEntityError    422
        ├── RateLimitError              429
        └── InternalServerError         500 and above

Other statuses (405, 413, 415, ...) raise `APIStatusError` itself. Only
`_client.BaseClient._make_status_error` turns a response into one of these.
Messages name the method and URL, never headers, bodies or credentials. A
`TaskError` is not an error of the branch's: the branch answered, and said
the task failed; its message names the task's exception (its type and
arguments), which is the task's own.
"""

from __future__ import annotations

from typing import Any

import httpx

__all__ = [
    "APIConnectionError",
    "APIError",
    "APIStatusError",
    "APITimeoutError",
    "AuthenticationError",
    "BadRequestError",
    "ConflictError",
    "InternalServerError",
    "NotFoundError",
    "PermissionDeniedError",
    "RateLimitError",
    "TaskError",
    "TaskFailedError",
    "TaskRevokedError",
    "UnprocessableEntityError",
]


def safe_url(url: httpx.URL) -> str:
    """The URL without user info or query string, which may hold secrets."""
    return str(url.copy_with(username=None, password=None, query=None))


class APIError(Exception):
    """Base of every error raised by the SDK."""

    method: str
    url: str

    def __init__(self, message: str, *, request: httpx.Request) -> None:
        super().__init__(message)
        self.message = message
        self.method = request.method
        self.url = safe_url(request.url)


class APIConnectionError(APIError):
    """The branch could not be reached, or closed the connection without answering."""

    def __init__(self, *, request: httpx.Request, message: str | None = None) -> None:
        text = message or "Connection error"
        super().__init__(f"{text}: {request.method} {safe_url(request.url)}", request=request)


class APITimeoutError(APIConnectionError):
    """The branch did not answer within the timeout (or, from `Scheduled.wait`, a change
    asked for with nowait did not finish in time)."""

    def __init__(self, *, request: httpx.Request, message: str | None = None) -> None:
        super().__init__(request=request, message=message or "Request timed out")


class APIStatusError(APIError):
    """The branch answered with an error status; `body` is its problem document."""

    status_code: int
    body: dict[str, Any] | None
    request_id: str | None

    def __init__(
        self,
        message: str,
        *,
        response: httpx.Response,
        body: dict[str, Any] | None,
    ) -> None:
        super().__init__(message, request=response.request)
        self.response = response
        self.status_code = response.status_code
        self.body = body
        self.request_id = response.headers.get("x-request-id")

    @property
    def headers(self) -> httpx.Headers:
        """The answer's headers (`Retry-After`, `WWW-Authenticate`, ...)."""
        return self.response.headers

    @property
    def problem_type(self) -> str | None:
        """The problem's `type`, such as `urn:cyme:problem:not-found`."""
        value = (self.body or {}).get("type")
        return value if isinstance(value, str) else None

    @property
    def errors(self) -> list[dict[str, Any]]:
        """For a 422, every invalid field (`location`, `field`, `message`)."""
        value = (self.body or {}).get("errors")
        return value if isinstance(value, list) else []


class BadRequestError(APIStatusError):
    """400: the request could not be parsed, or asked a GET not to wait."""


class AuthenticationError(APIStatusError):
    """401: the branch wants a token (`token=` or CYME_TOKEN) it did not get."""


class PermissionDeniedError(APIStatusError):
    """403: the branch refused the request whatever the token: it came from a web
    page of an origin the branch does not serve, or named a host it does not
    answer to (`problem_type` says which)."""


class NotFoundError(APIStatusError):
    """404: no such app, instance, queue, consumer, branch or route."""


class ConflictError(APIStatusError):
    """409: the instance name is taken, or the private queue cannot be cancelled."""


class UnprocessableEntityError(APIStatusError):
    """422: a field is invalid; `errors` lists every one."""


class RateLimitError(APIStatusError):
    """429: too many requests."""


class InternalServerError(APIStatusError):
    """500 and above: the branch, or a neighbour, failed."""


STATUS_ERRORS: dict[int, type[APIStatusError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: ConflictError,
    422: UnprocessableEntityError,
    429: RateLimitError,
}


class TaskError(APIError):
    """A task followed with `wait()` ended otherwise than in SUCCESS.

    `task` is the task as the branch answered it (`state`, `result`,
    `date_done`, `traceback`); `task_id`, `state` and `traceback` are its, and
    `reason` what ended it: the exception of a task that failed
    (`ValueError: boom`), why one was revoked (`terminated`).
    """

    def __init__(
        self, message: str, *, task: Any, reason: str | None, request: httpx.Request
    ) -> None:
        super().__init__(message, request=request)
        self.task = task
        self.task_id: str = task.id
        self.state: str = task.state
        self.reason = reason
        self.traceback: str | None = task.traceback


class TaskFailedError(TaskError):
    """The task raised (FAILURE): `reason` names the exception (`ValueError: boom`),
    `traceback` is the worker's."""

    def __init__(self, *, task: Any, request: httpx.Request) -> None:
        reason = _describe(task.result)
        super().__init__(
            f"Task {task.id} failed: {reason}", task=task, reason=reason, request=request
        )


class TaskRevokedError(TaskError):
    """The task was revoked (REVOKED): `reason` says whether before it ran (`revoked`),
    while it ran (`terminated`), or as it expired (`expired`)."""

    def __init__(self, *, task: Any, request: httpx.Request) -> None:
        result = task.result if isinstance(task.result, dict) else {}
        message = result.get("exc_message")
        reason = str(message[0]) if isinstance(message, list) and message else None
        super().__init__(
            f"Task {task.id} was revoked" + (f" ({reason})" if reason else ""),
            task=task,
            reason=reason,
            request=request,
        )


def _describe(result: Any) -> str:
    """`ValueError: boom`, of an exception as Celery keeps it (`exc_type`, `exc_message`)."""
    if not isinstance(result, dict) or "exc_type" not in result:
        return repr(result)
    message = result.get("exc_message")
    if isinstance(message, list):
        message = ", ".join(str(part) for part in message)
    kind = str(result["exc_type"])
    return kind if message in (None, "") else f"{kind}: {message}"
