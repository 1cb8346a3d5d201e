"""Roles and who may do what. Pure: no database."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

STORE_ADVISOR = "store_advisor"
AGENT = "agent"
SPECIALIST = "specialist"
TEAM_LEAD = "team_lead"
BACK_OFFICE = "back_office"
FIELD_SUBCONTRACTOR = "field_subcontractor"
ADMIN = "admin"
INTEGRATION = "integration"  # a system feeding onethread (telephony, billing import, channels)
CUSTOMER = "customer"  # a customer or their representative signed in to the portal; never a staff role

STAFF_ROLES = frozenset({STORE_ADVISOR, AGENT, SPECIALIST, TEAM_LEAD, BACK_OFFICE, FIELD_SUBCONTRACTOR, ADMIN})
TOKEN_ROLES = STAFF_ROLES | {INTEGRATION}

# Groups that routes name.
CUSTOMER_SERVICE = frozenset({STORE_ADVISOR, AGENT, SPECIALIST, TEAM_LEAD, BACK_OFFICE, ADMIN})
CUSTOMER_WRITERS = CUSTOMER_SERVICE | {INTEGRATION}
CUSTOMER_READERS = CUSTOMER_SERVICE | {INTEGRATION}
SUPERVISORS = frozenset({TEAM_LEAD, ADMIN})
# Who may read a vulnerability's note (what the customer told us, kept with consent) and the
# vulnerability list: the people who serve the customer. Not an integration (a system has no
# reason to), nor a field subcontractor; they see at most the kind and the needs, in a profile.
VULNERABILITY_NOTE_READERS = CUSTOMER_SERVICE
ADMINS = frozenset({ADMIN})
ANYONE = TOKEN_ROLES  # any authenticated caller, staff or system
PORTAL_USERS = frozenset({CUSTOMER})  # the portal API and pages; no staff route names this role

ROLE_LABELS = {
    STORE_ADVISOR: "Store advisor",
    AGENT: "Contact-centre agent",
    SPECIALIST: "Case specialist",
    TEAM_LEAD: "Team lead",
    BACK_OFFICE: "Back office",
    FIELD_SUBCONTRACTOR: "Field subcontractor",
    ADMIN: "Administrator",
    INTEGRATION: "Integration (system)",
}

MIN_PASSWORD_LENGTH = 10
MAX_PASSWORD_LENGTH = 1024  # hashing cost grows with length; nobody types more


@dataclass(frozen=True)
class Principal:
    """Whoever is calling: a staff member (page session or token), or a system token."""

    kind: str  # staff | token | system
    id: str
    name: str
    role: str
    team_id: str | None = None
    time_zone: str | None = None  # a staff member's own zone for pages (None: the market's)

    def may(self, roles: frozenset[str]) -> bool:
        return self.role in roles


SYSTEM = Principal(kind="system", id="SYSTEM", name="onethread", role=ADMIN)


def password_problems(password: str, username: str) -> list[str]:
    problems = []
    if len(password) < MIN_PASSWORD_LENGTH:
        problems.append(f"must be at least {MIN_PASSWORD_LENGTH} characters")
    if len(password) > MAX_PASSWORD_LENGTH:
        problems.append(f"must be at most {MAX_PASSWORD_LENGTH} characters")
    if username and username.lower() in password.lower():
        problems.append("must not contain the username")
    return problems


def may_set_away(principal: Principal, staff_id: str) -> bool:
    """Supervisors mark anyone away; a staff member marks only themself."""
    return principal.role in SUPERVISORS or (principal.kind == "staff" and principal.id == staff_id)


def token_state(revoked_at: datetime | None, expires_at: datetime | None, now: datetime) -> str:
    """``revoked``, ``expired`` or ``active``: what a bearer token is worth at ``now``."""
    if revoked_at is not None:
        return "revoked"
    if expires_at is not None and expires_at <= now:
        return "expired"
    return "active"
