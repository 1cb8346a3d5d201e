"""TMF637 product inventory over HTTP: create, read, list, patch, SIM replacement, history, errors."""

from __future__ import annotations

import copy
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from onethread.access.rules import SYSTEM
from onethread.customers import identifier_service
from onethread.customers import service as customers
from onethread.inventory import service as inventory
from onethread.models import AuditEntry, IdentifierHolding, Product, ProductStatusChange
from tests.tmf_schema import assert_tmf_error, validate

BASE = "/tmf-api/productInventory/v5/product"
V1 = "/api/v1/products"
PATCH = {"Content-Type": "application/merge-patch+json"}
OLD_ICCID = "8944100000000004044"
NEW_ICCID = "8944100000000004051"


def assert_valid_product(body: dict) -> None:
    """The body is a valid TMF637 Product.

    tests/tmf_schema.validate ignores OpenAPI discriminators, so PartyOrPartyRole (a oneOf of nine
    branches that all accept any reference) can never pass; check each reference against the schema
    its @type names, and the rest of the body as Product.
    """
    body = copy.deepcopy(body)
    for related in body.get("relatedParty", []):
        ref = related.pop("partyOrPartyRole")
        validate("TMF637", ref["@type"], ref)
    validate("TMF637", "Product", body)


@pytest.fixture
def acme(uow, clock):
    """A business customer with a GBP billing account: (customer id, account id, party id)."""
    with uow() as s:
        org = customers.create_organization(s, clock, SYSTEM, name="Harbour Lane Joinery Ltd")
        cust = customers.create_customer(s, clock, SYSTEM, party_id=org.id, customer_since=date(2015, 4, 1))
        acc = customers.open_billing_account(s, clock, SYSTEM, customer_id=cust.id, account_number="ACC-400401",
                                             currency="GBP", opened_on=date(2015, 4, 1))
        return cust.id, acc.id, org.id


def product_body(customer_id: str, account_id: str | None = None, *, name="Tablet data SIM 5 GB", kind="data_sim",
                 value=10.00, unit="GBP", iccid=OLD_ICCID, start="2018-05-01T00:00:00Z", **extra) -> dict:
    body = {
        "@type": "Product",
        "name": name,
        "status": "active",
        "relatedParty": [{"@type": "RelatedPartyOrPartyRole", "role": "customer",
                          "partyOrPartyRole": {"@type": "PartyRoleRef", "id": customer_id}}],
        "productPrice": [{"@type": "ProductPrice", "priceType": "recurring", "recurringChargePeriod": "month",
                          "price": {"@type": "Price", "taxIncludedAmount": {"unit": unit, "value": value}}}],
        "productCharacteristic": [{"@type": "StringCharacteristic", "name": "kind", "value": kind}],
        "startDate": start,
    }
    if iccid:
        body["productCharacteristic"].append({"@type": "StringCharacteristic", "name": "iccid", "value": iccid})
    if account_id:
        body["billingAccount"] = {"@type": "BillingAccountRef", "id": account_id}
    body.update(extra)
    return body


def create(client, headers, body) -> dict:
    r = client.post(BASE, json=body, headers=headers)
    assert r.status_code == 201, r.text
    return r.json()


def chars(body: dict) -> dict:
    return {c["name"]: c["value"] for c in body["productCharacteristic"]}


def count(container, model) -> int:
    with container.sessions() as s:
        return s.scalar(select(func.count()).select_from(model))


def test_create_returns_201_location_etag_and_a_valid_tmf_product(client, admin, acme):
    cid, acc, _ = acme
    r = client.post(BASE, json=product_body(cid, acc, value=12.5), headers=admin)
    assert r.status_code == 201, r.text
    body = r.json()
    assert_valid_product(body)
    assert r.headers["Location"] == body["href"] == f"{BASE}/{body['id']}"
    assert r.headers["ETag"]
    assert body["@type"] == "Product" and body["status"] == "active"
    assert body["isBundle"] is False and body["isCustomerVisible"] is True
    assert body["startDate"].startswith("2018-05-01T00:00:00")
    assert body["creationDate"].startswith("2026-03-02T09:00:00")
    assert "terminationDate" not in body
    assert body["billingAccount"] == {"@type": "BillingAccountRef", "id": acc, "name": "ACC-400401",
                                      "@referredType": "BillingAccount"}
    (party,) = body["relatedParty"]
    assert party["role"] == "customer"
    assert party["partyOrPartyRole"]["id"] == cid
    assert party["partyOrPartyRole"]["name"] == "Harbour Lane Joinery Ltd"
    amount = body["productPrice"][0]["price"]["taxIncludedAmount"]
    assert amount == {"unit": "GBP", "value": 12.5, "amountMinor": 1250}
    assert chars(body) == {"kind": "data_sim", "iccid": OLD_ICCID}


