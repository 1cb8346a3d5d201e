"""S3 "Whose number is it?", points 1 and 2: a contact is attached to whoever held its identifiers
at that moment; when they disagree (or nobody held them) it waits in the match queue for a person,
attached to nobody; and linking never takes a number from the person who holds it.

Tom (A) held the number from 2012 until seven years ago; then it was recycled to Priya (B).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from onethread.access.rules import SYSTEM
from onethread.customers import identifier_service
from onethread.interactions import service as interactions
from onethread.interactions import timeline
from tests.support.sessions_api import make_customer, make_staff

Q = "/api/v1/match-queue"
NUMBER = "07700 900301"


def record(uow, clock, channel: str, identifiers: dict[str, str], text: str, at: datetime | None = None):
    with uow() as s:
        rec = interactions.record(s, clock, SYSTEM, interactions.Intake(
            channel=channel, direction="inbound", occurred_at=at or clock.now(), text=text, identifiers=identifiers,
            kind="call" if channel == "phone" else "message"), region="GB")
        return rec.contact.id, rec.contact.customer_id, rec.match_item.id if rec.match_item else None


def holder(uow, clock, kind: str, value: str) -> str | None:
    with uow() as s:
        return identifier_service.resolve(s, kind, value, clock.now(), region="GB").customer_id


def contact_titles(uow, customer_id: str) -> list[str]:
    with uow() as s:
        return [e.detail or e.title for e in timeline.read(s, customer_id, kinds=["contact"], limit=200).entries]


def test_s3_contacts_go_to_the_holder_of_the_moment_or_to_a_person(client, uow, clock):
    _, _, agent = make_staff(uow, clock, "jo.agent", "Jo Reyes", "agent", "Contact centre")
    today = clock.now()
    recycled = datetime(today.year - 7, 9, 1, tzinfo=UTC)
    tom = make_customer(uow, clock, "Tom", "Bennett", date(2012, 3, 1))
    priya = make_customer(uow, clock, "Priya", "Shah", recycled.date())
    carla = make_customer(uow, clock, "Carla", "Diaz", date(2020, 1, 1))
    with uow() as s:
        identifier_service.assign(s, clock, SYSTEM, customer_id=tom, kind="msisdn", value=NUMBER,
                                  valid_from=datetime(2012, 3, 1, tzinfo=UTC), region="GB")
        identifier_service.assign(s, clock, SYSTEM, customer_id=tom, kind="email", value="tom@bennett.example")
    with uow() as s:
        identifier_service.move(s, clock, SYSTEM, kind="msisdn", value=NUMBER, to_customer_id=priya, at=recycled,
                                reason="number recycled", region="GB")

    # 1. Priya calls from the number today: it is hers now, so the call is hers (never Tom's).
    clock.advance(timedelta(minutes=5))
    _, attached_to, item = record(uow, clock, "phone", {"msisdn": NUMBER}, "I want my number in my own name")
    assert (attached_to, item) == (priya, None)
    # A message from the number eight years ago was Tom's: resolution is at the contact's time.
    _, old_holder, _ = record(uow, clock, "letter", {"msisdn": NUMBER}, "old letter",
                              at=recycled - timedelta(days=365))
    assert old_holder == tom

    # 2. A form carrying Priya's number and Tom's e-mail: the identifiers disagree -> the queue.
    clock.advance(timedelta(minutes=5))
    mixed, attached_to, conflict = record(uow, clock, "portal", {"msisdn": NUMBER, "email": "tom@bennett.example"},
                                          "register my new phone")
    assert attached_to is None and conflict is not None
    queue = client.get(Q, headers=agent).json()
    (entry,) = [i for i in queue if i["id"] == conflict]
    assert entry["reason"] == "conflict"
    assert {c["name"] for c in entry["candidates"]} == {"Tom Bennett", "Priya Shah"}
    assert entry["contact"]["customerId"] is None
    # attached to nobody: on neither timeline
    assert "register my new phone" not in contact_titles(uow, tom) + contact_titles(uow, priya)

    # 3. A person links it to Priya, asking to add its identifiers: Tom's e-mail stays Tom's.
    r = client.post(f"{Q}/{conflict}/link", json={"customerId": priya, "addIdentifiers": True}, headers=agent)
    assert r.status_code == 200, r.text
    linked = r.json()
    assert linked["contact"]["customerId"] == priya and linked["identifiersAdded"] == []
    skipped = " | ".join(linked["identifiersSkipped"])
    assert "email tom@bennett.example: held by another customer" in skipped
    assert "msisdn +447700900301: this customer's already" in skipped
    assert holder(uow, clock, "email", "tom@bennett.example") == tom
    assert "register my new phone" in contact_titles(uow, priya)
    assert "register my new phone" not in contact_titles(uow, tom)

    # 4. An unknown number goes to the queue; linking with addIdentifiers makes it Priya's.
    clock.advance(timedelta(minutes=5))
    _, attached_to, unknown = record(uow, clock, "phone", {"msisdn": "07700 900888"}, "calling from work")
    assert attached_to is None
    assert [i["reason"] for i in client.get(Q, headers=agent).json() if i["id"] == unknown] == ["no_match"]
    r = client.post(f"{Q}/{unknown}/link", json={"customerId": priya, "addIdentifiers": True}, headers=agent)
    assert r.json()["identifiersAdded"] == ["msisdn +447700900888"]
    assert holder(uow, clock, "msisdn", "07700900888") == priya

    # 5. A number nobody held when the contact came, but Carla holds by the time a person links it:
    #    it is never taken from her.
    clock.advance(timedelta(minutes=5))
    _, _, late = record(uow, clock, "phone", {"msisdn": "07700 900444"}, "new SIM?")
    clock.advance(timedelta(hours=1))
    with uow() as s:
        identifier_service.assign(s, clock, SYSTEM, customer_id=carla, kind="msisdn", value="07700 900444", region="GB")
    r = client.post(f"{Q}/{late}/link", json={"customerId": priya, "addIdentifiers": True}, headers=agent)
    assert r.status_code == 200
    assert r.json()["identifiersAdded"] == []
    assert "msisdn +447700900444" in r.json()["identifiersSkipped"][0]
    assert holder(uow, clock, "msisdn", "07700900444") == carla

    # The queue is empty, and the recycled number is still Priya's alone.
    assert client.get(Q, headers=agent).json() == []
    assert holder(uow, clock, "msisdn", NUMBER) == priya
    assert mixed not in [i["contact"]["id"] for i in client.get(Q, headers=agent).json()]
