"""Every figure on the supervisor view opens the list of the cases behind it, and the figure is
that list's length; the list pages by key, comes as CSV, is audited, and is for leads only."""

from __future__ import annotations

import csv
import io
import re
from datetime import datetime, timedelta
from html import unescape
from statistics import median

from sqlalchemy import func, select

from onethread.access import service as access
from onethread.cases import service as cases
from onethread.models import AuditEntry, StaffUser
from onethread.web import supervisor
from tests.support.supervisor_figures import FORMULA, TRICKY, figures_on, sign_in, world


def rows_behind(client, href: str, took: list[int] | None = None) -> int:
    """Follow the list and its Next links to the end, counting the rows (and gathering how long
    each took, for the lists of times)."""
    rows, pages, took = 0, 0, took if took is not None else []
    while href:
        r = client.get(href)
        assert r.status_code == 200, (href, r.text)
        rows += r.text.count("<tr data-case=")
        took.extend(int(t) for t in re.findall(r'data-took="(\d+)"', r.text))
        nxt = re.search(r'<a href="([^"]+)" rel="next">', r.text)
        href = unescape(nxt.group(1)) if nxt else None
        pages += 1
        assert pages < 50
    return rows


def test_every_figure_on_the_supervisor_view_is_the_length_of_the_list_it_opens(client, uow, clock, monkeypatch):
    w = world(uow, clock)
    monkeypatch.setattr(supervisor, "PAGE", 2)  # so the lists page
    sign_in(client, "lee.lead")
    page = client.get("/supervisor")
    assert page.status_code == 200
    found = figures_on(page.text)
    kinds = [re.search(r"figure=(\w+)", href).group(1) for href, _ in found]
    assert kinds.count("past_clock") == 1 and kinds.count("age") == 7 and kinds.count("week") == 12
    assert kinds.count("owner_open") == kinds.count("owner_past_clock") == 3
    assert kinds.count("team_open") == 2 and kinds.count("triage_waiting") == 2 and kinds.count("harm_open") == 4
    assert kinds.count("regulator_due") == kinds.count("first_response") == kinds.count("resolution") == 1
    medians = [int(m) for m in re.findall(r'data-median="(\d*)"', page.text) if m]
    assert len(medians) == 2
    for href, shown in found:
        took: list[int] = []
        assert rows_behind(client, href, took) == shown, href
        if "figure=first_response" in href or "figure=resolution" in href:  # the median is of the rows listed
            assert int(median(took)) == medians[0 if "first_response" in href else 1], href
    totals = {k: sum(n for (h, n), kk in zip(found, kinds, strict=True) if kk == k) for k in set(kinds)}
    assert totals["age"] == totals["owner_open"] == len(w["cases"]) - 1  # every open case, the closed one not
    assert totals["past_clock"] >= 3 and totals["owner_past_clock"] == totals["past_clock"]
    assert totals["week"] > totals["past_clock"]  # two clocks on one case, and one dealt with, still count
    assert any(n > 2 for _, n in found)  # at least one list ran to a second page
    assert totals["team_open"] == totals["age"] and totals["triage_waiting"] == 3  # the done item not
    assert totals["regulator_due"] == 2 and totals["resolution"] == 1 and totals["first_response"] >= 1
    harms = {re.search(r"severity=(\w+)", h).group(1): n for h, n in found if "figure=harm_open" in h}
    assert harms == {"urgent": 0, "high": 2, "medium": 0, "low": 1}  # by case; the resolved harm not


def test_a_list_pages_by_key_and_refuses_what_it_does_not_take(client, uow, clock):
    w = world(uow, clock)
    sign_in(client, "lee.lead")
    base = "/supervisor/cases"
    for params in ({"figure": "past_clock", "colour": "red"}, {"figure": "nope"}, {},
                   {"figure": "age", "bucket": "7"}, {"figure": "age", "bucket": "x"}, {"figure": "age"},
                   {"figure": "week", "week": "2020-W01"}, {"figure": "owner_open", "owner": "NOPE"},
                   {"figure": "past_clock", "owner": w["people"]["lee.lead"]},
                   {"figure": "past_clock", "after": "NOT-A-ROW"}, {"figure": "past_clock", "format": "pdf"},
                   {"figure": "harm_open", "severity": "dire"}, {"figure": "harm_open"},
                   {"figure": "team_open", "team": "NOPE"}, {"figure": "triage_waiting"},
                   {"figure": "triage_waiting", "queue": "general", "team": "none"},
                   {"figure": "resolution", "severity": "low"}):
        r = client.get(base, params=params)
        assert r.status_code == 400, params
        assert 'id="err-list" role="alert"' in r.text
    colour = client.get(base, params={"figure": "past_clock", "colour": "red"})
    assert "does not filter on colour" in colour.text
    sign_in(client, "alex.agent")
    assert client.get(base, params={"figure": "past_clock"}).status_code == 403
    assert client.get(base, params={"figure": "past_clock", "format": "csv"}).status_code == 403
    client.cookies.clear()
    assert client.get(base, params={"figure": "past_clock"}).status_code == 401


