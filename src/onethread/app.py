"""create_app(settings): mounts the API and the pages. Nothing is wired at import time."""

from __future__ import annotations

import gc
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from sqlalchemy.exc import IntegrityError

from onethread import __version__
from onethread.api import errors
from onethread.api.headers import SecurityHeaders
from onethread.api.input_guard import InputGuard
from onethread.api.limits import BodySizeLimit
from onethread.api.routes import mount_api
from onethread.bootstrap import Container, build
from onethread.config import Settings
from onethread.db.session import session_scope
from onethread.decisions import service as decisions
from onethread.kernel.clock import Clock
from onethread.web.routes import mount_pages

log = logging.getLogger(__name__)

# How each database names the one integrity error start-up expects: another process stored the
# same policy name and version first (the unique constraint of migration 0005).
POLICY_RACE_MARKERS = (
    "uq_policy_version_name_version",  # PostgreSQL names the constraint
    "UNIQUE constraint failed: policy_version.name, policy_version.version",  # SQLite names the columns
)


def create_app(settings: Settings | None = None, *, container: Container | None = None,
               clock: Clock | None = None, freeze_heap: bool = False) -> FastAPI:
    """The app. ``freeze_heap`` (the served app, not tests that build many): once started, the
    objects that live as long as the process are moved out of the garbage collector's reach
    (``gc.freeze``). Otherwise every full collection walks them all, which under load stalled a
    server process for 50-130 ms every few seconds (the p99 of ingest; docs/performance.md)."""
    if container is None:
        container = build(settings or Settings(), clock=clock)

    @asynccontextmanager
    async def lifespan(started: FastAPI) -> AsyncIterator[None]:
        # The container is read from the app at each start (the test suite rebinds one built app
        # to each test's container: building the routes costs far more than a test).
        running = started.state.container
        load_policies(running)  # at start-up, not at creation: building the app touches no database
        _ = running.secret_key  # generated and stored on first run, before any request needs it
        if freeze_heap:
            gc.collect()
            gc.freeze()
        yield

    production = container.settings.env == "production"
    app = FastAPI(
        lifespan=lifespan,
        # The Swagger UI and ReDoc load their scripts from a CDN: not served in production
        # (docs/security.md); the OpenAPI document itself stays at /openapi.json.
        docs_url=None if production else "/docs",
        redoc_url=None if production else "/redoc",
        title="onethread",
        version=__version__,
        description="Omni-channel customer service for telecom operators. TMF Open APIs under /tmf-api, "
        "onethread's own resources under /api/v1. Authenticate with `Authorization: Bearer <token>`.",
    )
    app.state.container = container
    errors.install(app)
    mount_api(app)
    mount_pages(app)
    app.add_middleware(InputGuard)  # NUL characters and out-of-range paging: 400 (docs/security.md)
    app.add_middleware(BodySizeLimit, max_bytes=container.settings.max_body_bytes,
                       upload_max_bytes=container.settings.upload_max_bytes)
    app.add_middleware(SecurityHeaders)  # outermost: marks every answer, the guards' too
    return app


def load_policies(container: Container) -> None:
    """Store the shipped policy files whose version is not stored yet (a broken one stops start-up).

    Two processes starting at the same moment (``serve --workers N`` on PostgreSQL) may both find a
    version missing; the second to insert it breaks the unique (name, version) and rolls back. That
    one expected case is settled by reading again (logged as a warning): the versions are there now
    and nothing is stored. Any other integrity error is logged and stops start-up."""
    try:
        _store_shipped(container)
    except IntegrityError as exc:
        if not lost_policy_race(exc):
            log.error("start-up stopped: storing the shipped policies broke a constraint: %s", exc.orig)
            raise
        log.warning("another process stored a shipped policy version first; reading the policies again (%s)",
                    exc.orig)
        _store_shipped(container)


def lost_policy_race(exc: IntegrityError) -> bool:
    """Whether ``exc`` is the unique (name, version) of ``policy_version``, and nothing else."""
    text = str(exc.orig)
    return any(marker in text for marker in POLICY_RACE_MARKERS)


def _store_shipped(container: Container) -> None:
    with session_scope(container.sessions) as session:
        decisions.load_shipped(session, container.clock)


def app_from_environment() -> FastAPI:
    """The app built from ``ONETHREAD_*``: the factory each ``serve --workers N`` process calls."""
    return create_app(Settings(), freeze_heap=True)
