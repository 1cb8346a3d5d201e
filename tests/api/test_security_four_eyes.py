"""Four eyes cannot be bypassed with a token: an approval is a named person's (a page session or
a token issued to that person), never a system token someone minted for themselves (issue 19)."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from onethread.models import CustomerFlag
from tests.support.s3_world import make_priya
from tests.tmf_schema import assert_tmf_error

V1 = "/api/v1"


@pytest.fixture
def s3(uow, clock):
    return make_priya(uow, clock, bills_from=date(2025, 11, 1))


def fraud_flags(container, customer_id) -> int:
    with container.sessions() as s:
        return len(s.scalars(select(CustomerFlag).where(CustomerFlag.customer_id == customer_id,
                                                        CustomerFlag.kind == "fraud")).all())


def test_an_admin_cannot_approve_her_own_request_with_a_team_lead_token_she_minted(client, s3, container):
    ada = s3.h["ada"]  # the administrator, signed in as herself (a token issued to her)
    asked = client.post(f"{V1}/approvals", headers=ada, json={
        "action": "flag_fraud", "customerId": s3.priya, "reason": "Three SIM swaps in a week"})
    assert asked.status_code == 201, asked.text
    minted = client.post(f"{V1}/tokens", headers=ada, json={"name": "second pair of eyes", "role": "team_lead"})
    assert minted.status_code == 201 and minted.json()["staffUserId"] is None
    lead_token = {"Authorization": f"Bearer {minted.json()['token']}"}

    body = assert_tmf_error(client.post(f"{V1}/approvals/{asked.json()['id']}/approve", json={},
                                        headers=lead_token), 403)
    assert "named person" in body["message"]
    assert_tmf_error(client.post(f"{V1}/approvals/{asked.json()['id']}/reject", json={"note": "no"},
                                 headers=lead_token), 403)
    assert fraud_flags(container, s3.priya) == 0
    assert client.get(f"{V1}/approvals/{asked.json()['id']}", headers=ada).json()["status"] == "pending"

    # A real second person approves.
    done = client.post(f"{V1}/approvals/{asked.json()['id']}/approve", json={}, headers=s3.h["lee"])
    assert done.status_code == 200 and done.json()["decidedBy"]["name"] == "Lee Carter"
    assert fraud_flags(container, s3.priya) == 1


def test_a_system_token_cannot_ask_for_a_drastic_action(client, s3, token_for, container):
    body = assert_tmf_error(client.post(f"{V1}/approvals", headers=token_for("team_lead"), json={
        "action": "flag_fraud", "customerId": s3.priya, "reason": "scripted"}), 403)
    assert "named person" in body["message"]


def test_a_person_gets_a_token_of_their_own_that_acts_as_them(client, s3, container):
    ada = s3.h["ada"]
    asked = client.post(f"{V1}/approvals", headers=ada, json={
        "action": "flag_fraud", "customerId": s3.priya, "reason": "Three SIM swaps in a week"}).json()
    own = client.post(f"{V1}/staff/me/tokens", headers=s3.h["hana"], json={"name": "laptop", "expiresIn": "P30D"})
    assert own.status_code == 201 and own.json()["staffUserId"] == s3.staff["hana"]
    assert own.json()["role"] == "team_lead" and own.headers["cache-control"] == "no-store"
    hana = {"Authorization": f"Bearer {own.json()['token']}"}
    assert client.get(f"{V1}/staff/me", headers=hana).json()["kind"] == "staff"
    done = client.post(f"{V1}/approvals/{asked['id']}/approve", json={}, headers=hana)
    assert done.status_code == 200 and done.json()["decidedBy"]["name"] == "Hana Novak"


def test_a_system_token_cannot_get_a_token_of_its_own(client, token_for):
    body = assert_tmf_error(client.post(f"{V1}/staff/me/tokens", headers=token_for("admin"),
                                        json={"name": "me"}), 403)
    assert "person" in body["message"]
