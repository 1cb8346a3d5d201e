"""``GET /readyz``: may this process be sent traffic? Each check named, and the one that failed.

The database check opens a connection and reads the schema revision: it fails when the database
cannot be reached (stopped, refusing connections, dropped) and when its schema is not the one
this onethread needs (a migration pending). Then the channels (``api.routes.readiness_channels``).
``/healthz`` stays liveness: it touches nothing and answers as long as the process serves.
"""

from __future__ import annotations

import logging

from alembic.runtime.migration import MigrationContext
from sqlalchemy.exc import SQLAlchemyError

from onethread.bootstrap import Container
from onethread.db import migrate
from onethread.db.availability import unavailable_reason

log = logging.getLogger("onethread.api")

_HEADS: dict[str, str] = {}  # the migrations' head, read from the scripts once per database URL


def _head(container: Container) -> str:
    key = str(container.engine.url)
    if key not in _HEADS:
        _HEADS[key] = migrate.head_revision(container.engine)
    return _HEADS[key]


def check_database(container: Container) -> dict:
    """``{"name": "database", "status": "ok"|"failed", "message": ...}``."""
    try:
        with container.read_sessions() as session:
            current = MigrationContext.configure(session.connection()).get_current_revision()
            session.rollback()
    except SQLAlchemyError as exc:
        found = unavailable_reason(exc)
        reason = found[0] if found else "the database answered with an error"
        log.warning("readiness: %s (%s)", reason, type(exc).__name__)
        return {"name": "database", "status": "failed", "message": reason}
    head = _head(container)
    if current != head:
        return {"name": "database", "status": "failed",
                "message": f"the schema is at revision {current or 'none'}, this onethread needs {head} "
                "(run `onethread db upgrade`)"}
    return {"name": "database", "status": "ok", "message": "reachable, schema up to date"}
