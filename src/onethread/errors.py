"""The error family every layer speaks.

Services raise ``DomainError`` subclasses; the API renders them as a TMF ``Error`` body
(``code``, ``reason``, ``message``, ``status``) and pages show the message next to the form.
"""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    http_status = 400
    code = "BAD_REQUEST"
    reason = "Bad request"

    def __init__(self, message: str, *, field: str | None = None, details: dict[str, Any] | None = None):
        super().__init__(message)
        self.message = message
        self.field = field
        self.details = details or {}


class ValidationFailed(DomainError):
    http_status = 400
    code = "INVALID_INPUT"
    reason = "Invalid input"


class NotFound(DomainError):
    http_status = 404
    code = "NOT_FOUND"
    reason = "Resource not found"


class Conflict(DomainError):
    http_status = 409
    code = "CONFLICT"
    reason = "Conflict with the current state"


class PreconditionFailed(DomainError):
    http_status = 412
    code = "PRECONDITION_FAILED"
    reason = "The resource changed since you read it"


class NotAuthenticated(DomainError):
    http_status = 401
    code = "NOT_AUTHENTICATED"
    reason = "Authentication required"


class Forbidden(DomainError):
    http_status = 403
    code = "FORBIDDEN"
    reason = "Not allowed for your role"


class PayloadTooLarge(DomainError):
    http_status = 413
    code = "PAYLOAD_TOO_LARGE"
    reason = "Request body too large"


class DatabaseUnavailable(DomainError):
    """The database could not be had in time (busy, unreachable): try again after ``retry_after`` s."""

    http_status = 503
    code = "DATABASE_UNAVAILABLE"
    reason = "Service unavailable"

    def __init__(self, message: str, *, retry_after: int = 1):
        super().__init__(message)
        self.retry_after = retry_after


class DatabaseNotReady(Exception):
    """The database is missing migrations; raised at start-up, never per request."""
