"""Known defects over HTTP: a proposal raised when distinct customers report the same symptom on the
same model in different words within the window (and not by one customer reporting again, nor by
reports outside the window); people confirming and retiring with the right roles, 409 on a bad
transition; TMF errors for bad input with nothing written; the symptom match the pages use."""

from __future__ import annotations

from datetime import timedelta

import pytest

from onethread.access.rules import SYSTEM
from onethread.customers import service as customers
from onethread.decisions import symptoms
from onethread.models import DefectReport, KnownDefect, OutboxEvent
from tests.support.s1_world import FACTS
from tests.support.trouble_ticket_api import count
from tests.tmf_schema import assert_tmf_error

V1 = "/api/v1"
FAULT = {k: v for k, v in FACTS.items() if k != "known_defect"}  # the registry says whether it is known
PROPOSAL = symptoms.table().proposal


@pytest.fixture
def new_customer(uow, clock):
    made = iter(range(1000))

    def make() -> str:
        n = next(made)
        with uow() as s:
            party = customers.create_individual(s, clock, SYSTEM, given_name=f"Owner{n}", family_name="Nova")
            return customers.create_customer(s, clock, SYSTEM, party_id=party.id).id
    return make


def report(client, headers, customer_id, wording, model="Nova X2", channel="store", **facts):
    """A customer's fault, asked of the device-fault policy: the decision records the report."""
    r = client.post(f"{V1}/decisions", headers=headers, json={
        "policy": "device_fault", "customerId": customer_id, "channel": channel,
        "facts": {**FAULT, "device_model": model, "symptom": wording, **facts}})
    assert r.status_code == 201, r.text
    return r.json()


def registry(client, headers, **params) -> list[dict]:
    r = client.get(f"{V1}/known-defects", headers=headers, params=params)
    assert r.status_code == 200, r.text
    assert r.headers["X-Total-Count"] == str(len(r.json()))
    return r.json()


def test_distinct_customers_in_different_words_raise_one_proposal_and_a_confirmed_one_is_then_used(
        client, admin, token_for, new_customer, clock):
    assert PROPOSAL.threshold == 3
    words = ["headphone jack", "no sound in earphones", "audio socket faulty"]
    first = report(client, admin, new_customer(), words[0], model="Nova X2")
    assert first["facts"]["known_defect"] is False
    assert first["facts"]["known_defect_registry"]["symptom"] == "audio_jack"
    clock.advance(timedelta(days=3))
    report(client, admin, new_customer(), words[1], model="nova  x2", channel="phone")
    assert registry(client, admin) == []

    clock.advance(timedelta(days=3))
    third = report(client, admin, new_customer(), words[2], model="NOVA-X2", channel="chat")
    assert third["facts"]["known_defect"] is False  # proposed is not confirmed: no decision relies on it
    [proposal] = registry(client, admin)
    assert (proposal["deviceModel"], proposal["symptom"], proposal["status"]) == ("nova x2", "audio_jack", "proposed")
    assert proposal["reportCount"] == 3 and proposal["proposedBy"] == "onethread"
    detail = client.get(proposal["href"], headers=admin).json()
    assert detail["reports"]["distinctCustomers"] == 3 and detail["reports"]["reports"] == 3
    assert sorted(w["wording"] for w in detail["reports"]["wordings"]) == sorted(words)

    # More reports raise nothing new.
    report(client, admin, new_customer(), "earphones silent")
    assert [d["id"] for d in registry(client, admin)] == [proposal["id"]]

    # A specialist confirms; from then on the registry answers "known defect" for any wording of it.
    r = client.post(f"{proposal['href']}/confirm", headers=token_for("specialist"),
                    json={"note": "manufacturer agrees"})
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "confirmed" and r.json()["note"] == "manufacturer agrees"
    assert r.headers["ETag"]
    later = report(client, token_for("store_advisor"), new_customer(), "my headphones make no sound",
                   physical_damage_evidence=True)
    assert later["facts"]["known_defect"] is True
    assert later["facts"]["known_defect_registry"]["known_defect_id"] == proposal["id"]
    assert later["facts"]["known_defect_registry"]["source"] == "registry"
    assert later["rule"] == "known_defect_in_window" and later["outcome"] == "doorstep_replacement"
    # Another model with the same symptom is not covered.
    other = report(client, admin, new_customer(), "headphone jack", model="Nova X3", physical_damage_evidence=True)
    assert other["facts"]["known_defect"] is False and other["outcome"] == "assessment"


def test_one_customer_reporting_again_and_again_raises_nothing(client, admin, new_customer, clock, container):
    same = new_customer()
    for wording in ["headphone jack", "no sound in earphones", "audio socket faulty", "headphone jack dead"]:
        report(client, admin, same, wording)
        clock.advance(timedelta(hours=5))
    report(client, admin, new_customer(), "headphone jack")
    assert registry(client, admin) == []
    assert count(container, DefectReport) == 5


