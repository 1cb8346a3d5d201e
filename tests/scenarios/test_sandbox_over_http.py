"""Issue 9, done when: a real ``onethread serve`` in manual-clock mode, driven over HTTP with a
token made by the CLI, takes a complaint through the regulator's deadline; the warning, the
deadlock letter and the escalations are on the timeline at the right times; and advancing in
many small steps gives the same history as one big step."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx

from tests.support.sandbox import START, cli, s2_complaint
from tests.support.sandbox import sandbox as sandbox


def drive(env: dict, base: str, steps: list[str]) -> list[tuple[str, str]]:
    """A complaint from a new customer, then the clock moved by ``steps``; returns its timeline."""
    token = cli(env, "token", "create", "--name", "trainer", "--role", "admin", "--expires", "P1D").splitlines()[0]
    h = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=base, headers=h, timeout=120) as api:
        assert api.post("/api/v1/admin/clock", json={"now": START}).status_code == 200
        customer, _ = s2_complaint(api, f"owner{len(steps)}")
        for step in steps:
            moved = api.post("/api/v1/admin/clock", json={"advance": step})
            assert moved.status_code == 200, moved.text
        assert api.get("/api/v1/admin/clock").json()["now"] == "2030-04-29T09:00:00+00:00"
        entries, cursor = [], None
        while True:
            page = api.get(f"/api/v1/customers/{customer['id']}/timeline",
                           params={"limit": 200, "view": "all", **({"cursor": cursor} if cursor else {})}).json()
            entries += page["entries"]
            cursor = page["nextCursor"]
            if not cursor:
                break
    return sorted((e["occurredAt"], e["title"]) for e in entries)


def test_a_complaint_through_the_regulator_deadline_over_http(sandbox):
    env, base = sandbox
    cli(env, "demo", "--reset")  # a training room starts from a known state
    big = drive(env, base, ["P8W"])
    opened = datetime.fromisoformat(START)
    at = {title: datetime.fromisoformat(when) for when, title in big}
    warning = next(t for t in at if "regulator warning" in t)
    assert at[warning] == opened + timedelta(weeks=6)
    letter = next(t for t in at if t.startswith("Letter"))
    assert at[letter] == opened + timedelta(weeks=8)
    deadline = next(t for t in at if "regulator deadline missed" in t)
    assert at[deadline] == opened + timedelta(weeks=8)
    assert sum("Escalated" in t for t in at) >= 3  # first response, activity, warning, deadline...
    assert all(d.tzinfo == UTC or d.utcoffset() == timedelta(0) for d in at.values())

    cli(env, "demo", "--reset")  # ... and again
    small = drive(env, base, ["P1D"] * 56)
    assert small == big
