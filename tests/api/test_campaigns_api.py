"""Campaigns: a segment (a filter or an uploaded list) weighed by the guard in one set-based pass;
for every recipient the verdict and first reason are the ones the one-by-one guard gives."""

from __future__ import annotations

import random
from datetime import date, timedelta

from sqlalchemy import func, select

from onethread.access import service as access
from onethread.access.rules import SYSTEM
from onethread.cases import service as cases
from onethread.customers import identifier_service
from onethread.customers import service as customers
from onethread.inventory import service as inventory
from onethread.jobs.runner import run_once
from onethread.models import CampaignRecipient, OutboundMessage
from onethread.outreach import campaign_send, campaigns, guard, rules
from onethread.outreach import service as outreach
from tests.tmf_schema import assert_tmf_error

V1 = "/api/v1"


def population(uow, clock, n: int = 40) -> list[str]:
    """Customers in every state the guard weighs, seeded: complaints, billing cases, consent,
    opt-outs, vulnerability, recent promotional messages."""
    rnd = random.Random(16)
    ids = []
    with uow() as s:
        owner = access.staff_principal(access.create_user(s, clock, username="olive", display_name="Olive Owner",
                                                          role="agent", password=None))
        for i in range(n):
            party = customers.create_individual(s, clock, SYSTEM, given_name=f"C{i}", family_name="Example")
            cust = customers.create_customer(s, clock, SYSTEM, party_id=party.id,
                                             segment="business" if i % 5 == 0 else "consumer",
                                             customer_since=date(2010 + i % 10, 1, 1))
            identifier_service.assign(s, clock, SYSTEM, customer_id=cust.id, kind="email", value=f"c{i}@mail.example",
                                      valid_from=clock.now() - timedelta(days=30))
            if i % 3:
                inventory.add_product(s, clock, SYSTEM, customer_id=cust.id, kind="mobile_line", name="Line",
                                      price_minor=1500, currency="GBP")
            if rnd.random() < 0.15:
                cases.open_new(s, clock, owner, customer_id=cust.id, kind="complaint", title="x", opened_via="phone")
            if rnd.random() < 0.15:
                cases.open_new(s, clock, owner, customer_id=cust.id, kind="billing_dispute", title="y",
                               opened_via="phone")
            if rnd.random() < 0.7:
                outreach.set_preferences(s, clock, SYSTEM, cust.id, channels=[],
                                         marketing_consent=rnd.random() < 0.8,
                                         opted_out=["retention"] if rnd.random() < 0.2 else [], quiet_from=None,
                                         quiet_to=None, copy_representative=False, language=None)
            if rnd.random() < 0.15:
                customers.record_vulnerability(s, clock, SYSTEM, customer_id=cust.id, kind="health",
                                               consent_given=True, review_on=clock.now().date() + timedelta(days=9))
            for _ in range(rnd.choice([0, 0, 1, 2])):
                outreach.queue(s, clock, SYSTEM, customer_id=cust.id, channel="letter", purpose="service",
                               body="hello")
                m = outreach.queue(s, clock, SYSTEM, customer_id=cust.id, channel="email", purpose="marketing",
                                   body="offer")
                m.status = "sent" if m.status == "queued" else m.status
            ids.append(cust.id)
    return ids


def test_a_filtered_campaign_is_weighed_in_one_pass_as_the_guard_weighs_each(client, admin, uow, clock):
    ids = population(uow, clock)
    for purpose in ("marketing", "retention"):
        made = client.post(f"{V1}/campaigns", headers=admin, json={
            "name": f"Spring {purpose}", "purpose": purpose, "channel": "email", "content": "New plans",
            "segment": {"customerSegment": "consumer"}})
        assert made.status_code == 201, made.text
        campaign = made.json()
        assert campaign["recipients"] == sum(1 for i in range(len(ids)) if i % 5 != 0)
        done = client.post(f"{V1}/campaigns/{campaign['id']}/evaluate", headers=admin).json()
        assert done["status"] == "evaluated" and sum(c["count"] for c in done["counts"]) == campaign["recipients"]
        assert {c["reason"] for c in done["counts"]} >= {"OK", "OPEN_COMPLAINT"}
        with uow() as s:
            found = campaigns.verdicts(s, campaign["id"], ids)
            for cid, (verdict, reason) in found.items():
                one = rules.evaluate(guard.state_of(s, cid, clock.now()), rules.Proposed("email", purpose))
                assert (verdict, reason) == (one.verdict, one.reasons[0].code), cid


def test_an_uploaded_list_and_its_mistakes(client, admin, uow, clock):
    ids = population(uow, clock, n=6)
    made = client.post(f"{V1}/campaigns", headers=admin, json={
        "name": "List", "purpose": "marketing", "channel": "letter", "content": "Hello"}).json()
    assert made["recipients"] == 0
    up = client.post(f"{V1}/campaigns/{made['id']}/recipients", headers=admin,
                     json={"customerIds": [*ids[:4], ids[0], "01NOTACUSTOMER000000000000"]}).json()
    assert (up["added"], up["notCustomers"], up["recipients"]) == (4, 1, 4)
    again = client.post(f"{V1}/campaigns/{made['id']}/recipients", headers=admin,
                        json={"customerIds": ids[3:]}).json()
    assert (again["added"], again["recipients"]) == (2, 6)
    done = client.post(f"{V1}/campaigns/{made['id']}/evaluate", headers=admin).json()
    assert sum(c["count"] for c in done["counts"]) == 6
    assert_tmf_error(client.post(f"{V1}/campaigns", headers=admin, json={
        "name": "x", "purpose": "regulatory", "channel": "email", "content": "x"}), 400)
    assert_tmf_error(client.get(f"{V1}/campaigns/01NOSUCHCAMPAIGN0000000000", headers=admin), 404)
    filtered = client.post(f"{V1}/campaigns", headers=admin, json={
        "name": "f", "purpose": "marketing", "channel": "email", "content": "x",
        "segment": {"productKind": "mobile_line"}}).json()
    assert_tmf_error(client.post(f"{V1}/campaigns/{filtered['id']}/recipients", headers=admin,
                                 json={"customerIds": ids[:1]}), 409)


