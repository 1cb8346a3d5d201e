"""Refuse oversized bodies before they are read into memory (413 with a TMF Error)."""

from __future__ import annotations

import json
import re

from onethread.api.errors import error_body

# Requests that may carry files (attachments kept with a contact) get the larger upload limit.
UPLOAD_PATHS = re.compile(r"^/(tmf-api/partyInteraction/v5/partyInteraction"
                          r"|api/v1/channels/(field/notes|letters|store/visits/[^/]+/notes)"
                          r"|api/v1/portal/cases/[^/]+/messages|portal/cases/[^/]+/messages)$")


class BodySizeLimit:
    """Pure ASGI middleware: checks Content-Length, and counts streamed bytes too."""

    def __init__(self, app, max_bytes: int, upload_max_bytes: int | None = None):
        self.app = app
        self.max_bytes = max_bytes
        self.upload_max_bytes = max(upload_max_bytes or max_bytes, max_bytes)

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.upload_max_bytes if UPLOAD_PATHS.match(scope.get("path", "")) else self.max_bytes
        length = dict(scope.get("headers") or []).get(b"content-length")
        if length is not None and length.isdigit() and int(length) > limit:
            await self._reject(send, limit)
            return
        seen = 0

        async def counted():
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise _TooLarge
            return message

        try:
            await self.app(scope, counted, send)
        except _TooLarge:
            await self._reject(send, limit)

    async def _reject(self, send, limit: int):
        body = json.dumps(error_body(413, "PAYLOAD_TOO_LARGE", "Request body too large",
                                     f"the body is larger than {limit} bytes")).encode()
        await send({"type": "http.response.start", "status": 413,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})


class _TooLarge(Exception):
    pass
