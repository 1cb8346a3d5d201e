"""Security headers on every response (docs/security.md).

* Every response: ``X-Content-Type-Options: nosniff``.
* Pages (``text/html``): ``X-Frame-Options: DENY`` and a Content-Security-Policy that loads
  scripts, styles and images from this site only, with no inline script or style, and lets no
  other site frame the page; ``Cache-Control: no-store`` (pages show personal data) and
  ``Referrer-Policy: same-origin``.
* API answers (JSON and files): ``Cache-Control: no-store`` unless the route chose its own.
* Static files (``/static``) may be cached; they hold nothing personal.

The Swagger UI (``/docs``, development and test only) needs its inline start-up script and the
CDN it loads from; its page alone gets a policy that allows them.
"""

from __future__ import annotations

CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
DOCS_CSP = ("default-src 'self'; script-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; "
            "style-src 'self' https://cdn.jsdelivr.net; img-src 'self' data: https://fastapi.tiangolo.com; "
            "object-src 'none'; base-uri 'none'; frame-ancestors 'none'")
DOCS_PATHS = frozenset({"/docs", "/redoc", "/docs/oauth2-redirect"})


def _headers_for(path: str, content_type: bytes, present: set[bytes]) -> list[tuple[bytes, bytes]]:
    added = [(b"x-content-type-options", b"nosniff")]
    if path.startswith("/static/"):
        return added
    if content_type.startswith(b"text/html"):
        added += [(b"x-frame-options", b"DENY"), (b"referrer-policy", b"same-origin"),
                  (b"content-security-policy", (DOCS_CSP if path in DOCS_PATHS else CSP).encode())]
    if b"cache-control" not in present:
        added.append((b"cache-control", b"no-store"))
    return [(k, v) for k, v in added if k not in present]


class SecurityHeaders:
    """Pure ASGI middleware, outermost: it also marks the 413 and 400 the other guards send."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope.get("path", "")

        async def marked(message):
            if message["type"] == "http.response.start":
                headers = list(message.get("headers") or [])
                present = {k.lower() for k, _ in headers}
                content_type = next((v for k, v in headers if k.lower() == b"content-type"), b"").lower()
                message = {**message, "headers": headers + _headers_for(path, content_type, present)}
            await send(message)

        await self.app(scope, receive, marked)
