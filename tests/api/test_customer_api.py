"""TMF629 customer: create, read, list, patch; schema conformance; errors; audit of reads."""

from __future__ import annotations

from sqlalchemy import select

from onethread.models import AuditEntry, Customer
from tests.support.customer_api import BASE, make_customer, make_individual
from tests.tmf_schema import assert_tmf_error, validate


def test_create_returns_201_with_body_location_and_valid_schema(client, admin):
    r = make_customer(client, admin)
    body = r.json()
    validate("TMF629", "Customer", body)
    assert r.headers["Location"] == body["href"] == f"{BASE}/{body['id']}"
    assert body["@type"] == "Customer"
    assert body["name"] == "Jane Doe"
    assert body["validFor"]["startDateTime"].startswith("2015-06-01")
    assert r.headers["ETag"]


def test_get_and_list_with_fields_and_paging_headers(client, admin):
    ids = [make_customer(client, admin, given=f"P{i}").json()["id"] for i in range(3)]
    one = client.get(f"{BASE}/{ids[0]}", headers=admin)
    assert one.status_code == 200
    validate("TMF629", "Customer", one.json())
    page = client.get(BASE, params={"offset": 1, "limit": 1, "fields": "name"}, headers=admin)
    assert page.status_code == 200
    assert page.headers["X-Total-Count"] == "3"
    assert page.headers["X-Result-Count"] == "1"
    (item,) = page.json()
    assert set(item) == {"id", "href", "@type", "name"}
    assert item["id"] == ids[1]


def test_patch_is_merge_patch_with_etag_check(client, admin):
    created = make_customer(client, admin).json()
    url = f"{BASE}/{created['id']}"
    etag = client.get(url, headers=admin).headers["ETag"]
    r = client.patch(url, json={"name": "Jane Q. Doe"},
                     headers={**admin, "Content-Type": "application/merge-patch+json", "If-Match": etag})
    assert r.status_code == 200, r.text
    assert r.json()["name"] == "Jane Q. Doe"
    stale = client.patch(url, json={"name": "Lost update"},
                         headers={**admin, "Content-Type": "application/merge-patch+json", "If-Match": etag})
    assert_tmf_error(stale, 412)
    assert client.get(url, headers=admin).json()["name"] == "Jane Q. Doe"


def test_errors_are_tmf_4xx_and_write_nothing(client, admin, container):
    party = make_individual(client, admin)
    good = {"@type": "Customer", "engagedParty": {"@type": "PartyRef", "id": party["id"]}}
    cases = [
        (client.post(BASE, content=b"{not json", headers={**admin, "Content-Type": "application/json"}), 400),
        (client.post(BASE, json={**good, "shoeSize": 42}, headers=admin), 400),
        (client.post(BASE, json={**good, "name": 12}, headers=admin), 400),
        (client.post(BASE, json={"@type": "Customer"}, headers=admin), 400),
        (client.post(BASE, json={**good, "engagedParty": {"id": "NOPE"}}, headers=admin), 404),
        (client.post(BASE, json={**good, "name": "x" * 100_000}, headers=admin), 413),
        (client.get(f"{BASE}/NOPE", headers=admin), 404),
        (client.get(BASE, params={"limit": "lots"}, headers=admin), 400),
        (client.delete(f"{BASE}/NOPE", headers=admin), 405),
    ]
    for response, status in cases:
        assert_tmf_error(response, status)
    with container.sessions() as s:
        assert s.scalars(select(Customer)).all() == []


def test_unknown_field_error_names_the_field(client, admin):
    party = make_individual(client, admin)
    r = client.post(BASE, json={"@type": "Customer", "engagedParty": {"id": party["id"]}, "shoeSize": 42},
                    headers=admin)
    body = assert_tmf_error(r, 400)
    assert "shoeSize" in body["message"]


def test_reads_of_a_customer_are_audited(client, admin, container):
    cid = make_customer(client, admin).json()["id"]
    client.get(f"{BASE}/{cid}", headers=admin)
    with container.sessions() as s:
        reads = s.scalars(select(AuditEntry).where(AuditEntry.customer_id == cid, AuditEntry.action == "read")).all()
    assert len(reads) >= 2  # the read after create, and the GET
    assert {r.actor_type for r in reads} == {"token"}
    assert all(r.actor_name == "test-admin" for r in reads)


def test_unauthenticated_gets_401_and_bad_token_401(client):
    assert_tmf_error(client.get(BASE), 401)
    assert_tmf_error(client.get(BASE, headers={"Authorization": "Bearer ot_nope"}), 401)
    assert_tmf_error(client.get(BASE, headers={"Authorization": "Basic abc"}), 401)


def test_field_subcontractor_cannot_read_customers(client, token_for):
    assert_tmf_error(client.get(BASE, headers=token_for("field_subcontractor")), 403)
