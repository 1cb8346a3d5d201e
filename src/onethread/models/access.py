"""Staff, teams, API tokens and the audit log."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from onethread.db.base import Base, id_column
from onethread.db.types import JSONType


class Team(Base):
    __tablename__ = "team"

    id: Mapped[str] = id_column()
    name: Mapped[str] = mapped_column(String(120), unique=True)
    kind: Mapped[str] = mapped_column(String(30), default="contact_centre")
    lead_id: Mapped[str | None] = mapped_column(ForeignKey("staff_user.id", use_alter=True))
    created_at: Mapped[datetime]
    # How the team's waiting work (triage items, new cases) is handed out: least_loaded | round_robin | skills
    routing_rule: Mapped[str] = mapped_column(String(20), default="least_loaded", server_default="least_loaded")


class StaffUser(Base):
    __tablename__ = "staff_user"

    id: Mapped[str] = id_column()
    username: Mapped[str] = mapped_column(String(80), unique=True)
    display_name: Mapped[str] = mapped_column(String(120))
    email: Mapped[str | None] = mapped_column(String(200))
    team_id: Mapped[str | None] = mapped_column(ForeignKey("team.id"), index=True)
    role: Mapped[str] = mapped_column(String(30))
    password_hash: Mapped[str | None] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    away: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime]
    time_zone: Mapped[str | None] = mapped_column(String(64))  # pages show times here (default: the market's)
    # Presence (docs/routing.md): available | busy | away | off; ``away`` above is kept equal to
    # presence in (away, off). ``back_at``: when someone away expects to be back.
    presence: Mapped[str] = mapped_column(String(20), default="available", server_default="available")
    back_at: Mapped[datetime | None]
    presence_since: Mapped[datetime | None]
    capacity: Mapped[int] = mapped_column(Integer, default=10, server_default="10")  # open items handed out at most
    last_assigned_at: Mapped[datetime | None]  # round robin: the longest without work goes first
    # The ``skills`` rule: languages ("fr") and product kinds ("fibre") this person handles.
    skills: Mapped[list | None] = mapped_column(JSONType)


class ApiToken(Base):
    """A bearer token for a system. Only its SHA-256 is stored; the token is shown once."""

    __tablename__ = "api_token"

    id: Mapped[str] = id_column()
    name: Mapped[str] = mapped_column(String(120))
    role: Mapped[str] = mapped_column(String(30))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(16))
    staff_user_id: Mapped[str | None] = mapped_column(ForeignKey("staff_user.id"))
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]
    last_used_at: Mapped[datetime | None]


class AuditEntry(Base):
    """Who read or changed which personal data, when, and through which channel or why."""

    __tablename__ = "audit_entry"

    id: Mapped[str] = id_column()
    at: Mapped[datetime]
    actor_type: Mapped[str] = mapped_column(String(20))  # staff | token | system | customer
    actor_id: Mapped[str] = mapped_column(String(26))
    actor_name: Mapped[str] = mapped_column(String(120))
    action: Mapped[str] = mapped_column(String(20))  # read | create | update | delete
    resource_type: Mapped[str] = mapped_column(String(40))
    resource_id: Mapped[str | None] = mapped_column(String(26))
    customer_id: Mapped[str | None] = mapped_column(String(26))
    channel: Mapped[str | None] = mapped_column(String(20))
    purpose: Mapped[str | None] = mapped_column(String(200))
    detail: Mapped[dict] = mapped_column(JSONType, default=dict)


Index("ix_audit_entry_customer_at", AuditEntry.customer_id, AuditEntry.at)


class PortalAccount(Base):
    """A sign-in to the customer portal for a person (party): the customer themself or someone
    authorised to act for customers. What they see comes from who the party is, not from here."""

    __tablename__ = "portal_account"

    id: Mapped[str] = id_column()
    party_id: Mapped[str] = mapped_column(ForeignKey("party.id"), unique=True)
    login: Mapped[str] = mapped_column(String(200), unique=True)  # an e-mail address, lower case
    password_hash: Mapped[str] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime]
    last_login_at: Mapped[datetime | None]


class InstanceSecret(Base):
    """A secret generated on first run and kept with the database (the key that signs session
    cookies when ``ONETHREAD_SECRET_KEY`` is not set): never a fixed string in the code."""

    __tablename__ = "instance_secret"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    value: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime]


class SignInSession(Base):
    """A signed-in browser (staff pages or the portal), kept server-side: the cookie carries a
    random key whose SHA-256 is ``key_hash``; logout, deactivation and "end all sessions" set
    ``ended_at`` and the cookie stops working at once."""

    __tablename__ = "sign_in_session"

    id: Mapped[str] = id_column()
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[str] = mapped_column(String(10))  # staff | portal
    subject_id: Mapped[str] = mapped_column(String(26))  # staff_user.id or portal_account.id
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    ended_at: Mapped[datetime | None]
    ended_why: Mapped[str | None] = mapped_column(String(30))  # logout | deactivated | ended_by_admin | password


Index("ix_sign_in_session_kind_subject", SignInSession.kind, SignInSession.subject_id)


class SignInFailure(Base):
    """One failed sign-in, counted per account and per client address to throttle guessing."""

    __tablename__ = "sign_in_failure"

    id: Mapped[str] = id_column()
    scope: Mapped[str] = mapped_column(String(10))  # staff | portal
    key_kind: Mapped[str] = mapped_column(String(10))  # account | address
    key: Mapped[str] = mapped_column(String(200))
    at: Mapped[datetime]


Index("ix_sign_in_failure_key_at", SignInFailure.scope, SignInFailure.key_kind, SignInFailure.key, SignInFailure.at)