def test_price_is_converted_exactly_and_extra_decimals_are_refused(client, admin, acme, container):
    cid, acc, _ = acme
    body = create(client, admin, product_body(cid, acc, value=19.99, iccid=None))
    assert body["productPrice"][0]["price"]["taxIncludedAmount"]["amountMinor"] == 1999
    for value in (12.345, -1, "12.50", True):
        r = client.post(BASE, json=product_body(cid, acc, value=value, iccid=None), headers=admin)
        assert_tmf_error(r, 400)
    r = client.post(BASE, json=product_body(cid, acc, value=12.345, iccid=None), headers=admin)
    assert "2 decimal places" in r.json()["message"]
    assert count(container, Product) == 1


def test_a_party_ref_names_the_customer_through_its_party(client, admin, acme):
    cid, acc, party_id = acme
    body = product_body(cid, acc, iccid=None)
    body["relatedParty"][0]["partyOrPartyRole"] = {"@type": "PartyRef", "id": party_id}
    created = create(client, admin, body)
    assert created["relatedParty"][0]["partyOrPartyRole"]["id"] == cid


def test_get_list_filter_by_customer_fields_and_paging_headers(client, admin, acme, uow, clock):
    cid, acc, _ = acme
    with uow() as s:
        org = customers.create_organization(s, clock, SYSTEM, name="Other Ltd")
        other = customers.create_customer(s, clock, SYSTEM, party_id=org.id).id
    ids = [create(client, admin, product_body(cid, acc, name=f"Line {i}", iccid=None))["id"] for i in range(3)]
    create(client, admin, product_body(other, name="Someone else's", iccid=None))
    one = client.get(f"{BASE}/{ids[0]}", headers=admin)
    assert one.status_code == 200 and one.headers["ETag"]
    assert_valid_product(one.json())
    assert set(client.get(f"{BASE}/{ids[0]}", params={"fields": "status"}, headers=admin).json()) == {
        "id", "href", "@type", "status"}
    page = client.get(BASE, params={"relatedParty.id": cid, "offset": 1, "limit": 1, "fields": "name,status"},
                      headers=admin)
    assert page.status_code == 200
    assert page.headers["X-Total-Count"] == "3" and page.headers["X-Result-Count"] == "1"
    assert page.json() == [{"id": ids[1], "href": f"{BASE}/{ids[1]}", "@type": "Product", "name": "Line 1",
                            "status": "active"}]
    everything = client.get(BASE, headers=admin)
    assert everything.headers["X-Total-Count"] == "4"
    for item in everything.json():
        assert_valid_product(item)
    assert client.get(BASE, params={"status": "terminated"}, headers=admin).json() == []
    assert_tmf_error(client.get(BASE, params={"status": "gone"}, headers=admin), 400)


