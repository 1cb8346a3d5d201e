"""Customer merges over HTTP: the same person recorded twice is merged on named evidence (never a
shared number alone), everything of the source moves with its identifier history intact, and an
undo moves exactly that back. Team leads and administrators only, as named persons."""

from __future__ import annotations

from datetime import date, timedelta
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from onethread.access.rules import SYSTEM
from onethread.customers import identifier_service
from onethread.customers import service as customers
from onethread.interactions import session_service
from onethread.inventory import service as inventory
from onethread.models import AuditEntry, Case, IdentifierHolding, Product
from tests.support.trouble_ticket_api import make_world, open_case
from tests.tmf_schema import assert_tmf_error

PATH = "/api/v1/customer-merges"


@pytest.fixture
def people(uow, clock):
    world = make_world(uow, clock)
    start = clock.now() - timedelta(days=400)
    with uow() as s:
        def customer(given, family, born):
            party = customers.create_individual(s, clock, SYSTEM, given_name=given, family_name=family,
                                                birth_date=born)
            return customers.create_customer(s, clock, SYSTEM, party_id=party.id).id
        twice = [customer("Edith", "Barnes", date(1941, 3, 9)) for _ in range(2)]
        former = customer("Edith", "Barnes", date(1980, 5, 1))  # the same name, another person
        # The number was the former holder's, then recycled to the first record.
        old = identifier_service.assign(s, clock, SYSTEM, customer_id=former, kind="msisdn", value="07700900123",
                                        valid_from=start, valid_to=start + timedelta(days=100), region="GB")
        new = identifier_service.assign(s, clock, SYSTEM, customer_id=twice[0], kind="msisdn", value="07700900123",
                                        valid_from=start + timedelta(days=200), region="GB")
        line = inventory.add_product(s, clock, SYSTEM, customer_id=twice[0], kind="mobile_line", name="Mobile",
                                     currency="GBP")
    return SimpleNamespace(world=world, keep=twice[1], dup=twice[0], former=former, old=old.id, new=new.id,
                           line=line.id)


def owned(uow, customer_id) -> dict:
    with uow() as s:
        return {"holdings": sorted((h.id, h.valid_from, h.valid_to) for h in s.scalars(
                    select(IdentifierHolding).where(IdentifierHolding.customer_id == customer_id))),
                "products": sorted(s.scalars(select(Product.id).where(Product.customer_id == customer_id))),
                "cases": sorted(s.scalars(select(Case.id).where(Case.customer_id == customer_id)))}


def test_a_shared_number_alone_never_merges_two_customers(client, people):
    lead = people.world.as_lead
    body = assert_tmf_error(client.post(PATH, json={"sourceId": people.former, "targetId": people.dup,
                                                    "evidence": "name_and_birth_date", "reason": "same number"},
                                        headers=lead), 409)
    assert "share 1 identifier" in body["message"] + body.get("reason", "")
    assert_tmf_error(client.post(PATH, json={"sourceId": people.former, "targetId": people.dup,
                                             "evidence": "verified_identity", "reason": "same number"},
                                 headers=lead), 409)
    assert_tmf_error(client.post(PATH, json={"sourceId": people.former, "targetId": people.dup,
                                             "reason": "same number"}, headers=lead), 400)


def test_a_merge_moves_everything_with_its_history_and_an_undo_moves_it_back(client, uow, people):
    w = people.world
    case_id = open_case(client, w.as_alex, people.dup, kind="fault")["id"]
    before = {c: owned(uow, c) for c in (people.dup, people.keep, people.former)}
    assert before[people.dup]["cases"] == [case_id]
    merged = client.post(PATH, json={"sourceId": people.dup, "targetId": people.keep,
                                     "evidence": "name_and_birth_date", "reason": "signed up twice"}, headers=w.as_lead)
    assert merged.status_code == 201, merged.text
    record = merged.json()
    assert merged.headers["Location"] == record["href"] and record["mergedBy"]["name"] == "Lee Carter"
    after = owned(uow, people.keep)
    assert after["cases"] == [case_id] and after["products"] == [people.line]
    assert after["holdings"] == before[people.dup]["holdings"]  # valid_from / valid_to as they were
    assert owned(uow, people.former) == before[people.former]  # the number's former holder stays apart
    assert_tmf_error(client.post(PATH, json={"sourceId": people.dup, "targetId": people.keep,
                                             "evidence": "name_and_birth_date", "reason": "again"},
                                 headers=w.as_lead), 409)
    assert_tmf_error(client.post(f"{PATH}/{record['id']}/undo", json={"reason": "x"}, headers=w.as_alex), 403)
    read = client.get(record["href"], headers=w.as_lead)
    assert read.status_code == 200 and read.json()["id"] == record["id"] and read.json()["undone"] is None
    assert_tmf_error(client.get(record["href"], headers=w.as_alex), 403)
    with uow() as s:
        trail = s.scalars(select(AuditEntry.action).where(AuditEntry.resource_id == record["id"],
                                                           AuditEntry.customer_id == people.dup)).all()
    assert sorted(trail) == ["merge_customers", "read"]
    undone = client.post(f"{PATH}/{record['id']}/undo", json={"reason": "twins, not one person"},
                         headers=w.as_lead)
    assert undone.status_code == 200, undone.text
    assert undone.json()["undone"]["reason"] == "twins, not one person"
    assert {c: owned(uow, c) for c in before} == before
    assert_tmf_error(client.post(f"{PATH}/{record['id']}/undo", json={"reason": "x"}, headers=w.as_lead), 409)


