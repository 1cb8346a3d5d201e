"""The ``skills`` routing rule (issue 15): a team lead records what people handle (languages,
product kinds) and sets the team's rule; a waiting contact then goes to the available member whose
skills match its customer's language and the product it names, and to the least loaded when
nobody matches. Contacts one by one and in a batch are handed out alike."""

from __future__ import annotations

from sqlalchemy import select

from onethread.access import service as access
from onethread.access.rules import SYSTEM
from onethread.customers import identifier_service
from onethread.customers import service as customers
from onethread.interactions import batch_service
from onethread.interactions import service as interactions
from onethread.inventory import service as inventory
from onethread.models import TriageItem
from tests.support.sessions_api import make_staff
from tests.support.triage_api import email, item_of
from tests.tmf_schema import assert_tmf_error


def customer(uow, clock, name: str, address: str, language: str | None = None, product: str | None = None):
    with uow() as s:
        party = customers.create_individual(s, clock, SYSTEM, given_name=name, family_name="Test",
                                            preferred_language=language)
        cid = customers.create_customer(s, clock, SYSTEM, party_id=party.id).id
        identifier_service.assign(s, clock, SYSTEM, customer_id=cid, kind="email", value=address)
        pid = inventory.add_product(s, clock, SYSTEM, customer_id=cid, kind=product, name=product,
                                    currency="GBP").id if product else None
        return cid, pid


def test_a_contact_goes_to_whoever_speaks_its_language_or_knows_its_product(client, uow, clock):
    lee, team, lee_hdr = make_staff(uow, clock, "lee.lead", "Lee Lead", "team_lead", "Contact centre")
    al, _, al_hdr = make_staff(uow, clock, "al.agent", "Al Morgan", "agent", "Contact centre")
    bo, _, _ = make_staff(uow, clock, "bo.agent", "Bo Lind", "agent", "Contact centre")
    cy, _, _ = make_staff(uow, clock, "cy.agent", "Cy Park", "agent", "Contact centre")
    with uow() as s:
        access.set_team_lead(s, team, lee)

    r = client.put(f"/api/v1/staff/{bo}/skills", json={"skills": ["FR", "fibre", "fr"]}, headers=lee_hdr)
    assert r.status_code == 200, r.text
    assert r.json()["skills"] == ["fr", "fibre"]
    assert client.put(f"/api/v1/staff/{cy}/skills", json={"skills": ["mobile_line"]}, headers=lee_hdr).status_code \
        == 200
    assert_tmf_error(client.put(f"/api/v1/staff/{al}/skills", json={"skills": ["fr"]}, headers=al_hdr), 403)
    assert_tmf_error(client.put(f"/api/v1/staff/{al}/skills", json={"skills": ["fr en"]}, headers=lee_hdr), 400)
    assert_tmf_error(client.put(f"/api/v1/teams/{team}/routing-rule", json={"rule": "luck"}, headers=lee_hdr), 400)
    assert_tmf_error(client.put(f"/api/v1/teams/{team}/routing-rule", json={"rule": "skills"}, headers=al_hdr), 403)
    r = client.put(f"/api/v1/teams/{team}/routing-rule", json={"rule": "skills"}, headers=lee_hdr)
    assert r.status_code == 200 and r.json()["rule"] == "skills"

    customer(uow, clock, "Amelie", "amelie@example.fr", language="fr")
    _, line = customer(uow, clock, "Ben", "ben@example.com", language="en", product="mobile_line")
    customer(uow, clock, "Cat", "cat@example.com", language="en")
    french = email(uow, clock, "amelie@example.fr", text="ma ligne ne marche pas")
    assert item_of(uow, french).assigned_to == bo
    assert item_of(uow, french).reason.endswith("matched on fr")
    mobile = email(uow, clock, "ben@example.com", text="no signal", extra={"productId": line})
    assert item_of(uow, mobile).assigned_to == cy and "matched on mobile_line" in item_of(uow, mobile).reason
    nobody = email(uow, clock, "cat@example.com", text="a question")  # nobody matches: the least loaded
    assert item_of(uow, nobody).assigned_to == al and "matched" not in item_of(uow, nobody).reason
    again = email(uow, clock, "amelie@example.fr", text="toujours rien")  # Bo is the French speaker still
    assert item_of(uow, again).assigned_to == bo

    with uow() as s:  # a batch is handed out by the same rule
        done = batch_service.record_many(s, clock, SYSTEM, [interactions.Intake(
            channel="email", direction="inbound", occurred_at=clock.now(), text=f"lot {n}",
            identifiers={"email": address}) for n, address in enumerate(["amelie@example.fr", "cat@example.com"])])
        ids = [d.contact.id for d in done]
    with uow() as s:
        handed = dict(s.execute(select(TriageItem.contact_id, TriageItem.assigned_to)
                                .where(TriageItem.contact_id.in_(ids))).all())
    assert handed[ids[0]] == bo and handed[ids[1]] == al
    r = client.get(f"/api/v1/staff/{bo}/presence", headers=al_hdr)
    assert r.json()["skills"] == ["fr", "fibre"]


