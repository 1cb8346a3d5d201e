"""The desk's work orders in a browser: from Mrs Clarke's case, Alex follows the case's work order
to its page, with the prerequisite the network team owes, the three failed visits and her wasted days,
and the open audit of FibreFix on the list of all work orders."""

from __future__ import annotations

from datetime import timedelta

from onethread.access import service as access
from onethread.access import staff_accounts
from onethread.access.rules import SYSTEM
from onethread.fieldservice import service as field
from onethread.models import StaffUser
from tests.browser.steps import sign_in
from tests.support.s5_world import field_world

PASSWORD = "correct horse battery"


def test_the_desk_follows_a_case_to_its_work_order(page, uow, clock, shot):
    w = field_world(uow, clock)
    with uow() as s:
        staff_accounts.reset_password(s, clock, SYSTEM, w["ids"]["alex"], PASSWORD)
        alex = access.staff_principal(s.get(StaffUser, w["ids"]["alex"]))
        fay = access.staff_principal(s.get(StaffUser, w["ids"]["fay"]))
        fibrefix = field.create_subcontractor(s, clock, name="FibreFix Ltd", team_id=w["teams"]["fibrefix"],
                                              supplier_manager_id=w["ids"]["sam"])
        wo = field.create_work_order(s, clock, alex, case_id=w["case"], kind="installation",
                                     title="Fibre 150 installation", subcontractor_id=fibrefix.id)
        for days in (1, 2, 3):
            start = clock.now() + timedelta(days=days)
            visit = field.book_visit(s, clock, alex, wo.id, slot_start=start, slot_end=start + timedelta(hours=4))
            field.dispatch_visit(s, clock, fay, visit.id, technician_id=w["ids"]["finn"])
            field.record_outcome(s, clock, fay, visit.id, outcome="failed", cause="equipment")
        field.add_task(s, clock, alex, wo.id, title="Network connection at the cabinet", kind="prerequisite",
                       cause="network_connection", team_id=w["teams"]["network"],
                       due_at=clock.now() + timedelta(days=9))

    sign_in(page, "alex.agent", PASSWORD)
    page.goto(f"/cases/{w['case']}")
    page.get_by_role("link", name="Fibre 150 installation").click()
    page.wait_for_url(f"**/work-orders/{wo.id}")
    text = page.locator("main").inner_text()
    assert "Network connection at the cabinet" in text and "Network team" in text
    assert page.locator(".wasted").inner_text() == "3"
    shot(page, "field-desk-work-order")
    page.get_by_role("link", name="All work orders").click()
    page.wait_for_url("**/work-orders")
    assert "Open subcontractor audits" in page.locator("main").inner_text()
