"""Roles, role groups, passwords, token state, who may mark whom away. Pure: no database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from onethread.access import rules
from onethread.access.rules import (
    ADMIN,
    ADMINS,
    AGENT,
    ANYONE,
    CUSTOMER_READERS,
    CUSTOMER_SERVICE,
    CUSTOMER_WRITERS,
    FIELD_SUBCONTRACTOR,
    INTEGRATION,
    ROLE_LABELS,
    STAFF_ROLES,
    STORE_ADVISOR,
    SUPERVISORS,
    SYSTEM,
    TEAM_LEAD,
    TOKEN_ROLES,
    Principal,
    may_set_away,
    password_problems,
    token_state,
)

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def who(role: str, kind: str = "staff", id_: str = "U1") -> Principal:
    return Principal(kind=kind, id=id_, name="Someone", role=role)


def test_every_role_has_a_label_and_groups_are_made_of_known_roles():
    assert set(ROLE_LABELS) == TOKEN_ROLES == STAFF_ROLES | {INTEGRATION}
    for group in (CUSTOMER_SERVICE, CUSTOMER_WRITERS, CUSTOMER_READERS, SUPERVISORS, ADMINS, ANYONE):
        assert group <= TOKEN_ROLES


def test_integration_is_a_token_role_not_a_staff_role():
    assert INTEGRATION not in STAFF_ROLES and INTEGRATION in TOKEN_ROLES


@pytest.mark.parametrize(("role", "group", "allowed"), [
    (ADMIN, ADMINS, True),
    (TEAM_LEAD, ADMINS, False),
    (STORE_ADVISOR, ADMINS, False),
    (INTEGRATION, ADMINS, False),
    (TEAM_LEAD, SUPERVISORS, True),
    (ADMIN, SUPERVISORS, True),
    (AGENT, SUPERVISORS, False),
    (STORE_ADVISOR, CUSTOMER_READERS, True),
    (INTEGRATION, CUSTOMER_WRITERS, True),
    (FIELD_SUBCONTRACTOR, CUSTOMER_READERS, False),
    (FIELD_SUBCONTRACTOR, ANYONE, True),
])
def test_principal_may(role, group, allowed):
    assert who(role).may(group) is allowed


def test_the_system_principal_is_an_admin():
    assert SYSTEM.kind == "system" and SYSTEM.may(ADMINS)


def test_principals_are_immutable():
    with pytest.raises(AttributeError):
        who(AGENT).role = ADMIN  # type: ignore[misc]


# --- away ----------------------------------------------------------------------------------

def test_staff_mark_themselves_away_and_supervisors_mark_anyone():
    assert may_set_away(who(AGENT, id_="U1"), "U1")
    assert not may_set_away(who(AGENT, id_="U1"), "U2")
    assert may_set_away(who(TEAM_LEAD, id_="L1"), "U2")
    assert may_set_away(who(ADMIN, kind="token", id_="T1"), "U2")


def test_a_token_is_never_the_staff_member_whose_id_it_shares():
    assert not may_set_away(who(AGENT, kind="token", id_="U1"), "U1")
    assert not may_set_away(who(INTEGRATION, kind="token", id_="T1"), "U2")


# --- passwords -----------------------------------------------------------------------------

@pytest.mark.parametrize(("password", "username", "expected"), [
    ("long enough password", "ann", []),
    ("short", "ann", ["must be at least 10 characters"]),
    ("Ann.Agent-2026!", "ann.agent", ["must not contain the username"]),
    ("ann", "ann", ["must be at least 10 characters", "must not contain the username"]),
    ("x" * (rules.MAX_PASSWORD_LENGTH + 1), "ann", [f"must be at most {rules.MAX_PASSWORD_LENGTH} characters"]),
    ("ten chars!", "", []),
])
def test_password_problems(password, username, expected):
    assert password_problems(password, username) == expected


# --- tokens --------------------------------------------------------------------------------

def test_token_state():
    assert token_state(None, None, NOW) == "active"
    assert token_state(None, NOW + timedelta(seconds=1), NOW) == "active"
    assert token_state(None, NOW, NOW) == "expired"  # expiry is exclusive
    assert token_state(NOW - timedelta(days=1), NOW + timedelta(days=1), NOW) == "revoked"
    assert token_state(NOW, NOW - timedelta(days=1), NOW) == "revoked"


def test_nobody_mints_a_token_ranking_above_their_own_role():
    from onethread.access.rules import grant_refusal

    assert grant_refusal("admin", "team_lead") is None and grant_refusal("admin", "admin") is None
    assert grant_refusal("team_lead", "agent") is None and grant_refusal("agent", "integration") is None
    assert "ranks above" in grant_refusal("team_lead", "admin")
    assert "ranks above" in grant_refusal("agent", "team_lead")
