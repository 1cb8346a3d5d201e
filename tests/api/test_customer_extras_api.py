"""/api/v1 customer extras: billing accounts, households, relationships, representatives,
vulnerability, and the profile (bounded queries, S2-like household value)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import event, func, select

from onethread.access import service as access
from onethread.access.rules import SYSTEM
from onethread.customers import identifier_service
from onethread.customers import service as customers
from onethread.inventory import service as inventory
from onethread.models import AuditEntry, BillingAccount, HouseholdMember, Vulnerability
from tests.support.trouble_ticket_api import staff_headers
from tests.tmf_schema import assert_tmf_error

V1 = "/api/v1"


def person(client, headers, given, family) -> str:
    r = client.post("/tmf-api/party/v5/individual", json={"givenName": given, "familyName": family},
                    headers=headers)
    assert r.status_code == 201, r.text
    return r.json()["id"]


def customer(client, headers, given="Jane", family="Doe", since="2015-06-01") -> tuple[str, str]:
    """(customer id, party id)"""
    party = person(client, headers, given, family)
    r = client.post("/tmf-api/customer/v5/customer",
                    json={"engagedParty": {"id": party}, "validFor": {"startDateTime": f"{since}T00:00:00Z"}},
                    headers=headers)
    assert r.status_code == 201, r.text
    return r.json()["id"], party


def post(client, headers, path, body=None, status=201):
    r = client.post(f"{V1}{path}", json=body, headers=headers) if body is not None else \
        client.post(f"{V1}{path}", headers=headers)
    assert r.status_code == status, r.text
    return r.json()


@pytest.fixture
def lead(uow, clock) -> dict[str, str]:
    """A named team lead: the second person who approves a representative (four eyes)."""
    with uow() as s:
        uid = access.create_user(s, clock, username="lee.lead", display_name="Lee Carter", role="team_lead",
                                 password=None).id
    return staff_headers(uow, clock, uid, "team_lead")


@pytest.fixture
def asker(uow, clock) -> dict[str, str]:
    """A named agent: the person who asks for a representative (a system token cannot ask)."""
    with uow() as s:
        uid = access.create_user(s, clock, username="asha.agent", display_name="Asha Agent", role="agent",
                                 password=None).id
    return staff_headers(uow, clock, uid, "agent")


def authorise(client, headers, lead, customer_id, body) -> dict:
    """Ask for a representative (202, a four-eyes request), have the lead approve it, return the
    representative as the list shows it."""
    asked = post(client, headers, f"/customers/{customer_id}/representatives",
                 {"reason": "the customer asked", **body}, status=202)
    assert asked["action"] == "add_representative" and asked["status"] == "pending"
    rep_id = post(client, lead, f"/approvals/{asked['id']}/approve", {}, status=200)["result"]["representativeId"]
    listed = client.get(f"{V1}/customers/{customer_id}/representatives", headers=headers).json()
    return next(r for r in listed if r["id"] == rep_id)


def product(uow, clock, customer_id, price, *, account_id=None, days_ago: int | None = 100, **kw):
    """A product bought through the inventory service; ``days_ago=None`` for one not started yet."""
    if days_ago is not None:
        kw["activated_at"] = clock.now() - timedelta(days=days_ago)
    with uow() as s:
        return inventory.add_product(s, clock, SYSTEM, customer_id=customer_id, billing_account_id=account_id,
                                     kind=kw.pop("kind", "mobile_line"), name=kw.pop("name", "Plan"),
                                     price_minor=price, currency="GBP", region="GB", **kw).id


def money(amount, currency="GBP"):
    return {"amountMinor": amount, "currency": currency}


# --- billing accounts ----------------------------------------------------------------------

def test_billing_accounts_with_their_monthly_value(client, admin, uow, clock):
    cid, _ = customer(client, admin)
    acc = post(client, admin, f"/customers/{cid}/billing-accounts", {"accountNumber": "acc 700 1",
                                                                     "openedOn": "2015-06-01"})
    assert acc["accountNumber"] == "ACC7001" and acc["currency"] == "GBP" and acc["monthlyValue"] == money(0)
    product(uow, clock, cid, 2500, account_id=acc["id"])
    product(uow, clock, cid, 1800, account_id=acc["id"], kind="handset", name="Phone")
    old = product(uow, clock, cid, 999, account_id=acc["id"], days_ago=400)
    with uow() as s:
        inventory.change_status(s, clock, SYSTEM, inventory.get_product(s, old), "terminated",
                                at=clock.now() - timedelta(days=30))
    product(uow, clock, cid, 700)  # no account: counts for the customer, not for this account
    r = client.get(f"{V1}/customers/{cid}/billing-accounts", headers=admin)
    assert r.status_code == 200 and r.headers["X-Total-Count"] == "1"
    (listed,) = r.json()
    assert listed["monthlyValue"] == money(4300) and listed["billableProducts"] == 2
    found = client.get(f"{V1}/identifiers/resolve", params={"kind": "account", "value": "acc7001"}, headers=admin)
    assert found.json()["customerId"] == cid
    assert_tmf_error(client.post(f"{V1}/customers/{cid}/billing-accounts", json={"accountNumber": "ACC7001"},
                                 headers=admin), 409)
    assert_tmf_error(client.post(f"{V1}/customers/{cid}/billing-accounts",
                                 json={"accountNumber": "ACC7002", "currency": "G1P"}, headers=admin), 400)
    assert_tmf_error(client.post(f"{V1}/customers/NOPE/billing-accounts", json={"accountNumber": "ACC7003"},
                                 headers=admin), 404)


# --- households and relationships ----------------------------------------------------------

def test_household_membership_rules(client, admin, container):
    a, _ = customer(client, admin, "Margaret", "Hughes")
    b, _ = customer(client, admin, "Peter", "Hughes")
    home = post(client, admin, "/households", {"name": "Hughes household"})
    assert home["href"] == f"{V1}/households/{home['id']}"
    assert (home["members"], home["value"]) == ([], None)
    member = post(client, admin, f"/households/{home['id']}/members", {"customerId": a, "role": "head",
                                                                       "joinedOn": "2014-02-01"})
    assert (member["customerId"], member["role"], member["leftOn"]) == (a, "head", None)
    other = post(client, admin, "/households", {"name": "Elsewhere"})
    assert_tmf_error(client.post(f"{V1}/households/{other['id']}/members", json={"customerId": a, "role": "head"},
                                 headers=admin), 409)
    assert_tmf_error(client.post(f"{V1}/households/{home['id']}/members", json={"customerId": b, "role": "boss"},
                                 headers=admin), 400)
    assert_tmf_error(client.post(f"{V1}/households/NOPE/members", json={"customerId": b, "role": "spouse"},
                                 headers=admin), 404)
    assert_tmf_error(client.post(f"{V1}/customers/{a}/leave-household", json={"leftOn": "2013-01-01"},
                                 headers=admin), 400)
    left = post(client, admin, f"/customers/{a}/leave-household", status=200)
    assert left["leftOn"] == "2026-03-02"
    assert_tmf_error(client.post(f"{V1}/customers/{a}/leave-household", headers=admin), 404)
    assert_tmf_error(client.post(f"{V1}/customers/NOPE/leave-household", headers=admin), 404)
    post(client, admin, f"/households/{other['id']}/members", {"customerId": a, "role": "head"})
    with container.sessions() as s:
        assert s.scalar(select(func.count()).select_from(HouseholdMember)) == 2


def test_party_relationships(client, admin):
    margaret = person(client, admin, "Margaret", "Hughes")
    lily = person(client, admin, "Lily", "Hughes")
    rel = post(client, admin, "/party-relationships", {"partyId": margaret, "relatedPartyId": lily, "kind": "child",
                                                       "validFrom": "2014-05-20"})
    assert (rel["partyId"], rel["relatedPartyId"], rel["kind"], rel["validFrom"]) == (margaret, lily, "child",
                                                                                    "2014-05-20")
    assert_tmf_error(client.post(f"{V1}/party-relationships", json={"partyId": margaret, "relatedPartyId": margaret,
                                                                    "kind": "spouse"}, headers=admin), 400)
    assert_tmf_error(client.post(f"{V1}/party-relationships", json={"partyId": margaret, "relatedPartyId": lily,
                                                                    "kind": "frenemy"}, headers=admin), 400)
    assert_tmf_error(client.post(f"{V1}/party-relationships", json={"partyId": margaret, "relatedPartyId": "NOPE",
                                                                    "kind": "child"}, headers=admin), 404)


# --- representatives -----------------------------------------------------------------------

def test_representative_permissions_by_date(client, admin, clock, lead, asker):
    edith, _ = customer(client, admin, "Edith", "Clarke", since="1998-05-01")
    son = person(client, admin, "Robert", "Clarke")
    worker = person(client, admin, "Amira", "Haddad")
    rep = authorise(client, asker, lead, edith, {
        "partyId": worker, "relationship": "social_worker", "permissions": ["view_cases", "message_owner"],
        "validFrom": "2026-01-01", "validUntil": "2026-07-01", "evidence": "consent by phone"})
    assert rep["name"] == "Amira Haddad" and rep["status"] == "active"
    assert rep["permissionsInForce"] == ["message_owner", "view_cases"]
    assert rep["recordedBy"]["name"] == "Lee Carter"  # recorded by the person who approved it

    def standing(day):
        r = client.get(f"{V1}/customers/{edith}/representatives", params={"on": day}, headers=admin)
        assert r.status_code == 200, r.text
        (item,) = [i for i in r.json() if i["id"] == rep["id"]]
        return item["status"], item["permissionsInForce"]

    assert standing("2025-12-31") == ("pending", [])
    assert standing("2026-06-30") == ("active", ["message_owner", "view_cases"])
    assert standing("2026-07-01") == ("expired", [])  # validUntil is exclusive
    authorise(client, asker, lead, edith, {
        "partyId": son, "relationship": "son", "permissions": ["view_account", "raise_complaint"]})
    clock.advance(timedelta(days=10))
    revoked = post(client, admin, f"/representatives/{rep['id']}/revoke", {"reason": "case closed"}, status=200)
    assert revoked["status"] == "revoked" and revoked["permissionsInForce"] == []
    assert standing("2026-03-05") == ("active", ["message_owner", "view_cases"])  # before the revocation
    assert standing("2026-03-12") == ("revoked", [])
    again = post(client, admin, f"/representatives/{rep['id']}/revoke", status=200)
    assert again["revokedAt"] == revoked["revokedAt"]
    active = client.get(f"{V1}/customers/{edith}/representatives", params={"active": "true"}, headers=admin).json()
    assert [r["name"] for r in active] == ["Robert Clarke"]
    for bad, status in [({"permissions": ["sell_house"]}, 400), ({"permissions": []}, 400),
                        ({"validFrom": "2026-05-01", "validUntil": "2026-04-01"}, 400), ({"partyId": "NOPE"}, 404)]:
        body = {"partyId": son, "relationship": "son", "permissions": ["view_account"], "reason": "asked", **bad}
        assert_tmf_error(client.post(f"{V1}/customers/{edith}/representatives", json=body, headers=asker), status)
    assert_tmf_error(client.post(f"{V1}/representatives/NOPE/revoke", headers=admin), 404)


# --- vulnerability -------------------------------------------------------------------------

def test_vulnerability_note_is_hidden_without_consent(client, admin, container):
    cid, _ = customer(client, admin)
    common = {"kind": "health", "reviewOn": "2026-09-01", "needs": ["priority", "priority", "assisted_channels"]}
    without = post(client, admin, f"/customers/{cid}/vulnerabilities",
                   {**common, "consentGiven": False, "note": "recent surgery"})
    assert without["note"] is None and without["consentRecordedAt"] is None
    assert without["needs"] == ["priority", "assisted_channels"]
    with_ = post(client, admin, f"/customers/{cid}/vulnerabilities",
                 {**common, "kind": "age", "consentGiven": True, "note": "89; lives alone"})
    assert with_["note"] == "89; lives alone" and with_["recordedBy"]["name"] == "test-admin"
    with container.sessions() as s:  # not kept at all, not merely hidden
        assert s.get(Vulnerability, without["id"]).note is None
    listed = client.get(f"{V1}/customers/{cid}/vulnerabilities", headers=admin).json()
    assert {v["kind"]: v["note"] for v in listed} == {"health": None, "age": "89; lives alone"}
    ended = post(client, admin, f"/vulnerabilities/{without['id']}/end", status=200)
    assert ended["active"] is False and ended["endedAt"]
    assert [v["kind"] for v in client.get(f"{V1}/customers/{cid}/vulnerabilities", headers=admin).json()] == ["age"]
    everything = client.get(f"{V1}/customers/{cid}/vulnerabilities", params={"includeEnded": "true"}, headers=admin)
    assert len(everything.json()) == 2
    for bad in [{"reviewOn": "2026-03-01"}, {"kind": "grumpy"}, {"needs": [" "]}, {"secret": 1}]:
        body = {**common, "consentGiven": True, **bad}
        assert_tmf_error(client.post(f"{V1}/customers/{cid}/vulnerabilities", json=body, headers=admin), 400)
    assert_tmf_error(client.post(f"{V1}/vulnerabilities/NOPE/end", headers=admin), 404)
    with container.sessions() as s:
        reads = s.scalar(select(func.count()).select_from(AuditEntry).where(
            AuditEntry.customer_id == cid, AuditEntry.action == "read", AuditEntry.purpose == "vulnerability"))
    assert reads == 3


# --- profile -------------------------------------------------------------------------------

def test_s2_profile_tenure_household_and_value(client, admin, uow, clock, container):
    margaret, _ = customer(client, admin, "Margaret", "Hughes", since="2014-02-01")
    peter, _ = customer(client, admin, "Peter", "Hughes", since="2016-08-15")
    acc = post(client, admin, f"/customers/{margaret}/billing-accounts", {"accountNumber": "ACC-200201"})
    product(uow, clock, margaret, 2500, account_id=acc["id"], identifiers={"msisdn": "07700 900201"})
    product(uow, clock, margaret, 1800, account_id=acc["id"], kind="handset", name="Lumo 5")
    product(uow, clock, peter, 3000)
    gone = product(uow, clock, peter, 1500, days_ago=900)
    with uow() as s:
        inventory.change_status(s, clock, SYSTEM, inventory.get_product(s, gone), "terminated",
                                at=clock.now() - timedelta(days=60))
    product(uow, clock, peter, 900, days_ago=None, status="pendingActive")  # daughter's phone, not yet billed
    home = post(client, admin, "/households", {"name": "Hughes household"})
    post(client, admin, f"/households/{home['id']}/members", {"customerId": margaret, "role": "head",
                                                              "joinedOn": "2014-02-01"})
    post(client, admin, f"/households/{home['id']}/members", {"customerId": peter, "role": "spouse",
                                                              "joinedOn": "2016-08-15"})
    r = client.get(f"{V1}/customers/{margaret}/profile", headers=admin)
    assert r.status_code == 200, r.text
    p = r.json()
    assert p["tenure"] == {"since": "2014-02-01", "years": 12, "months": 1, "label": "12 years, 1 month"}
    assert p["party"]["name"] == "Margaret Hughes"
    assert p["value"]["monthlyValue"] == money(4300)
    assert [(a["accountNumber"], a["monthlyValue"]) for a in p["accounts"]] == [("ACC-200201", money(4300))]
    h = p["household"]
    assert h["name"] == "Hughes household" and h["role"] == "head"
    assert [(m["customerName"], m["role"], m["monthlyValue"]) for m in h["members"]] == [
        ("Margaret Hughes", "head", money(4300)), ("Peter Hughes", "spouse", money(3000))]
    assert h["value"]["monthlyValue"] == money(7300) and h["value"]["otherCurrencies"] == []
    assert h["value"]["monthlyValue"]["amountMinor"] > 7000  # "over 70 a month in all"
    assert {i["kind"]: i["value"] for i in p["identifiers"]} == {"msisdn": "+447700900201", "account": "ACC-200201"}
    detail = client.get(home["href"], headers=admin)
    assert detail.status_code == 200, detail.text
    assert detail.json()["value"]["monthlyValue"] == money(7300)
    assert [m["customerId"] for m in detail.json()["members"]] == [margaret, peter]
    assert_tmf_error(client.get(f"{V1}/households/NOPE", headers=admin), 404)
    with container.sessions() as s:
        assert s.scalar(select(func.count()).select_from(AuditEntry).where(
            AuditEntry.customer_id == margaret, AuditEntry.purpose == "profile")) == 1


def test_profile_shows_only_active_representatives_and_vulnerabilities(client, admin, clock, lead, asker):
    cid, _ = customer(client, admin, "Edith", "Clarke", since="1998-05-01")
    son = person(client, admin, "Robert", "Clarke")
    old = person(client, admin, "Old", "Carer")
    authorise(client, asker, lead, cid, {"partyId": son, "relationship": "son",
                                         "permissions": ["view_account", "message_owner"]})
    gone = authorise(client, asker, lead, cid, {"partyId": old, "relationship": "carer",
                                                "permissions": ["view_cases"]})
    post(client, admin, f"/representatives/{gone['id']}/revoke", status=200)
    authorise(client, asker, lead, cid, {"partyId": old, "relationship": "carer", "permissions": ["view_cases"],
                                         "validFrom": "2010-01-01", "validUntil": "2011-01-01"})
    post(client, admin, f"/customers/{cid}/vulnerabilities", {"kind": "age", "consentGiven": True,
                                                               "reviewOn": "2026-09-01", "note": "89",
                                                               "needs": ["priority"]})
    hidden = post(client, admin, f"/customers/{cid}/vulnerabilities", {"kind": "health", "consentGiven": False,
                                                                        "reviewOn": "2026-09-01", "note": "x"})
    ended = post(client, admin, f"/customers/{cid}/vulnerabilities", {"kind": "bereavement", "consentGiven": True,
                                                                       "reviewOn": "2026-09-01"})
    post(client, admin, f"/vulnerabilities/{ended['id']}/end", status=200)
    p = client.get(f"{V1}/customers/{cid}/profile", headers=admin).json()
    assert p["tenure"]["label"] == "27 years, 10 months"
    assert p["household"] is None and p["accounts"] == [] and p["value"]["monthlyValue"] == money(0)
    assert [(r["name"], r["permissionsInForce"]) for r in p["representatives"]] == [
        ("Robert Clarke", ["message_owner", "view_account"])]
    assert [(v["kind"], v["note"], v["needs"]) for v in p["vulnerabilities"]] == [
        ("age", "89", ["priority"]), ("health", None, [])]
    assert all(v["recordedBy"]["name"] == "test-admin" for v in p["vulnerabilities"])
    assert hidden["id"] in {v["id"] for v in p["vulnerabilities"]}


def test_profile_errors_and_roles(client, admin, token_for):
    assert_tmf_error(client.get(f"{V1}/customers/NOPE/profile", headers=admin), 404)
    cid, _ = customer(client, admin)
    assert_tmf_error(client.get(f"{V1}/customers/{cid}/profile"), 401)
    assert_tmf_error(client.get(f"{V1}/customers/{cid}/profile", headers=token_for("field_subcontractor")), 403)
    assert client.get(f"{V1}/customers/{cid}/profile", headers=token_for("store_advisor")).status_code == 200
    assert_tmf_error(client.post(f"{V1}/households", json={"name": "x"}, headers=token_for("field_subcontractor")),
                     403)


def _luhn_complete(body: str) -> str:
    for check in "0123456789":
        digits = body + check
        total = sum(int(d) if i % 2 == 0 else (2 * int(d) - 9 if int(d) > 4 else 2 * int(d))
                    for i, d in enumerate(reversed(digits)))
        if total % 10 == 0:
            return digits
    raise AssertionError("unreachable")


def _rich_customer(container, n: int, tag: int) -> str:
    """A customer with n products (each with a number and a SIM), in a household with a partner who
    has n products too, n representatives and n vulnerabilities."""
    clock, actor = container.clock, SYSTEM
    with container.sessions() as s, s.begin():
        party = customers.create_individual(s, clock, actor, given_name=f"Rich{tag}", family_name="Customer")
        cust = customers.create_customer(s, clock, actor, party_id=party.id, customer_since=date(2010, 1, 1))
        partner_party = customers.create_individual(s, clock, actor, given_name=f"Partner{tag}", family_name="C")
        partner = customers.create_customer(s, clock, actor, party_id=partner_party.id)
        acc = customers.open_billing_account(s, clock, actor, customer_id=cust.id, account_number=f"ACC-{tag}",
                                             currency="GBP")
        for i in range(n):
            k = tag * 1000 + i
            inventory.add_product(s, clock, actor, customer_id=cust.id, billing_account_id=acc.id, kind="mobile_line",
                                  name=f"Line {i}", price_minor=1000, currency="GBP",
                                  activated_at=datetime(2020, 1, 1, tzinfo=UTC),
                                  identifiers={"msisdn": f"07700 9{k:05d}",
                                               "iccid": _luhn_complete(f"89441000000{k:07d}")}, region="GB")
            inventory.add_product(s, clock, actor, customer_id=partner.id, kind="fibre", name=f"Fibre {i}",
                                  price_minor=500, currency="GBP", activated_at=datetime(2020, 1, 1, tzinfo=UTC))
            identifier_service.assign(s, clock, actor, customer_id=cust.id, kind="email",
                                      value=f"rich{tag}.{i}@mail.example")
            helper = customers.create_individual(s, clock, actor, given_name=f"Helper{i}", family_name="H")
            customers.add_representative(s, clock, actor, customer_id=cust.id, party_id=helper.id,
                                         relationship="friend", permissions=["view_cases"])
            customers.record_vulnerability(s, clock, actor, customer_id=cust.id, kind="other", consent_given=True,
                                           review_on=date(2027, 1, 1), note=f"note {i}")
        home = customers.create_household(s, clock, actor, name=f"House {tag}")
        customers.add_household_member(s, clock, actor, household_id=home.id, customer_id=cust.id, role="head")
        customers.add_household_member(s, clock, actor, household_id=home.id, customer_id=partner.id, role="partner")
        return cust.id


def test_profile_queries_do_not_grow_with_the_customer(client, admin, container):
    small, big = _rich_customer(container, 1, 1), _rich_customer(container, 20, 2)
    statements: list[str] = []

    def count(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    def profile_statements(cid: str) -> int:
        client.get(f"{V1}/customers/{cid}/profile", headers=admin)  # warm-up (token's last use, caches)
        statements.clear()
        event.listen(container.engine, "before_cursor_execute", count)
        try:
            r = client.get(f"{V1}/customers/{cid}/profile", headers=admin)
        finally:
            event.remove(container.engine, "before_cursor_execute", count)
        assert r.status_code == 200, r.text
        return len(statements), r.json()

    n_small, p_small = profile_statements(small)
    n_big, p_big = profile_statements(big)
    assert len(p_big["identifiers"]) == 20 * 3 + 1 and len(p_big["vulnerabilities"]) == 20
    assert len(p_big["representatives"]) == 20
    assert p_big["household"]["value"]["monthlyValue"] == money(20 * 1500)
    assert p_small["accounts"][0]["monthlyValue"] == money(1000)
    assert n_big == n_small, (n_small, n_big)
    assert n_small <= 20, n_small


@pytest.mark.parametrize("path", ["profile", "billing-accounts", "representatives", "vulnerabilities"])
def test_reads_are_audited(client, admin, container, path):
    cid, _ = customer(client, admin)
    assert client.get(f"{V1}/customers/{cid}/{path}", headers=admin).status_code == 200
    with container.sessions() as s:
        assert s.scalar(select(func.count()).select_from(AuditEntry).where(
            AuditEntry.customer_id == cid, AuditEntry.action == "read", AuditEntry.channel == "api",
            AuditEntry.purpose.is_not(None))) >= 1
        assert s.scalar(select(func.count()).select_from(BillingAccount)) == 0
