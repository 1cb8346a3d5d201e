"""create_app(settings): mounts the API and the pages. Nothing is wired at import time."""

from __future__ import annotations

from fastapi import FastAPI

from onethread import __version__
from onethread.api import errors
from onethread.api.limits import BodySizeLimit
from onethread.api.routes import mount_api
from onethread.bootstrap import Container, build
from onethread.config import Settings
from onethread.kernel.clock import Clock
from onethread.web.routes import mount_pages


def create_app(settings: Settings | None = None, *, container: Container | None = None,
               clock: Clock | None = None) -> FastAPI:
    if container is None:
        container = build(settings or Settings(), clock=clock)
    app = FastAPI(
        title="onethread",
        version=__version__,
        description="Omni-channel customer service for telecom operators. TMF Open APIs under /tmf-api, "
        "onethread's own resources under /api/v1. Authenticate with `Authorization: Bearer <token>`.",
    )
    app.state.container = container
    errors.install(app)
    mount_api(app)
    mount_pages(app)
    app.add_middleware(BodySizeLimit, max_bytes=container.settings.max_body_bytes)
    return app