def team_ticket(customer_id: str, team_id: str, product_id: str | None = None) -> dict:
    from tests.support.trouble_ticket_api import ticket_body
    body = ticket_body(customer_id, kind="fault", product_id=product_id)
    body["relatedParty"].append({"@type": "RelatedPartyRefOrPartyRoleRef", "role": "owner",
                                 "partyOrPartyRole": {"@type": "PartyRoleRef", "id": team_id,
                                                      "@referredType": "Team"}})
    return body


def test_a_new_case_handed_to_a_team_gets_its_owner_by_the_teams_rule(client, uow, clock):
    lee, team, lee_hdr = make_staff(uow, clock, "lee.lead", "Lee Lead", "team_lead", "Case specialists",
                                    team_kind="specialists")
    al, _, _ = make_staff(uow, clock, "al.spec", "Al Morgan", "specialist", "Case specialists")
    bo, _, _ = make_staff(uow, clock, "bo.spec", "Bo Lind", "specialist", "Case specialists")
    _, _, opener = make_staff(uow, clock, "jo.agent", "Jo Reid", "agent", "Contact centre")
    with uow() as s:
        access.set_team_lead(s, team, lee)
    cid, fibre = customer(uow, clock, "Amelie", "amelie@example.fr", language="fr", product="fibre")
    url = "/tmf-api/troubleTicket/v5/troubleTicket"

    r = client.post(url, json=team_ticket(cid, team), headers=opener)  # least loaded: nobody has a case yet
    assert r.status_code == 201, r.text
    assert r.json()["owner"]["id"] == al
    r = client.post(url, json=team_ticket(cid, team), headers=opener)
    assert r.json()["owner"]["id"] == bo  # Al has one now
    client.put(f"/api/v1/staff/{al}/skills", json={"skills": ["fibre"]}, headers=lee_hdr)
    client.put(f"/api/v1/teams/{team}/routing-rule", json={"rule": "skills"}, headers=lee_hdr)
    r = client.post(url, json=team_ticket(cid, team, fibre), headers=opener)
    assert r.json()["owner"]["id"] == al  # the fibre specialist, though not the least loaded
    from onethread.models import CaseEvent
    with uow() as s:
        opened = s.scalar(select(CaseEvent).where(CaseEvent.case_id == r.json()["id"], CaseEvent.kind == "opened"))
        assert opened.data["ownerChosenBy"] == "the skills rule of Case specialists"

    for who in (al, bo):  # everyone away: the lead takes it; the lead away too: refused, nothing opened
        client.put(f"/api/v1/staff/{who}/presence", json={"presence": "off"}, headers=lee_hdr)
    assert client.post(url, json=team_ticket(cid, team), headers=opener).json()["owner"]["id"] == lee
    client.put(f"/api/v1/staff/{lee}/presence", json={"presence": "away"}, headers=lee_hdr)
    assert_tmf_error(client.post(url, json=team_ticket(cid, team), headers=opener), 409)
    assert_tmf_error(client.post(url, json=team_ticket(cid, "01M99000000000000000000000"), headers=opener), 404)


