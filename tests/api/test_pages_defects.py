"""The known-defects pages through the real app (TestClient), on SQLite and PostgreSQL: three
customers reporting one fault in their own words raise a proposal the registry page lists; a
specialist opens it, sees the reports and confirms it, and the next decision treats the fault as a
recognised defect; an agent reads the page without buttons and a forced POST is a readable 403;
bad input is answered next to its field with a 4xx and writes nothing; a stale confirm says who
got there first."""

from __future__ import annotations

import html
import re
from datetime import timedelta
from types import SimpleNamespace

import pytest
from sqlalchemy import func, select

from onethread.access import service as access
from onethread.access.rules import SYSTEM
from onethread.customers import service as customers
from onethread.decisions import known_defects
from onethread.decisions import service as decisions
from onethread.models import AuditEntry, KnownDefect, OutboxEvent
from tests.support.s1_world import FACTS

PASSWORD = "correct horse battery"
BROWSER = {"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"}  # what a browser asks for
FAULT = {k: v for k, v in FACTS.items() if k != "known_defect"}  # the registry says whether it is known
WORDINGS = [("Amy", "Adeyemi", "headphone jack", "store"),
            ("Ben", "Brooks", "no sound in earphones", "phone"),
            ("Cara", "Costa", "audio socket faulty", "chat")]


@pytest.fixture
def world(client, uow, clock) -> SimpleNamespace:
    """Staff of every kind who sign in, and three customers who each own a Nova X2. ``client`` is
    asked for first so the app has started (and loaded the shipped policies)."""
    with uow() as s:
        def user(username, name, role):
            return access.create_user(s, clock, username=username, display_name=name, role=role,
                                      password=PASSWORD).id

        staff = {"sam": user("sam.spec", "Sam Specialist", "specialist"),
                 "lee": user("lee.lead", "Lee Lead", "team_lead"),
                 "ann": user("ann.agent", "Ann Agent", "agent"),
                 "finn": user("finn.field", "Finn Field", "field_subcontractor")}
        people = []
        for given, family, _, _ in WORDINGS:
            party = customers.create_individual(s, clock, SYSTEM, given_name=given, family_name=family)
            people.append(customers.create_customer(s, clock, SYSTEM, party_id=party.id).id)
    return SimpleNamespace(staff=staff, customers=people)


def report(uow, clock, customer_id: str, wording: str, channel: str, model: str = "Nova X2"):
    """A customer's fault asked of the device-fault policy: the decision records the report."""
    with uow() as s:
        return decisions.decide(s, clock, SYSTEM, policy="device_fault", channel=channel, customer_id=customer_id,
                                facts={**FAULT, "device_model": model, "symptom": wording})


def three_reports(uow, clock, world) -> str:
    for (_, _, wording, channel), cid in zip(WORDINGS, world.customers, strict=True):
        report(uow, clock, cid, wording, channel, model=["Nova X2", "nova  x2", "NOVA-X2"][len(wording) % 3])
        clock.advance(timedelta(days=2))
    with uow() as s:
        return s.scalar(select(KnownDefect.id))


def sign_in(client, username: str) -> None:
    client.cookies.clear()
    r = client.post("/login", data={"username": username, "password": PASSWORD}, follow_redirects=False)
    assert r.status_code == 303, r.text


def page(client, url: str, **params):
    return client.get(url, headers=BROWSER, params=params or None)


def post(client, url: str, data: dict):
    return client.post(url, headers=BROWSER, data=data, follow_redirects=False)


def section(text: str, status: str) -> str:
    """The HTML of one status's section of the registry page."""
    found = re.search(rf'<section aria-labelledby="{status}-h" id="{status}">(.*?)</section>', text, re.S)
    assert found, f"no {status} section"
    return found.group(1)


def field_error(text: str, field: str) -> str:
    found = re.search(rf'<p class="field-error" id="{field}-error" role="alert">(.*?)</p>', text, re.S)
    assert found, f"no error next to {field}"
    return html.unescape(found.group(1))


def version_on(text: str) -> str:
    return re.search(r'name="version" value="(\d+)"', text).group(1)


def count(container, model, *where) -> int:
    with container.sessions() as s:
        return s.scalar(select(func.count()).select_from(model).where(*where))


def confirmations(container) -> int:
    return count(container, OutboxEvent, OutboxEvent.type == "known_defect.confirmed")


