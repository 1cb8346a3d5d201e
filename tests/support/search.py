"""The search world (the ``world`` fixture: Edith and Tom Clarke, two agents in two teams)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from onethread.access import service as access
from onethread.access.rules import SYSTEM
from onethread.cases import service as cases
from onethread.customers import identifier_service
from onethread.customers import service as customers
from onethread.interactions import service as interactions
from onethread.inventory import service as inventory

PASSWORD = "correct horse battery"


@pytest.fixture
def world(uow, clock) -> dict:
    """Edith Clarke (a number, a handle, e-mails, a case) and Tom Clarke; two agents in two teams."""
    with uow() as s:
        front = access.create_team(s, clock, name="Front line")
        back = access.create_team(s, clock, name="Specialists", kind="specialists")
        ann = access.create_user(s, clock, username="ann.agent", display_name="Ann Agent", role="agent",
                                 password=PASSWORD, team_id=front.id)
        sam = access.create_user(s, clock, username="sam.spec", display_name="Sam Spec", role="specialist",
                                 password=None, team_id=back.id)
        ann_p, sam_p = access.staff_principal(ann), access.staff_principal(sam)

        def person(given, family):
            party = customers.create_individual(s, clock, SYSTEM, given_name=given, family_name=family)
            return customers.create_customer(s, clock, SYSTEM, party_id=party.id, customer_since=date(2015, 1, 1))

        edith, tom = person("Edith", "Clarke"), person("Tom", "Clarke")
        inventory.add_product(s, clock, SYSTEM, customer_id=edith.id, kind="mobile_line", name="Talk", currency="GBP",
                              activated_at=datetime(2015, 1, 1, 9, tzinfo=UTC),
                              identifiers={"msisdn": "07700 900123"}, region="GB")
        identifier_service.assign(s, clock, SYSTEM, customer_id=edith.id, kind="social", value="x:@edith_c",
                                  valid_from=datetime(2020, 1, 1, tzinfo=UTC))

        def mail(who, subject, body, at, actor=SYSTEM, files=None):
            return interactions.record(s, clock, actor, interactions.Intake(
                channel="email", direction="inbound", occurred_at=at, customer_id=who, subject=subject, text=body,
                attachments=files), region="GB").contact.id

        now = clock.now()
        wifi = mail(edith.id, "Hello", "My wifi keeps dropping every evening since the storm.", now - timedelta(days=3),
                    files=[{"name": "router-lights.jpg"}])
        evil = mail(tom.id, "Question", "Tom & Jerry <script>alert(1)</script> 5 < 6 the modem is blinking",
                    now - timedelta(days=2))
        old_bill = mail(edith.id, "Bill", "The invoice shows a roaming charge twice.", now - timedelta(days=20))
        new_bill = mail(tom.id, "Bill", "The invoice shows a roaming charge twice.", now - timedelta(days=1))
        titled = mail(tom.id, "Roaming charge refund", "Please look at it.", now - timedelta(days=30))
        called = interactions.record(s, clock, ann_p, interactions.Intake(
            channel="phone", direction="inbound", occurred_at=now - timedelta(hours=5), kind="call",
            customer_id=tom.id, text="Caller says the roaming charge is wrong."), region="GB").contact.id
        case = cases.open_new(s, clock, sam_p, customer_id=edith.id, kind="fault",
                              title="Broadband outage after thunderstorm", opened_via="email")
        other = cases.open_new(s, clock, ann_p, customer_id=tom.id, kind="billing_dispute",
                               title="Roaming charge disputed", opened_via="phone")
        return {"edith": edith.id, "tom": tom.id, "wifi": wifi, "evil": evil, "old_bill": old_bill,
                "new_bill": new_bill, "titled": titled, "called": called, "case": case.id, "other": other.id,
                "ann": ann.id, "sam": sam.id, "front": front.id, "back": back.id}