def test_only_a_team_lead_or_an_administrator_as_a_person_merges_customers(client, people, token_for):
    ask = {"sourceId": people.dup, "targetId": people.keep, "evidence": "name_and_birth_date", "reason": "twice"}
    assert_tmf_error(client.post(PATH, json=ask, headers=people.world.as_alex), 403)
    assert_tmf_error(client.post(PATH, json=ask, headers=token_for("admin")), 403)
    assert_tmf_error(client.post(PATH, json={**ask, "extra": 1}, headers=people.world.as_lead), 400)


def test_an_undo_is_refused_when_a_moved_case_gained_rows_since(client, uow, people):
    w = people.world
    case_id = open_case(client, w.as_alex, people.dup, kind="fault")["id"]
    record = client.post(PATH, json={"sourceId": people.dup, "targetId": people.keep,
                                     "evidence": "name_and_birth_date", "reason": "twice"}, headers=w.as_lead).json()
    assert client.post(f"/api/v1/cases/{case_id}/harms", json={"kind": "no_service", "description": "no calls",
                                                                "severity": "medium"},
                       headers=w.as_alex).status_code == 201
    body = assert_tmf_error(client.post(f"{PATH}/{record['id']}/undo", json={"reason": "x"}, headers=w.as_lead), 409)
    assert "added since to a case it moved" in body["message"] + body.get("reason", "")
    assert owned(uow, people.keep)["cases"] == [case_id]


def test_a_verified_identity_on_both_records_is_evidence(client, uow, clock, people):
    w = people.world
    with uow() as s:
        unborn = [customers.create_customer(s, clock, SYSTEM, party_id=customers.create_individual(
            s, clock, SYSTEM, given_name="Edith", family_name="Barnes").id).id for _ in range(2)]

    def id_checked(customer_id):
        with uow() as s:
            live = session_service.start(s, clock, SYSTEM, channel="phone", customer_id=customer_id)
            session_service.verify(s, clock, SYSTEM, live.id, method="id_document", level=3,
                                   ttl=timedelta(minutes=30))

    ask = {"sourceId": unborn[0], "targetId": unborn[1], "evidence": "verified_identity", "reason": "ID seen"}
    id_checked(unborn[0])
    assert_tmf_error(client.post(PATH, json=ask, headers=w.as_lead), 409)  # one record checked is not enough
    id_checked(unborn[1])
    merged = client.post(PATH, json=ask, headers=w.as_lead)
    assert merged.status_code == 201, merged.text
    assert merged.json()["evidence"] == "verified_identity"
    # The same name, both checked, but two dates of birth on file: two people.
    id_checked(people.former)
    id_checked(people.dup)
    assert_tmf_error(client.post(PATH, json={**ask, "sourceId": people.former, "targetId": people.dup},
                                 headers=w.as_lead), 409)


def test_search_follows_a_merge_and_its_undo(client, people, admin):
    """The moved case is found as the target's after the merge and as the source's again after the
    undo: the index is rewritten for both customers, not left pointing at the old owner."""
    w = people.world
    case_id = open_case(client, w.as_alex, people.dup, kind="fault")["id"]
    title = client.get(f"/tmf-api/troubleTicket/v5/troubleTicket/{case_id}", headers=admin).json()["name"]

    def owner_of_hit() -> str:
        body = client.get("/api/v1/search", params={"q": title, "type": "case"}, headers=admin).json()
        return {h["id"]: h["customer"]["id"] for h in body["cases"]}[case_id]

    assert owner_of_hit() == people.dup
    merged = client.post(PATH, json={"sourceId": people.dup, "targetId": people.keep,
                                     "evidence": "name_and_birth_date", "reason": "signed up twice"}, headers=w.as_lead)
    assert merged.status_code == 201, merged.text
    assert owner_of_hit() == people.keep
    undone = client.post(f"{PATH}/{merged.json()['id']}/undo", json={"reason": "two people"}, headers=w.as_lead)
    assert undone.status_code == 200, undone.text
    assert owner_of_hit() == people.dup
