"""Global keys: values unique across all customers (a channel's message id, a session's external
id), kept in ``global_key`` apart from the rows they name, which are spread by another key
(docs/scaling.md). A key is claimed first, in the transaction of the row it names."""

from __future__ import annotations

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from onethread.models import GlobalKey

_KEYS = GlobalKey.__table__
_CLAIM = {  # built once per dialect: a conflict on (space, value) means the value is taken
    name: dialect.insert(_KEYS).on_conflict_do_nothing(index_elements=["space", "value"]).returning(_KEYS.c.ref_id)
    for name, dialect in (("postgresql", postgresql), ("sqlite", sqlite))
}


def claim(session: Session, keys: list[dict]) -> set[str]:
    """Claim each ``{space, value, ref_id}``; the ``ref_id`` of those that were free. One statement;
    two transactions claiming one value: the second waits for the first and finds it taken."""
    if not keys:
        return set()
    if session.autoflush:
        session.flush()
    return set(session.execute(_CLAIM[session.get_bind().dialect.name], keys).scalars().all())


def message_key(channel: str, message_id: str) -> dict:
    return {"space": f"contact:{channel}", "value": message_id}


def session_key(channel: str, external_id: str) -> dict:
    return {"space": f"session:{channel}", "value": external_id}