def test_reports_from_three_customers_in_their_own_words_raise_a_proposal_the_page_lists(client, uow, clock, world):
    sign_in(client, "ann.agent")  # reading is for every customer-service role
    report(uow, clock, world.customers[0], "headphone jack", "store")
    report(uow, clock, world.customers[0], "the headphone jack again", "phone")  # one customer counts once
    clock.advance(timedelta(days=1))
    report(uow, clock, world.customers[1], "no sound in earphones", "phone", model="nova  x2")
    sign_in(client, "ann.agent")  # a day on: the eight-hour session has ended (the injected clock)
    r = page(client, "/known-defects")
    assert r.status_code == 200
    assert "nothing is waiting for a decision" in section(r.text, "proposed")

    clock.advance(timedelta(days=1))
    report(uow, clock, world.customers[2], "audio socket faulty", "chat", model="NOVA-X2")
    sign_in(client, "ann.agent")
    r = page(client, "/known-defects")
    assert r.status_code == 200
    proposed = section(r.text, "proposed")
    assert "nova x2" in proposed and "Headphone" in proposed and "(audio_jack)" in proposed
    assert re.search(r"<td>3 <span[^>]*>\(4 reports\)</span></td>", proposed), proposed  # distinct customers
    assert "02 Mar 2026" in proposed  # reported since the first report
    assert "None." in section(r.text, "confirmed") and "None." in section(r.text, "retired")

    # The model filter reads a model however it is written; another model shows nothing.
    assert "nova x2" in section(page(client, "/known-defects", model="NOVA-x2").text, "proposed")
    assert "nova x2" not in section(page(client, "/known-defects", model="Lumo 5").text, "proposed")

    # Checking a wording says which symptom it is, which entry of the table matched, and what the
    # registry holds for a model.
    r = page(client, "/known-defects", wording="my audio socket is faulty", wording_model="Nova X2")
    assert r.status_code == 200
    match = re.search(r'data-testid="match"(.*?)</div>', r.text, re.S).group(1)
    assert "(audio_jack)" in match and "<code>audio socket</code> matched “audio socket”" in html.unescape(match)
    assert "proposed" in match and "does not treat it as a recognised defect" in match
    r = page(client, "/known-defects", wording="it fell in the bath")
    assert "No symptom in the table matches" in r.text


def test_a_specialist_sees_the_three_wordings_and_confirms_and_the_next_decision_finds_it(
        client, uow, clock, world, container):
    defect_id = three_reports(uow, clock, world)
    sign_in(client, "sam.spec")
    r = page(client, f"/known-defects/{defect_id}")
    assert r.status_code == 200
    assert "<h1>nova x2: " in r.text and "proposed" in r.text
    wordings = re.findall(r'<q data-testid="wording">(.*?)</q>', r.text)
    assert sorted(wordings) == sorted(w for _, _, w, _ in WORDINGS)
    for (given, family, _, channel), cid in zip(WORDINGS, world.customers, strict=True):
        assert f'<a href="/customers/{cid}">{given} {family}</a>' in r.text
        assert f"<td>{channel}</td>" in r.text
    assert "3 customers reported it (3 reports)" in r.text
    with uow() as s:  # the customers shown are in the audit log
        assert set(s.scalars(select(AuditEntry.customer_id).where(AuditEntry.resource_type == "defect_report"))) \
            == set(world.customers)

    r = post(client, f"/known-defects/{defect_id}/confirm",
             {"note": "the maker's bulletin NX2-14", "version": version_on(r.text)})
    assert r.status_code == 303 and r.headers["location"] == f"/known-defects/{defect_id}?done=confirmed"
    shown = page(client, r.headers["location"])
    assert "Confirmed: decisions now treat this fault" in shown.text
    assert "Sam Specialist" in shown.text and "NX2-14" in shown.text
    assert 'action="/known-defects/' + defect_id + '/confirm"' not in shown.text  # nothing left to confirm
    assert f'action="/known-defects/{defect_id}/retire"' in shown.text
    with uow() as s:
        d = s.get(KnownDefect, defect_id)
        assert (d.status, d.confirmed_by, d.note) == ("confirmed", world.staff["sam"], "the maker's bulletin NX2-14")
    assert "nova x2" in section(page(client, "/known-defects").text, "confirmed")

    # A fourth customer's fault, in yet other words: the decision takes it from the registry.
    with uow() as s:
        party = customers.create_individual(s, clock, SYSTEM, given_name="Dev", family_name="Dhillon")
        dev = customers.create_customer(s, clock, SYSTEM, party_id=party.id).id
    decision = report(uow, clock, dev, "earphone socket broken", "store")
    assert decision.facts["known_defect"] is True
    assert decision.facts["known_defect_registry"]["known_defect_id"] == defect_id
    assert decision.outcome != "assessment"


