"""The agent desktop through the real app (TestClient), on SQLite and PostgreSQL: sign-in returns
to the page asked for, roles are checked, search finds a customer by any identifier, the 360 and
the case view show what a person needs, and every refused form says why next to its field, with
a 4xx status, having written nothing."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import event, func, select

from onethread.access import service as access
from onethread.access.rules import SYSTEM
from onethread.cases import items_service
from onethread.cases import service as cases
from onethread.customers import identifier_service
from onethread.interactions import service as interactions
from onethread.interactions import session_service
from onethread.models import Case, CaseEvent, Commitment, Contact, Escalation, Handover, Harm, SessionHop, Task
from tests.support.pages_agent import BROWSER, count, sign_in, world

# --- signing in, roles ---------------------------------------------------------------------

def test_a_page_asked_for_before_signing_in_is_where_sign_in_leads(client, uow, clock):
    w = world(uow, clock)
    r = client.get(f"/customers/{w['edith']}", headers=BROWSER, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == f"/login?next=/customers/{w['edith']}"
    form = client.get(r.headers["location"])
    assert f'name="next" value="/customers/{w["edith"]}"' in form.text
    signed = sign_in(client, next_url=f"/customers/{w['edith']}")
    assert signed.status_code == 303 and signed.headers["location"] == f"/customers/{w['edith']}"
    assert "Edith Clarke" in client.get(signed.headers["location"]).text
    # The query string survives the detour.
    client.post("/logout")
    r = client.get("/search", params={"q": "07700 900123"}, headers=BROWSER, follow_redirects=False)
    assert r.headers["location"] == "/login?next=/search%3Fq%3D07700%2B900123"
    assert sign_in(client, next_url="/search?q=07700+900123").headers["location"] == "/search?q=07700+900123"


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/x", "/\\evil.example", "javascript:x",
                                    "/logout", ""])
def test_sign_in_never_sends_anyone_off_the_site(client, uow, clock, target):
    world(uow, clock)
    assert sign_in(client, next_url=target).headers["location"] == "/"


def test_a_field_subcontractor_gets_a_readable_403_on_the_desktop(client, uow, clock):
    w = world(uow, clock)
    sign_in(client, "finn.field")
    for path in (f"/customers/{w['edith']}", f"/cases/{w['case']}", "/search?q=Edith", "/match-queue"):
        r = client.get(path)
        assert r.status_code == 403, path
        assert "text/html" in r.headers["content-type"]
        assert "a field subcontractor may not open this page" in r.text
        assert "Edith" not in r.text
    r = client.post(f"/cases/{w['case']}/reply", data={"text": "hello", "channel": "email"})
    assert r.status_code == 403
    assert count(uow, Contact, direction="outbound") == 0


def test_a_form_posted_from_another_site_is_refused(client, uow, clock):
    w = world(uow, clock)
    sign_in(client)
    r = client.post(f"/cases/{w['case']}/reply", data={"text": "hello", "channel": "email"},
                    headers={"Origin": "https://evil.example"})
    assert r.status_code == 403 and "another site" in r.text
    assert count(uow, Contact, direction="outbound") == 0


# --- search and the match queue ------------------------------------------------------------

def _found(text: str) -> list[str]:
    return re.findall(r'href="/customers/([0-9A-Z]+)">', text)


def test_search_finds_a_customer_by_any_identifier_or_name(client, uow, clock):
    w = world(uow, clock)
    sign_in(client)
    for q in ("07700 900123", "+44 7700 900123", "+447700900123", "(07700) 900-123", "EDITH@example.org",
              "acc-777001", "ACC-777001", "8944 1000 0000 0004 044", "49-015420-323751-8", "x:@Edith_C",
              "twitter:edith_c", "@edith_c", "edith clarke", "CLARKE"):
        r = client.get("/search", params={"q": q})
        assert r.status_code == 200, q
        assert w["edith"] in _found(r.text), q
    assert "Phone number +447700900123" in client.get("/search", params={"q": "07700 900123"}).text
    assert "SIM (ICCID) 8944100000000004044" in client.get("/search", params={"q": "8944100000000004044"}).text
    assert "Device (IMEI) 490154203237518" in client.get("/search", params={"q": "490154203237518"}).text
    both = client.get("/search", params={"q": "clarke"}).text
    assert set(_found(both)) == {w["edith"], w["son"]}
    assert _found(client.get("/search", params={"q": "07700 900999"}).text) == []


def test_a_number_that_moved_on_is_never_shown_against_its_former_holder(client, uow, clock):
    w = world(uow, clock)
    with uow() as s:
        holding = identifier_service.holdings_of(s, w["edith"], at=clock.now())
        phone = next(h for h, ident in holding if ident.kind == "msisdn")
        identifier_service.end_holding(s, clock, SYSTEM, phone.id, at=clock.now() - timedelta(days=1))
    sign_in(client)
    r = client.get("/search", params={"q": "07700 900123"})
    assert _found(r.text) == []
    assert "nobody holds it now" in r.text


def test_an_empty_search_says_what_to_type_next_to_the_box(client, uow, clock):
    world(uow, clock)
    sign_in(client)
    r = client.get("/search", params={"q": "   "})
    assert r.status_code == 400
    assert 'id="q-error"' in r.text and "type a phone number" in r.text
    assert 'aria-describedby="q-error"' in r.text


def test_the_match_queue_links_and_dismisses_with_errors_next_to_the_field(client, uow, clock):
    w = world(uow, clock)
    with uow() as s:
        first = interactions.record(s, clock, SYSTEM, interactions.Intake(
            channel="email", direction="inbound", occurred_at=clock.now(), text="Is my bill right?",
            identifiers={"email": "unknown@example.org"}), region="GB").match_item.id
        second = interactions.record(s, clock, SYSTEM, interactions.Intake(
            channel="email", direction="inbound", occurred_at=clock.now(), text="buy cheap watches",
            identifiers={"email": "spam@example.org"}), region="GB").match_item.id
    sign_in(client)
    page = client.get("/match-queue")
    assert page.status_code == 200 and "2 waiting" in page.text and "Is my bill right?" in page.text
    assert "</a>: 2 contacts waiting" in client.get("/search").text

    refused = client.post(f"/match-queue/{second}/dismiss", data={"reason": " "})
    assert refused.status_code == 400
    assert f'id="why-{second}-error"' in refused.text and "say why it is dismissed" in refused.text
    missing = client.post(f"/match-queue/{first}/link", data={"customerId": ""})
    assert missing.status_code == 400 and f'id="cust-{first}-error"' in missing.text
    assert count(uow, Contact, match_status="queued") == 2

    linked = client.post(f"/match-queue/{first}/link", data={"customerId": w["edith"], "addIdentifiers": "1"},
                         follow_redirects=False)
    assert linked.status_code == 303 and linked.headers["location"] == "/match-queue?done=linked"
    dismissed = client.post(f"/match-queue/{second}/dismiss", data={"reason": "spam"}, follow_redirects=True)
    assert "The contact was dismissed" in dismissed.text and "Nothing waiting" in dismissed.text
    assert client.post(f"/match-queue/{second}/dismiss", data={"reason": "again"}).status_code == 409
    r = client.get("/search", params={"q": "unknown@example.org"})
    assert w["edith"] in _found(r.text)  # the identifier was recorded when linking


# --- the customer 360 ----------------------------------------------------------------------

def test_the_360_shows_who_they_are_what_they_have_what_is_open_and_the_timeline(client, uow, clock):
    w = world(uow, clock)
    sign_in(client)
    r = client.get(f"/customers/{w['edith']}")
    assert r.status_code == 200
    text = r.text
    assert "<h1>Edith Clarke</h1>" in text
    assert "14 years, 9 months" in text  # since 1 June 2011, on 2 March 2026
    assert "GBP 12.50" in text and "Clarke family" in text and "GBP 42.50" in text  # her, and the household
    assert "Tom Clarke" in text and "may: message owner, view cases" in text
    # vulnerability: what helps, in need-to-know wording; the note only on request
    assert "not at ease with online channels" in text and "phone calls, letters" in text
    assert "<summary>Recorded note (need to know only)</summary>" in text
    # products with their lifecycle
    assert "Old tablet SIM" in text and "terminated" in text and "via store: removed at renewal" in text
    # the open case with its owner
    assert f'href="/cases/{w["case"]}">Landline dead for a week</a>' in text and "Ann Agent" in text
    # the timeline, newest first: the case opened from her call, and the call itself
    assert "Phone call from the customer" in text and "Fault case opened: Landline dead for a week" in text


def test_the_timeline_filters_by_channel_and_pages_back_without_gaps_or_repeats(client, uow, clock):
    w = world(uow, clock)
    with uow() as s:
        for k in range(30):
            clock.advance(timedelta(minutes=5))
            interactions.record(s, clock, SYSTEM, interactions.Intake(
                channel="email" if k % 3 else "letter", direction="inbound", occurred_at=clock.now(),
                subject=f"message {k:02d}", customer_id=w["edith"]), region="GB")
    sign_in(client)
    seen, url = [], f"/customers/{w['edith']}?channel=email"
    while url:
        page = client.get(url)
        assert page.status_code == 200
        seen += re.findall(r"message (\d\d)", page.text)
        older = re.search(r'<a href="([^"]+)" rel="next">Older entries</a>', page.text)
        url = older.group(1).replace("&amp;", "&") if older else None
    assert seen == [f"{k:02d}" for k in reversed(range(30)) if k % 3]  # 20 e-mails, newest first, two pages
    letters = client.get(f"/customers/{w['edith']}", params={"channel": "letter"}).text
    assert set(re.findall(r"message (\d\d)", letters)) == {f"{k:02d}" for k in range(30) if not k % 3}
    broken = client.get(f"/customers/{w['edith']}", params={"cursor": "not-a-cursor"})
    assert broken.status_code == 200 and "showing the newest entries" in broken.text


def test_the_360_costs_the_same_number_of_queries_however_long_the_history(client, uow, clock, container):
    w = world(uow, clock)
    sign_in(client)
    statements: list[str] = []

    def seen(conn, cursor, statement, *args):
        statements.append(statement)

    def measure() -> int:
        statements.clear()
        event.listen(container.engine, "before_cursor_execute", seen)
        try:
            assert client.get(f"/customers/{w['edith']}").status_code == 200
        finally:
            event.remove(container.engine, "before_cursor_execute", seen)
        return len(statements)

    few = measure()
    with uow() as s:
        for k in range(120):
            interactions.record(s, clock, SYSTEM, interactions.Intake(
                channel="phone", direction="inbound", occurred_at=clock.now() + timedelta(seconds=k), kind="call",
                customer_id=w["edith"], text=f"call {k}"), region="GB")
            if k % 20 == 0:
                items_service.add_commitment(s, clock, SYSTEM, w["case"], text=f"call back {k}",
                                             due_at=clock.now() + timedelta(days=3), made_via="phone")
    assert measure() == few


def test_an_unknown_customer_or_case_is_a_readable_404(client, uow, clock):
    world(uow, clock)
    sign_in(client)
    for path in ("/customers/NOPE", "/cases/NOPE"):
        r = client.get(path)
        assert r.status_code == 404 and "Not found" in r.text


# --- the case view and its actions ---------------------------------------------------------

def test_the_case_view_shows_the_brief_owner_clocks_and_items(client, uow, clock):
    w = world(uow, clock)
    with uow() as s:
        items_service.add_harm(s, clock, SYSTEM, w["case"], kind="no_service", description="no phone for a week",
                               severity="medium")
    sign_in(client)
    r = client.get(f"/cases/{w['case']}")
    assert r.status_code == 200
    text = r.text
    assert "The story so far" in text and "Edith Clarke: Landline dead for a week" in text
    assert "My landline has been dead for a week." in text  # in the customer's words
    assert "What the customer sees" in text and "is looked after by Ann Agent" in text
    assert re.search(r'class="owner"><strong>Ann Agent</strong>', text)
    # a vulnerable customer without service: the harm is raised to urgent
    assert "no phone for a week" in text and 'sev-urgent' in text
    # clocks in business time: first response for a fault is 4 working hours (Monday 09:00 -> 13:00)
    assert re.search(r"first response.*?\(business time\).*?4 h left", text, re.S)
    assert "Closing is refused while: open harm: no phone for a week" in text


def test_a_reply_is_posted_then_redirected_and_lands_on_the_case(client, uow, clock):
    w = world(uow, clock)
    sign_in(client)
    r = client.post(f"/cases/{w['case']}/reply", data={"text": "An engineer will call you today.",
                                                      "channel": "letter"}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == f"/cases/{w['case']}?done=reply#reply"
    page = client.get(r.headers["location"])
    assert "Your reply is on the case" in page.text and "An engineer will call you today." in page.text
    with uow() as s:
        out = s.scalars(select(Contact).where(Contact.case_id == w["case"], Contact.direction == "outbound")).one()
        assert (out.channel, out.actor_name) == ("letter", "Ann Agent")


@pytest.mark.parametrize(("path", "data", "field", "message", "status"), [
    ("reply", {"text": "  ", "channel": "email"}, "reply-text", "the reply is empty", 400),
    ("reply", {"text": "hello", "channel": "pigeon"}, "reply-channel", "reply by one of", 400),
    ("contacts", {"channel": "phone", "direction": "inbound", "text": ""}, "contact-text", "say what was said", 400),
    ("contacts", {"channel": "fax", "direction": "inbound", "text": "x"}, "contact-channel", "channel must be", 400),
    ("commitments", {"text": "call back", "dueAt": "2026-03-01T10:00", "madeVia": "phone"}, "commitment-dueAt",
     "dueAt must be in the future", 400),
    ("commitments", {"text": "call back", "dueAt": "next week", "madeVia": "phone"}, "commitment-dueAt",
     "is not a date and time", 400),
    ("commitments", {"text": "", "dueAt": "2026-03-09T10:00", "madeVia": "phone"}, "commitment-text",
     "say what was promised", 400),
    ("harms", {"kind": "", "description": "cold", "severity": "high"}, "harm-kind", "kind must be one of", 400),
    ("harms", {"kind": "no_heating", "description": " ", "severity": "high"}, "harm-description", "describe the harm",
     400),
    ("tasks", {"title": "visit", "assigneeId": "", "dueAt": "2026-03-09T10:00"}, "task-assigneeId", "choose who", 400),
    ("tasks", {"title": "visit", "assigneeId": "NOBODY", "dueAt": "2026-03-09T10:00"}, "task-assigneeId",
     "no active staff member", 404),
    ("handover", {"toOwnerId": "", "reason": "billing"}, "handover-toOwnerId", "choose who takes the case", 400),
    ("handover", {"toOwnerId": "BOB", "reason": " "}, "handover-reason", "say why the case is handed over", 400),
    ("escalate", {"reason": ""}, "escalate-reason", "say why the case needs escalating", 400),
    ("close", {"outcome": "", "customerConfirmed": "1"}, "close-outcome", "record the outcome", 400),
])
def test_a_refused_form_says_why_next_to_the_field_and_writes_nothing(client, uow, clock, path, data, field,
                                                                       message, status):
    w = world(uow, clock)
    data = {k: (w["bob"] if v == "BOB" else v) for k, v in data.items()}
    before = {m.__name__: count(uow, m) for m in (Contact, CaseEvent, Commitment, Harm, Task, Handover, Escalation)}
    sign_in(client)
    r = client.post(f"/cases/{w['case']}/{path}", data=data, follow_redirects=False)
    assert r.status_code == status, r.text[:300]
    assert "text/html" in r.headers["content-type"]
    error = re.search(rf'<p class="field-error" id="{field}-error" role="alert">([^<]*)</p>', r.text)
    assert error and message in error.group(1), (field, message)
    assert f'aria-describedby="{field}-error"' in r.text
    # what was typed is still there to correct
    typed = [v for k, v in data.items() if v.strip() and k in ("text", "description", "title", "reason", "outcome",
                                                                "dueAt")]
    assert all(v in r.text for v in typed)
    after = {m.__name__: count(uow, m) for m in (Contact, CaseEvent, Commitment, Harm, Task, Handover, Escalation)}
    assert after == before


def test_close_is_refused_naming_what_is_open_then_allowed_once_it_is_done(client, uow, clock):
    w = world(uow, clock)
    with uow() as s:
        items_service.add_commitment(s, clock, SYSTEM, w["case"], text="send an engineer by Friday",
                                     due_at=clock.now() + timedelta(days=4), made_via="phone")
    sign_in(client)
    r = client.post(f"/cases/{w['case']}/close", data={"outcome": "fixed", "customerConfirmed": "1"})
    assert r.status_code == 409
    error = re.search(r'<p class="form-error" id="close-error" role="alert">([^<]*)</p>', r.text).group(1)
    assert "open commitment: send an engineer by Friday" in error
    assert "is unanswered" in error  # her call waits for a reply
    with uow() as s:
        assert s.get(Case, w["case"]).status == "open"
    commitment = re.search(rf'/cases/{w["case"]}/commitments/([0-9A-Z]+)/kept', r.text).group(1)
    assert client.post(f"/cases/{w['case']}/commitments/{commitment}/kept", follow_redirects=False).status_code == 303
    assert client.post(f"/cases/{w['case']}/reply", data={"text": "Fixed: the line works again.",
                                                         "channel": "phone"}).status_code == 200
    done = client.post(f"/cases/{w['case']}/close", data={"outcome": "line repaired", "customerConfirmed": "1"},
                       follow_redirects=False)
    assert done.status_code == 303
    page = client.get(done.headers["location"]).text
    assert "The case is closed." in page and "line repaired" in page and 'id="actions"' not in page


def test_items_are_added_and_closed_from_the_page(client, uow, clock):
    w = world(uow, clock)
    sign_in(client)
    assert client.post(f"/cases/{w['case']}/contacts", data={"channel": "letter", "direction": "inbound",
                                                            "text": "Letter: still no dial tone."},
                       follow_redirects=False).status_code == 303
    assert client.post(f"/cases/{w['case']}/commitments", data={"text": "engineer visit", "madeVia": "phone",
                                                               "dueAt": "2026-03-06T12:00"},
                       follow_redirects=False).status_code == 303
    assert client.post(f"/cases/{w['case']}/harms", data={"kind": "no_service", "description": "cannot call out",
                                                         "severity": "low"}, follow_redirects=False).status_code == 303
    assert client.post(f"/cases/{w['case']}/tasks", data={"title": "check the exchange", "assigneeId": w["bob"],
                                                         "dueAt": "2026-03-04T09:00"},
                       follow_redirects=False).status_code == 303
    page = client.get(f"/cases/{w['case']}").text
    assert "Letter: still no dial tone." in page and "engineer visit" in page and "cannot call out" in page
    assert "check the exchange" in page and "(for Bob Baker" in page
    with uow() as s:
        letter = s.scalars(select(Contact).where(Contact.channel == "letter")).one()
        assert letter.case_id == w["case"] and letter.customer_id == w["edith"]
        task = s.scalars(select(Task)).one()
        harm = s.scalars(select(Harm)).one()
    assert client.post(f"/cases/{w['case']}/tasks/{task.id}/done", follow_redirects=False).status_code == 303
    refused = client.post(f"/cases/{w['case']}/harms/{harm.id}/resolve", data={"resolution": ""})
    assert refused.status_code == 400 and "say how the harm was put right" in refused.text
    assert client.post(f"/cases/{w['case']}/harms/{harm.id}/resolve", data={"resolution": "line repaired"},
                       follow_redirects=False).status_code == 303
    with uow() as s:
        assert s.get(Task, task.id).status == "done" and s.get(Harm, harm.id).resolved_at is not None


def test_a_hand_over_is_offered_then_accepted_by_the_receiver(client, uow, clock):
    w = world(uow, clock)
    sign_in(client)
    r = client.post(f"/cases/{w['case']}/handover", data={"toOwnerId": w["bob"], "reason": "Bob knows the exchange"},
                    follow_redirects=False)
    assert r.status_code == 303
    page = client.get(f"/cases/{w['case']}").text
    assert "Offered to <strong>Bob Baker</strong>" in page and "Accept the case" not in page  # not Ann's to accept
    with uow() as s:
        assert s.get(Case, w["case"]).owner_id == w["ann"]
        pending = s.scalars(select(Handover)).one()
    client.post("/logout")
    sign_in(client, "bob.agent")
    page = client.get(f"/cases/{w['case']}").text
    assert "Accept the case" in page
    assert client.post(f"/cases/{w['case']}/handover/{pending.id}/accept",
                       follow_redirects=False).status_code == 303
    page = client.get(f"/cases/{w['case']}").text
    assert re.search(r'class="owner"><strong>Bob Baker</strong>', page)
    assert "Ann Agent → Bob Baker" in page and "accepted" in page


def test_escalating_by_hand_goes_up_the_ladder_and_stops_at_the_top(client, uow, clock):
    w = world(uow, clock)
    sign_in(client)
    assert client.post(f"/cases/{w['case']}/escalate", data={"reason": "customer is 89 and has no phone"},
                       follow_redirects=False).status_code == 303
    assert client.post(f"/cases/{w['case']}/escalate", data={"reason": "still nothing after a day"},
                       follow_redirects=False).status_code == 303
    page = client.get(f"/cases/{w['case']}").text
    assert "to <strong>Lee Lead</strong> (level 2)" in page and "to <strong>Hana Head</strong> (level 3)" in page
    top = client.post(f"/cases/{w['case']}/escalate", data={"reason": "again"})
    assert top.status_code == 409 and "nobody higher" in top.text
    with uow() as s:
        assert s.get(Case, w["case"]).escalation_level == 3
        assert s.scalar(select(func.count()).select_from(Escalation)) == 2


def test_a_live_calls_verification_and_transfer_are_visible_and_the_transfer_keeps_them(client, uow, clock):
    w = world(uow, clock)
    with uow() as s:
        ann = access.staff_principal(access.get_user(s, w["ann"]))
        live = session_service.start(s, clock, ann, channel="phone", external_id="CALL-1", customer_id=w["edith"],
                                     staff_id=w["ann"])
        session_service.verify(s, clock, ann, live.id, method="security_questions", level=2,
                               ttl=timedelta(minutes=30))
        call = interactions.record(s, clock, ann, interactions.Intake(
            channel="phone", direction="inbound", occurred_at=clock.now(), kind="call", customer_id=w["edith"],
            session_id=live.id, text="Calling again about the landline."), region="GB").contact
        cases.attach_contact(s, clock, ann, w["case"], call.id)
        session_id = live.id
    sign_in(client)
    page = client.get(f"/cases/{w['case']}").text
    assert "<strong>Verified</strong>: security questions, level 2, by Ann Agent" in page
    refused = client.post(f"/cases/{w['case']}/sessions/{session_id}/transfer", data={"toStaffId": w["bob"],
                                                                                     "reason": ""})
    assert refused.status_code == 400 and 'id="transfer-reason-error"' in refused.text
    assert count(uow, SessionHop) == 0
    moved = client.post(f"/cases/{w['case']}/sessions/{session_id}/transfer",
                        data={"toStaffId": w["bob"], "reason": "line fault specialist",
                              "note": "verified; landline dead a week"}, follow_redirects=False)
    assert moved.status_code == 303
    clock.advance(timedelta(minutes=5))
    client.post("/logout")
    sign_in(client, "bob.agent")
    page = client.get(f"/cases/{w['case']}").text
    assert "transfer from Ann Agent to Bob Baker: line fault specialist" in page
    assert "Held by Bob Baker" in page
    assert "<strong>Verified</strong>: security questions, level 2, by Ann Agent" in page  # kept, not asked again
