"""The lists behind the supervisor view's figures as an API: the same rows as the pages, keyset
paging to the figure's count, declared parameters, supervisors only, audited."""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlsplit

from sqlalchemy import func, select

from onethread.models import AuditEntry
from tests.support.supervisor_figures import figures_on, sign_in, world

API = "/api/v1/reports/cases"


def every_item(client, params: dict) -> list[dict]:
    items, after, pages = [], None, 0
    while True:
        r = client.get(API, params={**params, "limit": 2, **({"after": after} if after else {})})
        assert r.status_code == 200, (params, r.text)
        body = r.json()
        assert body["figure"] == params and len(body["items"]) <= 2
        items += body["items"]
        after = body["nextAfter"]
        pages += 1
        assert pages < 50
        if after is None:
            return items


def test_every_figure_s_list_through_the_api_is_as_long_as_the_figure_and_the_page_s_list(client, uow, clock):
    world(uow, clock)
    sign_in(client, "lee.lead")
    found = figures_on(client.get("/supervisor").text)
    assert len(found) > 30
    with uow() as s:
        before = s.scalar(select(func.count()).select_from(AuditEntry).where(
            AuditEntry.purpose == "supervisor_report", AuditEntry.channel == "api"))
    for href, shown in found:
        params = dict(parse_qsl(urlsplit(href).query))
        items = every_item(client, params)
        assert len(items) == shown, href
        page = client.get(href)
        assert [i["id"] for i in items][:50] == re.findall(r'data-row="([^"]+)"', page.text), href
        for item in items:
            assert item["openedAt"].endswith("+00:00")
            assert (item["caseId"] is None) == (params["figure"] == "triage_waiting")  # triage items have no case
            if params["figure"] in ("first_response", "resolution"):
                assert item["tookSeconds"] >= 0 and item["at"]
    with uow() as s:
        after = s.scalar(select(func.count()).select_from(AuditEntry).where(
            AuditEntry.purpose == "supervisor_report", AuditEntry.channel == "api"))
        kinds = set(s.scalars(select(AuditEntry.resource_type).where(AuditEntry.channel == "api",
                                                                      AuditEntry.purpose == "supervisor_report")))
    assert after > before and kinds == {"case", "triage_item"}


def test_the_api_refuses_what_it_does_not_take_and_anyone_but_a_supervisor(client, uow, clock, token_for):
    w = world(uow, clock)
    lead = token_for("team_lead")
    for params in ({"figure": "past_clock", "colour": "red"}, {"figure": "nope"}, {},
                   {"figure": "harm_open", "severity": "dire"}, {"figure": "team_open", "team": "NOPE"},
                   {"figure": "past_clock", "after": "NOT-A-ROW"}, {"figure": "past_clock", "limit": "0"},
                   {"figure": "age", "bucket": "1", "owner": w["people"]["bo.agent"]}):
        r = client.get(API, params=params, headers=lead)
        assert r.status_code == 400, params
        assert r.json()["@type"] == "Error" and r.json()["message"], params
    assert "colour" in client.get(API, params={"figure": "past_clock", "colour": "red"}, headers=lead).json()["message"]
    r = client.get(API, params={"figure": "triage_waiting", "queue": w["billing"]}, headers=lead)
    assert r.status_code == 200 and len(r.json()["items"]) == 1 and r.json()["items"][0]["caseId"] is None
    assert client.get(API, params={"figure": "past_clock"}, headers=token_for("admin")).status_code == 200
    for role in ("agent", "specialist", "back_office", "store_advisor"):
        assert client.get(API, params={"figure": "past_clock"}, headers=token_for(role)).status_code == 403, role
    client.cookies.clear()
    assert client.get(API, params={"figure": "past_clock"}).status_code == 401
