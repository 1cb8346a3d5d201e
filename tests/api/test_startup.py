"""Start-up stores the shipped policies once. Two processes starting together may race to store the
same version: that one integrity error is settled by reading again; any other stops start-up."""

from __future__ import annotations

import logging

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event, func, select
from sqlalchemy.exc import IntegrityError

from onethread.app import create_app
from onethread.decisions import service as decisions
from onethread.kernel.ids import new_id
from onethread.models import PolicyVersion


def stored(container) -> list[tuple[str, int, str]]:
    with container.sessions() as s:
        return sorted(s.execute(select(PolicyVersion.name, PolicyVersion.version, PolicyVersion.loaded_by)).all())


def start(container, before_flush=None) -> None:
    """Start the app; ``before_flush`` (if given) sees each flush of start-up's sessions."""
    if before_flush is not None:
        event.listen(container.sessions, "before_flush", before_flush)
    try:
        with TestClient(create_app(container=container)):
            pass
    finally:
        if before_flush is not None:
            event.remove(container.sessions, "before_flush", before_flush)


def said(caplog) -> list[tuple[str, str]]:
    return [(r.levelname, r.getMessage()) for r in caplog.records if r.name == "onethread.app"]


def test_a_start_up_that_loses_the_race_to_store_a_policy_reads_it_again_and_starts(container, caplog):
    caplog.set_level(logging.WARNING, logger="onethread.app")
    raced: list[str] = []

    def another_process_stored_it_first(session, flush_context, instances):
        new = [o for o in session.new if isinstance(o, PolicyVersion)]
        if new and not raced:  # the same name and version arrives in the same instant: unique breaks
            raced.append(new[0].name)
            session.add(PolicyVersion(name=new[0].name, version=new[0].version, source=new[0].source,
                                      checksum=new[0].checksum, loaded_at=new[0].loaded_at, loaded_by="onethread"))

    start(container, another_process_stored_it_first)
    assert raced
    assert len(stored(container)) == len(decisions.shipped_files())  # each version once
    [(level, message)] = said(caplog)  # the settled race is said, not hidden
    assert level == "WARNING" and "another process stored a shipped policy version first" in message


def test_any_other_integrity_error_at_start_up_stops_it_instead_of_starting_without_policies(container):
    def broken_row(session, flush_context, instances):
        if any(isinstance(o, PolicyVersion) for o in session.new):
            session.add(PolicyVersion(name="broken", version=1, source="", checksum="x",
                                      loaded_at=next(iter(session.new)).loaded_at, loaded_by=None))

    with pytest.raises(IntegrityError):
        start(container, broken_row)
    with container.sessions() as s:
        assert s.scalar(select(func.count()).select_from(PolicyVersion)) == 0


def test_another_unique_error_at_start_up_is_logged_and_stops_it_at_once(container, caplog):
    """A unique constraint other than the policy's (name, version) is not the known race: no
    second attempt, an error in the log, and the error itself raised."""
    caplog.set_level(logging.WARNING, logger="onethread.app")
    attempts: list[int] = []

    def duplicate_id(session, flush_context, instances):
        new = [o for o in session.new if isinstance(o, PolicyVersion)]
        if new:
            attempts.append(1)
            new[0].id = new_id()
            session.add(PolicyVersion(id=new[0].id, name=new[0].name + "-copy", version=new[0].version,
                                      source=new[0].source, checksum=new[0].checksum, loaded_at=new[0].loaded_at,
                                      loaded_by="onethread"))

    with pytest.raises(IntegrityError):
        start(container, duplicate_id)
    assert attempts == [1]
    [(level, message)] = said(caplog)
    assert level == "ERROR" and "start-up stopped" in message
    assert stored(container) == []
