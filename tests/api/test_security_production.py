"""Production mode (issue 19): weak cookie keys stop start-up with a clear message, no key at all
means the one generated and kept in the database, and the public demo password signs nobody in."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from onethread.access import portal as portal_accounts
from onethread.access import service as access
from onethread.access.rules import PUBLIC_DEMO_PASSWORD, SYSTEM
from onethread.app import create_app
from onethread.bootstrap import build
from onethread.config import DEV_SECRET, Settings
from onethread.customers import service as customers
from onethread.db.session import session_scope

BROWSER = {"Sec-Fetch-Site": "same-origin"}


@pytest.mark.parametrize("key", ["a", "short-but-random-Xy7", "s" * 40, "ab" * 18, DEV_SECRET])
def test_production_refuses_a_weak_secret_key(database_url, key):
    with pytest.raises(SystemExit, match="ONETHREAD_SECRET_KEY is too weak"):
        build(Settings(database_url=database_url, env="production", secret_key=key))


def test_a_weak_key_is_accepted_outside_production(database_url):
    build(Settings(database_url=database_url, env="development", secret_key="a")).dispose()


@pytest.fixture
def production(database_url, clock):
    c = build(Settings(database_url=database_url, env="production"), clock=clock)  # no key: the generated one
    yield c
    c.dispose()


def test_production_refuses_the_public_demo_password_at_sign_in(production, clock):
    with session_scope(production.sessions) as s:
        access.create_user(s, clock, username="ada.admin", display_name="Ada", role="admin",
                           password=PUBLIC_DEMO_PASSWORD)
        party = customers.create_individual(s, clock, SYSTEM, given_name="Dan", family_name="Okafor")
        portal_accounts.create_account(s, clock, party_id=party.id, login="dan@example.com",
                                       password=PUBLIC_DEMO_PASSWORD)
    with TestClient(create_app(container=production)) as client:
        staff = client.post("/login", data={"username": "ada.admin", "password": PUBLIC_DEMO_PASSWORD},
                            headers=BROWSER, follow_redirects=False)
        assert staff.status_code == 401 and "public demo password is refused in production" in staff.text
        portal = client.post("/portal/login", data={"login": "dan@example.com", "password": PUBLIC_DEMO_PASSWORD},
                             headers=BROWSER, follow_redirects=False)
        assert portal.status_code == 401 and "public demo password is refused in production" in portal.text
    assert len(production.secret_key) >= 60  # generated on first run, kept in the database



def test_production_hashes_passwords_at_the_standard_cost_and_tests_at_the_lowest(container, clock):
    """A password set in production costs an attacker argon2id's standard work (3 passes over
    64 MiB); the test environment's cheap hashes are for the suite only, and either verifies anywhere."""
    phrase = "a long and private passphrase"
    production = build(Settings(database_url=container.settings.database_url, env="production"), clock=clock)
    with session_scope(production.sessions) as s:
        stored = access.create_user(s, clock, username="ada.admin", display_name="Ada", role="admin",
                                    password=phrase).password_hash
    production.dispose()
    build(container.settings, clock=clock).dispose()  # what each test's container does: the test cost again
    with session_scope(container.sessions) as s:
        cheap = access.create_user(s, clock, username="tess.test", display_name="Tess", role="agent",
                                   password=phrase).password_hash
        assert access.authenticate(s, "ada.admin", phrase).username == "ada.admin"
    assert stored.startswith("$argon2id$v=19$m=65536,t=3,p=4$")
    assert cheap.startswith("$argon2id$v=19$m=8,t=1,p=1$")
