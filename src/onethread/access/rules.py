"""Roles and who may do what. Pure: no database."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class Role(StrEnum):
    """Who a caller is to onethread: a staff account's or a token's role (``StaffUser.role``)."""

    STORE_ADVISOR = "store_advisor"
    AGENT = "agent"
    SPECIALIST = "specialist"
    TEAM_LEAD = "team_lead"
    BACK_OFFICE = "back_office"
    FIELD_SUBCONTRACTOR = "field_subcontractor"
    ADMIN = "admin"
    INTEGRATION = "integration"  # a system feeding onethread (telephony, billing import, channels)
    CUSTOMER = "customer"  # a customer or their representative signed in to the portal; never a staff role

    @property
    def label(self) -> str:
        return ROLE_LABELS.get(self, self.value.replace("_", " "))


class Presence(StrEnum):
    """Whether a staff member takes new work now (``StaffUser.presence``)."""

    AVAILABLE = "available"
    BUSY = "busy"
    AWAY = "away"
    OFF = "off"


# The names the routes and services use.
STORE_ADVISOR, AGENT, SPECIALIST, TEAM_LEAD = Role.STORE_ADVISOR, Role.AGENT, Role.SPECIALIST, Role.TEAM_LEAD
BACK_OFFICE, FIELD_SUBCONTRACTOR, ADMIN = Role.BACK_OFFICE, Role.FIELD_SUBCONTRACTOR, Role.ADMIN
INTEGRATION, CUSTOMER = Role.INTEGRATION, Role.CUSTOMER

STAFF_ROLES = frozenset({STORE_ADVISOR, AGENT, SPECIALIST, TEAM_LEAD, BACK_OFFICE, FIELD_SUBCONTRACTOR, ADMIN})
TOKEN_ROLES = STAFF_ROLES | {INTEGRATION}

# Groups that routes name.
CUSTOMER_SERVICE = frozenset({STORE_ADVISOR, AGENT, SPECIALIST, TEAM_LEAD, BACK_OFFICE, ADMIN})
CUSTOMER_WRITERS = CUSTOMER_SERVICE | {INTEGRATION}
CUSTOMER_READERS = CUSTOMER_SERVICE | {INTEGRATION}
SUPERVISORS = frozenset({TEAM_LEAD, ADMIN})
# The field service: the operator's people and a subcontractor's (who see only their own work).
FIELD_WORKERS = CUSTOMER_SERVICE | {FIELD_SUBCONTRACTOR}
# Who may read a vulnerability's note (what the customer told us, kept with consent) and the
# vulnerability list: the people who serve the customer. Not an integration (a system has no
# reason to), nor a field subcontractor; they see at most the kind and the needs, in a profile.
VULNERABILITY_NOTE_READERS = CUSTOMER_SERVICE
ADMINS = frozenset({ADMIN})
ANYONE = TOKEN_ROLES  # any authenticated caller, staff or system
PORTAL_USERS = frozenset({CUSTOMER})  # the portal API and pages; no staff route names this role

ROLE_LABELS: dict[str, str] = {
    STORE_ADVISOR: "Store advisor",
    AGENT: "Contact-centre agent",
    SPECIALIST: "Case specialist",
    TEAM_LEAD: "Team lead",
    BACK_OFFICE: "Back office",
    FIELD_SUBCONTRACTOR: "Field subcontractor",
    ADMIN: "Administrator",
    INTEGRATION: "Integration (system)",
}

# Who may mint a token of which role: never one ranking above the creator's own.
ROLE_RANK: dict[str, int] = {ADMIN: 3, TEAM_LEAD: 2}  # every other role ranks 1


def grant_refusal(creator_role: str, role: str) -> str | None:
    """Why a caller with ``creator_role`` may not mint a token with ``role``; ``None`` when they may."""
    if ROLE_RANK.get(role, 1) > ROLE_RANK.get(creator_role, 1):
        return (f"a {creator_role.replace('_', ' ')} cannot mint a token with the role {role.replace('_', ' ')}, "
                "which ranks above their own")
    return None


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


# The demo's password, printed by `onethread demo` and in the README: public, so a production
# server refuses to sign anyone in with it (docs/security.md).
PUBLIC_DEMO_PASSWORD = "onethread-demo"

# Passwords that lists of leaked passwords start with (lower case, compared after lower-casing):
# long enough for the length rule, and the first ones anyone guessing tries.
COMMON_PASSWORDS = frozenset({
    "password123", "password1234", "password12345", "passw0rd123", "1234567890", "12345678910",
    "123456789a", "0123456789", "9876543210", "qwertyuiop", "qwerty1234", "qwerty12345", "1q2w3e4r5t",
    "iloveyou123", "letmein123", "welcome123", "welcome1234", "changeme123", "administrator", "abcdefghij",
    "abc1234567", "football123", "sunshine123", "princess123", "trustno1234", "monkey12345", "dragon12345",
    "superman123", "baseball123", "starwars123", "zaq12wsxcde", "1qaz2wsx3edc", "password!23", "p@ssw0rd123",
    "onethread123", "onethread1234", "telecom1234", "customer123",
})


def password_problems(password: str, username: str, email: str | None = None) -> list[str]:
    """What is wrong with a new password (empty when fine): its length, the person's own name or
    e-mail address in it, one of the most common passwords, or one character repeated."""
    problems = []
    if len(password) < MIN_PASSWORD_LENGTH:
        problems.append(f"must be at least {MIN_PASSWORD_LENGTH} characters")
    if len(password) > MAX_PASSWORD_LENGTH:
        problems.append(f"must be at most {MAX_PASSWORD_LENGTH} characters")
    lowered = password.lower()
    if username and username.lower() in lowered:
        problems.append("must not contain the username")
    for address in {a.strip().lower() for a in (username, email) if a and "@" in a}:
        local = address.split("@", 1)[0]
        if address in lowered or (len(local) >= 4 and local in lowered):
            problems.append("must not contain the e-mail address")
            break
    if lowered in COMMON_PASSWORDS:
        problems.append("is one of the most common passwords: choose another")
    elif MIN_PASSWORD_LENGTH <= len(password) <= MAX_PASSWORD_LENGTH and len(set(password)) <= 2:
        problems.append("must not be one or two characters repeated")
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
