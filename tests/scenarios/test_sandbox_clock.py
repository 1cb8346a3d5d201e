"""The manual clock: moving it by eight weeks in one step writes the same history, with the
same timestamps, as moving it a day at a time (as a live worker would have seen it)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from onethread.access import service as access
from onethread.access.rules import SYSTEM
from onethread.bootstrap import build
from onethread.cases import service as cases
from onethread.config import Settings
from onethread.customers import service as customers
from onethread.db.session import session_scope
from onethread.demo import loader
from onethread.errors import Conflict, ValidationFailed
from onethread.jobs import sandbox
from onethread.models import CaseEvent, Contact, Escalation, ManualClockRow, TimelineEntry

STRONG_KEY = "k7Qz-2mW9pXr4tLb8nVc1yHs6dFg3jAe5uKo0iZq"  # production refuses short or repetitive keys


@pytest.fixture
def manual(database_url):
    c = build(Settings(database_url=database_url, env="test", clock="manual"))
    with session_scope(c.sessions) as s:
        row = s.get(ManualClockRow, 1)
        row.now = row.updated_at = row.now.replace(year=2026, month=3, day=2, hour=9, minute=0, second=0,
                                                   microsecond=0)
    yield c
    c.dispose()


def open_complaint(c) -> str:
    with session_scope(c.sessions) as s:
        team = access.create_team(s, c.clock, name="Contact centre")
        lead = access.create_user(s, c.clock, username="lee", display_name="Lee", role="team_lead", password=None,
                                  team_id=team.id)
        access.set_team_lead(s, team.id, lead.id)
        agent = access.create_user(s, c.clock, username="alex", display_name="Alex", role="agent", password=None,
                                   team_id=team.id)
        party = customers.create_individual(s, c.clock, SYSTEM, given_name="Margaret", family_name="Hughes")
        cust = customers.create_customer(s, c.clock, SYSTEM, party_id=party.id)
        case = cases.open_new(s, c.clock, access.staff_principal(agent), customer_id=cust.id, kind="complaint",
                              title="No incoming calls", opened_via="phone")
        return case.id


def history(c) -> dict:
    with c.sessions() as s:
        return {
            "escalations": sorted((e.at, e.clock_kind, e.level) for e in s.scalars(select(Escalation))),
            "letters": sorted((x.occurred_at, x.subject) for x in s.scalars(
                select(Contact).where(Contact.direction == "outbound"))),
            "case_log": sorted((e.at, e.kind, e.text) for e in s.scalars(select(CaseEvent))),
            "timeline": sorted((e.occurred_at, e.kind, e.title) for e in s.scalars(select(TimelineEntry))),
        }


def test_one_big_step_equals_many_small_steps(manual):
    open_complaint(manual)
    report = sandbox.move(manual, advance="P8W")
    assert report.steps > 3  # the sweeps ran at each due time on the way
    big = history(manual)
    assert any(kind == "regulator_deadline" for _, kind, _ in big["escalations"])
    assert len(big["letters"]) == 1

    loader.reset(manual)
    with session_scope(manual.sessions) as s:
        s.add(ManualClockRow(id=1, now=report.before, updated_at=report.before))
    open_complaint(manual)
    for _ in range(56):
        sandbox.move(manual, advance="P1D")
    small = history(manual)
    assert small == big


def test_time_never_moves_backwards_and_durations_are_checked(manual):
    with pytest.raises(Conflict):
        sandbox.move(manual, now=manual.clock.now() - timedelta(seconds=1))
    with pytest.raises(ValidationFailed):
        sandbox.move(manual, advance="P1M")
    with pytest.raises(ValidationFailed):
        sandbox.move(manual, advance="P1D", now=manual.clock.now())


def test_the_system_clock_cannot_be_moved(container):
    with pytest.raises(Conflict):
        sandbox.move(container, advance="P1D")


def test_production_refuses_the_manual_clock(database_url):
    with pytest.raises(SystemExit, match="ONETHREAD_CLOCK=manual"):
        build(Settings(database_url=database_url, env="production", clock="manual", secret_key=STRONG_KEY))


def test_production_has_no_clock_endpoints(database_url, clock):
    from fastapi.testclient import TestClient

    from onethread.access import service as access
    from onethread.app import create_app

    c = build(Settings(database_url=database_url, env="production", secret_key=STRONG_KEY), clock=clock)
    try:
        with session_scope(c.sessions) as s:
            _, secret = access.create_token(s, c.clock, name="ops", role="admin")
        with TestClient(create_app(container=c)) as client:
            headers = {"Authorization": f"Bearer {secret}"}
            assert client.get("/api/v1/admin/clock", headers=headers).status_code == 404
            assert client.post("/api/v1/admin/clock", json={"advance": "P1D"}, headers=headers).status_code == 404
            assert client.get("/healthz").status_code == 200
    finally:
        c.dispose()
