""""Not this case" on the case page (issue 15): a contact triage put on a case says why it is there,
and one form moves it onto another open case of the customer or back to a triage queue, the
correction recorded with who and why; a refused move says why next to the field and moves nothing."""

from __future__ import annotations

from sqlalchemy import select

from onethread.access.rules import SYSTEM
from onethread.cases import service as cases
from onethread.interactions import service as interactions
from onethread.models import CaseEvent, Contact, TriageItem
from tests.support.pages_agent import BROWSER, sign_in, world


def test_a_joined_contact_shows_why_and_is_moved_with_one_form(client, uow, clock):
    w = world(uow, clock)
    with uow() as s:
        bill = cases.open_new(s, clock, SYSTEM, customer_id=w["edith"], kind="billing_dispute", title="Wrong bill",
                              opened_via="phone", owner_id=w["ann"]).id
        mail = interactions.record(s, clock, SYSTEM, interactions.Intake(
            channel="email", direction="inbound", occurred_at=clock.now(), subject=f"case {w['case']}",
            text="I was charged twice", identifiers={"email": "edith@example.org"})).contact.id
    sign_in(client)
    page = client.get(f"/cases/{w['case']}", headers=BROWSER)
    assert f"Why on this case: names case {w['case']}" in page.text
    assert f'action="/cases/{w["case"]}/contacts/{mail}/not-this-case"' in page.text
    assert f"case {bill}: Wrong bill" in page.text  # the other open case is offered as the target

    path = f"/cases/{w['case']}/contacts/{mail}/not-this-case"
    refused = client.post(path, data={"reason": " ", "toCaseId": bill}, headers=BROWSER)
    assert refused.status_code == 400 and "say why it is not this case" in refused.text
    with uow() as s:
        assert s.get(Contact, mail).case_id == w["case"]  # nothing moved

    r = client.post(path, data={"reason": "she means the bill", "toCaseId": bill}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == f"/cases/{w['case']}?done=moved#contacts"
    assert "The contact is moved off this case" in client.get(r.headers["location"]).text
    with uow() as s:
        moved = s.get(Contact, mail)
        assert moved.case_id == bill and "she means the bill" in moved.case_reason
        log = s.scalar(select(CaseEvent).where(CaseEvent.case_id == w["case"], CaseEvent.kind == "contact_moved"))
        assert log.actor_id == w["ann"] and log.data["toCaseId"] == bill
        assert log.data["wasReason"] == f"names case {w['case']}"
    assert "Why on this case: moved here from case" in client.get(f"/cases/{bill}").text

    # not that one either: back to a triage queue, with a running clock
    r = client.post(f"/cases/{bill}/contacts/{mail}/not-this-case", data={"reason": "a new problem"},
                    follow_redirects=False)
    assert r.status_code == 303
    with uow() as s:
        assert s.get(Contact, mail).case_id is None
        item = s.scalar(select(TriageItem).where(TriageItem.contact_id == mail, TriageItem.done_at.is_(None)))
        assert item is not None and "a new problem" in item.reason
    # the contact is no longer on that case: the form is refused
    assert client.post(f"/cases/{bill}/contacts/{mail}/not-this-case", data={"reason": "x"},
                       headers=BROWSER).status_code == 404