def test_s4_sim_removed_in_store_on_10_march(client, admin, acme, container, clock):
    """The store removes the old data SIM: date, channel and reason recorded; its ICCID is released then."""
    cid, acc, _ = acme
    sim = create(client, admin, product_body(cid, acc, value=10))
    removed_at = datetime(2026, 3, 10, 11, 0, tzinfo=UTC)
    clock.set(removed_at + timedelta(minutes=5))
    url = f"{BASE}/{sim['id']}"
    r = client.patch(url, json={"@type": "OnethreadProduct", "status": "terminated", "statusChannel": "store",
                                "statusReason": "removed at renewal; SIM destroyed in store",
                                "statusDate": "2026-03-10T11:00:00Z"}, headers={**admin, **PATCH})
    assert r.status_code == 200, r.text
    body = r.json()
    assert_valid_product(body)
    assert body["status"] == "terminated"
    assert body["terminationDate"].startswith("2026-03-10T11:00:00")
    history = client.get(f"{V1}/{sim['id']}/history", headers=admin).json()["items"]
    last = history[-1]
    assert last["status"] == "terminated" and last["fromStatus"] == "active"
    assert last["when"].startswith("2026-03-10T11:00:00")
    assert last["channel"] == "store"
    assert last["reason"] == "removed at renewal; SIM destroyed in store"
    assert last["who"]["name"] == "test-admin"
    with container.sessions() as s:
        before = identifier_service.resolve(s, "iccid", OLD_ICCID, removed_at - timedelta(seconds=1), region="GB")
        after = identifier_service.resolve(s, "iccid", OLD_ICCID, removed_at, region="GB")
        assert (before.status, before.customer_id) == ("found", cid)
        assert after.status == "none"
        products = inventory.customer_products(s, cid)
        assert inventory.monthly_value(products, date(2026, 3, 9))["GBP"].amount_minor == 1000
        assert inventory.monthly_value(products, date(2026, 3, 10)) == {}
    again = client.patch(url, json={"status": "active"}, headers={**admin, **PATCH})
    assert "a terminated product cannot change status" in assert_tmf_error(again, 409)["message"]


def test_sim_replacement_records_both_sides(client, admin, acme, container, clock):
    cid, acc, _ = acme
    line = create(client, admin, product_body(cid, acc, kind="mobile_line", name="Business Unlimited"))
    swap_at = datetime(2026, 3, 10, 11, 0, tzinfo=UTC)
    clock.set(swap_at)
    r = client.post(f"{V1}/{line['id']}/sim-replacement",
                    json={"newIccid": NEW_ICCID, "channel": "store", "reason": "SIM damaged"}, headers=admin)
    assert r.status_code == 200, r.text
    done = r.json()
    assert (done["oldIccid"], done["newIccid"], done["channel"]) == (OLD_ICCID, NEW_ICCID, "store")
    assert chars(done["product"])["iccid"] == NEW_ICCID
    assert_valid_product(done["product"])
    with container.sessions() as s:
        (old,) = identifier_service.history(s, "iccid", OLD_ICCID, region="GB")
        (new,) = identifier_service.history(s, "iccid", NEW_ICCID, region="GB")
        assert old.valid_to == swap_at == new.valid_from
        assert NEW_ICCID in old.end_reason and "SIM damaged" in old.end_reason
        assert new.customer_id == cid and new.product_id == line["id"]
        assert identifier_service.resolve(s, "iccid", OLD_ICCID, swap_at, region="GB").status == "none"
    steps = client.get(f"{V1}/{line['id']}/history", headers=admin).json()["items"]
    assert steps[-1]["channel"] == "store"
    assert steps[-1]["reason"] == f"SIM damaged: {OLD_ICCID} -> {NEW_ICCID}"
    assert client.get(f"{BASE}/{line['id']}", headers=admin).json()["status"] == "active"


def test_sim_replacement_errors_change_nothing(client, admin, acme, container, uow, clock):
    cid, acc, _ = acme
    line = create(client, admin, product_body(cid, acc, kind="mobile_line"))
    handset = create(client, admin, product_body(cid, acc, kind="handset", iccid=None))
    with uow() as s:
        org = customers.create_organization(s, clock, SYSTEM, name="Other Ltd")
        other = customers.create_customer(s, clock, SYSTEM, party_id=org.id).id
    create(client, admin, product_body(other, iccid=NEW_ICCID))
    holdings = count(container, IdentifierHolding)
    url = f"{V1}/{line['id']}/sim-replacement"
    cases = [
        ({"newIccid": "8944100000000004069", "channel": "pigeon"}, 400),
        ({"newIccid": "1234", "channel": "store"}, 400),
        ({"newIccid": "8944100000000004069", "channel": "store", "at": "2026-03-02T09:00:00"}, 400),
        ({"newIccid": "8944100000000004069", "channel": "store", "at": "2027-01-01T00:00:00Z"}, 400),
        ({"newIccid": "8944100000000004069", "channel": "store", "colour": "red"}, 400),
        ({"newIccid": OLD_ICCID, "channel": "store"}, 409),
        ({"newIccid": NEW_ICCID, "channel": "store"}, 409),  # held by another customer
    ]
    for body, status in cases:
        assert_tmf_error(client.post(url, json=body, headers=admin), status)
    assert_tmf_error(client.post(f"{V1}/{handset['id']}/sim-replacement",
                                 json={"newIccid": "8944100000000004069", "channel": "store"}, headers=admin), 400)
    assert_tmf_error(client.post(f"{V1}/NOPE/sim-replacement",
                                 json={"newIccid": "8944100000000004069", "channel": "store"}, headers=admin), 404)
    assert count(container, IdentifierHolding) == holdings
    assert chars(client.get(f"{BASE}/{line['id']}", headers=admin).json())["iccid"] == OLD_ICCID