def test_the_csv_of_a_list_parses_with_a_header_quoting_and_is_an_audited_read(client, uow, clock):
    w = world(uow, clock)
    sign_in(client, "lee.lead")
    found = {re.sub(r"&at=[^&]+", "", h): n for h, n in figures_on(client.get("/supervisor").text)}  # unpinned
    with uow() as s:
        before = s.scalar(select(func.count()).select_from(AuditEntry).where(AuditEntry.purpose == "supervisor_report"))
    owner = w["people"]["bo.agent"]
    for href in (f"/supervisor/cases?figure=owner_open&owner={owner}", "/supervisor/cases?figure=past_clock"):
        r = client.get(href + "&format=csv")
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
        assert "attachment" in r.headers["content-disposition"]
        table = list(csv.reader(io.StringIO(r.text)))
        assert table[0] == ["case_id", "title", "kind", "status", "customer", "owner", "opened_at", "clock",
                            "ran_out_at", "took_seconds"]
        assert len(table) - 1 == found[href]
        for row in table[1:]:
            assert len(row) == 10 and datetime.fromisoformat(row[6]).utcoffset() == timedelta(0)
    every_open = [row for h in found if "figure=age" in h
                  for row in csv.DictReader(io.StringIO(client.get(h + "&format=csv").text))]
    assert len(every_open) == len(w["cases"]) - 1
    tricky = next(row for row in every_open if "Nova" in row["title"])
    assert tricky["title"] == TRICKY  # commas and quotes come back whole
    assert any(row["title"] == "'" + FORMULA for row in every_open)  # a spreadsheet shows it, does not run it
    assert tricky["status"] == "in_progress" and tricky["customer"] == "Ana Silva" and tricky["owner"]
    week = next(h for h, n in found.items() if "figure=week" in h and n >= 2)
    clocks_out = list(csv.DictReader(io.StringIO(client.get(week + "&format=csv").text)))
    assert len(clocks_out) == found[week] and all(row["clock"] and row["ran_out_at"] for row in clocks_out)
    closed = list(csv.DictReader(io.StringIO(client.get("/supervisor/cases?figure=resolution&format=csv").text)))
    assert len(closed) == found["/supervisor/cases?figure=resolution"] == 1
    assert closed[0]["title"] == "Closed one" and closed[0]["took_seconds"] == "0"  # closed as it opened
    with uow() as s:
        after = s.scalar(select(func.count()).select_from(AuditEntry).where(AuditEntry.purpose == "supervisor_report"))
        who = set(s.scalars(select(AuditEntry.customer_id).where(AuditEntry.purpose == "supervisor_report")))
    assert after > before and who == set(w["customers"])
    assert client.get("/supervisor/cases?figure=past_clock&format=csv&after=x").status_code == 400


def test_a_figure_s_link_pins_the_view_s_instant_so_a_list_opened_later_shows_what_it_counted(client, uow, clock):
    w = world(uow, clock)
    sign_in(client, "lee.lead")
    found = figures_on(client.get("/supervisor").text)
    assert all("at=" in href for href, _ in found)
    clock.advance(timedelta(days=2))  # the cases age a bar or two, and a new one comes in
    with uow() as s:
        actor = access.staff_principal(s.get(StaffUser, w["people"]["alex.agent"]))
        cases.open_new(s, clock, actor, customer_id=w["customers"][0], kind="fault", title="Later", opened_via="phone")
    sign_in(client, "lee.lead")  # the session of two days ago has ended
    pinned = [(h, n) for h, n in found if re.search(r"figure=(age|team_open|owner_open|regulator_due)", h)]
    for href, shown in pinned:
        assert rows_behind(client, href) == shown, href
    first = next(h for h, _ in found if "bucket=0" in h)
    assert "As the supervisor view counted it" in client.get(first).text
    now = [rows_behind(client, re.sub(r"&at=[^&]+", "", h)) for h, _ in pinned]
    assert now != [n for _, n in pinned]  # unpinned, the same lists are what is true now
    for at in ("2026-01-01T00:00:00", "yesterday", (clock.now() + timedelta(minutes=1)).isoformat()):
        r = client.get("/supervisor/cases", params={"figure": "past_clock", "at": at})
        assert r.status_code == 400 and 'id="err-list"' in r.text, at
