"""Staff with bearer tokens (``make_staff``), customers, and sessions started through the API."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from onethread.access import service as access
from onethread.access.rules import SYSTEM
from onethread.customers import service as customers
from onethread.models import Team

S = "/api/v1/sessions"


def make_staff(uow, clock, username: str, display: str, role: str, team: str | None = None,
               team_kind: str = "contact_centre") -> tuple[str, str | None, dict[str, str]]:
    """A staff member (in ``team``, created if new) and bearer headers of a token issued to them."""
    with uow() as s:
        team_id = None
        if team:
            existing = s.scalar(select(Team.id).where(Team.name == team))
            team_id = existing or access.create_team(s, clock, name=team, kind=team_kind).id
        user = access.create_user(s, clock, username=username, display_name=display, role=role, password=None,
                                  team_id=team_id)
        _, secret = access.create_token(s, clock, name=f"{username}-device", role=role, staff_user_id=user.id)
        return user.id, team_id, {"Authorization": f"Bearer {secret}"}


def make_customer(uow, clock, given: str, family: str, since: date | None = None) -> str:
    with uow() as s:
        party = customers.create_individual(s, clock, SYSTEM, given_name=given, family_name=family)
        return customers.create_customer(s, clock, SYSTEM, party_id=party.id, customer_since=since).id


def start(client, headers, **body) -> dict:
    r = client.post(S, json={"channel": "store", **body}, headers=headers)
    assert r.status_code == 201, r.text
    return r.json()
