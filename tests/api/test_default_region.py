"""The configured region (``ONETHREAD_DEFAULT_REGION``) reads national phone numbers everywhere a
person types one: here a Dutch operator's store and desktop searches. No service assumes Britain."""

from __future__ import annotations

import pytest

from onethread.access import service as access
from onethread.access.rules import SYSTEM
from onethread.config import Settings
from onethread.customers import identifier_service
from onethread.customers import service as customers
from onethread.errors import ValidationFailed

PASSWORD = "correct horse battery"


@pytest.fixture
def settings(database_url, tmp_path) -> Settings:
    return Settings(database_url=database_url, env="test", default_region="NL",
                    attachments_dir=str(tmp_path / "attachments"))


def dutch_customer(uow, clock) -> str:
    with uow() as s:
        store = access.create_team(s, clock, name="Winkel Utrecht", kind="store")
        access.create_user(s, clock, username="sanne.store", display_name="Sanne de Wit", role="store_advisor",
                           password=PASSWORD, team_id=store.id)
        centre = access.create_team(s, clock, name="Klantenservice")
        access.create_user(s, clock, username="daan.agent", display_name="Daan Bakker", role="agent",
                           password=PASSWORD, team_id=centre.id)
        party = customers.create_individual(s, clock, SYSTEM, given_name="Femke", family_name="Jansen")
        cust = customers.create_customer(s, clock, SYSTEM, party_id=party.id)
        identifier_service.assign(s, clock, SYSTEM, customer_id=cust.id, kind="msisdn", value="+31 6 12345678")
        return cust.id


def sign_in(client, username: str) -> None:
    client.cookies.clear()
    r = client.post("/login", data={"username": username, "password": PASSWORD}, follow_redirects=False)
    assert r.status_code == 303, r.text


def test_the_store_reads_a_dutch_national_number_by_the_configured_region(client, uow, clock):
    customer = dutch_customer(uow, clock)
    sign_in(client, "sanne.store")
    r = client.get("/store", params={"q": "06 12345678"}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == f"/store/customers/{customer}"


def test_the_desktop_reads_it_the_same_way(client, uow, clock):
    customer = dutch_customer(uow, clock)
    sign_in(client, "daan.agent")
    r = client.get("/search", params={"q": "06 12345678"}, follow_redirects=False)
    assert r.status_code == 200 and f"/customers/{customer}" in r.text


def test_a_service_given_no_region_refuses_a_national_number_instead_of_guessing(uow, clock):
    customer = dutch_customer(uow, clock)
    with uow() as s, pytest.raises(ValidationFailed, match="no country code and no region"):
        identifier_service.assign(s, clock, SYSTEM, customer_id=customer, kind="msisdn", value="06 87654321")
    with uow() as s:
        identifier_service.assign(s, clock, SYSTEM, customer_id=customer, kind="msisdn", value="06 87654321",
                                  region="NL")
        assert identifier_service.resolve(s, "msisdn", "+31687654321", clock.now()).customer_id == customer