def test_bad_transition_is_409_naming_the_allowed_ones_and_writes_nothing(client, admin, acme, container):
    cid, acc, _ = acme
    planned = create(client, admin, product_body(cid, acc, status="created", start=None, iccid=None))
    assert "startDate" not in planned
    steps = count(container, ProductStatusChange)
    r = client.patch(f"{BASE}/{planned['id']}", json={"name": "Renamed", "status": "suspended"},
                     headers={**admin, **PATCH})
    body = assert_tmf_error(r, 409)
    assert "allowed: aborted, active, cancelled, pendingActive" in body["message"]
    after = client.get(f"{BASE}/{planned['id']}", headers=admin).json()
    assert (after["name"], after["status"]) == (planned["name"], "created")
    assert count(container, ProductStatusChange) == steps


def test_activation_sets_the_start_date(client, admin, acme, clock):
    cid, acc, _ = acme
    planned = create(client, admin, product_body(cid, acc, status="pendingActive", start=None, iccid=None))
    clock.advance(timedelta(days=1))
    r = client.patch(f"{BASE}/{planned['id']}", json={"status": "active"}, headers={**admin, **PATCH})
    assert r.status_code == 200, r.text
    assert r.json()["startDate"].startswith("2026-03-03T09:00:00")


def test_patch_checks_if_match(client, admin, acme):
    cid, acc, _ = acme
    url = f"{BASE}/{create(client, admin, product_body(cid, acc, iccid=None))['id']}"
    etag = client.get(url, headers=admin).headers["ETag"]
    ok = client.patch(url, json={"name": "Tablet SIM"}, headers={**admin, **PATCH, "If-Match": etag})
    assert ok.status_code == 200, ok.text
    assert ok.headers["ETag"] != etag
    stale = client.patch(url, json={"name": "Lost update"}, headers={**admin, **PATCH, "If-Match": etag})
    assert_tmf_error(stale, 412)
    assert client.get(url, headers=admin).json()["name"] == "Tablet SIM"


def test_create_errors_are_tmf_4xx_and_write_nothing(client, admin, acme, container, uow, clock):
    cid, acc, _ = acme
    with uow() as s:
        org = customers.create_organization(s, clock, SYSTEM, name="Other Ltd")
        other = customers.create_customer(s, clock, SYSTEM, party_id=org.id).id
        other_acc = customers.open_billing_account(s, clock, SYSTEM, customer_id=other, account_number="ACC-9",
                                                   currency="GBP").id
    good = product_body(cid, acc)
    unknown_kind = {**good, "productCharacteristic": [{"name": "kind", "value": "pony"}]}
    cases = [
        (client.post(BASE, content=b"{nope", headers={**admin, "Content-Type": "application/json"}), 400),
        (client.post(BASE, json={**good, "shoeSize": 42}, headers=admin), 400),
        (client.post(BASE, json={**good, "name": 12}, headers=admin), 400),
        (client.post(BASE, json={**good, "status": "terminated"}, headers=admin), 400),
        (client.post(BASE, json={**good, "startDate": "2018-05-01T00:00:00"}, headers=admin), 400),
        (client.post(BASE, json={**good, "startDate": "2027-05-01T00:00:00Z"}, headers=admin), 400),
        (client.post(BASE, json={**good, "statusChannel": "store"}, headers=admin), 400),  # needs @type extension
        (client.post(BASE, json=unknown_kind, headers=admin), 400),
        (client.post(BASE, json=product_body(cid, acc, kind="handset"), headers=admin), 400),  # no SIM in a handset
        (client.post(BASE, json=product_body(cid, acc, unit="EUR"), headers=admin), 400),
        (client.post(BASE, json=product_body(cid, other_acc), headers=admin), 400),
        (client.post(BASE, json=product_body("NOPE", acc), headers=admin), 404),
        (client.post(BASE, json=product_body(cid, "NOPE"), headers=admin), 404),
        (client.get(f"{BASE}/NOPE", headers=admin), 404),
        (client.get(f"{V1}/NOPE/history", headers=admin), 404),
    ]
    for response, status in cases:
        assert_tmf_error(response, status)
    assert count(container, Product) == 0
    assert count(container, ProductStatusChange) == 0


