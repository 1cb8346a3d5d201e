"""The desk's page of work orders (/work-orders): each with its prerequisites (owner, due date,
status), its visits and the customer's wasted days, and the open subcontractor audits; one work
order's page is linked from its case page. The reads are audited; a subcontractor's people and
strangers do not get in; no inline script or style."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from onethread.access import signin
from onethread.api.deps import SESSION_COOKIE
from onethread.models import AuditEntry
from tests.support.s5_world import V1, field_world, slot, subcontractor


def _page_as(client, container, uow, clock, user_id: str) -> None:
    client.cookies.clear()
    with uow() as s:
        cookie = signin.open_session(s, clock, kind=signin.STAFF, subject_id=user_id, max_age=timedelta(hours=8),
                                     secret=container.secret_key)
    client.cookies.set(SESSION_COOKIE, cookie)


def _history(client, w, clock) -> str:
    """A work order waiting for the network team, then three visits failed for FibreFix's own
    equipment: three wasted days, and an audit for the supplier manager."""
    h = w["h"]
    sub = subcontractor(client, w)
    made = client.post(f"{V1}/work-orders", headers=h["alex"], json={
        "caseId": w["case"], "kind": "installation", "title": "Fibre installation", "subcontractorId": sub,
        "tasks": [{"title": "Network connection at the cabinet", "kind": "prerequisite", "cause": "network_connection",
                   "teamId": w["teams"]["network"], "dueAt": (clock.now() + timedelta(days=3)).isoformat()},
                  {"title": "Install the fibre box"}]})
    assert made.status_code == 201, made.text
    wo = made.json()["id"]
    prerequisite = made.json()["tasks"][0]["id"]
    assert client.post(f"{V1}/work-order-tasks/{prerequisite}/done", headers=h["nina"], json={}).status_code == 200
    for days in (1, 2, 3):
        visit = client.post(f"{V1}/work-orders/{wo}/visits", headers=h["alex"], json=slot(clock, days)).json()["id"]
        assert client.post(f"{V1}/visits/{visit}/dispatch", headers=h["fay"],
                           json={"technicianId": w["ids"]["finn"]}).status_code == 200
        failed = client.post(f"{V1}/visits/{visit}/outcome", headers=h["finn"],
                             json={"outcome": "failed", "cause": "equipment"})
        assert failed.status_code == 200, failed.text
    return wo


def test_the_desk_sees_work_orders_prerequisites_visits_wasted_days_and_audits(client, container, uow, clock):
    w = field_world(uow, clock, vulnerable=False)
    wo = _history(client, w, clock)
    _page_as(client, container, uow, clock, w["ids"]["alex"])

    page = client.get("/work-orders")
    assert page.status_code == 200, page.text
    text = page.text
    assert "Fibre installation" in text and "Edith Clarke" in text and "FibreFix Ltd" in text
    assert "Network connection at the cabinet" in text and "Network team" in text and "Install the fibre box" in text
    assert '<dd class="wasted">3</dd>' in text and text.count("equipment") >= 3
    assert "Open subcontractor audits (1)" in text and "Sam Okafor" in text
    assert "<script" not in text and "style=" not in text
    with uow() as s:
        assert s.scalar(select(func.count()).where(AuditEntry.resource_type == "work_order",
                                                   AuditEntry.actor_id == w["ids"]["alex"],
                                                   AuditEntry.channel == "pages")) == 1

    # The case page links to its work order, whose page links back.
    case = client.get(f"/cases/{w['case']}")
    assert case.status_code == 200 and f'href="/work-orders/{wo}"' in case.text
    one = client.get(f"/work-orders/{wo}")
    assert one.status_code == 200 and f'href="/cases/{w["case"]}"' in one.text and "Wasted days" in one.text
    assert "Open subcontractor audits" not in one.text
    assert client.get(f"/work-orders/{'0' * 26}").status_code == 404
    # filtered by case and by status; an unknown status is refused
    assert "Fibre installation" in client.get("/work-orders", params={"caseId": w["case"]}).text
    assert "No work orders." in client.get("/work-orders", params={"status": "completed"}).text
    assert client.get("/work-orders", params={"status": "lost"}).status_code == 400


def test_subcontractors_and_strangers_do_not_get_in(client, container, uow, clock):
    w = field_world(uow, clock, vulnerable=False)
    wo = _history(client, w, clock)
    _page_as(client, container, uow, clock, w["ids"]["finn"])
    assert client.get("/work-orders").status_code == 403
    assert client.get(f"/work-orders/{wo}").status_code == 403
    client.cookies.clear()
    stranger = client.get("/work-orders", follow_redirects=False, headers={"Accept": "text/html"})
    assert stranger.status_code in (302, 303) and "/login" in stranger.headers["location"]
