"""The technician's page on a phone (390 x 844): Finn signs in, sees his firm's visit at Mrs
Clarke's with the open prerequisite it waits for, takes the visit once the network team has made
the connection, records that it is done, and reports the drilled heating pipe from the doorstep:
the harm lands on her case, urgent (she is vulnerable and without heating). He never sees the
other firm's visit."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from onethread.access import service as access
from onethread.access import staff_accounts
from onethread.access.rules import SYSTEM
from onethread.fieldservice import service as field
from onethread.models import FieldIncident, Harm, StaffUser, Visit
from tests.browser.steps import sign_in
from tests.support.s5_world import field_world

PASSWORD = "correct horse battery"
PHONE = {"width": 390, "height": 844}


def test_a_technician_works_a_visit_from_his_phone(page, uow, clock, shot):
    w = field_world(uow, clock)
    with uow() as s:
        finn = s.scalar(select(StaffUser).where(StaffUser.username == "finn.field"))
        staff_accounts.reset_password(s, clock, SYSTEM, finn.id, PASSWORD)
        alex = access.staff_principal(s.get(StaffUser, w["ids"]["alex"]))
        fibrefix = field.create_subcontractor(s, clock, name="FibreFix Ltd", team_id=w["teams"]["fibrefix"],
                                              supplier_manager_id=w["ids"]["sam"])
        cableco = field.create_subcontractor(s, clock, name="CableCo", team_id=w["teams"]["other"],
                                             supplier_manager_id=w["ids"]["sam"])
        wo = field.create_work_order(s, clock, alex, case_id=w["case"], kind="installation",
                                     title="Fibre 150 installation", subcontractor_id=fibrefix.id)
        other = field.create_work_order(s, clock, alex, case_id=w["case"], kind="repair",
                                        title="Cable repair elsewhere", subcontractor_id=cableco.id)
        start = clock.now() + timedelta(hours=3)
        visit = field.book_visit(s, clock, alex, wo.id, slot_start=start, slot_end=start + timedelta(hours=3)).id
        field.book_visit(s, clock, alex, other.id, slot_start=start, slot_end=start + timedelta(hours=3))
        prereq = field.add_task(s, clock, alex, wo.id, title="Network connection at the cabinet",
                                kind="prerequisite", cause="network_connection", team_id=w["teams"]["network"],
                                due_at=clock.now() + timedelta(hours=2)).id

    page.set_viewport_size(PHONE)
    sign_in(page, "finn.field", PASSWORD)
    page.goto("/field")
    card = page.locator(f"#v-{visit}")
    assert "Edith Clarke" in card.inner_text() and "Network connection at the cabinet" in card.inner_text()
    assert "Cable repair elsewhere" not in page.content()
    # nothing on the page is wider than the phone
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    shot(page, "field-phone-waiting")

    # Taking the visit is refused while the connection is open, and says by whom it is owed.
    card.get_by_role("button", name="Take this visit").click()
    assert "Network team" in page.locator(f"#v-{visit} .error").inner_text()
    with uow() as s:
        field.complete_task(s, clock, access.staff_principal(s.get(StaffUser, w["ids"]["nina"])), prereq)
    page.goto("/field")
    page.locator(f"#v-{visit}").get_by_role("button", name="Take this visit").click()
    page.wait_for_url("**/field?done=dispatched*")

    card = page.locator(f"#v-{visit}")
    card.get_by_text("Report an incident").click()
    card.get_by_label("The customer is left with").select_option("no_heating")
    card.get_by_label("Describe it").fill("Drilled into a heating pipe behind the wall; water off")
    shot(page, "field-phone-incident")
    card.get_by_role("button", name="Report incident").click()
    page.wait_for_url("**/field?done=incident*")
    assert "case owner is told" in page.locator(".notice").inner_text()

    page.locator(f"#v-{visit}").get_by_label("Done").check()
    page.locator(f"#v-{visit}").get_by_role("button", name="Record outcome").click()
    page.wait_for_url("**/field?done=outcome*")
    with uow() as s:
        assert s.get(Visit, visit).status == "done"
        incident = s.scalar(select(FieldIncident).where(FieldIncident.visit_id == visit))
        harm = s.get(Harm, incident.harm_id)
        assert (harm.severity, harm.case_id) == ("urgent", w["case"])
        assert harm.reported_by == "Finn Walsh (field subcontractor)"
