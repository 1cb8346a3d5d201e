"""Sign-in and sessions (issue 19): logout ends the session at once, an administrator deactivates,
resets a password and ends sessions, wrong-password floods are throttled before the password is
checked, the password rule refuses the obvious, and the cookie key is generated and kept with
the database."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from onethread.access import service as access
from onethread.api.deps import SESSION_COOKIE
from onethread.models import AuditEntry, InstanceSecret
from tests.tmf_schema import assert_tmf_error

V1 = "/api/v1"
PASSWORD = "correct horse battery"
BROWSER = {"Sec-Fetch-Site": "same-origin"}


def make_user(uow, clock, username="ann.agent", role="agent") -> str:
    with uow() as s:
        return access.create_user(s, clock, username=username, display_name=username.title(), role=role,
                                  password=PASSWORD, email=f"{username}@operator.example").id


def sign_in(client, username="ann.agent", password=PASSWORD):
    return client.post("/login", data={"username": username, "password": password}, headers=BROWSER,
                       follow_redirects=False)


def test_a_cookie_kept_after_logout_no_longer_works(client, uow, clock):
    make_user(uow, clock)
    assert sign_in(client).status_code == 303
    kept = client.cookies.get(SESSION_COOKIE)
    assert client.get(f"{V1}/staff/me").status_code == 200
    client.post("/logout", headers=BROWSER, follow_redirects=False)
    client.cookies.set(SESSION_COOKIE, kept)  # someone copied the cookie before the logout
    assert_tmf_error(client.get(f"{V1}/staff/me"), 401)
    assert client.get("/", follow_redirects=False).headers["location"] == "/login"


def test_a_session_lasts_its_max_age_on_the_injected_clock(client, uow, clock, container):
    make_user(uow, clock)
    sign_in(client)
    clock.advance(timedelta(seconds=container.settings.session_max_age_seconds - 60))
    assert client.get(f"{V1}/staff/me").status_code == 200
    clock.advance(timedelta(seconds=61))
    assert_tmf_error(client.get(f"{V1}/staff/me"), 401)


def test_an_admin_deactivates_a_user_their_sessions_and_tokens_stop_at_once(client, uow, clock, admin, container):
    user_id = make_user(uow, clock)
    with uow() as s:
        _, secret = access.create_token(s, clock, name="ann's script", role="agent", staff_user_id=user_id)
    token = {"Authorization": f"Bearer {secret}"}
    sign_in(client)
    assert client.get(f"{V1}/staff/me").status_code == 200 and client.get(f"{V1}/staff/me",
                                                                         headers=token).status_code == 200

    done = client.post(f"{V1}/staff/{user_id}/deactivate", headers=admin)
    assert done.status_code == 200 and done.json()["active"] is False
    assert_tmf_error(client.get(f"{V1}/staff/me"), 401)
    assert_tmf_error(client.get(f"{V1}/staff/me", headers=token), 401)
    assert sign_in(client).status_code == 401
    with container.sessions() as s:
        entry = s.scalar(select(AuditEntry).where(AuditEntry.resource_type == "staff_user",
                                                  AuditEntry.resource_id == user_id))
        assert entry.detail["change"] == "deactivated" and entry.detail["sessionsEnded"] == 1

    # Reactivated: the old session stays ended, a new sign-in works.
    assert client.post(f"{V1}/staff/{user_id}/activate", headers=admin).json()["active"] is True
    assert_tmf_error(client.get(f"{V1}/staff/me"), 401)
    assert sign_in(client).status_code == 303 and client.get(f"{V1}/staff/me").status_code == 200
    # Only admins; a supervisor gets 403, an unknown id 404.
    assert_tmf_error(client.post(f"{V1}/staff/{user_id}/deactivate", headers=_lead(uow, clock)), 403)
    assert_tmf_error(client.post(f"{V1}/staff/01HNOSUCHUSER0000000000000/deactivate", headers=admin), 404)


def _lead(uow, clock):
    lead = make_user(uow, clock, "lee.lead", "team_lead")
    with uow() as s:
        _, secret = access.create_token(s, clock, name="lee", role="team_lead", staff_user_id=lead)
    return {"Authorization": f"Bearer {secret}"}


def test_an_admin_ends_all_sessions_and_resets_a_password(client, app, uow, clock, admin):
    from fastapi.testclient import TestClient

    user_id = make_user(uow, clock)
    sign_in(client)
    with TestClient(app) as other:  # a second browser
        sign_in(other)
        ended = client.post(f"{V1}/staff/{user_id}/end-sessions", headers=admin)
        assert ended.status_code == 200 and ended.json()["sessionsEnded"] == 2
        assert_tmf_error(client.get(f"{V1}/staff/me"), 401)
        assert_tmf_error(other.get(f"{V1}/staff/me"), 401)
        sign_in(other)

        weak = assert_tmf_error(client.post(f"{V1}/staff/{user_id}/password", json={"password": "password123"},
                                            headers=admin), 400)
        assert "most common" in weak["message"]
        reset = client.post(f"{V1}/staff/{user_id}/password", json={"password": "a brand new phrase 7"},
                            headers=admin)
        assert reset.status_code == 200
        assert_tmf_error(other.get(f"{V1}/staff/me"), 401)  # the reset signed her out everywhere
    assert sign_in(client).status_code == 401
    assert sign_in(client, password="a brand new phrase 7").status_code == 303


def test_the_password_rule_refuses_common_passwords_and_the_persons_own_address(client, admin):
    def create(username, password, email=None):
        return client.post(f"{V1}/staff", headers=admin, json={
            "username": username, "displayName": "X", "role": "agent", "password": password, "email": email})

    assert "most common" in assert_tmf_error(create("bob.one", "Password123"), 400)["message"]
    assert "e-mail" in assert_tmf_error(create("bob.two", "robert.smith-2026", "robert.smith@operator.example"),
                                        400)["message"]
    assert "repeated" in assert_tmf_error(create("bob.three", "ababababababab"), 400)["message"]
    assert create("bob.four", "a sensible passphrase 9").status_code == 201


def test_a_wrong_password_flood_is_throttled_per_account_even_for_the_right_password(client, uow, clock):
    make_user(uow, clock)
    for _ in range(5):
        assert sign_in(client, password="not the password").status_code == 401
    locked = sign_in(client)  # the right password, while locked
    assert locked.status_code == 429 and SESSION_COOKIE not in client.cookies
    assert "too many failed sign-ins for this account" in locked.text and "try again in 15 minutes" in locked.text
    clock.advance(timedelta(minutes=14))
    assert sign_in(client).status_code == 429
    clock.advance(timedelta(minutes=1, seconds=1))
    assert sign_in(client).status_code == 303  # the window passed: the right password signs in


def test_a_flood_from_one_address_is_throttled_across_accounts(client, uow, clock):
    make_user(uow, clock)
    for n in range(20):  # guessing many usernames from one address
        assert sign_in(client, username=f"guess{n}", password="wrong password").status_code == 401
    assert sign_in(client).status_code == 429
    assert "too many failed sign-ins for your address" in sign_in(client).text


def test_the_portal_sign_in_is_throttled_too(client):
    for _ in range(5):
        r = client.post("/portal/login", data={"login": "who@example.com", "password": "wrong password"},
                        headers=BROWSER, follow_redirects=False)
        assert r.status_code == 401
    r = client.post("/portal/login", data={"login": "who@example.com", "password": "wrong password"},
                    headers=BROWSER, follow_redirects=False)
    assert r.status_code == 429 and "too many failed sign-ins" in r.text


def test_the_cookie_key_is_generated_on_first_run_and_kept_with_the_database(client, uow, clock, container):
    make_user(uow, clock)
    sign_in(client)
    with container.sessions() as s:
        key = s.scalar(select(InstanceSecret.value).where(InstanceSecret.name == "session_key"))
    assert key and len(key) >= 60 and container.secret_key == key
    assert container.settings.secret_key is None  # nothing set: nothing written in the code signs cookies


def test_portal_logout_and_closing_the_account_end_portal_sessions_at_once(client, app, uow, clock, admin):
    from fastapi.testclient import TestClient

    from onethread.access import portal as portal_accounts
    from onethread.access.rules import SYSTEM
    from onethread.api.v1.portal import PORTAL_COOKIE
    from onethread.customers import service as customers

    with uow() as s:
        party = customers.create_individual(s, clock, SYSTEM, given_name="Robert", family_name="Clarke")
        customers.create_customer(s, clock, SYSTEM, party_id=party.id)
        account = portal_accounts.create_account(s, clock, party_id=party.id, login="robert@mail.example",
                                                 password=PASSWORD).id

    def portal_sign_in(c):
        r = c.post("/portal/login", data={"login": "robert@mail.example", "password": PASSWORD}, headers=BROWSER,
                   follow_redirects=False)
        assert r.status_code == 303
        return c.cookies.get(PORTAL_COOKIE)

    kept = portal_sign_in(client)
    assert client.get(f"{V1}/portal/me").status_code == 200
    client.post("/portal/logout", headers=BROWSER, follow_redirects=False)
    client.cookies.set(PORTAL_COOKIE, kept)
    assert_tmf_error(client.get(f"{V1}/portal/me"), 401)

    with TestClient(app) as other:
        portal_sign_in(other)
        closed = client.post(f"{V1}/portal-accounts/{account}/disable", headers=admin)
        assert closed.status_code == 200 and closed.json()["active"] is False
        assert_tmf_error(other.get(f"{V1}/portal/me"), 401)
        assert client.post(f"{V1}/portal-accounts/{account}/enable", headers=admin).json()["active"] is True
        assert_tmf_error(other.get(f"{V1}/portal/me"), 401)  # reopening does not revive an ended session


def test_the_operator_signs_a_user_out_deactivates_and_resets_from_the_command_line(client, uow, clock,
                                                                                    database_url):
    from tests.support.cli import ok, refused, run

    make_user(uow, clock)
    sign_in(client)
    assert "ended 1 session of ann.agent" in ok(run(database_url, "user", "end-sessions", "ann.agent")).stdout
    assert_tmf_error(client.get(f"{V1}/staff/me"), 401)

    issued = ok(run(database_url, "token", "create", "--name", "ann's laptop", "--user", "ann.agent"))
    token = {"Authorization": f"Bearer {issued.stdout.strip()}"}
    me = client.get(f"{V1}/staff/me", headers=token).json()
    assert me["kind"] == "staff" and me["name"] == "Ann.Agent"
    ok(run(database_url, "user", "deactivate", "ann.agent"))
    assert_tmf_error(client.get(f"{V1}/staff/me", headers=token), 401)
    assert sign_in(client).status_code == 401
    ok(run(database_url, "user", "activate", "ann.agent"))
    refused(run(database_url, "user", "reset-password", "ann.agent", "--password-stdin", stdin="qwertyuiop\n"),
            "most common")
    ok(run(database_url, "user", "reset-password", "ann.agent", "--password-stdin", stdin="another long phrase 3\n"))
    assert sign_in(client).status_code == 401
    assert sign_in(client, password="another long phrase 3").status_code == 303
    refused(run(database_url, "user", "deactivate", "nobody"), "no staff user")
