"""Parties (TMF632): individuals and organisations, and relationships between them."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from onethread.db.base import Base, id_column, keyed_by, keyed_id_column
from onethread.db.types import JSONType


class Party(Base):
    __tablename__ = "party"

    id: Mapped[str] = id_column()
    kind: Mapped[str] = mapped_column(String(20))  # individual | organization
    given_name: Mapped[str | None] = mapped_column(String(120))
    family_name: Mapped[str | None] = mapped_column(String(120))
    organization_name: Mapped[str | None] = mapped_column(String(200))
    title: Mapped[str | None] = mapped_column(String(40))
    birth_date: Mapped[date | None] = mapped_column(Date)
    preferred_language: Mapped[str | None] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(20), default="validated")
    # TMF attributes onethread has no column for, kept as the client sent them (docs/api/*.md)
    tmf_attributes: Mapped[dict | None] = mapped_column(JSONType)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}

    @property
    def display_name(self) -> str:
        if self.kind == "organization":
            return self.organization_name or ""
        return " ".join(p for p in (self.given_name, self.family_name) if p)


class PartyRelationship(Base):
    """A typed link between two parties over time: spouse, child, parent, user-of (organisation)."""

    __tablename__ = "party_relationship"
    __table_args__ = (keyed_by("party_id"),)

    id: Mapped[str] = keyed_id_column()
    party_id: Mapped[str] = mapped_column(ForeignKey("party.id"), index=True)
    related_party_id: Mapped[str] = mapped_column(ForeignKey("party.id"), index=True)
    kind: Mapped[str] = mapped_column(String(30))
    valid_from: Mapped[date | None] = mapped_column(Date)
    valid_to: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime]

    __mapper_args__ = {"primary_key": [id]}
