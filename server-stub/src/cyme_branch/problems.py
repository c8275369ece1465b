"""RFC 9457 problems, raised anywhere and rendered in one place.

    Problem                      any answer that is not a success
     ├── MalformedRequest        400  the body cannot be parsed
     ├── NotFound                404
     ├── MethodNotAllowed        405  carries the Allow header
     ├── Conflict                409
     ├── PayloadTooLarge         413
     ├── UnsupportedMediaType    415
     ├── ValidationFailed        422  carries one entry per invalid field
     └── InternalError           500  never carries a traceback

Messages are written by the branch, never copied from the request, so a
secret sent in a request (a broker password) cannot come back in an error.
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

    def __init__(self, detail: str, *, headers: dict[str, str] | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.headers = headers or {}

    @property
    def type(self) -> str:
        return f"urn:cyme:problem:{self.slug}"

    def body(self, instance: str) -> dict[str, Any]:
        return {
            "type": self.type,
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
            "instance": instance,
        }


class MalformedRequest(Problem):
    status = 400
    slug = "malformed-request"
    title = "Malformed request"


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


def invalid(location: str, field: str, message: str) -> ValidationFailed:
    """A 422 for a single field."""
    return ValidationFailed([FieldError(location, field, message)])
