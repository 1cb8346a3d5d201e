"""Refuse input no part of onethread can keep, once, before any route sees it (docs/security.md).

* A NUL character (``U+0000``) in the path, the query string, a JSON body (in a string or a key),
  a form field (URL-encoded or a multipart field that is not a file): PostgreSQL cannot store it
  in a text column, and no person types it. A file in a multipart body may hold any byte.
* ``offset`` and ``limit`` larger than a database integer holds (2^63 - 1).

Both answer 400: a TMF ``Error`` on the API, a short readable page elsewhere. The body is read
here, whole (the size limit outside this guard bounds it), and handed on unchanged.
"""

from __future__ import annotations

import html
import json
from urllib.parse import parse_qsl

from onethread.api.errors import error_body

LARGEST_INTEGER = 2**63 - 1
PAGING = ("offset", "limit")
BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
API_PREFIXES = ("/api/", "/tmf-api/", "/healthz", "/readyz", "/openapi.json")


def _has_nul_text(value) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul_text(k) or _has_nul_text(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_nul_text(v) for v in value)
    return False


def _json_has_nul(body: bytes) -> bool:
    if b"\x00" in body:
        return True
    if b"\\u0000" not in body:  # JSON writes the escape with a small u; its digits are all zeros
        return False
    try:  # the escape may be a quoted backslash followed by "u0000": only the parsed text tells
        return _has_nul_text(json.loads(body))
    except (ValueError, RecursionError):
        return False  # not JSON: the route answers that itself


def _multipart_has_nul(body: bytes, content_type: str) -> bool:
    """A NUL in a field that is not a file (a file's bytes are its own business)."""
    boundary = next((p.split("=", 1)[1].strip().strip('"') for p in content_type.split(";")
                     if p.strip().lower().startswith("boundary=")), "")
    if not boundary or b"\x00" not in body:
        return False
    for part in body.split(b"--" + boundary.encode("latin-1")):
        head, _, content = part.partition(b"\r\n\r\n")
        if b"\x00" in head or (b"filename=" not in head.lower() and b"\x00" in content):
            return True
    return False


def body_problem(body: bytes, content_type: str) -> str | None:
    kind = content_type.split(";", 1)[0].strip().lower()
    if kind == "application/json" or kind.endswith("+json"):
        nul = _json_has_nul(body)
    elif kind == "application/x-www-form-urlencoded":
        nul = b"\x00" in body or b"%00" in body
    elif kind == "multipart/form-data":
        nul = _multipart_has_nul(body, content_type)
    else:
        nul = False
    return "the body holds a NUL character (U+0000), which no text field accepts" if nul else None


def query_problem(raw_query: bytes, raw_path: bytes) -> str | None:
    if b"%00" in raw_path or b"\x00" in raw_path:
        return "the address holds a NUL character (%00), which no path accepts"
    if not raw_query:
        return None
    if b"%00" in raw_query or b"\x00" in raw_query:
        return "the query string holds a NUL character (%00), which no parameter accepts"
    if b"offset" not in raw_query and b"limit" not in raw_query:
        return None
    for name, value in parse_qsl(raw_query.decode("latin-1"), keep_blank_values=True):
        text = value.strip()
        if name in PAGING and text.lstrip("+-").isdecimal() and abs(int(text)) > LARGEST_INTEGER:
            return f"{name} must be at most {LARGEST_INTEGER}"
    return None


class InputGuard:
    """Pure ASGI middleware (inside ``BodySizeLimit``, which bounds what is read here)."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        problem = query_problem(scope.get("query_string") or b"", scope.get("raw_path") or b"")
        if problem is None and scope.get("method") in BODY_METHODS:
            messages, chunks, more = [], [], True
            while more:
                message = await receive()
                messages.append(message)
                if message["type"] != "http.request":
                    break
                chunks.append(message.get("body", b""))
                more = message.get("more_body", False)
            body = b"".join(chunks)
            headers = dict(scope.get("headers") or [])
            problem = body_problem(body, headers.get(b"content-type", b"").decode("latin-1"))
            if problem is None:
                pending = [{"type": "http.request", "body": body, "more_body": False}] if not more else messages

                async def replay():
                    return pending.pop(0) if pending else await receive()

                await self.app(scope, replay, send)
                return
        if problem is None:
            await self.app(scope, receive, send)
            return
        await _refuse(scope, send, problem)


async def _refuse(scope, send, problem: str) -> None:
    path = scope.get("path", "")
    if path.startswith(API_PREFIXES):
        body = json.dumps(error_body(400, "INVALID_INPUT", "Invalid input", problem)).encode()
        kind = b"application/json"
    else:
        body = ("<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Not accepted · onethread"
                "</title><link rel=\"stylesheet\" href=\"/static/onethread.css\"></head><body><main id=\"main\">"
                f"<h1>That could not be accepted</h1><p class=\"error\" role=\"alert\">{html.escape(problem)}.</p>"
                "<p>Go back, remove the character, and send the form again.</p></main></body></html>").encode()
        kind = b"text/html; charset=utf-8"
    await send({"type": "http.response.start", "status": 400,
                "headers": [(b"content-type", kind), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})
