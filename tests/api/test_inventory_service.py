"""The inventory use cases on a real database (SQLite and PostgreSQL): lifecycle, SIMs, value."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from onethread.access.rules import SYSTEM
from onethread.customers import identifier_service
from onethread.customers import service as customers
from onethread.db.outbox import OutboxEvent
from onethread.errors import Conflict, NotFound, ValidationFailed
from onethread.inventory import service as inventory
from onethread.models import AuditEntry, IdentifierHolding, ProductStatusChange

OLD_IPAD_SIM = "8944100000000004044"
NEW_SIM = "8944100000000004051"
REMOVED_AT = datetime(2026, 3, 10, 11, 0, tzinfo=UTC)


@pytest.fixture
def joinery(uow, clock):
    """S4's business customer: three lines, an old iPad data SIM, all on one GBP account."""
    with uow() as s:
        org = customers.create_organization(s, clock, SYSTEM, name="Harbour Lane Joinery Ltd")
        cust = customers.create_customer(s, clock, SYSTEM, party_id=org.id, customer_since=date(2015, 4, 1))
        acc = customers.open_billing_account(s, clock, SYSTEM, customer_id=cust.id, account_number="ACC-400401",
                                             currency="GBP", opened_on=date(2015, 4, 1))
        lines = [inventory.add_product(s, clock, SYSTEM, customer_id=cust.id, billing_account_id=acc.id,
                                       kind="mobile_line", name=f"Business Unlimited (line {n})", price_minor=2800,
                                       activated_at=datetime(2015, 4, 1, tzinfo=UTC),
                                       identifiers={"msisdn": f"07700 90040{n}"}, region="GB").id for n in (1, 2, 3)]
        ipad = inventory.add_product(s, clock, SYSTEM, customer_id=cust.id, billing_account_id=acc.id,
                                     kind="data_sim", name="Tablet data SIM 5 GB (old iPad)", price_minor=1000,
                                     activated_at=datetime(2018, 5, 1, tzinfo=UTC), channel="store",
                                     identifiers={"iccid": OLD_IPAD_SIM}, region="GB")
        return {"customer": cust.id, "account": acc.id, "lines": lines, "ipad": ipad.id, "party": org.id}


def test_s4_store_removal_is_recorded_and_the_value_drops_from_that_day(uow, clock, joinery):
    clock.set(datetime(2026, 3, 12, 15, 0, tzinfo=UTC))  # entered two days later, dated when it happened
    with uow() as s:
        ipad = inventory.get_product(s, joinery["ipad"])
        inventory.change_status(s, clock, SYSTEM, ipad, "terminated", at=REMOVED_AT, channel="store",
                                reason="removed at renewal; SIM destroyed in store")
    with uow() as s:
        ipad = inventory.get_product(s, joinery["ipad"])
        assert (ipad.status, ipad.terminated_at, ipad.termination_channel) == ("terminated", REMOVED_AT, "store")
        step = s.scalars(select(ProductStatusChange).where(ProductStatusChange.product_id == ipad.id)
                         .order_by(ProductStatusChange.at.desc())).first()
        assert (step.from_status, step.to_status, step.at, step.channel) == ("active", "terminated", REMOVED_AT,
                                                                            "store")
        assert step.reason == "removed at renewal; SIM destroyed in store"
        held = identifier_service.resolve(s, "iccid", OLD_IPAD_SIM, REMOVED_AT - timedelta(microseconds=1), region="GB")
        assert held.customer_id == joinery["customer"]
        assert identifier_service.resolve(s, "iccid", OLD_IPAD_SIM, REMOVED_AT, region="GB").status == "none"
        assert identifier_service.resolve(s, "iccid", OLD_IPAD_SIM, clock.now(), region="GB").status == "none"
        products = inventory.customer_products(s, joinery["customer"])
        assert inventory.monthly_value(products, date(2026, 3, 9))["GBP"].amount_minor == 3 * 2800 + 1000
        assert inventory.monthly_value(products, date(2026, 3, 10))["GBP"].amount_minor == 3 * 2800
        assert inventory.monthly_value(products, date(2026, 4, 1))["GBP"].amount_minor == 3 * 2800
        event = s.scalars(select(OutboxEvent).where(OutboxEvent.type == "product.terminated")).one()
        assert event.customer_id == joinery["customer"]
        assert (event.payload["channel"], event.payload["at"]) == ("store", REMOVED_AT.isoformat())


