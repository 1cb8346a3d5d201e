"""Input shapes every TMF resource shares: the extensible base and party references.

Unknown attributes are refused (400 naming them); the TMF meta attributes are accepted.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class TmfIn(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    type_: str | None = Field(None, alias="@type")
    base_type: str | None = Field(None, alias="@baseType")
    schema_location: str | None = Field(None, alias="@schemaLocation")


class PartyOrPartyRoleIn(TmfIn):
    """A reference to a party (``PartyRef``) or to a party role such as a customer (``PartyRoleRef``)."""

    type_: Literal["PartyRef", "PartyRoleRef"] = Field(..., alias="@type")
    id: str = Field(..., max_length=26)
    href: str | None = None
    name: str | None = None
    referred_type: str | None = Field(None, alias="@referredType")
    partyId: str | None = None
    partyName: str | None = None


class RelatedPartyIn(TmfIn):
    role: str = Field(..., max_length=100)
    partyOrPartyRole: PartyOrPartyRoleIn
