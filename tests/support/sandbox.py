"""The sandbox over HTTP: a served onethread on a manual clock (the ``sandbox`` fixture) and its CLI."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

ONETHREAD = str(Path(sys.executable).parent / "onethread")


START = "2030-03-04T09:00:00+00:00"  # a Monday, ahead of any real clock the server starts at


def cli(env: dict, *args: str, stdin: str | None = None) -> str:
    out = subprocess.run([ONETHREAD, *args], env=env, input=stdin, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    return out.stdout.strip()


def s2_complaint(api: httpx.Client, owner: str, *, email: str | None = None) -> tuple[dict, dict]:
    """S2 over HTTP: a new agent (``owner``, Olive) owns Margaret Hughes's complaint about no
    incoming calls, opened now; Margaret has ``email`` when given. Returns the customer and the case."""
    made = api.post("/api/v1/staff", json={"username": owner, "displayName": "Olive Owner", "role": "agent",
                                           "password": "a long password 1"})
    assert made.status_code == 201, made.text
    party = api.post("/tmf-api/party/v5/individual",
                     json={"@type": "Individual", "givenName": "Margaret", "familyName": "Hughes"}).json()
    customer = api.post("/tmf-api/customer/v5/customer", json={
        "@type": "Customer", "engagedParty": {"@type": "PartyRef", "id": party["id"]}}).json()
    if email is not None:
        assert api.post(f"/api/v1/customers/{customer['id']}/identifiers",
                        json={"kind": "email", "value": email}).status_code == 201
    case = api.post("/tmf-api/troubleTicket/v5/troubleTicket", json={
        "@type": "TroubleTicket", "name": "No incoming calls", "ticketType": "complaint", "severity": "medium",
        "description": "I cannot receive calls or voicemail.", "channel": {"@type": "ChannelRef", "id": "phone"},
        "relatedParty": [
            {"@type": "RelatedPartyRefOrPartyRoleRef", "role": "customer",
             "partyOrPartyRole": {"@type": "PartyRoleRef", "id": customer["id"]}},
            {"@type": "RelatedPartyRefOrPartyRoleRef", "role": "owner",
             "partyOrPartyRole": {"@type": "PartyRoleRef", "id": made.json()["id"]}}]})
    assert case.status_code == 201, case.text
    return customer, case.json()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def sandbox(database_url):
    env = {**os.environ, "ONETHREAD_DATABASE_URL": database_url, "ONETHREAD_CLOCK": "manual",
           "ONETHREAD_ENV": "development"}
    env.pop("ONETHREAD_TEST_DATABASE_URL", None)
    port = free_port()
    proc = subprocess.Popen([ONETHREAD, "serve", "--port", str(port), "--no-worker"], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            pytest.fail(f"server did not start: {proc.stderr.read().decode()[-2000:]}")
        time.sleep(0.1)
    try:
        yield env, base
    finally:
        proc.terminate()
        proc.wait(10)
