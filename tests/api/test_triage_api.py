"""Triage (issue 15, item 1): an inbound contact that threads onto no case either joins the
customer's open case when onethread can tell which (with the reason, and a "not this case"
correction), or waits in a team's queue with a first-response clock that escalates."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select

from onethread.access.rules import SYSTEM
from onethread.cases import service as cases
from onethread.cases import triage_sweep
from onethread.customers import identifier_service
from onethread.customers import service as customers
from onethread.interactions import service as interactions
from onethread.interactions import session_service
from onethread.models import CaseEvent, Contact
from tests.support.sessions_api import make_customer, make_staff
from tests.support.triage_api import customer_with_email, email, item_of, open_case
from tests.tmf_schema import assert_tmf_error

T = "/api/v1/triage"


def test_an_unthreaded_email_waits_in_the_team_queue_with_a_business_hours_clock(client, uow, clock):
    _, team, lead_hdr = make_staff(uow, clock, "lee.lead", "Lee Carter", "team_lead", "Contact centre")
    cid = customer_with_email(uow, clock)
    clock.set(datetime(2026, 3, 6, 15, 0, tzinfo=UTC))  # a Friday, two working hours before closing
    contact_id = email(uow, clock, "ann@example.com", subject="Broadband")
    with uow() as s:
        assert s.get(Contact, contact_id).case_id is None
    r = client.get(T, headers=lead_hdr)
    assert r.status_code == 200, r.text and r.headers["X-Total-Count"] == "1"
    [item] = r.json()
    assert item["contact"]["id"] == contact_id and item["customerId"] == cid and item["teamId"] == team
    assert item["rule"] == "everything else"
    assert item["reason"] == "no open case of the customer could be told from the contact"
    # four working hours: two on Friday, two on Monday morning (09:00 London is 09:00 UTC in March)
    assert item["dueAt"] == "2026-03-09T11:00:00+00:00"
    assert item["assignedTo"] is None  # the lead is not a worker of the queue; nobody else is there
    assert client.get(T, params={"colour": "red"}, headers=lead_hdr).status_code == 400


def test_the_first_response_clock_escalates_to_the_lead_then_the_head_at_its_due_time(client, uow, clock):
    lead, _, hdr = make_staff(uow, clock, "lee.lead", "Lee Carter", "team_lead", "Contact centre")
    head, _, _ = make_staff(uow, clock, "hana.head", "Hana Novak", "team_lead", "Customer relations",
                            team_kind="customer_relations")
    with uow() as s:
        from onethread.models import Team
        for team in s.scalars(select(Team)):
            team.lead_id = lead if team.name == "Contact centre" else head
    cid = customer_with_email(uow, clock)
    contact_id = email(uow, clock, "ann@example.com")
    clock.advance(timedelta(hours=3, minutes=59))
    with uow() as s:
        assert triage_sweep.sweep(s, clock) == 0
    clock.advance(timedelta(days=1))
    with uow() as s:
        assert triage_sweep.sweep(s, clock) == 1
    item = item_of(uow, contact_id)
    assert (item.escalation_level, item.escalated_to) == (1, lead)
    assert item.due_at > clock.now()  # restarted at the reminder cadence: still running
    entries = client.get(f"/api/v1/customers/{cid}/timeline", params={"view": "all"}, headers=hdr).json()["entries"]
    escalated = [e for e in entries if e["title"].startswith("Waiting email contact escalated")]
    assert len(escalated) == 1 and "Lee Carter" in escalated[0]["title"]
    assert "2026-03-02 13:00 UTC" in escalated[0]["title"]  # its due time, not the sweep's
    clock.advance(timedelta(days=20))
    with uow() as s:
        assert triage_sweep.sweep(s, clock) >= 1
    assert item_of(uow, contact_id).escalated_to == head


def test_a_vulnerable_customer_and_a_letter_go_to_customer_relations(client, uow, clock):
    _, cc, _ = make_staff(uow, clock, "jo.agent", "Jo Reid", "agent", "Contact centre")
    _, cr, _ = make_staff(uow, clock, "sofia", "Sofia Lind", "specialist", "Customer relations",
                          team_kind="customer_relations")
    cid = customer_with_email(uow, clock)
    with uow() as s:
        customers.record_vulnerability(s, clock, SYSTEM, customer_id=cid, kind="bereavement", consent_given=True,
                                       review_on=date(2026, 9, 1))
    vulnerable = email(uow, clock, "ann@example.com")
    assert (item_of(uow, vulnerable).team_id, item_of(uow, vulnerable).rule) == (cr, "vulnerable customers")
    bob = make_customer(uow, clock, "Bob", "Ray")
    with uow() as s:
        letter = interactions.record(s, clock, SYSTEM, interactions.Intake(
            channel="letter", direction="inbound", kind="letter", occurred_at=clock.now(), text="I complain",
            customer_id=bob)).contact.id
    assert item_of(uow, letter).team_id == cr
    stranger = email(uow, clock, "who@example.com")
    item = item_of(uow, stranger)
    assert item.team_id == cc and item.customer_id is None and "match queue" in item.reason


def test_a_case_named_in_the_subject_takes_the_contact_with_the_reason(client, uow, clock):
    agent, _, hdr = make_staff(uow, clock, "jo.agent", "Jo Reid", "agent", "Contact centre")
    cid = customer_with_email(uow, clock)
    case_id = open_case(uow, clock, cid, agent)
    other = open_case(uow, clock, cid, agent, kind="billing_dispute", title="Wrong bill")
    contact_id = email(uow, clock, "ann@example.com", subject=f"Re: case {case_id}", text="still dead")
    with uow() as s:
        contact = s.get(Contact, contact_id)
        assert contact.case_id == case_id and contact.case_reason == f"names case {case_id}"
        linked = s.scalar(select(CaseEvent).where(CaseEvent.case_id == case_id, CaseEvent.kind == "contact_linked"))
        assert linked.data["reason"] == f"names case {case_id}"
    assert item_of(uow, contact_id) is None
    # not this case: moved to the other case, the correction on both
    r = client.post(f"/api/v1/contacts/{contact_id}/not-this-case",
                    json={"reason": "she means the bill", "caseId": other}, headers=hdr)
    assert r.status_code == 200, r.text
    assert r.json()["caseId"] == other and "she means the bill" in r.json()["caseReason"]
    with uow() as s:
        moved = s.scalar(select(CaseEvent).where(CaseEvent.case_id == case_id, CaseEvent.kind == "contact_moved"))
        assert moved.actor_id == agent and moved.data["wasReason"] == f"names case {case_id}"
        assert moved.data["toCaseId"] == other
    # and not that one either: back to a queue with a running clock
    r = client.post(f"/api/v1/contacts/{contact_id}/not-this-case", json={"reason": "a new problem"}, headers=hdr)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["caseId"] is None and body["triageItem"]["doneAt"] is None
    assert "a new problem" in body["triageItem"]["reason"]
    assert_tmf_error(client.post(f"/api/v1/contacts/{contact_id}/not-this-case", json={"reason": "x"},
                                 headers=hdr), 409)
    assert_tmf_error(client.post(f"/api/v1/contacts/{contact_id}/not-this-case", json={"reason": " "},
                                 headers=hdr), 400)


def test_a_reply_to_our_message_and_the_same_product_join_the_case(uow, clock):
    agent, _, _ = make_staff(uow, clock, "jo.agent", "Jo Reid", "agent", "Contact centre")
    cid = customer_with_email(uow, clock)
    with uow() as s:
        product = customers_product(s, clock, cid)
    case_id = open_case(uow, clock, cid, agent, product_id=product)
    with uow() as s:
        ours = interactions.record(s, clock, SYSTEM, interactions.Intake(
            channel="email", direction="outbound", occurred_at=clock.now(), text="we are on it", customer_id=cid,
            channel_message_id="<ours-1@onethread>", extra={"caseId": case_id})).contact
        ours.case_id = case_id
    reply = email(uow, clock, "ann@example.com", in_reply_to="<ours-1@onethread>", thread_id=None)
    same = email(uow, clock, "ann@example.com", text="the router again", extra={"productId": product})
    with uow() as s:
        assert s.get(Contact, reply).case_reason == "a reply to our message on this case"
        assert s.get(Contact, same).case_id == case_id
        assert s.get(Contact, same).case_reason.startswith("about the same product as this case")


def customers_product(s, clock, cid: str) -> str:
    from onethread.inventory import service as inventory
    return inventory.add_product(s, clock, SYSTEM, customer_id=cid, kind="broadband", name="Fibre 500",
                                 currency="GBP").id


def test_s3_a_post_during_a_call_lands_on_the_calls_case(uow, clock):
    agent, _, _ = make_staff(uow, clock, "jo.agent", "Jo Reid", "agent", "Contact centre")
    cid = make_customer(uow, clock, "Priya", "Shah")
    with uow() as s:
        identifier_service.assign(s, clock, SYSTEM, customer_id=cid, kind="social", value="x:@PriyaShah")
        call = session_service.start(s, clock, SYSTEM, channel="phone", external_id="pbx-1", customer_id=cid,
                                     staff_id=agent)
        said = interactions.record(s, clock, SYSTEM, interactions.Intake(
            channel="phone", direction="inbound", kind="call", occurred_at=clock.now(), text="no signal",
            session_id=call.id)).contact
        case = cases.open_new(s, clock, SYSTEM, customer_id=cid, kind="fault", title="No signal",
                              opened_via="phone", owner_id=agent, contact_id=said.id)
        call_id, case_id = call.id, case.id
    clock.advance(timedelta(minutes=5))
    with uow() as s:
        post = interactions.record(s, clock, SYSTEM, interactions.Intake(
            channel="social", direction="inbound", kind="post", occurred_at=clock.now(),
            text="On hold for 40 minutes", identifiers={"social": "x:@priyashah"})).contact
        assert post.session_id == call_id
        post_id = post.id
    with uow() as s:
        post = s.get(Contact, post_id)
        assert post.case_id == case_id
        assert post.case_reason == "made during the customer's phone contact, which is on this case"
    assert item_of(uow, post_id) is None


def test_the_match_queue_has_the_clock_too_and_a_link_or_a_dismissal_moves_it_on(client, uow, clock):
    _, _, hdr = make_staff(uow, clock, "jo.agent", "Jo Reid", "agent", "Contact centre")
    ann = make_customer(uow, clock, "Ann", "Lee")
    a = email(uow, clock, "who@example.com")
    b = email(uow, clock, "spam@example.com")
    queue = {i["contact"]["id"]: i for i in client.get("/api/v1/match-queue", headers=hdr).json()}
    assert item_of(uow, a).due_at == item_of(uow, b).due_at == clock.now() + timedelta(hours=4)
    r = client.post(f"/api/v1/match-queue/{queue[a]['id']}/link", json={"customerId": ann}, headers=hdr)
    assert r.status_code == 200, r.text
    linked = item_of(uow, a)
    assert linked.customer_id == ann and linked.done_at is None  # still waiting for a first response
    r = client.post(f"/api/v1/match-queue/{queue[b]['id']}/dismiss", json={"reason": "spam"}, headers=hdr)
    assert r.status_code == 200, r.text
    assert item_of(uow, b).resolution == "dismissed"
    # routing the linked contact to a case ends its item
    with uow() as s:
        case, _ = cases.route_contact(s, clock, SYSTEM, a, kind="fault", title="Line", owner_id=make_owner(s, clock))
    done = item_of(uow, a)
    assert (done.resolution, done.case_id) == ("case", case.id)


def make_owner(s, clock) -> str:
    from onethread.access import service as access
    return access.create_user(s, clock, username="owner.one", display_name="Owner One", role="agent",
                              password=None).id


def unknown_call(uow, clock, agent: str, lines: int) -> list[str]:
    """A call from a number nobody holds: ``lines`` things said, each in the match queue."""
    with uow() as s:
        call = session_service.start(s, clock, SYSTEM, channel="phone", external_id="pbx-9", staff_id=agent)
        said = []
        for n in range(lines):
            said.append(interactions.record_in_session(s, clock, SYSTEM, interactions.Intake(
                channel="phone", direction="inbound", occurred_at=clock.now(), text=f"line {n}",
                session_id=call.id)).contact.id)
            clock.advance(timedelta(minutes=1))
        return said


def waiting_contacts(client, hdr) -> set[str]:
    return {i["contact"]["id"] for i in client.get(T, headers=hdr).json()}


def test_the_rest_of_a_call_stays_queued_when_its_first_line_is_dismissed(client, uow, clock):
    # Found by a random run of the property test: an unknown caller's second line, covered by the
    # call's item, was left on no case and in no queue once the first line was dismissed as spam.
    agent, _, hdr = make_staff(uow, clock, "jo.agent", "Jo Reid", "agent", "Contact centre")
    first, second = unknown_call(uow, clock, agent, 2)
    assert waiting_contacts(client, hdr) == {first}  # one item for the call
    due = item_of(uow, first).due_at
    queue = {i["contact"]["id"]: i for i in client.get("/api/v1/match-queue", headers=hdr).json()}
    r = client.post(f"/api/v1/match-queue/{queue[first]['id']}/dismiss", json={"reason": "spam"}, headers=hdr)
    assert r.status_code == 200, r.text
    assert waiting_contacts(client, hdr) == {second}
    heir = item_of(uow, second)
    assert heir.due_at == due and heir.assigned_to == agent  # the call's place and clock
    assert "dismissed" in heir.reason


def test_the_rest_of_a_call_from_someone_else_stays_queued_when_the_call_goes_to_a_case(client, uow, clock):
    agent, _, hdr = make_staff(uow, clock, "jo.agent", "Jo Reid", "agent", "Contact centre")
    ann = make_customer(uow, clock, "Ann", "Lee")
    first, second = unknown_call(uow, clock, agent, 2)
    queue = {i["contact"]["id"]: i for i in client.get("/api/v1/match-queue", headers=hdr).json()}
    r = client.post(f"/api/v1/match-queue/{queue[first]['id']}/link", json={"customerId": ann}, headers=hdr)
    assert r.status_code == 200, r.text
    with uow() as s:
        case, _ = cases.route_contact(s, clock, SYSTEM, first, kind="fault", title="Line", owner_id=agent)
    with uow() as s:
        assert s.get(Contact, first).case_id == case.id
        assert s.get(Contact, second).case_id is None  # nobody said whose it is: not put on Ann's case
    assert waiting_contacts(client, hdr) == {second}
    assert "went to case" in item_of(uow, second).reason
