"""The customer portal's API and pages through the real app: a customer sees only their own
cases (another's is 404, never 403), a representative sees the represented customer's cases
only while the authority is in force, a message lands in the case as an inbound portal contact
and starts the customer-waiting clock, staff credentials do not open the portal and the portal
cookie opens nothing of the staff's, and bad input is refused with nothing written."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from onethread.access import portal as accounts
from onethread.access import service as access
from onethread.access.rules import SYSTEM
from onethread.api.deps import SESSION_COOKIE
from onethread.api.v1.portal import PORTAL_COOKIE
from onethread.cases import service as cases
from onethread.customers import service as customers
from onethread.models import AuditEntry, Case, CaseClock, Contact, PortalAccount
from tests.support.portal_api import CASES, PASSWORD, sign_in
from tests.support.portal_api import world as world
from tests.tmf_schema import assert_tmf_error


def contacts(uow) -> int:
    with uow() as s:
        return s.scalar(select(func.count()).select_from(Contact))


def test_a_customer_sees_only_their_own_cases(client, world, uow):
    sign_in(client, "margaret.hughes@mail.example")  # the login is not case-sensitive
    r = client.get(CASES)
    assert r.status_code == 200
    assert [c["id"] for c in r.json()] == [world["margaret_case"]]
    assert r.headers["X-Total-Count"] == "1"
    mine = r.json()[0]
    assert mine["owner"] == {"name": "Gertrude Blanc"}
    assert mine["customer"]["name"] == "Margaret Hughes" and mine["onBehalfOf"] is None
    assert mine["statusLabel"] == "Open" and mine["mayMessage"] is True
    assert "looked after by Gertrude Blanc" in mine["forCustomer"]

    # Edith's case: 404 like a case that does not exist, through every portal route.
    before = contacts(uow)
    for r in (client.get(f"{CASES}/{world['edith_case']}"),
              client.post(f"{CASES}/{world['edith_case']}/messages", json={"text": "Let me in"}),
              client.get(f"{CASES}/no-such-case")):
        body = assert_tmf_error(r, 404)
        assert world["edith"] not in body["message"]
    assert contacts(uow) == before
    with uow() as s:
        assert s.get(Case, world["edith_case"]).awaiting_reply_since is None

    # The page too: a readable 404, nothing of Edith's case on it.
    page = client.get(f"/portal/cases/{world['edith_case']}", headers={"Accept": "text/html"})
    assert page.status_code == 404
    assert "Case not found" in page.text and "Heating pipe" not in page.text
    listing = client.get("/portal", headers={"Accept": "text/html"})
    assert "No incoming calls for a year" in listing.text and "Heating pipe" not in listing.text


def test_every_portal_read_is_audited_under_the_person(client, world, uow):
    sign_in(client, "margaret.hughes@mail.example")
    client.get(CASES)
    client.get(f"{CASES}/{world['margaret_case']}")
    with uow() as s:
        rows = s.scalars(select(AuditEntry).where(AuditEntry.actor_type == "customer")).all()
    assert {(r.customer_id, r.channel, r.purpose) for r in rows} == {
        (world["margaret"], "portal", "portal_cases"), (world["margaret"], "portal", "portal_case")}
    assert {r.actor_name for r in rows} == {"Margaret Hughes"}


def test_a_representative_sees_the_represented_customer_only_while_the_authority_is_in_force(
        client, world, uow, clock):
    sign_in(client, "amira@council.example")
    me = client.get("/api/v1/portal/me").json()
    assert me["customers"] == [{"id": world["edith"], "name": "Edith Clarke", "relationship": "social_worker",
                                "mayMessage": False}]
    [case] = client.get(CASES).json()
    assert case["id"] == world["edith_case"] and case["onBehalfOf"] == "Amira Haddad (social worker)"
    assert case["mayMessage"] is False
    assert client.get(f"{CASES}/{world['margaret_case']}").status_code == 404

    # valid_until is exclusive: on that day the authority has ended. Ten days on, the eight-hour
    # session has ended too (sessions expire on the injected clock): she signs in again.
    clock.advance(timedelta(days=10))
    assert_tmf_error(client.get(CASES), 401)
    sign_in(client, "amira@council.example")
    assert client.get(CASES).json() == []
    assert_tmf_error(client.get(f"{CASES}/{world['edith_case']}"), 404)

    # The son's authority is revoked: from that moment he sees nothing of hers.
    sign_in(client, "robert.clarke@mail.example")
    assert [c["id"] for c in client.get(CASES).json()] == [world["edith_case"]]
    with uow() as s:
        customers.revoke_representative(s, clock, SYSTEM, world["son"], reason="customer asked")
    assert client.get(CASES).json() == []
    assert_tmf_error(client.get(f"{CASES}/{world['edith_case']}"), 404)


def test_a_representative_not_yet_in_force_sees_nothing(client, world, uow, clock):
    with uow() as s:
        party = customers.create_individual(s, clock, SYSTEM, given_name="Nina", family_name="Clarke")
        customers.add_representative(s, clock, SYSTEM, customer_id=world["edith"], party_id=party.id,
                                     relationship="daughter", permissions=["view_cases", "message_owner"],
                                     valid_from=clock.now().date() + timedelta(days=3))
        accounts.create_account(s, clock, party_id=party.id, login="nina@mail.example", password=PASSWORD)
    sign_in(client, "nina@mail.example")
    assert client.get(CASES).json() == []
    clock.advance(timedelta(days=3))
    sign_in(client, "nina@mail.example")  # three days on, the eight-hour session has ended
    assert [c["id"] for c in client.get(CASES).json()] == [world["edith_case"]]


def test_the_sons_message_lands_in_the_case_and_starts_the_waiting_clock(client, world, uow, clock, token_for):
    sign_in(client, "robert.clarke@mail.example")
    text = "My mother has had no heating for three days. Who is doing what?"
    r = client.post(f"{CASES}/{world['edith_case']}/messages", json={"text": f"  {text}  "})
    assert r.status_code == 201, r.text
    body = r.json()
    assert r.headers["Location"] == f"{CASES}/{world['edith_case']}"
    assert body["text"] == text and body["from"] == "Robert Clarke" and body["onBehalfOf"] == "Robert Clarke (son)"
    assert body["case"]["awaitingReplySince"] == clock.now().isoformat()

    with uow() as s:
        contact = s.get(Contact, body["id"])
        assert (contact.case_id, contact.customer_id, contact.channel, contact.direction) == (
            world["edith_case"], world["edith"], "portal", "inbound")
        assert contact.actor_name == "Robert Clarke" and contact.extra["onBehalfOf"] == "Robert Clarke (son)"
        assert s.get(Case, world["edith_case"]).awaiting_reply_since == clock.now()
        waiting = s.scalar(select(CaseClock).where(CaseClock.case_id == world["edith_case"],
                                                   CaseClock.kind == "customer_waiting"))
        assert waiting is not None and waiting.stopped_at is None and waiting.due_at > clock.now()
        due = waiting.due_at

    # The son sees his message, and that the owner is to reply by the clock's time.
    case = client.get(f"{CASES}/{world['edith_case']}").json()
    assert case["nextStep"] == "Gertrude Blanc replies to your message"
    assert case["nextStepDue"] == due.isoformat()
    assert case["log"][-1] == {"at": clock.now().isoformat(), "what": "Message", "by": "Robert Clarke",
                               "text": text, "mine": True, "files": []}

    # Staff see it on Edith's timeline and in the case's log, marked as sent by the son.
    agent = token_for("agent")
    timeline = client.get(f"/api/v1/customers/{world['edith']}/timeline", headers=agent).json()["entries"]
    assert any(e["channel"] == "portal" and text in (e["detail"] or "") for e in timeline), timeline
    events = client.get(f"/api/v1/cases/{world['edith_case']}/events", headers=agent).json()
    assert any(e["kind"] == "customer_message" and e["actor"]["name"] == "Robert Clarke" for e in events)


def test_edith_herself_messages_as_the_customer(client, world, uow):
    sign_in(client, "edith@mail.example")
    r = client.post(f"{CASES}/{world['edith_case']}/messages", json={"text": "Still no heating."})
    assert r.status_code == 201
    assert r.json()["onBehalfOf"] is None
    assert client.get(f"{CASES}/{world['margaret_case']}").status_code == 404


def test_a_representative_who_may_only_follow_may_not_message(client, world, uow):
    sign_in(client, "amira@council.example")
    before = contacts(uow)
    body = assert_tmf_error(client.post(f"{CASES}/{world['edith_case']}/messages", json={"text": "Hello"}), 403)
    assert "not message" in body["message"]
    assert contacts(uow) == before
    page = client.get(f"/portal/cases/{world['edith_case']}", headers={"Accept": "text/html"})
    assert "not authorised to message" in page.text and "<textarea" not in page.text


@pytest.mark.parametrize("payload", [{}, {"text": ""}, {"text": "   \n "}, {"text": "x" * 5_001},
                                     {"text": "hi", "channel": "email"}, {"text": 42}, [1]])
def test_bad_input_is_refused_with_nothing_written(client, world, uow, payload):
    sign_in(client, "robert.clarke@mail.example")
    before = contacts(uow)
    r = client.post(f"{CASES}/{world['edith_case']}/messages", json=payload)
    body = assert_tmf_error(r, 400)
    assert body["code"] == "INVALID_INPUT"
    assert contacts(uow) == before
    with uow() as s:
        assert s.get(Case, world["edith_case"]).awaiting_reply_since is None
        assert s.scalar(select(CaseClock).where(CaseClock.kind == "customer_waiting")) is None


def test_invalid_json_and_a_closed_case(client, world, uow, clock):
    sign_in(client, "robert.clarke@mail.example")
    r = client.post(f"{CASES}/{world['edith_case']}/messages", content=b"{not json",
                    headers={"Content-Type": "application/json"})
    assert_tmf_error(r, 400)
    with uow() as s:
        owner = access.staff_principal(access.get_user(s, world["owner"]))
        cases.close(s, clock, owner, world["edith_case"], outcome="Repaired", customer_confirmed=True)
    before = contacts(uow)
    body = assert_tmf_error(client.post(f"{CASES}/{world['edith_case']}/messages", json={"text": "Thanks"}), 409)
    assert "closed" in body["message"]
    assert contacts(uow) == before
    assert client.get(CASES).json()[0]["mayMessage"] is False


def test_a_cross_site_post_is_refused(client, world, uow):
    sign_in(client, "robert.clarke@mail.example")
    before = contacts(uow)
    for headers in ({"Origin": "https://evil.example"}, {"Sec-Fetch-Site": "cross-site"}):
        r = client.post(f"{CASES}/{world['edith_case']}/messages", json={"text": "Hi"}, headers=headers)
        assert_tmf_error(r, 403)
        r = client.post(f"/portal/cases/{world['edith_case']}/messages", data={"text": "Hi"}, headers=headers)
        assert r.status_code == 403
    assert contacts(uow) == before


def test_staff_credentials_do_not_open_the_portal(client, world, token_for):
    for headers in (token_for("admin"), token_for("agent")):
        r = client.get(CASES, headers=headers)
        assert_tmf_error(r, 401)
        assert r.headers["WWW-Authenticate"] == "Bearer"
    # a signed-in staff page session is not a portal session
    r = client.post("/login", data={"username": "gertrude.b", "password": PASSWORD}, follow_redirects=False)
    assert r.status_code == 303 and SESSION_COOKIE in client.cookies
    assert_tmf_error(client.get(CASES), 401)
    page = client.get("/portal", headers={"Accept": "text/html"}, follow_redirects=False)
    assert page.status_code == 303 and page.headers["location"] == "/portal/login?next=/portal"
    # nor is the staff cookie's value under the portal's name (another salt)
    client.cookies.set(PORTAL_COOKIE, client.cookies.get(SESSION_COOKIE))
    assert_tmf_error(client.get(CASES), 401)


def test_the_portal_cookie_opens_no_staff_page_or_api(client, world):
    sign_in(client, "robert.clarke@mail.example")
    portal_cookie = client.cookies.get(PORTAL_COOKIE)
    for path in ("/api/v1/staff/me", f"/api/v1/cases/{world['edith_case']}/brief",
                 f"/tmf-api/troubleTicket/v5/troubleTicket/{world['edith_case']}",
                 f"/api/v1/customers/{world['edith']}/timeline"):
        assert_tmf_error(client.get(path), 401)
    assert client.get("/", follow_redirects=False).headers["location"] == "/login"
    r = client.post(f"/api/v1/cases/{world['edith_case']}/messages", json={"text": "hi", "channel": "portal"})
    assert_tmf_error(r, 401)
    # its value under the staff cookie's name is no staff session either
    client.cookies.set(SESSION_COOKIE, portal_cookie)
    assert_tmf_error(client.get("/api/v1/staff/me"), 401)


def test_signing_in_and_out_of_the_portal_pages(client, world, uow, clock):
    r = client.get(f"/portal/cases/{world['edith_case']}", headers={"Accept": "text/html"}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == f"/portal/login?next=/portal/cases/{world['edith_case']}"
    r = client.post("/portal/login", data={"login": "robert.clarke@mail.example", "password": "wrong password!"})
    assert r.status_code == 401 and "wrong e-mail address or password" in r.text
    assert PORTAL_COOKIE not in client.cookies
    r = client.post("/portal/login", data={"login": "robert.clarke@mail.example", "password": PASSWORD,
                                           "next": "https://evil.example/"}, follow_redirects=False)
    assert r.headers["location"] == "/portal"  # never an open redirect
    cookie = r.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie
    with uow() as s:
        account = s.scalar(select(PortalAccount).where(PortalAccount.login == "robert.clarke@mail.example"))
        assert account.last_login_at == clock.now()
    page = client.get("/portal", headers={"Accept": "text/html"})
    assert "Signed in as Robert Clarke" in page.text and "Gertrude Blanc" in page.text
    client.post("/portal/logout", follow_redirects=False)
    assert PORTAL_COOKIE not in client.cookies
    assert_tmf_error(client.get(CASES), 401)


def test_a_closed_account_stops_working_at_once(client, world, uow, clock):
    sign_in(client, "robert.clarke@mail.example")
    assert client.get(CASES).status_code == 200
    with uow() as s:
        account = s.scalar(select(PortalAccount).where(PortalAccount.login == "robert.clarke@mail.example"))
        accounts.set_active(s, clock, account.id, False)
    assert_tmf_error(client.get(CASES), 401)
    r = client.post("/portal/login", data={"login": "robert.clarke@mail.example", "password": PASSWORD})
    assert r.status_code == 401


def test_admins_open_portal_accounts(client, world, uow, clock, token_for):
    with uow() as s:
        party = customers.create_individual(s, clock, SYSTEM, given_name="Priya", family_name="Shah")
        cust = customers.create_customer(s, clock, SYSTEM, party_id=party.id, customer_since=date(2019, 9, 1))
        party_id, customer_id = party.id, cust.id
    admin = token_for("admin")
    body = {"partyId": party_id, "login": " Priya.Shah@mail.example ", "password": PASSWORD}
    assert_tmf_error(client.post("/api/v1/portal-accounts", json=body, headers=token_for("agent")), 403)
    r = client.post("/api/v1/portal-accounts", json=body, headers=admin)
    assert r.status_code == 201, r.text
    assert r.json()["login"] == "priya.shah@mail.example" and r.json()["partyId"] == party_id
    assert "password" not in r.text and "hash" not in r.text
    for changed, status, field in (({"login": "other@mail.example"}, 409, "partyId"),
                                   ({"partyId": world["owner"]}, 404, "partyId"),
                                   ({"login": "not-an-email"}, 400, "login"),
                                   ({"password": "short"}, 400, "password")):
        bad = assert_tmf_error(client.post("/api/v1/portal-accounts", json={**body, **changed}, headers=admin),
                               status)
        assert bad.get("field") == field, bad
    with uow() as s:
        assert s.scalar(select(func.count()).select_from(PortalAccount)) == 5
        [audited] = s.scalars(select(AuditEntry).where(AuditEntry.resource_type == "portal_account",
                                                       AuditEntry.resource_id == r.json()["id"])).all()
        assert (audited.action, audited.actor_type, audited.customer_id) == ("create", "token", customer_id)
    sign_in(client, "priya.shah@mail.example")
    assert client.get("/api/v1/portal/me").json()["customers"] == [
        {"id": customer_id, "name": "Priya Shah", "relationship": "self", "mayMessage": True}]
    assert client.get(CASES).json() == []
