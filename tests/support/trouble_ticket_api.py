"""The trouble ticket API's world (a team with its lead and two agents, two customers), bearer
headers of a named staff member, ticket bodies, an opened case and row counts."""

from __future__ import annotations

from types import SimpleNamespace

from sqlalchemy import func, select

from onethread.access import service as access
from onethread.access.rules import SYSTEM
from onethread.customers import service as customers
from onethread.inventory import service as inventory

BASE = "/tmf-api/troubleTicket/v5/troubleTicket"


PATCH = {"Content-Type": "application/merge-patch+json"}


def staff_headers(uow, clock, user_id: str, role: str) -> dict[str, str]:
    """A bearer token issued to a named staff member: they act as that person."""
    with uow() as s:
        _, secret = access.create_token(s, clock, name=f"token-{user_id}", role=role, staff_user_id=user_id)
    return {"Authorization": f"Bearer {secret}"}


def make_world(uow, clock) -> SimpleNamespace:
    """A team with its lead and two agents, a customer with a line, another customer."""
    with uow() as s:
        team = access.create_team(s, clock, name="Contact centre")
        lead = access.create_user(s, clock, username="lee.lead", display_name="Lee Carter", role="team_lead",
                                  password=None, team_id=team.id)
        access.set_team_lead(s, team.id, lead.id)
        alex = access.create_user(s, clock, username="alex.agent", display_name="Alex Morgan", role="agent",
                                  password=None, team_id=team.id)
        sam = access.create_user(s, clock, username="sam.agent", display_name="Sam Patel", role="agent",
                                 password=None, team_id=team.id)
        party = customers.create_individual(s, clock, SYSTEM, given_name="Margaret", family_name="Hughes")
        cust = customers.create_customer(s, clock, SYSTEM, party_id=party.id)
        line = inventory.add_product(s, clock, SYSTEM, customer_id=cust.id, kind="mobile_line", name="Mobile 20 GB",
                                     currency="GBP")
        other_party = customers.create_individual(s, clock, SYSTEM, given_name="Tom", family_name="Reed")
        other = customers.create_customer(s, clock, SYSTEM, party_id=other_party.id)
        ids = SimpleNamespace(team=team.id, lead=lead.id, alex=alex.id, sam=sam.id, customer=cust.id,
                              party=party.id, product=line.id, other=other.id)
    return SimpleNamespace(
        **vars(ids),
        as_alex=staff_headers(uow, clock, ids.alex, "agent"),
        as_sam=staff_headers(uow, clock, ids.sam, "agent"),
        as_lead=staff_headers(uow, clock, ids.lead, "team_lead"),
    )


def ticket_body(customer_id: str, *, kind="complaint", severity="medium", channel="phone", name="No incoming calls",
                description="I cannot receive calls or voicemail since March", owner_id=None, product_id=None,
                category=None, **extra) -> dict:
    body = {
        "@type": "TroubleTicket",
        "name": name,
        "description": description,
        "severity": severity,
        "ticketType": kind,
        "channel": {"@type": "ChannelRef", "id": channel},
        "relatedParty": [{"@type": "RelatedPartyRefOrPartyRoleRef", "role": "customer",
                          "partyOrPartyRole": {"@type": "PartyRoleRef", "id": customer_id}}],
    }
    if owner_id:
        body["relatedParty"].append({"@type": "RelatedPartyRefOrPartyRoleRef", "role": "owner",
                                     "partyOrPartyRole": {"@type": "PartyRoleRef", "id": owner_id}})
    if product_id:
        body["relatedEntity"] = [{"@type": "RelatedEntity", "role": "product",
                                  "entity": {"@type": "EntityRef", "id": product_id, "@referredType": "Product"}}]
    if category:
        body["troubleTicketCharacteristic"] = [{"@type": "StringCharacteristic", "name": "category",
                                                "value": category}]
    body.update(extra)
    return body


def open_case(client, headers, customer_id, **kw) -> dict:
    r = client.post(BASE, json=ticket_body(customer_id, **kw), headers=headers)
    assert r.status_code == 201, r.text
    return r.json()


def count(container, model) -> int:
    with container.sessions() as s:
        return s.scalar(select(func.count()).select_from(model))


def party(body: dict, role: str) -> dict:
    return next(p["partyOrPartyRole"] for p in body["relatedParty"] if p["role"] == role)