def test_reports_outside_the_window_do_not_count(client, admin, new_customer, clock):
    report(client, admin, new_customer(), "headphone jack")  # day 0
    clock.advance(timedelta(days=20))
    report(client, admin, new_customer(), "earphone socket loose")  # day 20
    clock.advance(timedelta(days=PROPOSAL.window_days - 20 + 1))
    report(client, admin, new_customer(), "no sound in earphones")  # day 31: the first has left the window
    assert registry(client, admin) == []
    clock.advance(timedelta(days=1))
    report(client, admin, new_customer(), "aux port broken")  # three within the window again
    [proposal] = registry(client, admin)
    assert proposal["reportCount"] == 3
    detail = client.get(proposal["href"], headers=admin).json()["reports"]
    assert detail["distinctCustomers"] == 4 and detail["distinctCustomersInWindow"] == 3


def test_reports_that_match_no_symptom_are_kept_but_never_counted(client, admin, new_customer, container):
    for _ in range(PROPOSAL.threshold + 1):
        d = report(client, admin, new_customer(), "it is just a bit weird")
        assert d["facts"]["known_defect_registry"]["symptom"] is None and d["facts"]["known_defect"] is False
    assert registry(client, admin) == []
    assert count(container, DefectReport) == PROPOSAL.threshold + 1


def test_the_caller_saying_known_defect_is_kept_and_the_registry_is_recorded_beside_it(client, admin, new_customer):
    r = client.post(f"{V1}/known-defects", headers=admin, json={"deviceModel": "Nova X2", "symptom": "audio_jack"})
    assert r.status_code == 201, r.text
    said = report(client, admin, new_customer(), "headphone jack", known_defect=False, physical_damage_evidence=True)
    assert said["facts"]["known_defect"] is False and said["outcome"] == "assessment"
    assert said["facts"]["known_defect_registry"] == {
        "source": "caller", "device_model": "nova x2", "symptom": "audio_jack",
        "matched": "audio_jack: the phrase 'headphone jack' matched 'headphone jack'",
        "known_defect_id": r.json()["id"], "status": "confirmed", "confirmed": True}


def test_confirm_and_retire_need_a_curator_and_bad_transitions_are_409(client, token_for, admin):
    lead, specialist = token_for("team_lead"), token_for("specialist")
    for role in ("store_advisor", "agent", "back_office", "integration"):
        r = client.post(f"{V1}/known-defects", headers=token_for(role),
                        json={"deviceModel": "Nova X2", "symptom": "battery drains fast"})
        assert_tmf_error(r, 403)
    r = client.post(f"{V1}/known-defects", headers=lead,
                    json={"deviceModel": " Nova   X2 ", "symptom": "battery dies within hours",
                          "note": "seen in the returns"})
    assert r.status_code == 201, r.text
    d = r.json()
    assert r.headers["Location"] == d["href"]
    assert (d["deviceModel"], d["symptom"], d["status"]) == ("nova x2", "battery_drain", "confirmed")
    assert d["description"] == symptoms.table().label("battery_drain")
    assert_tmf_error(client.post(f"{d['href']}/retire", headers=token_for("agent")), 403)

    assert_tmf_error(client.post(f"{d['href']}/confirm", headers=specialist), 409)  # already confirmed
    stale = client.post(f"{d['href']}/retire", headers={**lead, "If-Match": 'W/"999"'})
    refused = assert_tmf_error(stale, 412)  # the registry's refusal: who moved it, and when
    assert "confirmed it after you read it" in refused["message"] and "UTC" in refused["message"]
    assert refused["details"]["currentETag"] == r.headers["ETag"]
    retired = client.post(f"{d['href']}/retire", headers={**lead, "If-Match": r.headers["ETag"]},
                          json={"note": "fixed in firmware 2.1"})
    assert retired.status_code == 200, retired.text
    assert retired.json()["status"] == "retired" and retired.json()["retiredAt"]
    assert_tmf_error(client.post(f"{d['href']}/retire", headers=lead), 409)  # already retired
    # Registering it again is refused: the entry exists (confirm that one instead).
    again = client.post(f"{V1}/known-defects", headers=admin, json={"deviceModel": "nova x2",
                                                                    "symptom": "battery_drain"})
    assert "retired" in assert_tmf_error(again, 409)["message"]
    back = client.post(f"{d['href']}/confirm", headers=specialist)
    assert back.status_code == 200 and back.json()["status"] == "confirmed"

    assert [x["id"] for x in registry(client, admin, status="confirmed", model="NOVA X2")] == [d["id"]]
    assert registry(client, admin, status="retired") == []
    assert registry(client, admin, model="Nova X3") == []
    other = client.post(f"{V1}/known-defects", headers=lead, json={"deviceModel": "Nova X3", "symptom": "audio_jack"})
    first = client.get(f"{V1}/known-defects", headers=admin, params={"limit": 1})
    rest = client.get(f"{V1}/known-defects", headers=admin,
                      params={"limit": 1, "cursor": first.headers["X-Next-Cursor"]})
    assert [x["id"] for x in first.json() + rest.json()] == [other.json()["id"], d["id"]]  # newest change first
    assert_tmf_error(client.get(f"{V1}/known-defects", headers=admin, params={"cursor": "WzEsMl0"}), 400)