# --- sending: the worker queues the recipients' messages in batches, each weighed again by the
# one-by-one guard, each customer's message once however often a batch runs.


def _messages(uow, campaign_id: str) -> dict[str, OutboundMessage]:
    with uow() as s:
        found = s.scalars(select(OutboundMessage).where(
            OutboundMessage.send_key.like(f"campaign:{campaign_id}:%"))).all()
        s.expunge_all()
    return {m.customer_id: m for m in found}


def test_a_campaign_goes_out_in_batches_each_message_guarded_again_and_queued_once(client, admin, uow, clock,
                                                                                  container):
    ids = population(uow, clock, n=30)
    letters_only = ids[1]  # a consumer (every fifth is a business)
    with uow() as s:
        outreach.set_preferences(s, clock, SYSTEM, letters_only, channels=["letter"], marketing_consent=True,
                                 opted_out=[], quiet_from=None, quiet_to=None, copy_representative=False,
                                 language=None)
    made = client.post(f"{V1}/campaigns", headers=admin, json={
        "name": "Spring offer", "purpose": "marketing", "channel": "email", "subject": "Spring",
        "content": "Twice the data this spring", "segment": {"customerSegment": "consumer"}}).json()
    assert_tmf_error(client.post(f"{V1}/campaigns/{made['id']}/send", headers=admin), 409)  # not evaluated yet
    client.post(f"{V1}/campaigns/{made['id']}/evaluate", headers=admin)
    with uow() as s:
        verdicts = campaigns.verdicts(s, made["id"], ids)
    going = {cid for cid, (verdict, _) in verdicts.items() if verdict in ("send", "hold")}
    assert letters_only in going and len(going) >= 5
    # After the evaluation, one of them complains: the guard at queueing time sees it.
    complainer = sorted(cid for cid in going if verdicts[cid][0] == "send" and cid != letters_only)[0]
    with uow() as s:
        owner = access.staff_principal(access.create_user(s, clock, username="carla", display_name="Carla Case",
                                                          role="agent", password=None))
        cases.open_new(s, clock, owner, customer_id=complainer, kind="complaint", title="Bill wrong",
                       opened_via="phone")

    sent = client.post(f"{V1}/campaigns/{made['id']}/send", headers=admin)
    assert sent.status_code == 202 and sent.json()["status"] == "sending"
    assert client.post(f"{V1}/campaigns/{made['id']}/send", headers=admin).json()["status"] == "sending"
    assert _messages(uow, made["id"]) == {}  # nothing is queued inside the request

    first = campaign_send.queue_due(container.sessions, clock, batch=2, limit=3)
    assert first.queued == 3 and first.finished == 0
    assert client.get(f"{V1}/campaigns/{made['id']}", headers=admin).json()["queued"] == 3
    while campaign_send.queue_due(container.sessions, clock, batch=2, limit=3).queued:
        pass
    messages = _messages(uow, made["id"])
    assert set(messages) == going  # every recipient let through or held, once
    assert campaign_send.queue_due(container.sessions, clock).queued == 0  # a later pass adds nothing
    with uow() as s:
        assert s.scalar(select(func.count()).select_from(OutboundMessage).where(
            OutboundMessage.send_key.like(f"campaign:{made['id']}:%"))) == len(going)
        assert s.scalar(select(func.count()).select_from(CampaignRecipient).where(
            CampaignRecipient.campaign_id == made["id"], CampaignRecipient.verdict == "suppress")) \
            == len(verdicts) - len(going)
    done = client.get(f"{V1}/campaigns/{made['id']}", headers=admin).json()
    assert (done["status"], done["queued"], done["sendRequestedBy"]) == ("sent", len(going), "test-admin")
    assert messages[letters_only].channel == "letter"  # asked e-mail, the customer takes letters only
    assert messages[complainer].status == "suppressed"
    assert messages[complainer].reasons[0]["code"] == "OPEN_COMPLAINT"
    for cid, m in messages.items():
        if cid in going and verdicts[cid][0] == "hold":
            assert m.status == "held"
        if m.status != "suppressed":
            assert m.contact_id is not None  # an outbound contact on the customer's timeline


def test_the_worker_pass_queues_a_campaign(client, admin, uow, clock, container):
    ids = population(uow, clock, n=6)
    made = client.post(f"{V1}/campaigns", headers=admin, json={
        "name": "Letters", "purpose": "marketing", "channel": "letter", "content": "Hello"}).json()
    client.post(f"{V1}/campaigns/{made['id']}/recipients", headers=admin, json={"customerIds": ids})
    evaluated = client.post(f"{V1}/campaigns/{made['id']}/evaluate", headers=admin).json()
    allowed = sum(c["count"] for c in evaluated["counts"] if c["verdict"] in ("send", "hold"))
    assert allowed > 0
    client.post(f"{V1}/campaigns/{made['id']}/send", headers=admin)
    report = run_once(container)
    assert "campaigns: " in report.summary()
    done = client.get(f"{V1}/campaigns/{made['id']}", headers=admin).json()
    assert (done["status"], done["queued"]) == ("sent", allowed)
    assert len(_messages(uow, made["id"])) == allowed
