"""Every error leaves as a TMF ``Error`` body: code, reason, message, status, @type."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.orm.exc import StaleDataError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import compile_path

from onethread.db.availability import unavailable_reason
from onethread.errors import DatabaseUnavailable, DomainError

log = logging.getLogger("onethread.api")

_HTTP_CODES = {
    400: ("BAD_REQUEST", "Bad request"),
    401: ("NOT_AUTHENTICATED", "Authentication required"),
    403: ("FORBIDDEN", "Not allowed"),
    404: ("NOT_FOUND", "Resource not found"),
    405: ("METHOD_NOT_ALLOWED", "Method not allowed"),
    406: ("NOT_ACCEPTABLE", "Not acceptable"),
    409: ("CONFLICT", "Conflict"),
    412: ("PRECONDITION_FAILED", "Precondition failed"),
    413: ("PAYLOAD_TOO_LARGE", "Request body too large"),
    415: ("UNSUPPORTED_MEDIA_TYPE", "Unsupported media type"),
    500: ("INTERNAL_ERROR", "Internal error"),
    503: ("SERVICE_UNAVAILABLE", "Service unavailable"),
}

# Seconds a caller is asked to wait before trying again: the database busy (SQLite's lock, every
# pooled connection in use), or not reachable at all (a restart, a fail-over).
BUSY_RETRY_AFTER = 1
UNREACHABLE_RETRY_AFTER = 5

# Paths answered in JSON; anything else is a page, and a 503 there is a page too.
_API_PREFIXES = ("/api/", "/tmf-api/", "/healthz", "/readyz", "/docs", "/redoc", "/openapi.json")


def error_body(status: int, code: str, reason: str, message: str, **extra) -> dict:
    body = {"@type": "Error", "code": code, "reason": reason, "message": message, "status": str(status)}
    body.update({k: v for k, v in extra.items() if v is not None})
    return body


def error_response(status: int, code: str, reason: str, message: str, headers: dict | None = None,
                   **extra) -> JSONResponse:
    return JSONResponse(error_body(status, code, reason, message, **extra), status_code=status, headers=headers)


def _loc(loc: tuple) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header")]
    return ".".join(parts) or "body"


def describe_validation(exc: RequestValidationError) -> tuple[str, list[dict]]:
    problems = []
    for err in exc.errors():
        kind = err.get("type", "")
        where = _loc(tuple(err.get("loc", ())))
        if kind == "json_invalid":
            msg = f"the body is not valid JSON ({err.get('ctx', {}).get('error', 'parse error')})"
            where = "body"
        elif kind == "extra_forbidden":
            msg = "unknown field"
        elif kind == "missing":
            msg = "is required"
        else:
            msg = err.get("msg", "is invalid")
        problems.append({"field": where, "problem": msg})
    text = "; ".join(f"{p['field']}: {p['problem']}" if p["field"] != "body" else p["problem"] for p in problems)
    return text or "invalid request", problems


def _route_table(app: FastAPI) -> list[tuple]:
    """(path pattern, methods) of every route the app serves, built once per app."""
    table = getattr(app.state, "route_methods", None)
    if table is None:
        try:
            from fastapi.routing import iter_route_contexts
            routes = [ctx for ctx in iter_route_contexts(app.routes)]
        except ImportError:  # older FastAPI flattens included routers into app.routes
            routes = list(app.routes)
        table = [(compile_path(r.path)[0], frozenset(r.methods)) for r in routes
                 if getattr(r, "path", None) and getattr(r, "methods", None)]
        app.state.route_methods = table
    return table


def allowed_methods(app: FastAPI, path: str) -> list[str]:
    """The methods ``path`` really supports (RFC 9110: the ``Allow`` header of a 405)."""
    methods: set[str] = set()
    for pattern, route_methods in _route_table(app):
        if pattern.match(path):
            methods |= route_methods
    return sorted(methods)


def install(app: FastAPI) -> None:
    @app.exception_handler(DomainError)
    async def _domain(request: Request, exc: DomainError):
        headers = {"WWW-Authenticate": "Bearer"} if exc.http_status == 401 else None
        return error_response(exc.http_status, exc.code, exc.reason, exc.message, headers=headers,
                              field=exc.field, details=exc.details or None)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError):
        message, problems = describe_validation(exc)
        return error_response(400, "INVALID_INPUT", "Invalid input", message, details={"problems": problems})

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException):
        code, reason = _HTTP_CODES.get(exc.status_code, ("HTTP_ERROR", "HTTP error"))
        message = exc.detail if isinstance(exc.detail, str) else reason
        headers = getattr(exc, "headers", None)
        if exc.status_code == 404 and message == "Not Found":
            message = f"no such resource: {request.url.path}"
        if exc.status_code == 405:
            allowed = allowed_methods(request.app, request.url.path)
            headers = {**(headers or {}), "Allow": ", ".join(allowed)}
            message = f"{request.method} is not supported on {request.url.path}; it supports {', '.join(allowed)}"
        return error_response(exc.status_code, code, reason, message, headers=headers)

    @app.exception_handler(DatabaseUnavailable)
    async def _unavailable(request: Request, exc: DatabaseUnavailable):
        return unavailable_response(request, exc)

    @app.exception_handler(DBAPIError)
    async def _database(request: Request, exc: DBAPIError):
        return _not_now_or_bug(request, exc)

    @app.exception_handler(PoolTimeout)
    async def _pool(request: Request, exc: PoolTimeout):
        return _not_now_or_bug(request, exc)

    @app.exception_handler(StaleDataError)
    async def _stale(request: Request, exc: StaleDataError):
        return error_response(409, "CONFLICT", "Conflict", "the resource was changed by someone else; reload and retry")

    @app.exception_handler(IntegrityError)
    async def _integrity(request: Request, exc: IntegrityError):
        log.info("integrity error: %s", exc.orig)
        return error_response(409, "CONFLICT", "Conflict", "the change conflicts with existing data")

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception):
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return error_response(500, "INTERNAL_ERROR", "Internal error", "something went wrong on our side; it is logged")


def _not_now_or_bug(request: Request, exc: Exception):
    found = unavailable_reason(exc)
    if found is None:
        log.error("database error on %s %s", request.method, request.url.path, exc_info=exc)
        return error_response(500, "INTERNAL_ERROR", "Internal error", "something went wrong on our side; it is logged")
    reason, busy = found
    detail = (str(getattr(exc, "orig", None) or exc).strip().splitlines() or [type(exc).__name__])[0]
    log.warning("database unavailable on %s %s: %s (%s)", request.method, request.url.path, reason, detail)
    return unavailable_response(request, DatabaseUnavailable(
        f"{reason}; try again shortly", retry_after=BUSY_RETRY_AFTER if busy else UNREACHABLE_RETRY_AFTER))


def unavailable_response(request: Request, exc: DatabaseUnavailable):
    """503 with ``Retry-After``: a TMF Error on the API, a readable page elsewhere (when the pages
    are mounted they set ``app.state.unavailable_page``)."""
    headers = {"Retry-After": str(exc.retry_after)}
    page = getattr(request.app.state, "unavailable_page", None)
    if page is not None and not request.url.path.startswith(_API_PREFIXES):
        return page(request, exc.message, headers)
    return error_response(503, exc.code, exc.reason, exc.message, headers=headers)