def test_unknown_field_error_names_the_field(client, admin, acme):
    cid, acc, _ = acme
    r = client.post(BASE, json={**product_body(cid, acc), "shoeSize": 42}, headers=admin)
    assert "shoeSize" in assert_tmf_error(r, 400)["message"]
    url = f"{BASE}/{create(client, admin, product_body(cid, acc))['id']}"
    r = client.patch(url, json={"colour": "red"}, headers={**admin, **PATCH})
    assert "colour" in assert_tmf_error(r, 400)["message"]
    r = client.patch(url, json={"productPrice": []}, headers={**admin, **PATCH})
    assert "productPrice cannot be changed" in assert_tmf_error(r, 400)["message"]
    r = client.patch(url, json={"status": "suspended", "statusChannel": "phone"}, headers={**admin, **PATCH})
    assert "OnethreadProduct" in assert_tmf_error(r, 400)["message"]
    assert client.get(url, headers=admin).json()["status"] == "active"


def test_reads_of_products_are_audited_with_the_customer(client, admin, acme, container):
    cid, acc, _ = acme
    pid = create(client, admin, product_body(cid, acc))["id"]
    client.get(f"{BASE}/{pid}", headers=admin)
    client.get(BASE, params={"relatedParty.id": cid}, headers=admin)
    client.get(f"{V1}/{pid}/history", headers=admin)
    with container.sessions() as s:
        reads = s.scalars(select(AuditEntry).where(AuditEntry.customer_id == cid, AuditEntry.action == "read",
                                                   AuditEntry.resource_type == "product")).all()
    assert sorted(r.purpose or "get" for r in reads) == ["get", "history", "list"]
    assert {r.actor_name for r in reads} == {"test-admin"}


def test_unauthenticated_gets_401(client):
    assert_tmf_error(client.get(BASE), 401)
    assert_tmf_error(client.post(BASE, json={}), 401)
    assert_tmf_error(client.get(f"{V1}/X/history"), 401)


def test_field_subcontractor_is_refused(client, token_for, admin, acme):
    cid, acc, _ = acme
    pid = create(client, admin, product_body(cid, acc))["id"]
    sub = token_for("field_subcontractor")
    assert_tmf_error(client.get(BASE, headers=sub), 403)
    assert_tmf_error(client.get(f"{BASE}/{pid}", headers=sub), 403)
    assert_tmf_error(client.post(BASE, json=product_body(cid, acc), headers=sub), 403)
    assert_tmf_error(client.patch(f"{BASE}/{pid}", json={"status": "suspended"}, headers={**sub, **PATCH}), 403)
    assert_tmf_error(client.post(f"{V1}/{pid}/sim-replacement", json={"newIccid": NEW_ICCID, "channel": "store"},
                                 headers=sub), 403)
    assert_tmf_error(client.get(f"{V1}/{pid}/history", headers=sub), 403)


def test_over_long_text_is_a_400_on_every_database(client, admin, acme, container):
    cid, acc, _ = acme
    assert_tmf_error(client.post(BASE, json=product_body(cid, acc, name="x" * 201), headers=admin), 400)
    url = f"{BASE}/{create(client, admin, product_body(cid, acc))['id']}"
    r = client.patch(url, json={"@type": "OnethreadProduct", "status": "terminated", "statusChannel": "store",
                                "statusReason": "x" * 201}, headers={**admin, **PATCH})
    assert_tmf_error(r, 400)
    r = client.post(f"{V1}{url.removeprefix(BASE)}/sim-replacement",
                    json={"newIccid": NEW_ICCID, "channel": "store", "reason": "x" * 141}, headers=admin)
    assert_tmf_error(r, 400)
    assert client.get(url, headers=admin).json()["status"] == "active"
    assert count(container, Product) == 1