def test_sim_replacement_ends_the_old_holding_and_starts_the_new_at_the_same_instant(uow, clock, joinery):
    clock.set(REMOVED_AT)
    with uow() as s:
        ipad = inventory.get_product(s, joinery["ipad"])
        done = inventory.replace_sim(s, clock, SYSTEM, ipad, new_iccid=NEW_SIM, channel="store",
                                     reason="new iPad", region="GB")
        assert (done.old_iccid, done.new_iccid, done.at) == (OLD_IPAD_SIM, NEW_SIM, REMOVED_AT)
    with uow() as s:
        (old,) = identifier_service.history(s, "iccid", OLD_IPAD_SIM, region="GB")
        (new,) = identifier_service.history(s, "iccid", NEW_SIM, region="GB")
        assert old.valid_to == new.valid_from == REMOVED_AT
        assert old.end_reason == f"new iPad: replaced by {NEW_SIM}"
        assert identifier_service.resolve(s, "iccid", NEW_SIM, REMOVED_AT,
                                          region="GB").customer_id == joinery["customer"]
        steps = inventory.status_history(s, clock, SYSTEM, inventory.get_product(s, joinery["ipad"]))
        assert [(x.from_status, x.to_status) for x in steps] == [(None, "active"), ("active", "active")]
        assert steps[-1].reason == f"new iPad: {OLD_IPAD_SIM} -> {NEW_SIM}"
        assert steps[-1].channel == "store" and steps[-1].at == REMOVED_AT
        assert inventory.related(s, [inventory.get_product(s, joinery["ipad"])], clock.now()).identifiers == {
            joinery["ipad"]: {"iccid": NEW_SIM}}


@pytest.mark.parametrize(("kwargs", "error", "words"), [
    ({"at": datetime(2027, 1, 1, tzinfo=UTC)}, ValidationFailed, "future"),
    ({"at": datetime(2017, 1, 1, tzinfo=UTC)}, ValidationFailed, "last recorded change"),
    ({"at": datetime(2026, 3, 1, 12, 0)}, ValidationFailed, "time zone"),
    ({"channel": "carrier pigeon"}, ValidationFailed, "channel must be one of"),
    ({"reason": "x" * 201}, ValidationFailed, "at most 200"),
])
def test_status_changes_with_bad_facts_are_refused_and_change_nothing(uow, clock, joinery, kwargs, error, words):
    with pytest.raises(error, match=words), uow() as s:
        ipad = inventory.get_product(s, joinery["ipad"])
        inventory.change_status(s, clock, SYSTEM, ipad, "terminated", **{"channel": "store", **kwargs})
    with uow() as s:
        assert inventory.get_product(s, joinery["ipad"]).status == "active"
        assert identifier_service.resolve(s, "iccid", OLD_IPAD_SIM, clock.now(), region="GB").status == "found"


def test_a_terminated_product_stays_terminated(uow, clock, joinery):
    with uow() as s:
        inventory.change_status(s, clock, SYSTEM, inventory.get_product(s, joinery["ipad"]), "terminated")
    with pytest.raises(Conflict, match="a terminated product cannot change status"), uow() as s:
        inventory.change_status(s, clock, SYSTEM, inventory.get_product(s, joinery["ipad"]), "active")
    with pytest.raises(Conflict, match="terminated"), uow() as s:
        inventory.replace_sim(s, clock, SYSTEM, inventory.get_product(s, joinery["ipad"]), new_iccid=NEW_SIM,
                              channel="store", region="GB")


def test_sim_replacement_refusals(uow, clock, joinery):
    cases = [
        ({"new_iccid": OLD_IPAD_SIM}, Conflict, "already the product's SIM"),
        ({"new_iccid": "8944100000000004045"}, ValidationFailed, "check digit"),
        ({"new_iccid": NEW_SIM, "at": clock.now() + timedelta(hours=1)}, ValidationFailed, "future"),
        ({"new_iccid": NEW_SIM, "reason": "x" * 141}, ValidationFailed, "at most 140"),
    ]
    for kwargs, error, words in cases:
        with pytest.raises(error, match=words), uow() as s:
            inventory.replace_sim(s, clock, SYSTEM, inventory.get_product(s, joinery["ipad"]),
                                  **{"channel": "store", **kwargs})
    with pytest.raises(ValidationFailed, match="has no SIM"), uow() as s:
        handset = inventory.add_product(s, clock, SYSTEM, customer_id=joinery["customer"], kind="handset",
                                        name="Nimbus X3", currency="GBP")
        inventory.replace_sim(s, clock, SYSTEM, handset, new_iccid=NEW_SIM, channel="store", region="GB")
    with uow() as s:
        assert len(identifier_service.history(s, "iccid", OLD_IPAD_SIM, region="GB")) == 1
        assert identifier_service.history(s, "iccid", NEW_SIM, region="GB") == []


