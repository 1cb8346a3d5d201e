"""Identifiers over time through /api/v1: assign, resolve at an instant, end, move, history; no overlaps."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from onethread.access.rules import SYSTEM
from onethread.customers import identifier_service
from onethread.customers import service as customers
from onethread.db.session import session_scope
from onethread.errors import Conflict
from onethread.models import AuditEntry, Identifier, IdentifierHolding
from tests.tmf_schema import assert_tmf_error

V1 = "/api/v1"


def new_customer(client, headers, given="Jane", family="Doe", since="2010-01-01") -> str:
    party = client.post("/tmf-api/party/v5/individual", json={"givenName": given, "familyName": family},
                        headers=headers)
    assert party.status_code == 201, party.text
    body = {"engagedParty": {"id": party.json()["id"]}, "validFor": {"startDateTime": f"{since}T00:00:00Z"}}
    r = client.post("/tmf-api/customer/v5/customer", json=body, headers=headers)
    assert r.status_code == 201, r.text
    return r.json()["id"]


def assign(client, headers, customer_id, kind, value, **extra):
    return client.post(f"{V1}/customers/{customer_id}/identifiers", json={"kind": kind, "value": value, **extra},
                       headers=headers)


def resolve(client, headers, kind, value, at=None):
    params = {"kind": kind, "value": value, **({"at": at} if at else {})}
    r = client.get(f"{V1}/identifiers/resolve", params=params, headers=headers)
    assert r.status_code == 200, r.text
    return r.json()


def holdings_count(container) -> int:
    with container.sessions() as s:
        return s.scalar(select(func.count()).select_from(IdentifierHolding))


def test_assign_returns_201_with_the_normalised_holding(client, admin):
    cid = new_customer(client, admin)
    r = assign(client, admin, cid, "msisdn", "07700 900123")
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["value"] == "+447700900123"
    assert body["kind"] == "msisdn" and body["label"] == "Phone number"
    assert body["customerId"] == cid and body["validTo"] is None
    assert r.headers["Location"] == body["href"] == f"{V1}/identifier-holdings/{body['id']}"
    assert client.get(body["href"], headers=admin).json()["id"] == body["id"]
    listed = client.get(f"{V1}/customers/{cid}/identifiers", headers=admin)
    assert [h["value"] for h in listed.json()] == ["+447700900123"]
    assert listed.headers["X-Total-Count"] == "1"


def test_resolve_gives_the_holder_at_each_instant_never_a_former_one(client, admin):
    a = new_customer(client, admin, "Tom", "Bennett", since="2012-03-01")
    b = new_customer(client, admin, "Priya", "Shah", since="2019-09-01")
    change = "2019-09-01T00:00:00Z"
    assert assign(client, admin, a, "msisdn", "07700 900301", validFrom="2012-03-01T00:00:00Z",
                  validTo=change).status_code == 201
    assert assign(client, admin, b, "msisdn", "+44 7700 900301", validFrom=change).status_code == 201
    now = resolve(client, admin, "msisdn", "07700900301")
    assert (now["status"], now["customerId"]) == ("found", b)
    assert now["value"] == "+447700900301" and now["candidates"] == []
    assert resolve(client, admin, "msisdn", "07700 900301", "2015-06-01T12:00:00Z")["customerId"] == a
    before = resolve(client, admin, "msisdn", "07700 900301", "2011-12-31T23:59:59Z")
    assert (before["status"], before["customerId"], before["holdingId"]) == ("none", None, None)
    # Half-open periods: the instant of change already belongs to the new holder.
    assert resolve(client, admin, "msisdn", "07700 900301", change)["customerId"] == b
    assert resolve(client, admin, "msisdn", "07700 900301", "2019-08-31T23:59:59Z")["customerId"] == a
    assert resolve(client, admin, "msisdn", "07700 900399")["status"] == "none"


def test_an_overlap_is_409_naming_the_holder_and_period_and_writes_nothing(client, admin, container):
    a = new_customer(client, admin, "Tom", "Bennett")
    b = new_customer(client, admin, "Priya", "Shah")
    assert assign(client, admin, a, "msisdn", "07700 900301", validFrom="2012-03-01T00:00:00Z").status_code == 201
    before = holdings_count(container)
    body = assert_tmf_error(assign(client, admin, b, "msisdn", "07700900301", validFrom="2020-01-01T00:00:00Z"), 409)
    assert "Tom Bennett" in body["message"] and a in body["message"]
    assert "2012-03-01" in body["message"] and "still held" in body["message"]
    assert body["details"]["customerId"] == a
    # A bounded period inside someone else's is refused too; the same customer twice as well.
    assert_tmf_error(assign(client, admin, b, "msisdn", "07700900301", validFrom="2013-01-01T00:00:00Z",
                            validTo="2013-02-01T00:00:00Z"), 409)
    assert "already held by this customer" in assert_tmf_error(assign(client, admin, a, "msisdn", "07700900301"),
                                                                409)["message"]
    assert holdings_count(container) == before


def test_touching_periods_are_not_an_overlap(client, admin):
    a = new_customer(client, admin, "A", "One")
    b = new_customer(client, admin, "B", "Two")
    edge = "2020-01-01T00:00:00Z"
    assert assign(client, admin, a, "email", "Shared@Mail.Example", validFrom="2015-01-01T00:00:00Z",
                  validTo=edge).status_code == 201
    r = assign(client, admin, b, "email", "shared@mail.example", validFrom=edge)
    assert r.status_code == 201, r.text
    assert r.json()["value"] == "shared@mail.example"
    # ... and a gap before A's period can still be filled by someone else.
    assert assign(client, admin, b, "email", "shared@mail.example", validFrom="2010-01-01T00:00:00Z",
                  validTo="2015-01-01T00:00:00Z").status_code == 201


@pytest.mark.parametrize(("payload", "says"), [
    ({"kind": "imei", "value": "356938035643808"}, "check digit"),
    ({"kind": "iccid", "value": "8944100000000001017"}, "check digit"),
    ({"kind": "msisdn", "value": "12"}, "not a possible phone number"),
    ({"kind": "email", "value": "not-an-email"}, "not an e-mail address"),
    ({"kind": "social", "value": "myspace:@x"}, "unknown platform"),
    ({"kind": "fax", "value": "123"}, "unknown identifier kind"),
    ({"kind": "msisdn", "value": "07700 900123", "validFrom": "2020-01-01T00:00:00Z",
      "validTo": "2019-01-01T00:00:00Z"}, "validTo must be after validFrom"),
    ({"kind": "msisdn", "value": "07700 900123", "validFrom": "2020-01-01T00:00:00"}, "validFrom"),
    ({"kind": "msisdn", "value": "07700 900123", "colour": "red"}, "colour: unknown field"),
    ({"kind": "msisdn"}, "value: is required"),
])
def test_bad_values_are_400_saying_why_and_write_nothing(client, admin, container, payload, says):
    cid = new_customer(client, admin)
    body = assert_tmf_error(client.post(f"{V1}/customers/{cid}/identifiers", json=payload, headers=admin), 400)
    assert says in body["message"], body["message"]
    assert holdings_count(container) == 0
    with container.sessions() as s:
        assert s.scalar(select(func.count()).select_from(Identifier)) == 0


def test_unknown_customer_and_foreign_product_are_refused(client, admin, container):
    assert_tmf_error(assign(client, admin, "NOPE", "msisdn", "07700 900123"), 404)
    a = new_customer(client, admin, "A", "One")
    b = new_customer(client, admin, "B", "Two")
    with session_scope(container.sessions) as s:
        from onethread.inventory import service as inventory
        line = inventory.add_product(s, container.clock, SYSTEM, customer_id=a, kind="mobile_line", name="Line",
                                     price_minor=1000, currency="GBP")
    body = assert_tmf_error(assign(client, admin, b, "msisdn", "07700 900123", productId=line.id), 400)
    assert "not this customer's" in body["message"]


def test_end_a_holding_then_the_number_is_free(client, admin, clock):
    a = new_customer(client, admin, "A", "One")
    b = new_customer(client, admin, "B", "Two")
    holding = assign(client, admin, a, "msisdn", "07700 900123", validFrom="2015-01-01T00:00:00Z").json()
    r = client.post(f"{V1}/identifier-holdings/{holding['id']}/end", json={"reason": "contract ended"},
                    headers=admin)
    assert r.status_code == 200, r.text
    assert r.json()["validTo"] == clock.now().isoformat().replace("+00:00", "Z")
    assert r.json()["endReason"] == "contract ended"
    assert resolve(client, admin, "msisdn", "07700 900123")["status"] == "none"
    assert resolve(client, admin, "msisdn", "07700 900123", "2016-01-01T00:00:00Z")["customerId"] == a
    assert_tmf_error(client.post(f"{V1}/identifier-holdings/{holding['id']}/end", headers=admin), 409)
    assert_tmf_error(client.post(f"{V1}/identifier-holdings/NOPE/end", headers=admin), 404)
    other = assign(client, admin, b, "msisdn", "07700 900123").json()
    early = client.post(f"{V1}/identifier-holdings/{other['id']}/end", json={"at": "2001-01-01T00:00:00Z"},
                        headers=admin)
    assert "after the start" in assert_tmf_error(early, 400)["message"]


def test_move_ends_the_old_holding_and_starts_the_new_at_the_same_instant(client, admin, container):
    a = new_customer(client, admin, "Tom", "Bennett")
    b = new_customer(client, admin, "Priya", "Shah")
    assign(client, admin, a, "msisdn", "07700 900301", validFrom="2012-03-01T00:00:00Z")
    at = "2019-09-01T00:00:00Z"
    r = client.post(f"{V1}/identifiers/move", json={"kind": "msisdn", "value": "07700 900301", "toCustomerId": b,
                                                    "at": at, "reason": "number recycled"}, headers=admin)
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["ended"]["customerId"] == a and body["ended"]["validTo"] == at
    assert body["ended"]["endReason"] == "number recycled"
    assert body["holding"]["customerId"] == b and body["holding"]["validFrom"] == body["ended"]["validTo"]
    assert resolve(client, admin, "msisdn", "07700 900301")["customerId"] == b
    assert resolve(client, admin, "msisdn", "07700 900301", "2019-08-01T00:00:00Z")["customerId"] == a
    before = holdings_count(container)
    same = client.post(f"{V1}/identifiers/move", json={"kind": "msisdn", "value": "07700 900301",
                                                       "toCustomerId": b}, headers=admin)
    assert_tmf_error(same, 409)
    nobody = client.post(f"{V1}/identifiers/move", json={"kind": "msisdn", "value": "07700 900301",
                                                         "toCustomerId": "NOPE"}, headers=admin)
    assert_tmf_error(nobody, 404)
    assert holdings_count(container) == before
    assert resolve(client, admin, "msisdn", "07700 900301")["customerId"] == b
    # A number nobody holds simply starts with the new holder.
    fresh = client.post(f"{V1}/identifiers/move", json={"kind": "msisdn", "value": "07700 900302",
                                                        "toCustomerId": a}, headers=admin)
    assert fresh.status_code == 201 and fresh.json()["ended"] is None


def test_history_lists_every_holder_oldest_first_and_audits_each(client, admin, container):
    a = new_customer(client, admin, "Tom", "Bennett")
    b = new_customer(client, admin, "Priya", "Shah")
    assign(client, admin, b, "msisdn", "07700 900301", validFrom="2019-09-01T00:00:00Z")
    assign(client, admin, a, "msisdn", "07700 900301", validFrom="2012-03-01T00:00:00Z",
           validTo="2019-09-01T00:00:00Z")
    r = client.get(f"{V1}/identifiers/history", params={"kind": "msisdn", "value": "07700900301"}, headers=admin)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["value"] == "+447700900301"
    assert [(h["customerName"], h["validFrom"][:10], (h["validTo"] or "")[:10]) for h in body["holdings"]] == [
        ("Tom Bennett", "2012-03-01", "2019-09-01"), ("Priya Shah", "2019-09-01", "")]
    with container.sessions() as s:
        audited = set(s.scalars(select(AuditEntry.customer_id).where(AuditEntry.purpose == "identifier history")))
    assert audited == {a, b}


def test_customer_identifiers_now_at_an_instant_and_history(client, admin):
    cid = new_customer(client, admin)
    assign(client, admin, cid, "email", "old@mail.example", validFrom="2010-01-01T00:00:00Z",
           validTo="2020-01-01T00:00:00Z")
    assign(client, admin, cid, "email", "new@mail.example", validFrom="2020-01-01T00:00:00Z")
    url = f"{V1}/customers/{cid}/identifiers"

    def values(**params):
        r = client.get(url, params=params, headers=admin)
        assert r.status_code == 200, r.text
        return [h["value"] for h in r.json()]

    assert values() == ["new@mail.example"]
    assert values(at="2015-01-01T00:00:00Z") == ["old@mail.example"]
    assert values(history="true") == ["old@mail.example", "new@mail.example"]
    assert_tmf_error(client.get(url, params={"at": "yesterday"}, headers=admin), 400)
    assert_tmf_error(client.get(f"{V1}/customers/NOPE/identifiers", headers=admin), 404)


def test_a_bare_social_handle_on_two_platforms_is_ambiguous(client, admin):
    a = new_customer(client, admin, "Sam", "One")
    b = new_customer(client, admin, "Sam", "Two")
    assign(client, admin, a, "social", "x:@Sam_Doe")
    assign(client, admin, b, "social", "instagram:sam_doe")
    result = resolve(client, admin, "social", "@sam_doe")
    assert result["status"] == "ambiguous" and sorted(result["candidates"]) == sorted([a, b])
    assert result["customerId"] is None
    assert resolve(client, admin, "social", "twitter:@SAM_DOE")["customerId"] == a


def test_resolve_is_audited_and_roles_are_enforced(client, admin, token_for, container):
    cid = new_customer(client, admin)
    assign(client, admin, cid, "msisdn", "07700 900123")
    resolve(client, token_for("agent"), "msisdn", "07700 900123")
    with container.sessions() as s:
        purposes = list(s.scalars(select(AuditEntry.purpose).where(AuditEntry.customer_id == cid)))
    assert "resolve" in purposes
    sub = token_for("field_subcontractor")
    assert_tmf_error(client.get(f"{V1}/identifiers/resolve", params={"kind": "msisdn", "value": "1"}, headers=sub),
                     403)
    assert_tmf_error(assign(client, sub, cid, "msisdn", "07700 900124"), 403)
    assert_tmf_error(client.get(f"{V1}/identifiers/history", params={"kind": "msisdn", "value": "07700 900123"}), 401)
    assert_tmf_error(client.get(f"{V1}/identifiers/resolve", params={"kind": "imei", "value": "356938035643808"},
                                headers=admin), 400)


def _customers(container, n: int) -> list[str]:
    with session_scope(container.sessions) as s:
        out = []
        for i in range(n):
            party = customers.create_individual(s, container.clock, SYSTEM, given_name=f"Racer{i}", family_name="X")
            out.append(customers.create_customer(s, container.clock, SYSTEM, party_id=party.id).id)
        return out


def _race(container, customer_ids: list[str], value: str) -> list[str]:
    barrier = threading.Barrier(len(customer_ids))
    outcomes: list[str] = []
    lock = threading.Lock()
    base = datetime(2020, 1, 1, tzinfo=UTC)

    def worker(i: int, cid: str) -> None:
        barrier.wait()
        try:
            with session_scope(container.sessions) as s:
                identifier_service.assign(s, container.clock, SYSTEM, customer_id=cid, kind="msisdn", value=value,
                                          valid_from=base + timedelta(days=i), region="GB")
            outcome = "ok"
        except Conflict:
            outcome = "conflict"
        except Exception as exc:  # anything else is a failure of the invariant's enforcement
            outcome = repr(exc)
        with lock:
            outcomes.append(outcome)

    threads = [threading.Thread(target=worker, args=(i, cid)) for i, cid in enumerate(customer_ids)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return sorted(outcomes)


def _holdings_of(container, value: str) -> list[IdentifierHolding]:
    with container.sessions() as s:
        return list(s.scalars(select(IdentifierHolding)
                              .join(Identifier, Identifier.id == IdentifierHolding.identifier_id)
                              .where(Identifier.value == value)))


def test_concurrent_assignments_of_one_number_leave_exactly_one_holder(backend, container):
    """PostgreSQL: 8 writers at once (row lock + exclusion constraint). SQLite: 2 writers serialise."""
    n = 8 if backend == "postgresql" else 2
    ids = _customers(container, n + 1)
    # A number never seen before: everyone also races to create its identifier row.
    outcomes = _race(container, ids[:n], "07700 900777")
    assert outcomes == ["conflict"] * (n - 1) + ["ok"], outcomes
    assert len(_holdings_of(container, "+447700900777")) == 1
    # A number with history (an old, ended holding): the row exists and is locked by each writer in turn.
    with session_scope(container.sessions) as s:
        identifier_service.assign(s, container.clock, SYSTEM, customer_id=ids[n], kind="msisdn",
                                  value="07700 900778", valid_from=datetime(2005, 1, 1, tzinfo=UTC),
                                  valid_to=datetime(2006, 1, 1, tzinfo=UTC), region="GB")
    outcomes = _race(container, ids[:n], "07700 900778")
    assert outcomes == ["conflict"] * (n - 1) + ["ok"], outcomes
    assert len(_holdings_of(container, "+447700900778")) == 2