def test_an_agent_sees_the_entry_without_buttons_and_a_forced_post_is_a_readable_403(
        client, uow, clock, world, container):
    defect_id = three_reports(uow, clock, world)
    sign_in(client, "ann.agent")
    r = page(client, f"/known-defects/{defect_id}")
    assert r.status_code == 200
    assert "audio socket faulty" in r.text
    assert "/confirm" not in r.text and "/retire" not in r.text and "<button" not in r.text.split("<main")[1]
    assert 'id="register"' not in page(client, "/known-defects").text

    version = str(1)
    r = post(client, f"/known-defects/{defect_id}/confirm", {"note": "looks right to me", "version": version})
    assert r.status_code == 403
    assert "text/html" in r.headers["content-type"] and 'role="alert"' in r.text
    assert "only a case specialist, team lead or administrator may confirm, retire or register known defects" \
        in r.text
    assert "you are signed in as contact-centre agent" in r.text
    r = post(client, "/known-defects", {"deviceModel": "Lumo 5", "symptom": "screen_flicker"})
    assert r.status_code == 403 and "may confirm, retire or register" in r.text
    with uow() as s:
        assert s.get(KnownDefect, defect_id).status == "proposed"
    assert count(container, KnownDefect) == 1 and confirmations(container) == 0

    # A field subcontractor does not get the page at all; nobody signed in is sent to sign in.
    sign_in(client, "finn.field")
    r = page(client, "/known-defects")
    assert r.status_code == 403 and "may not open this page" in r.text
    client.cookies.clear()
    r = client.get(f"/known-defects/{defect_id}", headers=BROWSER, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == f"/login?next=/known-defects/{defect_id}"
    assert client.get("/known-defects").status_code == 401  # not a browser, no cookie


def test_bad_input_is_answered_next_to_its_field_and_writes_nothing(client, uow, clock, world, container):
    defect_id = three_reports(uow, clock, world)
    sign_in(client, "sam.spec")
    before = (count(container, KnownDefect), count(container, OutboxEvent))

    r = post(client, "/known-defects", {"deviceModel": "  ", "symptom": "screen_flicker", "description": "x"})
    assert r.status_code == 400 and field_error(r.text, "deviceModel") == "name the device model"
    assert 'aria-describedby="deviceModel-error"' in r.text
    assert '<option value="screen_flicker" selected>' in r.text  # what was chosen is still chosen
    r = post(client, "/known-defects", {"deviceModel": "Lumo 5", "symptom": ""})
    assert r.status_code == 400 and field_error(r.text, "symptom") == "choose the symptom from the table"
    assert 'value="Lumo 5"' in r.text
    r = post(client, "/known-defects", {"deviceModel": "Lumo 5", "symptom": "it is haunted"})
    assert r.status_code == 400 and "no symptom in the table matches" in field_error(r.text, "symptom")
    r = post(client, "/known-defects", {"deviceModel": "Lumo 5", "symptom": "screen_flicker",
                                        "description": "d" * (known_defects.NOTE_MAX + 1)})
    assert r.status_code == 400 and "at most" in field_error(r.text, "description")
    r = post(client, "/known-defects", {"deviceModel": "NOVA X2", "symptom": "audio_jack"})
    assert r.status_code == 409
    assert "already in the registry (proposed" in html.unescape(r.text) and "confirm it instead" in r.text
    assert (count(container, KnownDefect), count(container, OutboxEvent)) == before

    r = page(client, f"/known-defects/{defect_id}")
    r = post(client, f"/known-defects/{defect_id}/confirm",
             {"note": "n" * (known_defects.NOTE_MAX + 1), "version": version_on(r.text)})
    assert r.status_code == 400 and "at most" in field_error(r.text, "confirm-note")
    assert "n" * 50 in r.text  # the note is still in the form
    with uow() as s:
        assert s.get(KnownDefect, defect_id).status == "proposed"
    assert (count(container, KnownDefect), count(container, OutboxEvent)) == before

    r = page(client, "/known-defects", wording="   ")
    assert r.status_code == 400 and field_error(r.text, "wording") == "say what the fault is"
    r = page(client, "/known-defects", wording="jack", wording_model="x" * 200)
    assert r.status_code == 400 and "at most" in field_error(r.text, "wording_model")
    r = page(client, "/known-defects", model="m" * 200)
    assert r.status_code == 400 and "at most" in field_error(r.text, "model")
    assert page(client, "/known-defects/01NOSUCHDEFECT").status_code == 404

    # A good registration: confirmed at once, and the page it leads to says so.
    r = post(client, "/known-defects", {"deviceModel": "Lumo 5", "symptom": "screen_flicker"})
    assert r.status_code == 303
    shown = page(client, r.headers["location"])
    assert "Registered and confirmed" in shown.text and "<h1>lumo 5: " in shown.text


def test_a_stale_confirm_says_who_confirmed_it_first_and_changes_nothing(client, uow, clock, world, container):
    defect_id = three_reports(uow, clock, world)
    sign_in(client, "sam.spec")
    opened = page(client, f"/known-defects/{defect_id}")
    with uow() as s:  # meanwhile the team lead confirms it
        lead = access.staff_principal(s.get(access.StaffUser, world.staff["lee"]))
        known_defects.confirm(s, clock, lead, defect_id, note="seen it in the lab")
    clock.advance(timedelta(minutes=5))
    r = post(client, f"/known-defects/{defect_id}/confirm", {"note": "mine", "version": version_on(opened.text)})
    assert r.status_code == 409
    text = html.unescape(r.text)
    assert "Lee Lead confirmed it after you read it" in text and "Your confirm was not applied" in text
    with uow() as s:
        d = s.get(KnownDefect, defect_id)
        assert (d.confirmed_by, d.note) == (world.staff["lee"], "seen it in the lab")
    assert confirmations(container) == 1
