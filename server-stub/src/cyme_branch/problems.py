"""RFC 9457 problems, raised anywhere and rendered in one place.

    Problem                      any answer that is not a success
     ├── MalformedRequest        400  the request cannot be parsed
     ├── Unauthorized            401  carries WWW-Authenticate
     ├── Forbidden               403  refused whoever sends it (browsers.py)
     │    ├── CrossSiteRequest         from a web page the branch does not serve
     │    └── HostNotAllowed           for a host name the branch does not answer to
     ├── NotFound                404
     ├── MethodNotAllowed        405  carries the Allow header
     ├── Conflict                409
     │   └── NoResultBackend     409  a task followed in an app without a backend
     ├── PayloadTooLarge         413
     ├── UnsupportedMediaType    415
     ├── ValidationFailed        422  carries one entry per invalid field
     ├── InternalError           500  never carries a traceback
     ├── BadGateway              502  a neighbour cannot be reached, a worker
     │                                answered an error or exited as it started
     ├── WorkerUnavailable       503  a broker cannot be reached, or a worker
     │                                is not running
     ├── BrokerUnavailable       503  an app's broker cannot take a task
     ├── BackendUnavailable      503  an app's result backend cannot be read
     ├── GatewayTimeout          504  a neighbour or a worker did not answer in
     │                                time (the original branch's 408)
     └── InjectedFault           any  asked for with the Cyme-Fault header

Messages are written by the branch, never copied from the request, so a
secret sent in a request (a broker password) cannot come back in an error.
A problem may carry members of its own besides the standard ones (a task's
`task_id`, and whether it was `sent`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar


@dataclass(frozen=True)
class FieldError:
    """One invalid field of a request."""

    location: str  # "path", "query" or "body"
    field: str
    message: str

    def as_dict(self) -> dict[str, str]:
        return {"location": self.location, "field": self.field, "message": self.message}


class Problem(Exception):
    """An error answer. Subclasses fix the status, type and title."""

    status: ClassVar[int] = 500
    slug: ClassVar[str] = "internal-error"
    title: ClassVar[str] = "Internal server error"

    def __init__(
        self,
        detail: str,
        *,
        headers: dict[str, str] | None = None,
        members: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        self.headers = headers or {}
        self.members = members or {}

    @property
    def http_status(self) -> int:
        return self.status

    @property
    def type(self) -> str:
        return f"urn:cyme:problem:{self.slug}"

    def body(self, instance: str) -> dict[str, Any]:
        return {
            "type": self.type,
            "title": self.title,
            "status": self.http_status,
            "detail": self.detail,
            "instance": instance,
            **self.members,
        }


class MalformedRequest(Problem):
    status = 400
    slug = "malformed-request"
    title = "Malformed request"


class Unauthorized(Problem):
    status = 401
    slug = "unauthorized"
    title = "Unauthorized"

    def __init__(self, detail: str, *, invalid_token: bool) -> None:
        challenge = 'Bearer realm="cyme"'
        if invalid_token:
            challenge += ', error="invalid_token"'
        super().__init__(detail, headers={"WWW-Authenticate": challenge})


class Forbidden(Problem):
    """403: refused whatever the token, for where the request comes from."""

    status = 403
    slug = "forbidden"
    title = "Forbidden"


class CrossSiteRequest(Forbidden):
    """A web page of an origin the branch does not serve made the request."""

    slug = "cross-site-request"
    title = "Cross-site request refused"


class HostNotAllowed(Forbidden):
    """The request's Host is not a name the branch answers to (DNS rebinding)."""

    slug = "host-not-allowed"
    title = "Host not allowed"


class NotFound(Problem):
    status = 404
    slug = "not-found"
    title = "Not found"


class MethodNotAllowed(Problem):
    status = 405
    slug = "method-not-allowed"
    title = "Method not allowed"

    def __init__(self, method: str, allowed: list[str]) -> None:
        allow = ", ".join(allowed)
        super().__init__(f"{method} is not supported here; use {allow}.", headers={"Allow": allow})


class Conflict(Problem):
    status = 409
    slug = "conflict"
    title = "Conflict"


class NoResultBackend(Conflict):
    slug = "no-result-backend"
    title = "No result backend"


class PayloadTooLarge(Problem):
    status = 413
    slug = "payload-too-large"
    title = "Payload too large"


class UnsupportedMediaType(Problem):
    status = 415
    slug = "unsupported-media-type"
    title = "Unsupported media type"


class ValidationFailed(Problem):
    status = 422
    slug = "validation-error"
    title = "Invalid request"

    def __init__(self, errors: list[FieldError]) -> None:
        self.errors = errors
        super().__init__("; ".join(f"{e.location}.{e.field}: {e.message}" for e in errors))

    def body(self, instance: str) -> dict[str, Any]:
        body = super().body(instance)
        body["errors"] = [e.as_dict() for e in self.errors]
        return body


class InternalError(Problem):
    pass


class BadGateway(Problem):
    status = 502
    slug = "bad-gateway"
    title = "Bad gateway"


class WorkerUnavailable(Problem):
    status = 503
    slug = "worker-unavailable"
    title = "Worker unavailable"


class BrokerUnavailable(Problem):
    status = 503
    slug = "broker-unavailable"
    title = "Broker unavailable"


class BackendUnavailable(Problem):
    status = 503
    slug = "backend-unavailable"
    title = "Result backend unavailable"


class GatewayTimeout(Problem):
    status = 504
    slug = "gateway-timeout"
    title = "Gateway timeout"


class InjectedFault(Problem):
    slug = "injected-fault"
    title = "Injected fault"

    def __init__(self, status: int, retry_after: float | None) -> None:
        headers = {}
        if retry_after is not None:
            headers["Retry-After"] = f"{retry_after:g}"
        super().__init__(f"This {status} was asked for with Cyme-Fault.", headers=headers)
        self._status = status

    @property
    def http_status(self) -> int:
        return self._status


def invalid(location: str, field: str, message: str) -> ValidationFailed:
    """A 422 for a single field."""
    return ValidationFailed([FieldError(location, field, message)])