def test_someone_becoming_available_takes_the_waiting_work_matching_their_skills_first(client, uow, clock):
    from datetime import timedelta

    lee, team, lee_hdr = make_staff(uow, clock, "lee.lead", "Lee Lead", "team_lead", "Contact centre")
    al, _, al_hdr = make_staff(uow, clock, "al.agent", "Al Morgan", "agent", "Contact centre")
    cy, _, cy_hdr = make_staff(uow, clock, "cy.agent", "Cy Park", "agent", "Contact centre")
    with uow() as s:
        access.set_team_lead(s, team, lee)
    client.put(f"/api/v1/staff/{al}/skills", json={"skills": ["fr"]}, headers=lee_hdr)
    client.put(f"/api/v1/staff/{cy}/skills", json={"skills": ["mobile_line"]}, headers=lee_hdr)
    assert client.put(f"/api/v1/teams/{team}/routing-rule", json={"rule": "skills"},
                      headers=lee_hdr).status_code == 200
    for hdr in (al_hdr, cy_hdr):
        assert client.put("/api/v1/staff/me/presence", json={"presence": "busy"}, headers=hdr).status_code == 200
    customer(uow, clock, "Cat", "cat@example.com", language="en")
    _, line = customer(uow, clock, "Ben", "ben@example.com", language="en", product="mobile_line")
    customer(uow, clock, "Amelie", "amelie@example.fr", language="fr")
    waiting = []  # oldest first: Cat, Ben (about his mobile line), Amelie (French), Cat again
    for sender, extra in (("cat@example.com", None), ("ben@example.com", {"productId": line}),
                          ("amelie@example.fr", None), ("cat@example.com", None)):
        clock.advance(timedelta(minutes=1))
        waiting.append(email(uow, clock, sender, text="hello", **({"extra": extra} if extra else {})))
    assert [item_of(uow, w).assigned_to for w in waiting] == [None] * 4
    cat, ben, amelie, cat_again = waiting

    # Al speaks French: Amelie's contact first, though two are older; then the oldest of the rest.
    r = client.put("/api/v1/staff/me/presence", json={"presence": "available", "capacity": 2}, headers=al_hdr)
    assert r.status_code == 200 and r.json()["handedOut"] == 2
    assert item_of(uow, amelie).assigned_to == al and item_of(uow, amelie).reason.endswith("matched on fr")
    assert item_of(uow, cat).assigned_to == al and "matched" not in item_of(uow, cat).reason
    assert item_of(uow, ben).assigned_to is None
    # Cy knows mobile lines: Ben's contact about his line, though Cat's second one waits too.
    r = client.put("/api/v1/staff/me/presence", json={"presence": "available", "capacity": 1}, headers=cy_hdr)
    assert r.json()["handedOut"] == 1
    assert item_of(uow, ben).assigned_to == cy and item_of(uow, ben).reason.endswith("matched on mobile_line")
    assert item_of(uow, cat_again).assigned_to is None

    # Under least loaded, the same person takes the oldest, whatever their skills.
    client.put(f"/api/v1/teams/{team}/routing-rule", json={"rule": "least_loaded"}, headers=lee_hdr)
    client.put("/api/v1/staff/me/presence", json={"presence": "busy"}, headers=al_hdr)
    clock.advance(timedelta(minutes=1))
    french = email(uow, clock, "amelie@example.fr", text="encore")
    r = client.put("/api/v1/staff/me/presence", json={"presence": "available", "capacity": 3}, headers=al_hdr)
    assert r.json()["handedOut"] == 1
    assert item_of(uow, cat_again).assigned_to == al and item_of(uow, french).assigned_to is None
