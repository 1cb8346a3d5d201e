"""Signing in to the pages: the form, the session cookie, the same principal on the API, signing out."""

from __future__ import annotations

from sqlalchemy import select, update

from onethread.access import service as access
from onethread.access.rules import SYSTEM
from onethread.api.deps import SESSION_COOKIE
from onethread.customers import service as customers
from onethread.models import AuditEntry, StaffUser
from tests.support.pages_login import PASSWORD, make_user, sign_in
from tests.tmf_schema import assert_tmf_error


def make_customers(uow, clock, *names: tuple[str, str]) -> list[str]:
    ids = []
    with uow() as s:
        for given, family in names:
            party = customers.create_individual(s, clock, SYSTEM, given_name=given, family_name=family)
            ids.append(customers.create_customer(s, clock, SYSTEM, party_id=party.id).id)
    return ids


def test_the_start_page_sends_strangers_to_the_sign_in_form(client):
    r = client.get("/", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/login"
    form = client.get("/login")
    assert form.status_code == 200 and "text/html" in form.headers["content-type"]
    assert 'name="username"' in form.text and 'type="password"' in form.text


def test_a_wrong_password_shows_a_readable_error_with_401_and_no_cookie(client, uow, clock):
    make_user(uow, clock)
    for username, password in (("ann.agent", "not the password"), ("nobody", PASSWORD), ("", "")):
        r = sign_in(client, username, password)
        assert r.status_code == 401
        assert "text/html" in r.headers["content-type"]
        assert 'role="alert"' in r.text and "wrong username or password" in r.text
        assert SESSION_COOKIE not in r.headers.get("set-cookie", "")
    assert 'value="ann.agent"' in sign_in(client, "ann.agent", "nope nope nope").text  # the form keeps the name
    assert client.get("/", follow_redirects=False).status_code == 303


def test_the_right_password_sets_an_httponly_cookie_and_the_home_page_lists_customers(client, uow, clock):
    make_user(uow, clock)
    make_customers(uow, clock, ("Margaret", "Hughes"), ("Daniel", "Okafor"))
    r = sign_in(client, "  Ann.Agent ")  # usernames are case- and space-insensitive
    assert r.status_code == 303 and r.headers["location"] == "/"
    cookie = r.headers["set-cookie"]
    assert cookie.startswith(f"{SESSION_COOKIE}=")
    assert "httponly" in cookie.lower() and "samesite=lax" in cookie.lower()
    assert "secure" not in cookie.lower()  # only in production (plain http in tests)
    home = client.get("/")
    assert home.status_code == 200
    assert "Margaret Hughes" in home.text and "Daniel Okafor" in home.text
    assert "2 customers" in home.text
    assert "Ann Agent" in home.text and "Sign out" in home.text


def test_the_cookie_authorises_api_reads_as_the_same_principal(client, uow, clock, container):
    user_id = make_user(uow, clock)
    (cid,) = make_customers(uow, clock, ("Priya", "Shah"))
    sign_in(client)
    me = client.get("/api/v1/staff/me")
    assert me.status_code == 200, me.text
    assert me.json()["kind"] == "staff" and me.json()["id"] == user_id and me.json()["role"] == "agent"
    r = client.get(f"/tmf-api/customer/v5/customer/{cid}")
    assert r.status_code == 200 and r.json()["name"] == "Priya Shah"
    with container.sessions() as s:
        read = s.scalars(select(AuditEntry).where(AuditEntry.customer_id == cid, AuditEntry.action == "read")).one()
    assert (read.actor_type, read.actor_id, read.actor_name) == ("staff", user_id, "Ann Agent")
    # The cookie carries the user's role, no more.
    assert_tmf_error(client.get("/api/v1/staff"), 403)


def test_a_bearer_header_wins_over_the_cookie(client, uow, clock, token_for):
    make_user(uow, clock)
    sign_in(client)
    me = client.get("/api/v1/staff/me", headers=token_for("integration")).json()
    assert me["kind"] == "token" and me["role"] == "integration"


def test_logout_clears_the_cookie(client, uow, clock):
    make_user(uow, clock)
    sign_in(client)
    assert client.get("/", follow_redirects=False).status_code == 200
    out = client.post("/logout", follow_redirects=False)
    assert out.status_code == 303 and out.headers["location"] == "/login"
    cleared = out.headers["set-cookie"]
    assert cleared.startswith(f'{SESSION_COOKIE}=""') or f"{SESSION_COOKIE}=;" in cleared
    assert "max-age=0" in cleared.lower() or "expires=thu, 01 jan 1970" in cleared.lower()
    assert SESSION_COOKIE not in client.cookies
    assert client.get("/", follow_redirects=False).headers["location"] == "/login"
    assert_tmf_error(client.get("/api/v1/staff/me"), 401)


def test_a_deactivated_user_loses_the_session_and_cannot_sign_in(client, uow, clock):
    user_id = make_user(uow, clock)
    sign_in(client)
    with uow() as s:
        s.execute(update(StaffUser).where(StaffUser.id == user_id).values(active=False))
    assert client.get("/", follow_redirects=False).headers["location"] == "/login"
    assert_tmf_error(client.get("/api/v1/staff/me"), 401)
    assert sign_in(client).status_code == 401


def test_a_cookie_signed_with_another_secret_is_refused(client, uow, clock):
    from datetime import timedelta

    from onethread.access import signin

    user_id = make_user(uow, clock)
    with uow() as s:  # a genuine session, in a cookie signed with a key that is not the server's
        cookie = signin.open_session(s, clock, kind=signin.STAFF, subject_id=user_id, max_age=timedelta(hours=1),
                                     secret="some-other-secret")
    client.cookies.set(SESSION_COOKIE, cookie)
    assert client.get("/", follow_redirects=False).headers["location"] == "/login"
    assert_tmf_error(client.get("/api/v1/staff/me"), 401)


def test_the_customer_list_is_audited_and_not_shown_to_a_subcontractor(client, uow, clock, container):
    from sqlalchemy import select

    from onethread.access.rules import SYSTEM
    from onethread.customers import service as customers
    from onethread.models import AuditEntry

    with uow() as s:
        party = customers.create_individual(s, clock, SYSTEM, given_name="Edith", family_name="Clarke")
        cid = customers.create_customer(s, clock, SYSTEM, party_id=party.id).id
        access.create_user(s, clock, username="sam.store", display_name="Sam", role="store_advisor",
                           password="a long password 1")
        access.create_user(s, clock, username="finn.field", display_name="Finn", role="field_subcontractor",
                           password="a long password 2")
    client.post("/login", data={"username": "sam.store", "password": "a long password 1"})
    assert "Edith Clarke" in client.get("/").text
    with container.sessions() as s:
        seen = s.scalars(select(AuditEntry).where(AuditEntry.customer_id == cid, AuditEntry.action == "read")).all()
    assert seen and {e.actor_name for e in seen} == {"Sam"}  # one row per page view
    client.post("/logout")
    client.post("/login", data={"username": "finn.field", "password": "a long password 2"})
    page = client.get("/").text
    assert "Edith Clarke" not in page and "does not include the customer list" in page