def test_retired_entries_are_not_proposed_again_by_reports(client, admin, new_customer):
    r = client.post(f"{V1}/known-defects", headers=admin, json={"deviceModel": "Nova X2", "symptom": "audio_jack"})
    client.post(f"{r.json()['href']}/retire", headers=admin)
    for _ in range(PROPOSAL.threshold):
        d = report(client, admin, new_customer(), "headphone jack")
        assert d["facts"]["known_defect"] is False  # retired: no longer a recognised defect
    [entry] = registry(client, admin)
    assert entry["status"] == "retired"
    detail = client.get(entry["href"], headers=admin).json()["reports"]
    assert detail["distinctCustomersInWindow"] == PROPOSAL.threshold  # the reports are there to look at


def test_bad_input_is_a_tmf_error_and_writes_nothing(client, admin, new_customer, container):
    tables = (KnownDefect, DefectReport, OutboxEvent)
    customer = new_customer()
    before = [count(container, t) for t in tables]
    bad = [
        (client.post(f"{V1}/known-defects", headers=admin, json={"deviceModel": "  ", "symptom": "audio_jack"}),
         400, "device model"),
        (client.post(f"{V1}/known-defects", headers=admin, json={"deviceModel": "Nova X2",
                                                                 "symptom": "my bill is wrong"}), 400, "no symptom"),
        (client.post(f"{V1}/known-defects", headers=admin, json={"deviceModel": "Nova X2", "symptom": ""}),
         400, "symptom"),
        (client.post(f"{V1}/known-defects", headers=admin, json={"deviceModel": "Nova X2", "symptom": "audio_jack",
                                                                 "colour": "red"}), 400, "colour"),
        (client.post(f"{V1}/known-defects", headers=admin, json={"deviceModel": "x" * 121, "symptom": "audio_jack"}),
         400, "deviceModel"),
        (client.post(f"{V1}/known-defects/nope/confirm", headers=admin), 404, "nope"),
        (client.post(f"{V1}/known-defects/nope/retire", headers=admin), 404, "nope"),
        (client.get(f"{V1}/known-defects/nope", headers=admin), 404, "nope"),
        (client.get(f"{V1}/known-defects", headers=admin, params={"status": "maybe"}), 400, "status"),
        (client.post(f"{V1}/symptoms/match", headers=admin, json={"wording": "   "}), 400, "fault"),
        (client.post(f"{V1}/decisions", headers=admin, json={
            "policy": "device_fault", "customerId": customer, "channel": "store",
            "facts": {**FAULT, "device_model": "   "}}), 400, "device model"),
        (client.post(f"{V1}/decisions", headers=admin, json={
            "policy": "device_fault", "customerId": customer, "channel": "store",
            "facts": {**FAULT, "symptom": ""}}), 400, "fault"),
    ]
    for response, status, words in bad:
        body = assert_tmf_error(response, status)
        assert words in body["message"], body
    assert [count(container, t) for t in tables] == before
    assert_tmf_error(client.get(f"{V1}/known-defects"), 401)


def test_symptom_match_for_the_pages(client, token_for, admin):
    agent = token_for("agent")
    for wording in ("headphone jack", "no sound in earphones", "audio socket faulty"):
        r = client.post(f"{V1}/symptoms/match", headers=agent, json={"wording": wording})
        assert r.status_code == 200, r.text
        assert r.json()["match"]["symptom"] == "audio_jack", r.json()
        assert r.json()["match"]["explanation"].startswith("audio_jack: the ")
    none = client.post(f"{V1}/symptoms/match", headers=agent, json={"wording": "I want a cheaper tariff"}).json()
    assert none["match"] is None and none["alternatives"] == []
    both = client.post(f"{V1}/symptoms/match", headers=agent,
                       json={"wording": "won't charge and the screen flickers"}).json()
    assert {both["match"]["symptom"], *(a["symptom"] for a in both["alternatives"])} == {
        "wont_charge", "screen_flicker"}

    asked = {"wording": "earphones silent", "deviceModel": "Nova X2"}
    assert client.post(f"{V1}/symptoms/match", headers=agent, json=asked).json()["knownDefect"] is None
    client.post(f"{V1}/known-defects", headers=admin, json={"deviceModel": "nova x2", "symptom": "audio_jack"})
    known = client.post(f"{V1}/symptoms/match", headers=agent, json=asked).json()
    assert known["knownDefect"]["symptom"] == "audio_jack" and known["knownDefect"]["status"] == "confirmed"

    table = client.get(f"{V1}/symptoms", headers=agent).json()
    assert "audio_jack" in {s["symptom"] for s in table["symptoms"]}
    assert table["proposal"] == {"threshold": PROPOSAL.threshold, "windowDays": PROPOSAL.window_days}
    assert_tmf_error(client.post(f"{V1}/symptoms/match", headers=token_for("field_subcontractor"),
                                 json={"wording": "headphone jack"}), 403)
