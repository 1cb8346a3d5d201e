"""The known-defect registry in a real browser: three customers report the Nova X2's headphone
jack in their own words (in the store, on the phone, in a chat), which raises a proposal; the
specialist finds it at the top of /known-defects, checks how another wording matches, opens the
proposal, reads the three wordings with who said them, and confirms it. A store advisor then asks
the device-fault decision for a fourth customer, in yet other words, and the answer relies on the
newly confirmed defect: a replacement, no damage assessment."""

from __future__ import annotations

from datetime import date, timedelta
from types import SimpleNamespace

from sqlalchemy import select

from onethread.access import service as access
from onethread.access.rules import SYSTEM
from onethread.customers import identifier_service
from onethread.customers import service as customers
from onethread.decisions import service as decisions
from onethread.inventory import service as inventory
from onethread.models import Decision, KnownDefect
from tests.browser.steps import sign_in
from tests.support.s1_world import FACTS

PASSWORD = "correct horse battery"
FAULT = {k: v for k, v in FACTS.items() if k != "known_defect"}  # the registry says whether it is known
REPORTS = [("Amy", "Adeyemi", "Headphone jack stopped working", "store", "Nova X2"),
           ("Ben", "Brooks", "no sound in my earphones", "phone", "nova x2"),
           ("Cara", "Costa", "audio socket faulty", "chat", "NOVA-X2")]


def world(uow, clock) -> SimpleNamespace:
    with uow() as s:
        access.create_user(s, clock, username="sam.spec", display_name="Sam Patel", role="specialist",
                           password=PASSWORD)
        access.create_user(s, clock, username="sol.store", display_name="Sol Reyes", role="store_advisor",
                           password=PASSWORD)
    for given, family, wording, channel, model in REPORTS:
        with uow() as s:
            party = customers.create_individual(s, clock, SYSTEM, given_name=given, family_name=family)
            cid = customers.create_customer(s, clock, SYSTEM, party_id=party.id).id
            decisions.decide(s, clock, SYSTEM, policy="device_fault", channel=channel, customer_id=cid,
                             facts={**FAULT, "device_model": model, "symptom": wording})
        clock.advance(timedelta(days=2))
    with uow() as s:
        party = customers.create_individual(s, clock, SYSTEM, given_name="Daniel", family_name="Okafor")
        daniel = customers.create_customer(s, clock, SYSTEM, party_id=party.id, customer_since=date(2014, 5, 1))
        identifier_service.assign(s, clock, SYSTEM, customer_id=daniel.id, kind="msisdn", value="+44 7700 900123",
                                  region="GB")
        inventory.add_product(s, clock, SYSTEM, customer_id=daniel.id, kind="handset", name="Nova X2",
                              currency="GBP", model="Nova X2", purchased_on=clock.now().date() - timedelta(days=3))
        defect = s.scalar(select(KnownDefect))
        assert defect is not None and defect.status == "proposed"
        return SimpleNamespace(daniel=daniel.id, defect=defect.id)


def test_a_proposal_from_three_wordings_is_confirmed_and_the_store_decision_relies_on_it(page, uow, clock, shot):
    w = world(uow, clock)
    sign_in(page, "sam.spec", PASSWORD)
    page.goto("/known-defects")
    assert page.get_by_role("heading", level=1).inner_text() == "Known defects"
    proposals = page.get_by_test_id("proposed-table")
    row = proposals.get_by_role("row").filter(has_text="nova x2")
    assert row.get_by_role("cell").nth(2).inner_text() == "3"  # three different customers
    assert "Headphone" in row.get_by_role("cell").nth(1).inner_text()

    # How would "earphones have no sound" be read? The box says which entry of the table matched.
    page.get_by_label("The customer's words").fill("my earphones have no sound")
    page.get_by_label("Device model (optional)").fill("Nova X2")
    page.get_by_role("button", name="Check").click()
    match = page.get_by_test_id("match")
    match.wait_for()
    assert "(audio_jack)" in match.inner_text() and "word set" in match.inner_text()
    assert "proposed" in match.inner_text()

    # The proposal: the three customers' own words, who said them and how they came in.
    page.get_by_test_id("proposed-table").get_by_role("link", name="nova x2").click()
    page.wait_for_url(f"**/known-defects/{w.defect}")
    reports = page.get_by_test_id("reports")
    assert sorted(reports.get_by_test_id("wording").all_inner_texts()) == sorted(r[2] for r in REPORTS)
    for given, family, wording, channel, _ in REPORTS:
        line = reports.get_by_role("row").filter(has_text=wording)
        assert line.get_by_role("link", name=f"{given} {family}").get_attribute("href").startswith("/customers/")
        assert channel in line.inner_text()
    assert "3 customers reported it" in page.get_by_test_id("counts").inner_text()
    page.get_by_label("Note (optional): who confirmed the fault, a bulletin").fill("Maker's bulletin NX2-14")
    shot(page, "known-defects")
    page.get_by_role("button", name="Confirm").click()
    page.get_by_role("status").filter(has_text="Confirmed").wait_for()
    assert "confirmed" in page.get_by_test_id("status").inner_text()
    assert page.get_by_role("button", name="Confirm").count() == 0
    with uow() as s:
        assert s.get(KnownDefect, w.defect).status == "confirmed"

    # In the store, a fourth customer describes it differently: the answer relies on the registry.
    sign_in(page, "sol.store", PASSWORD)
    page.goto(f"/store/customers/{w.daniel}")
    assert page.get_by_label("Model").input_value() == "Nova X2"
    page.get_by_label("What is wrong, in the customer's words").fill("The earphone socket is dead")
    page.get_by_label("No damage").check()
    page.get_by_label("Not in stock").check()
    page.get_by_role("button", name="Ask").click()
    answer = page.locator("#decision")
    answer.wait_for()
    assert "A recognised defect" in answer.get_by_test_id("registry").inner_text()
    assert "assessment" not in answer.get_by_test_id("customer-words").inner_text().lower()
    with uow() as s:
        decision = s.scalar(select(Decision).where(Decision.customer_id == w.daniel))
        assert decision.facts["known_defect"] is True
        assert decision.facts["known_defect_registry"]["known_defect_id"] == w.defect
