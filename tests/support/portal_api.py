"""The customer portal's world (the ``world`` fixture: Edith represented by Robert, Margaret, their
cases) and signing in to the portal."""

from __future__ import annotations

from datetime import timedelta

import pytest

from onethread.access import portal as accounts
from onethread.access import service as access
from onethread.access.rules import SYSTEM
from onethread.cases import service as cases
from onethread.customers import service as customers
from onethread.demo import worlds

PASSWORD = "a long portal password"


CASES = "/api/v1/portal/cases"


@pytest.fixture
def world(uow, clock) -> dict:
    """Edith (represented by her son, and by a social worker who may only follow her cases) and
    Margaret, each with a case owned by a specialist whose lead is Marta."""
    with uow() as s:
        users, _ = worlds.staff(s, clock, worlds.S5_SPECIALISTS, worlds.S5_SPECIALIST_TEAMS, password=PASSWORD)
        owner, lead = users["gertrude.b"], users["marta.lead"]
        gertrude = access.staff_principal(owner)

        def person(given, family):
            return customers.create_individual(s, clock, SYSTEM, given_name=given, family_name=family)

        edith_p, robert_p, amira_p, margaret_p = (person("Edith", "Clarke"), person("Robert", "Clarke"),
                                                  person("Amira", "Haddad"), person("Margaret", "Hughes"))
        edith = customers.create_customer(s, clock, SYSTEM, party_id=edith_p.id)
        margaret = customers.create_customer(s, clock, SYSTEM, party_id=margaret_p.id)
        son = customers.add_representative(s, clock, SYSTEM, customer_id=edith.id, party_id=robert_p.id,
                                           relationship="son", permissions=["view_cases", "message_owner"])
        today = clock.now().date()
        worker = customers.add_representative(s, clock, SYSTEM, customer_id=edith.id, party_id=amira_p.id,
                                              relationship="social_worker", permissions=["view_cases"],
                                              valid_until=today + timedelta(days=10))
        edith_case = cases.open_new(s, clock, gertrude, customer_id=edith.id, kind="damage_claim",
                                    title="Heating pipe drilled during the fibre installation", opened_via="field")
        margaret_case = cases.open_new(s, clock, gertrude, customer_id=margaret.id, kind="complaint",
                                       title="No incoming calls for a year", opened_via="phone")
        for party, login in ((robert_p, "robert.clarke@mail.example"), (amira_p, "amira@council.example"),
                             (margaret_p, "Margaret.Hughes@mail.example"), (edith_p, "edith@mail.example")):
            accounts.create_account(s, clock, party_id=party.id, login=login, password=PASSWORD)
        return {"edith": edith.id, "margaret": margaret.id, "edith_case": edith_case.id,
                "margaret_case": margaret_case.id, "son": son.id, "worker": worker.id, "lead": lead.id,
                "owner": owner.id}


def sign_in(client, login: str, password: str = PASSWORD):
    client.cookies.clear()
    r = client.post("/portal/login", data={"login": login, "password": password}, follow_redirects=False)
    assert r.status_code == 303, r.text
    assert r.headers["location"] == "/portal"
    return r
