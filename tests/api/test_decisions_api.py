"""Decisions and policies over HTTP: versions kept, old decisions explained by their own version,
TMF errors for bad input with nothing written, a bad policy refused with its line."""

from __future__ import annotations

import json

import pytest

from onethread.access.rules import SYSTEM
from onethread.customers import service as customers
from onethread.decisions import rules
from onethread.decisions import service as decisions
from onethread.models import CaseEvent, Decision, OutboxEvent, PolicyVersion, TimelineEntry
from tests.api.test_trouble_ticket_api import count
from tests.scenarios.test_s1_defective_not_damaged import FACTS
from tests.tmf_schema import assert_tmf_error

V1 = "/api/v1"


@pytest.fixture
def customer_id(uow, clock) -> str:
    with uow() as s:
        party = customers.create_individual(s, clock, SYSTEM, given_name="David", family_name="Okafor")
        return customers.create_customer(s, clock, SYSTEM, party_id=party.id).id


def ask(client, headers, customer_id, facts=FACTS, policy="device_fault", channel="store"):
    return client.post(f"{V1}/decisions", headers=headers, json={
        "policy": policy, "customerId": customer_id, "channel": channel, "facts": facts})


def version_2() -> str:
    """The shipped policy as version 2: a recognised defect out of the window is now replaced too."""
    shipped = next(p for p in decisions.shipped_files() if p.name == "device_fault.yaml")
    text = shipped.read_text().replace("version: 1", "version: 2")
    return text.replace("  - id: known_defect_outside_window\n    when:\n      - {fact: known_defect, is: true}\n"
                        "    outcome: repair",
                        "  - id: known_defect_outside_window\n    when:\n      - {fact: known_defect, is: true}\n"
                        "    outcome: doorstep_replacement")


def test_the_shipped_policy_is_stored_once_at_start_up(client, admin, uow, clock, container):
    listed = client.get(f"{V1}/policies", headers=admin).json()
    shipped = [rules.parse(p.read_text()).name for p in decisions.shipped_files()]
    assert [(p["name"], p["version"], p["loadedBy"]) for p in listed] == [(n, 1, "onethread") for n in shipped]
    assert "device_fault" in shipped
    with uow() as s:
        assert decisions.load_shipped(s, clock) == []
    assert count(container, PolicyVersion) == len(shipped)


def test_an_upgrade_keeps_every_version_and_old_decisions_keep_their_explanation(client, admin, customer_id):
    late = {**FACTS, "days_since_purchase": 200}
    old = ask(client, admin, customer_id, late).json()
    assert old["outcome"] == "repair" and old["policy"]["version"] == 1

    r = client.post(f"{V1}/policies", headers={**admin, "content-type": "application/yaml"}, content=version_2())
    assert r.status_code == 201, r.text
    assert r.json()["version"] == 2 and r.json()["loadedBy"] != "onethread"
    new = ask(client, admin, customer_id, late).json()
    assert new["outcome"] == "doorstep_replacement" and new["policy"]["version"] == 2

    explained = client.get(f"{V1}/decisions/{old['id']}", headers=admin).json()
    assert explained["policy"]["version"] == 1 and explained["outcome"] == "repair"
    assert explained["explanation"]["rule"] == "known_defect_outside_window"
    assert explained["explanation"]["conditions"] == ["known_defect is true"]
    assert explained["explanation"]["outcome"]["staffReason"] == old["reasons"]["staff"]

    versions = client.get(f"{V1}/policies/device_fault/versions", headers=admin).json()
    assert [v["version"] for v in versions] == [1, 2]
    assert "version: 1" in versions[0]["source"] and "version: 2" in versions[1]["source"]
    # The same text again changes nothing; other text under a used version number is refused.
    again = client.post(f"{V1}/policies", headers=admin, json={"source": version_2()})
    assert again.status_code == 201 and again.json()["id"] == r.json()["id"]
    clash = version_2().replace("within 5 days", "within 4 days")
    assert_tmf_error(client.post(f"{V1}/policies", headers=admin, json={"source": clash}), 409)


def test_a_bad_policy_is_refused_with_its_line_and_nothing_stored(client, admin, container):
    bad = version_2().replace("{fact: days_since_purchase, at_most: 30}",
                              "{fact: days_since_purchase, at_most: soon}", 1)
    line = next(i for i, t in enumerate(bad.splitlines(), 1) if "soon" in t)
    body = assert_tmf_error(client.post(f"{V1}/policies", headers={**admin, "content-type": "text/yaml"},
                                        content=bad), 400)
    assert f"line {line}:" in body["message"] and "not a valid integer" in body["message"]
    assert count(container, PolicyVersion) == len(decisions.shipped_files())


def test_only_an_admin_loads_a_policy(client, token_for):
    r = client.post(f"{V1}/policies", headers=token_for("agent"), json={"source": version_2()})
    assert_tmf_error(r, 403)


def test_bad_input_is_a_tmf_error_and_writes_nothing(client, admin, customer_id, container):
    before = [count(container, m) for m in (Decision, CaseEvent, TimelineEntry, OutboxEvent)]
    missing = {k: v for k, v in FACTS.items() if k != "days_since_purchase"}  # known_defect may be left to the registry
    cases = [
        (ask(client, admin, customer_id, policy="no_such_policy"), 404, "no policy"),
        (ask(client, admin, customer_id, missing), 400, "days_since_purchase"),
        (ask(client, admin, customer_id, {**FACTS, "days_since_purchase": "3 days"}), 400, "days_since_purchase"),
        (ask(client, admin, customer_id, {**FACTS, "in_stock": "no"}), 400, "in_stock"),
        (ask(client, admin, customer_id, {**FACTS, "colour": "red"}), 400, "colour"),
        (ask(client, admin, customer_id, channel="pigeon"), 400, "channel"),
        (ask(client, admin, "01NOSUCHCUSTOMER0000000000"), 404, ""),
        (client.post(f"{V1}/decisions", headers={**admin, "content-type": "application/json"},
                     content=json.dumps({"policy": "device_fault"})), 400, ""),
    ]
    for response, status, words in cases:
        body = assert_tmf_error(response, status)
        assert words in body["message"], body
    assert [count(container, m) for m in (Decision, CaseEvent, TimelineEntry, OutboxEvent)] == before
    assert_tmf_error(client.get(f"{V1}/decisions/nope", headers=admin), 404)
    assert_tmf_error(client.get(f"{V1}/policies/nope/versions", headers=admin), 404)


def test_only_a_replacement_outcome_can_be_ordered(client, admin, customer_id, container):
    damaged = ask(client, admin, customer_id, {**FACTS, "known_defect": False, "physical_damage_evidence": True})
    assert damaged.json()["outcome"] == "assessment"
    r = client.post(f"{V1}/decisions/{damaged.json()['id']}/replacement-order", headers=admin,
                    json={"channel": "store"})
    assert_tmf_error(r, 409)
