"""Issue 20, done-when: a listener registered on the trouble-ticket hub hears of a ticket's change
of state exactly once per event id, although the worker delivering it was killed in the middle.

A real ``onethread worker`` process claims the delivery and POSTs it to a real HTTP listener, which
holds the request unanswered; the test kills the worker with SIGKILL right then (after the claim
was committed, before the delivery is recorded). A second worker takes the lapsed claim over and
sends the same event again: on the wire the listener got it twice, with one event id; every copy
is signed with the hub's secret, and the event is valid against the official TMF621 schema.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import select

from onethread.access import service as access
from onethread.app import create_app
from onethread.bootstrap import build
from onethread.config import Settings
from onethread.db.session import session_scope
from onethread.kernel.clock import SettableClock
from onethread.models import EventDelivery
from tests.listener import Listener, verify
from tests.tmf_schema import validate

ONETHREAD = str(Path(sys.executable).parent / "onethread")
OPENED = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)  # before the real clock: the real worker finds it all due
LEASE_SECONDS = 4  # how long a claim lasts before another worker may take it over


def _worker(database_url: str) -> subprocess.Popen:
    env = {**os.environ, "ONETHREAD_DATABASE_URL": database_url, "ONETHREAD_ENV": "test",
           "ONETHREAD_WORKER_INTERVAL_SECONDS": "0.2", "ONETHREAD_CALLBACK_ALLOWLIST": "127.0.0.1",
           "ONETHREAD_WEBHOOK_TIMEOUT_SECONDS": "3", "ONETHREAD_WEBHOOK_LEASE_SECONDS": str(LEASE_SECONDS)}
    env.pop("ONETHREAD_TEST_DATABASE_URL", None)
    return subprocess.Popen([ONETHREAD, "worker"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def _delivery(container) -> EventDelivery | None:
    with container.sessions() as s:
        return s.scalars(select(EventDelivery)).one_or_none()


def test_a_worker_killed_mid_delivery_is_replaced_and_the_event_arrives_once_per_event_id(database_url):
    clock = SettableClock(OPENED)
    container = build(Settings(database_url=database_url, env="test", callback_allowlist="127.0.0.1"), clock=clock)
    workers: list[subprocess.Popen] = []
    try:
        with session_scope(container.sessions) as s:
            team = access.create_team(s, clock, name="Contact centre")
            alex = access.create_user(s, clock, username="alex.agent", display_name="Alex Morgan", role="agent",
                                      password=None, team_id=team.id)
            _, admin = access.create_token(s, clock, name="ops", role="admin")
            _, agent = access.create_token(s, clock, name="alex", role="agent", staff_user_id=alex.id)
        admin, agent = {"Authorization": f"Bearer {admin}"}, {"Authorization": f"Bearer {agent}"}
        with Listener(hold_first=True) as listener, TestClient(create_app(container=container)) as client:
            registered = client.post("/tmf-api/troubleTicket/v5/hub", headers=admin, json={
                "callback": f"{listener.url}/billing", "query": "eventType=TroubleTicketStatusChangeEvent"}).json()
            person = client.post("/tmf-api/party/v5/individual", headers=admin, json={
                "@type": "Individual", "givenName": "Margaret", "familyName": "Hughes"}).json()
            customer = client.post("/tmf-api/customer/v5/customer", headers=admin, json={
                "@type": "Customer", "engagedParty": {"id": person["id"]}}).json()
            ticket = client.post("/tmf-api/troubleTicket/v5/troubleTicket", headers=agent, json={
                "@type": "TroubleTicket", "description": "No incoming calls", "severity": "high", "ticketType": "fault",
                "channel": {"id": "phone"}, "relatedParty": [
                    {"role": "customer", "partyOrPartyRole": {"@type": "PartyRoleRef", "id": customer["id"]}}]}).json()
            changed = client.patch(ticket["href"], json={"status": "inProgress"},
                                   headers={**agent, "Content-Type": "application/merge-patch+json"})
            assert changed.status_code == 200, changed.text

            workers.append(_worker(database_url))
            deadline = time.monotonic() + 90
            while not listener.arrived.wait(0.2) and time.monotonic() < deadline:
                assert workers[0].poll() is None, workers[0].stderr.read().decode()[-3000:]
            assert listener.arrived.is_set(), "the worker sent nothing"
            workers[0].send_signal(signal.SIGKILL)  # while it waits for the listener's answer
            workers[0].wait(20)
            listener.release.set()
            claimed = _delivery(container)
            assert claimed.claimed_at is not None and claimed.delivered_at is None  # claimed, never recorded
            assert claimed.attempts == 0

            workers.append(_worker(database_url))  # takes the claim over once it lapses
            deadline = time.monotonic() + 90
            while (_delivery(container).delivered_at is None) and time.monotonic() < deadline:
                assert workers[1].poll() is None, workers[1].stderr.read().decode()[-3000:]
                time.sleep(0.2)
            time.sleep(1)  # a few more passes of the live worker: nothing is sent a third time
            received = list(listener.received)
        done = _delivery(container)
    finally:
        for w in workers:
            if w.poll() is None:
                w.terminate()
                w.wait(20)
        container.dispose()

    assert done.delivered_at is not None and done.attempts == 1
    assert len(received) == 2  # at least once on the wire: the killed worker's POST and the new one's
    assert {r.event_id for r in received} == {done.event_id}  # ... and once per event id
    unique = {r.body["eventId"]: r.body for r in received}
    assert list(unique) == [done.event_id]
    for r in received:
        verify(registered["secret"], r)  # signed with the hub's secret, stamped with the real time
        assert r.path == "/billing/listener/troubleTicketStatusChangeEvent"
    event = unique[done.event_id]
    validate("TMF621", "TroubleTicketStatusChangeEvent", event)
    assert event["event"]["troubleTicket"]["id"] == ticket["id"]
    assert event["event"]["troubleTicket"]["status"] == "inProgress"
