"""Vulnerable customers served differently (S5.6): their consented needs shown in plain words on
the case and the 360, replies by the channel they chose, replies that only reach them online
refused, a proactive-contact task on a clock while a case is open, their queue items first, and
their representative copied when they asked."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from onethread.access import service as access
from onethread.access.rules import SYSTEM
from onethread.cases import clocks, handover_service, proactive
from onethread.cases import service as cases
from onethread.customers import identifier_service
from onethread.customers import service as customers
from onethread.interactions import service as interactions
from onethread.models import CaseClock, Contact, Escalation, StaffUser, Task
from tests.support.vulnerable_service import MONDAY, PASSWORD, world
from tests.tmf_schema import assert_tmf_error

V1 = "/api/v1"


def open_tasks(uow, case_id: str) -> list[Task]:
    with uow() as s:
        rows = list(s.scalars(select(Task).where(Task.case_id == case_id, Task.status == "open")))
        for r in rows:
            s.expunge(r)
        return rows


def outbound(uow) -> int:
    with uow() as s:
        return s.scalar(select(func.count()).select_from(Contact).where(Contact.direction == "outbound"))


# --- the needs, in plain words ---------------------------------------------------------------

def test_the_360_and_the_case_brief_say_what_her_needs_ask_in_plain_words(client, uow, clock, token_for):
    w = world(uow, clock)
    r = client.get(f"{V1}/customers/{w['edith']}/360", headers=w["as_sofia"])
    assert r.status_code == 200, r.text
    profile = r.json()["profile"]
    assert profile["serviceNeeds"] == {
        "needs": ["assisted_channels", "proactive_contact", "priority", "no_digital_only_contact", "letters"],
        "words": ["assisted channels only: by phone, by letter or in person",
                  "the case owner contacts them at a set cadence while a case is open",
                  "served first in the queues",
                  "nothing that only reaches them online (no portal, chat or social reply on its own)",
                  "write to them by letter"],
        "assistedOnly": True, "replyChannel": "letter", "proactiveContact": True, "priority": True,
        "copyRepresentative": False}
    age = next(v for v in profile["vulnerabilities"] if v["kind"] == "age")
    assert age["needWords"][0] == "assisted channels only: by phone, by letter or in person"
    assert age["note"] == "89 years old; lives alone"
    # an integration reads the needs (they shape service) but never the note
    r = client.get(f"{V1}/customers/{w['edith']}/360", headers=token_for("integration"))
    assert r.status_code == 200
    assert r.json()["profile"]["serviceNeeds"]["replyChannel"] == "letter"
    assert all(v["note"] is None for v in r.json()["profile"]["vulnerabilities"])
    brief = client.get(f"{V1}/cases/{w['case']}/brief", headers=w["as_sofia"]).json()
    assert brief["customerNeeds"]["assistedOnly"] and brief["customerNeeds"]["replyChannel"] == "letter"


def test_needs_recorded_without_consent_change_nothing(client, uow, clock):
    w = world(uow, clock)
    with uow() as s:
        other_p = customers.create_individual(s, clock, SYSTEM, given_name="Nell", family_name="Stone")
        other = customers.create_customer(s, clock, SYSTEM, party_id=other_p.id)
        customers.record_vulnerability(s, clock, SYSTEM, customer_id=other.id, kind="health", consent_given=False,
                                       review_on=MONDAY.date() + timedelta(days=30),
                                       needs=["assisted_channels", "proactive_contact"])
        case = cases.open_new(s, clock, SYSTEM, customer_id=other.id, kind="fault", owner_id=w["sofia"],
                              title="No dial tone", opened_via="phone")
    needs = client.get(f"{V1}/customers/{other.id}/360", headers=w["as_sofia"]).json()["profile"]["serviceNeeds"]
    assert needs["needs"] == [] and not needs["assistedOnly"] and needs["replyChannel"] is None
    assert open_tasks(uow, case.id) == []  # no proactive contact without consent


# --- replies by the channel she chose; online-only replies refused --------------------------

def test_a_reply_without_a_channel_goes_by_her_chosen_channel(client, uow, clock):
    w = world(uow, clock)
    r = client.post(f"{V1}/cases/{w['case']}/replies", headers=w["as_sofia"],
                    json={"text": "The plumber comes on Tuesday morning."})
    assert r.status_code == 201, r.text
    assert r.json()["channel"] == "letter"
    [message] = client.get(f"{V1}/cases/{w['case']}/messages", headers=w["as_sofia"]).json()
    assert (message["askedChannel"], message["channel"]) == ("letter", "letter")
    assert message["copiedTo"] == ["Robert Clarke"]  # letters only: her son, who may receive them, is copied


def test_a_reply_that_only_reaches_her_online_is_refused_with_the_reason(client, uow, clock):
    w = world(uow, clock)
    before = outbound(uow)
    for channel in ("portal", "chat", "social"):
        body = assert_tmf_error(client.post(f"{V1}/cases/{w['case']}/replies", headers=w["as_sofia"],
                                            json={"text": "See the portal.", "channel": channel}), 409)
        assert "assisted channels only" in body["message"] and "reply by letter or phone" in body["message"]
    assert outbound(uow) == before  # nothing written
    # an e-mail is not refused: it reaches her as a letter, saying why
    r = client.post(f"{V1}/cases/{w['case']}/replies", headers=w["as_sofia"],
                    json={"text": "Update on your pipe.", "channel": "email"})
    assert r.status_code == 201 and r.json()["channel"] == "letter"


def test_without_needs_a_reply_without_a_channel_is_an_email(client, uow, clock):
    w = world(uow, clock, needs_age=("priority",), needs_digital=("large_print",))
    r = client.post(f"{V1}/cases/{w['case']}/replies", headers=w["as_sofia"], json={"text": "Hello."})
    assert r.status_code == 201 and r.json()["channel"] == "email"
    r = client.post(f"{V1}/cases/{w['case']}/replies", headers=w["as_sofia"], json={"text": "Hi", "channel": "portal"})
    assert r.status_code == 201


def test_the_case_page_shows_her_needs_and_the_reply_form_defaults_to_letter(client, uow, clock):
    w = world(uow, clock)
    assert client.post("/login", data={"username": "sofia.l", "password": PASSWORD},
                       follow_redirects=False).status_code == 303
    page = client.get(f"/cases/{w['case']}")
    assert page.status_code == 200
    text = page.text
    assert "Extra care" in text and "support related to age" in text and "not at ease with online channels" in text
    assert "assisted channels only: by phone, by letter or in person" in text and "write to them by letter" in text
    assert "Replies go by <strong>letter</strong>" in text
    assert "<summary>Recorded note (need to know only)</summary><p>89 years old; lives alone</p>" in text
    reply_select = text.split('id="reply-channel"', 1)[1].split("</select>", 1)[0]
    assert '<option value="letter" selected>' in reply_select
    assert '<option value="portal"' not in reply_select and '<option value="email" selected>' not in reply_select
    # the clock of the proactive contact is on the page
    assert "proactive contact with the customer" in text
    # a posted online-only reply is refused with a readable reason, and nothing is written
    before = outbound(uow)
    r = client.post(f"/cases/{w['case']}/reply", data={"text": "See the portal.", "channel": "portal"})
    assert r.status_code == 409 and "assisted channels only" in r.text
    assert outbound(uow) == before
    r = client.post(f"/cases/{w['case']}/reply", data={"text": "We will call on Tuesday."}, follow_redirects=False)
    assert r.status_code == 303
    with uow() as s:
        assert s.scalar(select(Contact.channel).where(Contact.case_id == w["case"], Contact.direction == "outbound")
                        ) == "letter"
    # the 360 shows the same words
    assert "served first in the queues" in client.get(f"/customers/{w['edith']}").text


# --- proactive contact ---------------------------------------------------------------------

def test_the_owner_gets_a_proactive_contact_task_every_three_working_days_until_the_case_closes(
        client, uow, clock):
    w = world(uow, clock)
    [task] = open_tasks(uow, w["case"])
    assert task.assignee_id == w["sofia"] and task.title.startswith("Proactive contact: contact the customer by letter")
    assert "every 3 working days" in task.title
    assert task.due_at == datetime(2026, 3, 5, 10, 0, tzinfo=UTC)  # Monday 10:00 + 3 working days
    # a reply is the contact: that task is done and the next period starts from it
    clock.set(datetime(2026, 3, 4, 11, 0, tzinfo=UTC))
    r = client.post(f"{V1}/cases/{w['case']}/replies", headers=w["as_sofia"],
                    json={"text": "Checking in: has the plumber been?", "channel": "phone"})
    assert r.status_code == 201
    with uow() as s:
        assert s.get(Task, task.id).status == "done" and "replied by phone" in s.get(Task, task.id).note
    [nxt] = open_tasks(uow, w["case"])
    assert nxt.due_at == datetime(2026, 3, 9, 11, 0, tzinfo=UTC)  # Wednesday 11:00 + 3 working days
    # missed: it escalates to the owner's lead, like the owner's other silences
    clock.set(datetime(2026, 3, 9, 12, 0, tzinfo=UTC))
    with uow() as s:
        clocks.sweep(s, clock)
        [esc] = s.scalars(select(Escalation).where(Escalation.case_id == w["case"],
                                                   Escalation.clock_kind == "proactive_contact")).all()
        assert esc.to_staff_id == w["marta"] and "proactive contact with the customer missed" in esc.reason
        assert proactive.sweep(s, clock) == 0  # the missed task stays open: no second one
    # it never blocks closing; closing ends it, and no new one comes
    r = client.post(f"{V1}/cases/{w['case']}/close", headers=w["as_sofia"],
                    json={"outcome": "Pipe repaired, wall closed", "customerConfirmed": True})
    assert r.status_code == 200, r.text
    assert open_tasks(uow, w["case"]) == []
    with uow() as s:
        assert s.get(Task, nxt.id).status == "cancelled"
        assert proactive.sweep(s, clock) == 0
        assert s.scalar(select(func.count()).select_from(CaseClock).where(
            CaseClock.case_id == w["case"], CaseClock.stopped_at.is_(None), CaseClock.fired_at.is_(None))) == 0


def test_a_task_marked_done_by_hand_starts_the_next_and_the_sweep_covers_needs_recorded_later(
        client, uow, clock):
    w = world(uow, clock)
    [task] = open_tasks(uow, w["case"])
    clock.set(datetime(2026, 3, 3, 9, 30, tzinfo=UTC))
    r = client.post(f"{V1}/tasks/{task.id}/done", headers=w["as_sofia"], json={"note": "Called her; all well"})
    assert r.status_code == 200, r.text
    [nxt] = open_tasks(uow, w["case"])
    assert nxt.id != task.id and nxt.due_at == datetime(2026, 3, 6, 9, 30, tzinfo=UTC)
    # a hand-over: the task goes with the case to its new owner
    with uow() as s:
        handover_service.impose(s, clock, SYSTEM, w["case"], to_owner_id=w["marta"], reason="Sofia is away")
    [moved] = open_tasks(uow, w["case"])
    assert (moved.id, moved.assignee_id, moved.assignee_name) == (nxt.id, w["marta"], "Marta Lopez")
    # and when the sweep replaces an owner who is away, by rule
    with uow() as s:
        access.create_user(s, clock, username="omar.s", display_name="Omar Said", role="specialist", password=None,
                           team_id=s.get(StaffUser, w["marta"]).team_id)
        access.set_away(s, SYSTEM, w["marta"], True)
    with uow() as s:
        assert handover_service.replace_away_owners(s, clock) == 1
    [again] = open_tasks(uow, w["case"])
    assert (again.id, again.assignee_name) == (nxt.id, "Omar Said")
    # a customer whose need is recorded after her case opened gets the task from the sweep
    with uow() as s:
        p = customers.create_individual(s, clock, SYSTEM, given_name="Ada", family_name="Moss")
        ada = customers.create_customer(s, clock, SYSTEM, party_id=p.id)
        case = cases.open_new(s, clock, SYSTEM, customer_id=ada.id, kind="fault", owner_id=w["sofia"],
                              title="Line crackles", opened_via="phone")
    assert open_tasks(uow, case.id) == []
    with uow() as s:
        customers.record_vulnerability(s, clock, SYSTEM, customer_id=ada.id, kind="health", consent_given=True,
                                       review_on=MONDAY.date() + timedelta(days=60), needs=["proactive_contact"])
    with uow() as s:
        assert proactive.sweep(s, clock) == 1
    [ada_task] = open_tasks(uow, case.id)
    assert ada_task.assignee_id == w["sofia"] and "every 3 working days" in ada_task.title


# --- priority in the queue, the representative copied ----------------------------------------

def test_her_triage_items_come_first_in_the_queue(client, uow, clock):
    w = world(uow, clock)
    with uow() as s:
        p = customers.create_individual(s, clock, SYSTEM, given_name="Ann", family_name="Lee")
        ann = customers.create_customer(s, clock, SYSTEM, party_id=p.id)
        identifier_service.assign(s, clock, SYSTEM, customer_id=ann.id, kind="email", value="ann@example.com")
    contacts = []
    for who, sender in (("ann", "ann@example.com"), ("edith", "robert.clarke@mail.example")):
        clock.advance(timedelta(minutes=5))
        with uow() as s:
            contacts.append(interactions.record(s, clock, SYSTEM, interactions.Intake(
                channel="email", direction="inbound", occurred_at=clock.now(), text=f"about {who}",
                subject="Something else", identifiers={"email": sender})).contact.id)
    r = client.get(f"{V1}/triage", headers=w["as_sofia"])
    assert r.status_code == 200, r.text
    order = [item["customerId"] for item in r.json() if item.get("customerId") in (w["edith"], ann.id)]
    assert order == [w["edith"], ann.id]  # hers is newer, and first


def test_the_representative_is_copied_on_every_message_when_she_asked(client, uow, clock):
    w = world(uow, clock, needs_age=("copy_representative",), needs_digital=())
    r = client.post(f"{V1}/cases/{w['case']}/replies", headers=w["as_sofia"],
                    json={"text": "Your engineer visit is booked.", "channel": "letter"})
    assert r.status_code == 201, r.text
    [message] = client.get(f"{V1}/cases/{w['case']}/messages", headers=w["as_sofia"]).json()
    assert message["copiedTo"] == ["Robert Clarke"]
    assert "COPY_REPRESENTATIVE" in [x["code"] for x in message["reasons"]]


def test_merging_two_of_her_cases_leaves_one_proactive_task(client, uow, clock):
    w = world(uow, clock)
    with uow() as s:
        second = cases.open_new(s, clock, SYSTEM, customer_id=w["edith"], kind="fault", owner_id=w["sofia"],
                                title="Broadband drops", opened_via="phone").id
    assert len(open_tasks(uow, second)) == 1
    r = client.post(f"{V1}/cases/{second}/merge", headers=w["as_sofia"],
                    json={"intoId": w["case"], "reason": "the same visit caused both"})
    assert r.status_code == 200, r.text
    [task] = open_tasks(uow, w["case"])
    assert task.title.startswith("Proactive contact")
    r = client.post(f"{V1}/cases/{w['case']}/close", headers=w["as_sofia"],
                    json={"outcome": "Both put right", "customerConfirmed": True})
    assert r.status_code == 200, r.text
