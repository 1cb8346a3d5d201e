"""The store and supervisor pages over HTTP: who may open them, what they show, errors next to the
field, and nothing half-saved when an action is refused. (The browser walks are in tests/browser.)"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from html import unescape

import pytest
from sqlalchemy import event, func, select

from onethread.access import service as access
from onethread.access.rules import SYSTEM
from onethread.cases import clocks, queries
from onethread.cases import service as cases
from onethread.customers import service as customers
from onethread.decisions import known_defects
from onethread.errors import NotFound, ValidationFailed
from onethread.interactions import session_service
from onethread.inventory import service as inventory
from onethread.models import (
    AuditEntry,
    Case,
    CaseClock,
    Commitment,
    Contact,
    ContactSession,
    Decision,
    Handover,
    StaffUser,
    Verification,
)
from tests.support.pages_store_supervisor import fault, sign_in, world


def count(uow, model) -> int:
    with uow() as s:
        return s.scalar(select(func.count()).select_from(model))


def test_the_store_view_is_for_store_advisors_and_leads_and_the_supervisor_view_for_leads(client, uow, clock):
    w = world(uow, clock)
    browser = {"Accept": "text/html"}
    r = client.get("/store", headers=browser, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/login?next=/store")
    assert client.get("/supervisor", headers=browser, follow_redirects=False).headers["location"].startswith("/login")
    assert client.get("/supervisor").status_code == 401  # not a browser: no redirect
    sign_in(client, "alex.agent")
    assert client.get("/store").status_code == 403
    assert client.get(f"/store/customers/{w.customer}").status_code == 403
    assert client.post(f"/store/customers/{w.customer}/decision", data=fault(clock)).status_code == 403
    assert count(uow, Decision) == 0
    assert client.get("/supervisor").status_code == 403
    sign_in(client, "sol.store")
    assert client.get("/store").status_code == 200
    assert client.get("/supervisor").status_code == 403
    sign_in(client, "lee.lead")
    assert client.get("/store").status_code == 200
    assert client.get("/supervisor").status_code == 200


def test_finding_the_customer_by_number_or_name_and_the_read_is_audited(client, uow, clock):
    w = world(uow, clock)
    sign_in(client, "sol.store")
    r = client.get("/store", params={"q": "+44 7700 900461"}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == f"/store/customers/{w.customer}"
    page = client.get(r.headers["location"])
    assert page.status_code == 200
    assert "Daniel Price" in page.text and "Nova X2" in page.text
    with uow() as s:
        purposes = set(s.scalars(select(AuditEntry.purpose).where(AuditEntry.customer_id == w.customer)))
    assert {"search", "store"} <= purposes
    assert client.get("/store", params={"q": "daniel"}, follow_redirects=False).status_code == 303
    none = client.get("/store", params={"q": "Nobody Here"})
    assert none.status_code == 200 and "Nobody matches" in none.text
    blank = client.get("/store", params={"q": "  "})
    assert blank.status_code == 400
    assert re.search(r'id="err-q" role="alert">type a phone number', blank.text)
    long = client.get("/store", params={"q": "x" * 500})
    assert long.status_code == 400 and re.search(r'id="err-q" role="alert">at most 200 characters', long.text)
    assert client.get("/store/customers/NOPE").status_code == 404
    assert client.get(f"/store/customers/{w.customer}", params={"decision": "NOPE" * 20}).status_code == 200


def test_the_decision_form_says_what_is_missing_next_to_the_field_and_records_nothing(client, uow, clock):
    w = world(uow, clock)
    sign_in(client, "sol.store")
    url = f"/store/customers/{w.customer}/decision"
    r = client.post(url, data=fault(clock, symptom=" ", damage="", purchased_on="03/02/2026"))
    assert r.status_code == 400
    assert re.search(r'id="err-symptom" role="alert">write down what the customer says', r.text)
    assert re.search(r'id="err-damage" role="alert">answer whether there is evidence of physical damage', r.text)
    assert re.search(r'id="err-purchased_on" role="alert">give the purchase date', r.text)
    assert 'value="Nova X2"' in r.text  # what was typed is kept
    future = client.post(url, data=fault(clock, purchased_on=(clock.now().date() + timedelta(days=2)).isoformat()))
    assert future.status_code == 400 and "the purchase date is in the future" in future.text
    with uow() as s:
        other = customers.create_customer(s, clock, SYSTEM, party_id=customers.create_individual(
            s, clock, SYSTEM, given_name="Other", family_name="Person").id)
        foreign = inventory.add_product(s, clock, SYSTEM, customer_id=other.id, kind="handset", name="Nova X2",
                                        currency="GBP", model="Nova X2").id
    theirs = client.post(url, data=fault(clock, product_id=foreign))
    assert theirs.status_code == 400
    assert re.search(r'id="err-product_id" role="alert">the product is not this customer', theirs.text)
    assert count(uow, Decision) == 0


def test_asking_gives_the_words_for_the_customer_and_staff_and_the_order_becomes_a_dated_promise(client, uow, clock):
    w = world(uow, clock)
    sign_in(client, "sol.store")
    r = client.post(f"/store/customers/{w.customer}/decision", data=fault(clock, product_id=w.handset),
                    follow_redirects=False)
    assert r.status_code == 303, r.text
    with uow() as s:
        decision = s.scalar(select(Decision))
        assert decision.channel == "store" and decision.product_id == w.handset
        assert decision.facts["days_since_purchase"] == 3 and decision.facts["known_defect"] is True
    page = client.get(r.headers["location"])
    assert "Doorstep replacement" in page.text
    assert "A replacement will be brought to your door within 5 days." in page.text
    assert "No damage assessment" in page.text or "no damage assessment" in page.text
    assert "Policy device_fault version 2" in page.text
    assert "Place the replacement order" in page.text

    ordered = client.post(f"/store/decisions/{decision.id}/order", follow_redirects=False)
    assert ordered.status_code == 303
    page = client.get(ordered.headers["location"])
    due = (clock.now() + timedelta(days=5)).strftime("%a %d %b %Y")
    promise = f"Promised: Replacement device swapped at the customer's door, by <strong>{due}</strong>"
    assert promise in unescape(page.text)
    assert "Place the replacement order" not in page.text
    with uow() as s:
        commitment = s.scalar(select(Commitment))
        assert commitment.made_via == "store" and commitment.due_at == clock.now() + timedelta(days=5)
        assert s.get(Case, commitment.case_id).owner_id == w.advisor

    again = client.post(f"/store/decisions/{decision.id}/order")
    assert again.status_code == 409
    assert "already ordered" in again.text
    assert count(uow, Commitment) == 1


def test_an_answer_that_orders_nothing_offers_no_order(client, uow, clock):
    w = world(uow, clock)
    sign_in(client, "sol.store")
    old = (clock.now().date() - timedelta(days=200)).isoformat()
    r = client.post(f"/store/customers/{w.customer}/decision",
                    data=fault(clock, purchased_on=old, known_defect="", damage="yes"), follow_redirects=False)
    assert r.status_code == 303
    page = client.get(r.headers["location"])
    assert "Assessment" in page.text and "Place the replacement order" not in page.text
    with uow() as s:
        decision_id = s.scalar(select(Decision.id))
    refused = client.post(f"/store/decisions/{decision_id}/order")
    assert refused.status_code == 409 and "does not order a replacement" in refused.text
    assert count(uow, Commitment) == 0


def test_a_warm_handover_opens_the_case_and_offers_it_with_the_story_or_saves_nothing(client, uow, clock):
    w = world(uow, clock)
    sign_in(client, "sol.store")
    url = f"/store/customers/{w.customer}/handover"
    story = "Headphone jack dead since day one; known Nova X2 fault; doorstep swap promised; ID checked in store."
    missing = client.post(url, data={"title": "", "to_owner_id": "", "note": ""})
    assert missing.status_code == 400
    for field in ("title", "to_owner_id", "note"):
        assert f'id="err-{field}"' in missing.text
    # The receiver is away: the hand-over is refused, and the case it would have opened is not kept.
    away = client.post(url, data={"kind": "fault", "title": "Headphone jack", "words": "it has never worked",
                                  "to_owner_id": w.away, "note": story})
    assert away.status_code == 409
    assert re.search(r'id="err-to_owner_id" role="alert">Ava Away is marked away', away.text)
    assert count(uow, Case) == 0 and count(uow, Handover) == 0

    ok = client.post(url, data={"kind": "fault", "title": "Headphone jack", "words": "it has never worked",
                                "to_owner_id": w.agent, "note": story}, follow_redirects=False)
    assert ok.status_code == 303
    with uow() as s:
        case = s.scalar(select(Case))
        handover = s.scalar(select(Handover))
        assert case.opened_via == "store" and case.owner_id == w.advisor and case.customer_account
        assert handover.case_id == case.id and handover.to_owner_id == w.agent and handover.status == "pending"
        assert handover.reason == story
    page = client.get(f"/store/customers/{w.customer}")
    assert "Offered to Alex Morgan</strong> (Contact centre)" in page.text and story in page.text
    assert 'data-testid="owner">Sol Reyes' in page.text
    twice = client.post(url, data={"case_id": case.id, "to_owner_id": w.lead, "note": "again"})
    assert twice.status_code == 409 and "already waiting for an answer" in twice.text
    assert count(uow, Handover) == 1


def test_a_form_sent_from_another_site_changes_nothing(client, uow, clock):
    w = world(uow, clock)
    sign_in(client, "sol.store")
    r = client.post(f"/store/customers/{w.customer}/decision", data=fault(clock),
                    headers={"Origin": "https://evil.example"})
    assert r.status_code == 403
    assert count(uow, Decision) == 0


def test_the_supervisor_sees_breaches_oldest_first_per_owner_and_the_charts_count_them(client, uow, clock):
    w = world(uow, clock)
    with uow() as s:
        agent = access.staff_principal(s.get(StaffUser, w.agent))
        first = cases.open_new(s, clock, agent, customer_id=w.customer, kind="fault", title="First fault",
                               opened_via="phone").id
    clock.advance(timedelta(days=2))
    with uow() as s:
        lead = access.staff_principal(s.get(StaffUser, w.lead))
        second = cases.open_new(s, clock, lead, customer_id=w.customer, kind="request", title="Second request",
                                opened_via="phone").id
    clock.advance(timedelta(days=1))
    with uow() as s:
        cases.open_new(s, clock, lead, customer_id=w.customer, kind="request", title="Fresh one", opened_via="phone")
        clocks.sweep(s, clock)
    sign_in(client, "lee.lead")
    page = client.get("/supervisor")
    assert page.status_code == 200
    assert page.text.index(f'data-case="{first}"') < page.text.index(f'data-case="{second}"')
    text = re.sub(r"<a [^>]*>|</a>", "", page.text)  # each figure is a link to its cases
    assert "Past a clock: 2 cases" in text
    assert re.search(r"<td>Lee Carter</td><td class=\"num\">2</td>\s*<td class=\"num overdue\">1</td>", text)
    assert re.search(r"<td>Alex Morgan</td><td class=\"num\">1</td>\s*<td class=\"num overdue\">1</td>", text)
    assert "&lt; 1 day: 1 case</title>" in page.text
    assert "1-3 days: 1 case</title>" in page.text and "3-7 days: 1 case</title>" in page.text
    with uow() as s:
        fired = s.scalar(select(func.count()).select_from(clocks.CaseClock).where(
            clocks.CaseClock.fired_at.is_not(None)))
    assert fired >= 2
    assert f"Total: {fired} clocks breached" in page.text


def test_the_known_defects_list_answers_when_the_advisor_leaves_it_to_the_list(client, uow, clock):
    w = world(uow, clock)
    with uow() as s:
        lead = access.staff_principal(s.get(StaffUser, w.lead))
        known_defects.register(s, clock, lead, device_model="Nova X2", symptom="headphone jack")
    sign_in(client, "sol.store")
    r = client.post(f"/store/customers/{w.customer}/decision",
                    data=fault(clock, known_defect="", symptom="the earphones make no sound at all"),
                    follow_redirects=False)
    assert r.status_code == 303, r.text
    page = unescape(client.get(r.headers["location"]).text)
    assert "Doorstep replacement" in page
    assert "A recognised defect</strong> of the" in page and "on the known-defects list" in page
    with uow() as s:
        facts = s.scalar(select(Decision.facts))
    assert facts["known_defect"] is True and facts["known_defect_registry"]["source"] == "registry"


def test_the_identity_check_is_kept_on_the_visit_and_goes_with_the_handover(client, uow, clock):
    w = world(uow, clock)
    sign_in(client, "sol.store")
    url = f"/store/customers/{w.customer}/identity"
    too_high = client.post(url, data={"method": "account_pin", "level": "3"})
    assert too_high.status_code == 400
    assert re.search(r'id="err-level" role="alert">account_pin establishes level 1 to 1', too_high.text)
    assert count(uow, ContactSession) == 0  # no visit opened for a refused check
    assert client.post(url, data={"method": "id_document", "level": "x"}).status_code == 400
    ok = client.post(url, data={"method": "id_document", "level": "3"}, follow_redirects=False)
    assert ok.status_code == 303
    page = " ".join(unescape(client.get(f"/store/customers/{w.customer}").text).split())
    assert "Identity checked</strong>: id document, level 3, by Sol Reyes" in page
    assert "This visit and its identity check go to them too." in page

    story = "Jack dead since day one; ID checked in store."
    r = client.post(f"/store/customers/{w.customer}/handover",
                    data={"kind": "fault", "title": "Headphone jack", "to_owner_id": w.agent, "note": story},
                    follow_redirects=False)
    assert r.status_code == 303
    with uow() as s:
        visit = s.scalar(select(ContactSession))
        assert (visit.holder_staff_id, visit.status) == (w.agent, "live")
        contact = s.scalar(select(Contact).where(Contact.session_id == visit.id))
        assert contact.text == story and contact.channel == "store"
        assert contact.case_id == s.scalar(select(Case.id))
        verified = session_service.valid_verification(s, visit.id, clock.now())
        assert verified.level == 3 and verified.verified_by == w.advisor
    # The visit is Alex's now: the advisor's page offers a new check for a new visit.
    assert "Record the check" in client.get(f"/store/customers/{w.customer}").text


def test_a_store_visit_is_reused_while_live_and_started_again_after_it_ends(uow, clock):
    w = world(uow, clock)
    with uow() as s:
        sol = access.staff_principal(s.get(StaffUser, w.advisor))
        ttl = timedelta(minutes=30)
        first = session_service.store_visit(s, clock, sol, w.customer, method="id_document", level=3, ttl=ttl)
        again = session_service.store_visit(s, clock, sol, w.customer, method="account_pin", level=1, ttl=ttl)
        assert again.id == first.id and (first.channel, first.holder_staff_id) == ("store", w.advisor)
        checks = s.scalars(select(Verification.method).where(Verification.session_id == first.id)).all()
        assert sorted(checks) == ["account_pin", "id_document"]  # both checks are on the one visit
    assert count(uow, ContactSession) == 1
    # A refused check opens nothing (the unit of work rolls back), nor does an unknown customer.
    with uow() as s:
        lee = access.staff_principal(s.get(StaffUser, w.lead))
    for customer_id, method, level, error in ((w.customer, "account_pin", 3, ValidationFailed),
                                              ("01NOSUCHCUSTOMER0000000000", "id_document", 1, NotFound)):
        with pytest.raises(error), uow() as s:
            session_service.store_visit(s, clock, lee, customer_id, method=method, level=level, ttl=ttl)
    assert count(uow, ContactSession) == 1
    with uow() as s:
        session_service.end(s, clock, sol, first.id)
        later = session_service.store_visit(s, clock, sol, w.customer, method="id_document", level=2, ttl=ttl)
        assert later.id != first.id and later.status == "live"
    assert count(uow, ContactSession) == 2


def test_breaches_count_in_the_iso_week_their_clock_ran_out_monday_to_sunday_utc(uow, clock):
    w = world(uow, clock)  # START is Monday 2 March 2026, 09:00 UTC (ISO week 10)
    clock.advance(timedelta(days=9))  # Wednesday 11 March, week 11
    with uow() as s:
        agent = access.staff_principal(s.get(StaffUser, w.agent))
        case = cases.open_new(s, clock, agent, customer_id=w.customer, kind="request", title="Timing",
                              opened_via="phone")
        for fired in ("2026-03-08T23:59:59+00:00", "2026-03-09T00:00:00+00:00", "2026-03-11T08:00:00+00:00",
                      "2026-03-11T10:00:00+00:00"):  # Sunday of week 10, Monday of week 11, before, after now
            at = datetime.fromisoformat(fired)
            s.add(CaseClock(case_id=case.id, customer_id=w.customer, kind="no_activity", started_at=at,
                            due_at=at, fired_at=at, fired_by="test"))
    with uow() as s:
        weeks = queries.breaches_per_week(s, clock.now(), weeks=3)
    assert [(label, monday.isoformat(), n) for label, monday, n in weeks] == [
        ("2026-W09", "2026-02-23", 0), ("2026-W10", "2026-03-02", 1), ("2026-W11", "2026-03-09", 2)]


def test_the_supervisor_read_models_cost_the_same_statements_for_2_or_20_cases(uow, clock, container):
    w = world(uow, clock)

    def statements_for(n: int) -> int:
        with uow() as s:
            agent = access.staff_principal(s.get(StaffUser, w.agent))
            for i in range(n):
                cases.open_new(s, clock, agent, customer_id=w.customer, kind="request", title=f"Case {i}",
                               opened_via="phone")
        clock.advance(timedelta(days=10))
        with uow() as s:
            clocks.sweep(s, clock)
        counted = []
        listener = lambda *args: counted.append(1)  # noqa: E731
        event.listen(container.engine, "before_cursor_execute", listener)
        try:
            with uow() as s:
                queries.supervisor_queue(s, limit=50)
                queries.cases_per_owner(s)
                queries.open_case_ages(s, clock.now())
                queries.breaches_per_week(s, clock.now())
        finally:
            event.remove(container.engine, "before_cursor_execute", listener)
        return len(counted)

    assert statements_for(2) == statements_for(18)
