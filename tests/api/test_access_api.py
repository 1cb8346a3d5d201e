"""/api/v1 staff, teams, tokens and a customer's audit log: roles, shapes, errors, no secrets."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from onethread.access import service as access
from onethread.models import ApiToken, StaffUser, Team
from tests.support.customer_api import make_customer
from tests.tmf_schema import assert_tmf_error

V1 = "/api/v1"
PASSWORD = "correct horse battery"


def new_staff(client, headers, username="ann.agent", role="agent", **extra):
    body = {"username": username, "displayName": username.replace(".", " ").title(), "role": role,
            "password": PASSWORD, **extra}
    r = client.post(f"{V1}/staff", json=body, headers=headers)
    assert r.status_code == 201, r.text
    return r.json()


def sign_in(client, username, password=PASSWORD):
    r = client.post("/login", data={"username": username, "password": password}, follow_redirects=False)
    assert r.status_code == 303, r.text


def assert_no_secrets(response) -> None:
    text = response.text.lower()
    assert "hash" not in text
    assert "$argon2" not in text


# --- staff ---------------------------------------------------------------------------------

def test_admin_creates_staff_and_gets_201_without_password_hash(client, admin, container):
    r = client.post(f"{V1}/staff", json={"username": "Ann.Agent", "displayName": "Ann Agent", "role": "agent",
                                         "password": PASSWORD, "email": "ann@operator.example"}, headers=admin)
    assert r.status_code == 201, r.text
    body = r.json()
    assert r.headers["Location"] == body["href"] == f"{V1}/staff/{body['id']}"
    assert body["@type"] == "StaffUser"
    assert body["username"] == "ann.agent"
    assert body["role"] == "agent" and body["roleLabel"] == "Contact-centre agent"
    assert body["active"] is True and body["away"] is False
    assert "password" not in body
    assert_no_secrets(r)
    with container.sessions() as s:
        assert s.scalar(select(StaffUser.password_hash).where(StaffUser.id == body["id"])).startswith("$argon2")


def test_only_admins_create_staff(client, token_for, container):
    body = {"username": "eve", "displayName": "Eve", "role": "admin", "password": PASSWORD}
    for role in ("store_advisor", "agent", "team_lead", "integration"):
        assert_tmf_error(client.post(f"{V1}/staff", json=body, headers=token_for(role)), 403)
    with container.sessions() as s:
        assert s.scalar(select(func.count()).select_from(StaffUser)) == 0


def test_bad_staff_input_is_a_readable_400_or_409_and_writes_nothing(client, admin, container):
    good = {"username": "bob", "displayName": "Bob", "role": "agent", "password": PASSWORD}
    new_staff(client, admin, username="taken")
    cases = [
        ({**good, "role": "wizard"}, 400, "role"),
        ({**good, "password": "short"}, 400, "password"),
        ({**good, "password": "bob-is-my-password"}, 400, "username"),
        ({**good, "username": "bob smith"}, 400, "username"),
        ({**good, "username": "x" * 81}, 400, "username"),
        ({**good, "shoeSize": 42}, 400, "shoeSize"),
        ({**good, "teamId": "NOPE"}, 404, "team"),
        ({**good, "username": "TAKEN"}, 409, "taken"),
    ]
    for body, status, word in cases:
        error = assert_tmf_error(client.post(f"{V1}/staff", json=body, headers=admin), status)
        assert word in error["message"], error
    with container.sessions() as s:
        assert s.scalars(select(StaffUser.username)).all() == ["taken"]


def test_supervisors_list_staff_with_paging_and_filters(client, admin, token_for):
    team = client.post(f"{V1}/teams", json={"name": "Contact centre"}, headers=admin).json()
    for name in ("a.one", "b.two", "c.three"):
        new_staff(client, admin, username=name, teamId=team["id"])
    new_staff(client, admin, username="d.lead", role="team_lead")
    lead = token_for("team_lead")
    page = client.get(f"{V1}/staff", params={"offset": 1, "limit": 2}, headers=lead)
    assert page.status_code == 200
    assert page.headers["X-Total-Count"] == "4" and page.headers["X-Result-Count"] == "2"
    assert [u["username"] for u in page.json()] == ["b.two", "c.three"]
    assert_no_secrets(page)
    agents = client.get(f"{V1}/staff", params={"role": "agent", "teamId": team["id"]}, headers=lead).json()
    assert {u["username"] for u in agents} == {"a.one", "b.two", "c.three"}
    one = client.get(f"{V1}/staff/{agents[0]['id']}", headers=lead)
    assert one.status_code == 200 and one.json() == agents[0]
    assert_tmf_error(client.get(f"{V1}/staff/NOPE", headers=lead), 404)
    assert_tmf_error(client.get(f"{V1}/staff", headers=token_for("agent")), 403)
    assert_tmf_error(client.get(f"{V1}/staff", params={"limit": 0}, headers=lead), 400)


def test_me_for_a_token_and_for_a_signed_in_staff_member(client, admin, token_for):
    r = client.get(f"{V1}/staff/me", headers=token_for("integration"))
    assert r.status_code == 200, r.text
    me = r.json()
    assert me["kind"] == "token" and me["role"] == "integration" and me["name"] == "test-integration"
    assert me["staff"] is None
    user = new_staff(client, admin, username="sam.store", role="store_advisor")
    sign_in(client, "sam.store")
    me = client.get(f"{V1}/staff/me").json()
    assert me["kind"] == "staff" and me["id"] == user["id"] and me["role"] == "store_advisor"
    assert me["staff"]["username"] == "sam.store"


def test_away_for_self_or_by_a_supervisor_only(client, admin, token_for):
    ann = new_staff(client, admin, username="ann.agent")
    bob = new_staff(client, admin, username="bob.agent")
    sign_in(client, "ann.agent")
    r = client.post(f"{V1}/staff/{ann['id']}/away", json={"away": True})
    assert r.status_code == 200, r.text
    assert r.json()["away"] is True
    assert_tmf_error(client.post(f"{V1}/staff/{bob['id']}/away", json={"away": True}), 403)
    client.post("/logout")
    # An agent token is not a staff member: it may not mark anyone away.
    assert_tmf_error(client.post(f"{V1}/staff/{bob['id']}/away", json={"away": True}, headers=token_for("agent")),
                     403)
    lead = token_for("team_lead")
    r = client.post(f"{V1}/staff/{bob['id']}/away", json={"away": True}, headers=lead)
    assert r.status_code == 200 and r.json()["away"] is True
    r = client.post(f"{V1}/staff/{ann['id']}/away", json={"away": False}, headers=lead)
    assert r.json()["away"] is False
    assert_tmf_error(client.post(f"{V1}/staff/NOPE/away", json={"away": True}, headers=lead), 404)
    assert_tmf_error(client.post(f"{V1}/staff/{bob['id']}/away", json={"away": "maybe"}, headers=lead), 400)


# --- teams ---------------------------------------------------------------------------------

def test_teams_created_by_admins_listed_by_supervisors(client, admin, token_for, container):
    lead = new_staff(client, admin, username="lee.lead", role="team_lead")
    r = client.post(f"{V1}/teams", json={"name": "Customer relations", "kind": "specialists",
                                         "leadId": lead["id"]}, headers=admin)
    assert r.status_code == 201, r.text
    team = r.json()
    assert team["@type"] == "Team" and team["leadId"] == lead["id"] and team["kind"] == "specialists"
    assert r.headers["Location"] == team["href"]
    assert_tmf_error(client.post(f"{V1}/teams", json={"name": "Customer relations"}, headers=admin), 409)
    assert_tmf_error(client.post(f"{V1}/teams", json={"name": "X", "leadId": "NOPE"}, headers=admin), 404)
    assert_tmf_error(client.post(f"{V1}/teams", json={"name": "  "}, headers=admin), 400)
    assert_tmf_error(client.post(f"{V1}/teams", json={"name": "Y"}, headers=token_for("team_lead")), 403)
    listed = client.get(f"{V1}/teams", headers=token_for("team_lead"))
    assert listed.status_code == 200 and listed.headers["X-Total-Count"] == "1"
    assert listed.json() == [team]
    assert client.get(f"{V1}/teams/{team['id']}", headers=admin).json() == team
    assert_tmf_error(client.get(f"{V1}/teams", headers=token_for("agent")), 403)
    with container.sessions() as s:
        assert s.scalar(select(func.count()).select_from(Team)) == 1


# --- tokens --------------------------------------------------------------------------------

def test_token_secret_is_shown_once_and_works(client, admin, container):
    r = client.post(f"{V1}/tokens", json={"name": "telephony", "role": "integration", "expiresIn": "P30D"},
                    headers=admin)
    assert r.status_code == 201, r.text
    created = r.json()
    secret = created["token"]
    assert secret.startswith("ot_") and created["prefix"] == secret[:10]
    assert created["state"] == "active" and created["@type"] == "ApiToken"
    assert created["expiresAt"].startswith((container.clock.now() + timedelta(days=30)).date().isoformat())
    assert r.headers["Cache-Control"] == "no-store"
    assert_no_secrets(r)
    me = client.get(f"{V1}/staff/me", headers={"Authorization": f"Bearer {secret}"}).json()
    assert me["id"] == created["id"] and me["role"] == "integration"
    for response in (client.get(f"{V1}/tokens", headers=admin), client.get(created["href"], headers=admin)):
        assert response.status_code == 200
        assert secret not in response.text
        assert "token" not in (response.json()[-1] if isinstance(response.json(), list) else response.json())
        assert_no_secrets(response)
    with container.sessions() as s:
        stored = s.scalar(select(ApiToken).where(ApiToken.id == created["id"]))
        assert stored.token_hash != secret and secret not in stored.token_hash


def test_revoked_token_gets_401_and_shows_revoked(client, admin):
    created = client.post(f"{V1}/tokens", json={"name": "script", "role": "agent"}, headers=admin).json()
    bearer = {"Authorization": f"Bearer {created['token']}"}
    assert client.get(f"{V1}/staff/me", headers=bearer).status_code == 200
    r = client.post(f"{V1}/tokens/{created['id']}/revoke", headers=admin)
    assert r.status_code == 200 and r.json()["state"] == "revoked" and r.json()["revokedAt"]
    assert_tmf_error(client.get(f"{V1}/staff/me", headers=bearer), 401)
    again = client.post(f"{V1}/tokens/{created['id']}/revoke", headers=admin)
    assert again.json()["revokedAt"] == r.json()["revokedAt"]  # revoking twice changes nothing
    assert_tmf_error(client.post(f"{V1}/tokens/NOPE/revoke", headers=admin), 404)


def test_token_errors_and_roles(client, admin, token_for, container):
    cases = [
        ({"name": "x", "role": "wizard"}, 400),
        ({"name": "", "role": "agent"}, 400),
        ({"name": "x", "role": "agent", "expiresIn": "-P1D"}, 400),
        ({"name": "x", "role": "agent", "expiresIn": "soon"}, 400),
        ({"name": "x", "role": "agent", "secret": "mine"}, 400),
    ]
    for body, status in cases:
        assert_tmf_error(client.post(f"{V1}/tokens", json=body, headers=admin), status)
    for role in ("team_lead", "agent", "integration"):
        headers = token_for(role)
        assert_tmf_error(client.post(f"{V1}/tokens", json={"name": "x", "role": "admin"}, headers=headers), 403)
        assert_tmf_error(client.get(f"{V1}/tokens", headers=headers), 403)
    with container.sessions() as s:
        names = s.scalars(select(ApiToken.name)).all()
    assert all(n.startswith("test-") for n in names)


def test_token_list_shows_expired_state_when_the_clock_passes(client, admin, clock):
    client.post(f"{V1}/tokens", json={"name": "short", "role": "agent", "expiresIn": "PT1H"}, headers=admin)
    clock.advance(timedelta(hours=2))
    states = {t["name"]: t["state"] for t in client.get(f"{V1}/tokens", headers=admin).json()}
    assert states == {"test-admin": "active", "short": "expired"}


# --- audit log -----------------------------------------------------------------------------

def test_customer_audit_log_for_supervisors_newest_first_with_paging(client, admin, token_for, clock):
    cid = make_customer(client, admin).json()["id"]
    agent = token_for("agent")
    clock.advance(timedelta(days=1))
    checkpoint = clock.now()
    for _ in range(3):
        clock.advance(timedelta(minutes=5))
        assert client.get(f"/tmf-api/customer/v5/customer/{cid}", headers=agent).status_code == 200
    lead = token_for("team_lead")
    url = f"{V1}/customers/{cid}/audit-log"
    r = client.get(url, headers=lead)
    assert r.status_code == 200, r.text
    entries = r.json()
    total = int(r.headers["X-Total-Count"])
    assert total == len(entries) >= 4  # the read after create, three reads
    assert [e["at"] for e in entries] == sorted((e["at"] for e in entries), reverse=True)
    newest = entries[0]
    assert newest["@type"] == "AuditEntry" and newest["action"] == "read" and newest["customerId"] == cid
    assert newest["actor"] == {"type": "token", "id": newest["actor"]["id"], "name": "test-agent"}
    assert newest["channel"] == "api"
    page = client.get(url, params={"offset": 1, "limit": 2}, headers=lead)
    assert page.headers["X-Total-Count"] == str(total) and page.headers["X-Result-Count"] == "2"
    assert page.json() == entries[1:3]
    recent = client.get(url, params={"since": checkpoint.isoformat()}, headers=lead)
    assert recent.headers["X-Total-Count"] == "3"
    assert {e["actor"]["name"] for e in recent.json()} == {"test-agent"}


def test_audit_log_refuses_non_supervisors_unknown_customers_and_naive_times(client, admin, token_for):
    cid = make_customer(client, admin).json()["id"]
    url = f"{V1}/customers/{cid}/audit-log"
    for role in ("agent", "store_advisor", "specialist", "integration"):
        assert_tmf_error(client.get(url, headers=token_for(role)), 403)
    lead = token_for("team_lead")
    assert_tmf_error(client.get(f"{V1}/customers/NOPE/audit-log", headers=lead), 404)
    error = assert_tmf_error(client.get(url, params={"since": "2026-03-01T00:00:00"}, headers=lead), 400)
    assert "since" in error["message"]
    assert_tmf_error(client.get(url, params={"limit": 5000}, headers=lead), 400)
    assert client.get(url, params={"since": "2026-03-01T00:00:00+01:00"}, headers=lead).status_code == 200


def test_access_service_audit_for_customer_counts_and_filters(uow, clock):
    from onethread.access.rules import SYSTEM

    with uow() as s:
        for n in range(4):
            clock.advance(timedelta(minutes=1))
            access.audit(s, clock, SYSTEM, action="read", resource_type="customer", resource_id="C1",
                         customer_id="C1", detail={"n": n})
        access.audit(s, clock, SYSTEM, action="read", resource_type="customer", resource_id="C2", customer_id="C2")
    with uow() as s:
        rows, total = access.audit_for_customer(s, "C1", offset=0, limit=2)
        assert total == 4 and [r.detail["n"] for r in rows] == [3, 2]
        rows, total = access.audit_for_customer(s, "C1", since=clock.now() - timedelta(minutes=1, seconds=30))
        assert total == 2
