"""Opening portal sign-ins: ``onethread portal-account`` as a real process (then signing in on the
portal pages), and the demo's portal accounts (S5's son, and Margaret for herself)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from onethread.access.rules import SYSTEM
from onethread.bootstrap import build
from onethread.config import Settings
from onethread.customers import service as customers
from onethread.db.session import session_scope
from onethread.demo import loader
from onethread.models import Customer, PortalAccount
from tests.support.cli import app_client, count, ok, refused, run

PASSWORD = "a-long-password-1"


def new_party(url: str, given: str = "Robert") -> str:
    container = build(Settings(database_url=url))
    try:
        with session_scope(container.sessions) as s:
            return customers.create_individual(s, container.clock, SYSTEM, given_name=given, family_name="Clarke").id
    finally:
        container.dispose()


def test_portal_account_create_then_sign_in_then_disable(database_url):
    party = new_party(database_url)
    created = ok(run(database_url, "portal-account", "create", "--party-id", party, "--login",
                     "Robert.Clarke@Mail.Example", "--password-stdin", stdin=PASSWORD + "\n"))
    assert "created portal account robert.clarke@mail.example" in created.stdout
    assert PASSWORD not in created.stdout + created.stderr
    with app_client(database_url) as client:
        r = client.post("/portal/login", data={"login": "robert.clarke@mail.example", "password": PASSWORD},
                        follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"] == "/portal"
        assert client.get("/api/v1/portal/me").json()["name"] == "Robert Clarke"
    account_id = created.stdout.strip().rsplit(" ", 1)[-1]
    assert "disabled" in ok(run(database_url, "portal-account", "disable", account_id)).stdout
    with app_client(database_url) as client:
        r = client.post("/portal/login", data={"login": "robert.clarke@mail.example", "password": PASSWORD})
        assert r.status_code == 401
    ok(run(database_url, "portal-account", "enable", account_id))
    refused(run(database_url, "portal-account", "disable", "no-such-account"), "no portal account")


@pytest.mark.parametrize(("login", "stdin", "words"), [
    ("not-an-email", PASSWORD, ["e-mail address"]),
    ("robert@mail.example", "short", ["at least 10 characters"]),
    ("robert@mail.example", "", ["at least 10 characters"]),
])
def test_portal_account_create_with_bad_input_is_refused_and_writes_nothing(database_url, login, stdin, words):
    party = new_party(database_url)
    refused(run(database_url, "portal-account", "create", "--party-id", party, "--login", login,
                "--password-stdin", stdin=stdin + "\n"), *words)
    assert count(database_url, PortalAccount) == 0


def test_portal_account_create_refuses_an_unknown_party_and_a_second_account(database_url):
    refused(run(database_url, "portal-account", "create", "--party-id", "NOPE", "--login", "a@mail.example",
                "--password-stdin", stdin=PASSWORD), "no party")
    party, other = new_party(database_url), new_party(database_url, "Nina")
    ok(run(database_url, "portal-account", "create", "--party-id", party, "--login", "a@mail.example",
           "--password-stdin", stdin=PASSWORD))
    refused(run(database_url, "portal-account", "create", "--party-id", party, "--login", "b@mail.example",
                "--password-stdin", stdin=PASSWORD), "already has a portal account")
    refused(run(database_url, "portal-account", "create", "--party-id", other, "--login", "A@mail.example",
                "--password-stdin", stdin=PASSWORD), "taken")
    assert count(database_url, PortalAccount) == 1


def test_the_demo_son_follows_edith_and_margaret_only_herself(container, client):
    with session_scope(container.sessions) as s:
        loader.load(s, container)
    with session_scope(container.sessions) as s:
        names = dict(s.execute(select(Customer.id, Customer.name)).all())

    def cases_of(login: str) -> set[str]:
        client.cookies.clear()
        r = client.post("/portal/login", data={"login": login, "password": loader.DEMO_PASSWORD},
                        follow_redirects=False)
        assert r.status_code == 303, r.text
        return {names[c["customer"]["id"]] for c in client.get("/api/v1/portal/cases").json()}

    assert cases_of("robert.clarke@mail.example") == {"Edith Clarke"}
    assert cases_of("margaret.hughes@mail.example") == {"Margaret Hughes"}
    me = client.get("/api/v1/portal/me").json()
    assert [c["relationship"] for c in me["customers"]] == ["self"]