def test_a_product_starts_billing_when_it_becomes_active(uow, clock, joinery):
    with uow() as s:
        planned = inventory.add_product(s, clock, SYSTEM, customer_id=joinery["customer"], kind="data_sim",
                                        name="Data-only SIM 20 GB", price_minor=1200, status="pendingActive",
                                        billing_account_id=joinery["account"])
        assert planned.activated_at is None
        assert not inventory.is_billable_on(planned, clock.now().date())
        pid = planned.id
    clock.set(REMOVED_AT)
    with uow() as s:
        product = inventory.change_status(s, clock, SYSTEM, inventory.get_product(s, pid), "active",
                                          channel="store")
        assert product.activated_at == REMOVED_AT
        assert not inventory.is_billable_on(product, date(2026, 3, 9))
        assert inventory.is_billable_on(product, date(2026, 3, 10))


@pytest.mark.parametrize(("kwargs", "error", "words"), [
    ({"activated_at": datetime(2026, 4, 1, tzinfo=UTC)}, ValidationFailed, "future"),
    ({"status": "created", "activated_at": datetime(2026, 1, 1, tzinfo=UTC)}, ValidationFailed, "not started"),
    ({"status": "suspended"}, ValidationFailed, "starts as"),
    ({"price_minor": 2**31}, ValidationFailed, "too large"),
    ({"price_minor": 12.5}, ValidationFailed, "whole number"),
    ({"name": "x" * 201}, ValidationFailed, "at most 200"),
    ({"billing_account_id": "NOPE"}, NotFound, "no billing account"),
    ({"currency": "EUR"}, ValidationFailed, "billing account is in GBP"),
    ({"identifiers": {"imei": "356938035643809"}}, ValidationFailed, "carries no imei"),
    ({"identifiers": {"iccid": OLD_IPAD_SIM}}, Conflict, "already held"),
])
def test_adding_a_product_with_bad_facts_writes_nothing(uow, clock, joinery, kwargs, error, words):
    with pytest.raises(error, match=words), uow() as s:
        inventory.add_product(s, clock, SYSTEM, **{"customer_id": joinery["customer"], "kind": "data_sim",
                                                   "name": "Data-only SIM", "billing_account_id": joinery["account"],
                                                   **kwargs})
    with uow() as s:
        assert len(inventory.customer_products(s, joinery["customer"])) == 4
        assert len(s.scalars(select(IdentifierHolding)).all()) == 5  # account number, 3 msisdns, 1 iccid


def test_a_customer_is_named_by_customer_id_or_by_its_party(uow, clock, joinery):
    with uow() as s:
        assert inventory.resolve_customer(s, "PartyRoleRef", joinery["customer"]).id == joinery["customer"]
        assert inventory.resolve_customer(s, "PartyRef", joinery["party"]).id == joinery["customer"]
        with pytest.raises(NotFound):
            inventory.resolve_customer(s, "PartyRoleRef", joinery["party"])
        customers.create_customer(s, clock, SYSTEM, party_id=joinery["party"])  # a second customer role
        with pytest.raises(ValidationFailed, match="is 2 customers"):
            inventory.resolve_customer(s, "PartyRef", joinery["party"])


def test_listing_audits_one_read_per_customer_shown(uow, clock, joinery):
    with uow() as s:
        org = customers.create_organization(s, clock, SYSTEM, name="Other Ltd")
        other = customers.create_customer(s, clock, SYSTEM, party_id=org.id)
        inventory.add_product(s, clock, SYSTEM, customer_id=other.id, kind="fibre", name="Fibre 150", currency="GBP")
    with uow() as s:
        rows, total = inventory.list_products(s, clock, SYSTEM, offset=0, limit=2,
                                              customer_id=joinery["customer"], channel="api")
        assert (len(rows), total) == (2, 4)
        everything, total = inventory.list_products(s, clock, SYSTEM, offset=0, limit=100)
        assert (len(everything), total) == (5, 5)
    with uow() as s:
        reads = s.scalars(select(AuditEntry).where(AuditEntry.resource_type == "product")).all()
        shown = sorted((r.customer_id, len(r.detail["productIds"]), r.action) for r in reads)
        assert shown == sorted([(joinery["customer"], 2, "read"), (joinery["customer"], 4, "read"),
                                (other.id, 1, "read")])
