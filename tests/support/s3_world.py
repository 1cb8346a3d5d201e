"""S3's world: Priya on the recycled number (``make_priya``, the ``s3`` fixture), her termination
request (``ask_termination``) and the product's status."""

from __future__ import annotations

from datetime import UTC, date, datetime
from types import SimpleNamespace

import pytest

from onethread.access import service as access
from onethread.access.rules import SYSTEM
from onethread.billing import service as billing
from onethread.customers import identifier_service
from onethread.customers import service as customers
from onethread.inventory import service as inventory
from tests.support.trouble_ticket_api import staff_headers

V1 = "/api/v1"


PRODUCTS = "/tmf-api/productInventory/v5/product"


NUMBER = "07700 900301"


RECYCLED = date(2019, 9, 1)  # the number was Tom's until then, Priya's since


MONTHLY = 1500  # £15.00 a month on the line


def months(first: date, last: date):
    day = first
    while day <= last:
        nxt = date(day.year + day.month // 12, day.month % 12 + 1, 1)
        yield day, date.fromordinal(nxt.toordinal() - 1)
        day = nxt


def make_priya(uow, clock, bills_from: date = RECYCLED, password: str | None = None) -> SimpleNamespace:
    """Tom (2012 until the number was recycled) and Priya (since), her line and every bill she paid
    on it; the staff: an agent, two team leads, a back-office clerk, an administrator."""
    with uow() as s:
        team = access.create_team(s, clock, name="Contact centre")
        staff = {}
        for username, name, role in [("jo.agent", "Jo Reid", "agent"), ("sam.agent", "Sam Patel", "agent"),
                                     ("lee.lead", "Lee Carter", "team_lead"), ("hana.lead", "Hana Novak", "team_lead"),
                                     ("bea.office", "Bea Jones", "back_office"), ("ada.admin", "Ada Admin", "admin")]:
            staff[username.split(".")[0]] = access.create_user(s, clock, username=username, display_name=name,
                                                               role=role, password=password, team_id=team.id).id
        tom = customers.create_customer(s, clock, SYSTEM, customer_since=date(2012, 3, 1), party_id=(
            customers.create_individual(s, clock, SYSTEM, given_name="Tom", family_name="Bennett").id))
        tom_acc = customers.open_billing_account(s, clock, SYSTEM, customer_id=tom.id, account_number="ACC-300301",
                                                 currency="GBP", opened_on=date(2012, 3, 1))
        priya = customers.create_customer(s, clock, SYSTEM, customer_since=RECYCLED, party_id=(
            customers.create_individual(s, clock, SYSTEM, given_name="Priya", family_name="Shah").id))
        acc = customers.open_billing_account(s, clock, SYSTEM, customer_id=priya.id, account_number="ACC-300302",
                                             currency="GBP", opened_on=RECYCLED)
        identifier_service.assign(s, clock, SYSTEM, customer_id=tom.id, kind="msisdn", value=NUMBER,
                                  valid_from=datetime(2012, 3, 1, tzinfo=UTC),
                                  valid_to=datetime(2019, 9, 1, tzinfo=UTC), region="GB")
        line = inventory.add_product(s, clock, SYSTEM, customer_id=priya.id, billing_account_id=acc.id,
                                     kind="mobile_line", name="Essentials 10 GB", price_minor=MONTHLY,
                                     activated_at=datetime(2019, 9, 1, tzinfo=UTC),
                                     identifiers={"iccid": "8944100000000003012"}, region="GB")
        identifier_service.assign(s, clock, SYSTEM, customer_id=priya.id, kind="msisdn", value=NUMBER,
                                  valid_from=datetime(2019, 9, 1, tzinfo=UTC), product_id=line.id, region="GB")
        # Tom's last bill on the number: never counted as Priya's.
        old = billing.import_bill(s, clock, SYSTEM, billing_account_id=tom_acc.id, bill_number="T-2019-08",
                                  period_start=date(2019, 8, 1), period_end=date(2019, 8, 31),
                                  issued_on=date(2019, 9, 2), due_on=date(2019, 9, 20), amount_minor=2000,
                                  currency="GBP", charges=[billing.ChargeIn(
                                      kind="recurring", description="Line rental", amount_minor=2000,
                                      identifier_kind="msisdn", identifier_value=NUMBER)], region="GB")
        billing.record_payment(s, clock, SYSTEM, old.id, amount_minor=2000,
                               paid_at=datetime(2019, 9, 15, tzinfo=UTC))
        bills = []
        for start, end in months(bills_from, date(2026, 2, 1)):
            bill = billing.import_bill(s, clock, SYSTEM, billing_account_id=acc.id,
                                       bill_number=f"P-{start:%Y-%m}", period_start=start, period_end=end,
                                       issued_on=end, due_on=end, amount_minor=MONTHLY, currency="GBP",
                                       charges=[billing.ChargeIn(kind="recurring", description="Essentials 10 GB",
                                                                 amount_minor=MONTHLY, product_id=line.id)],
 region="GB")
            if start < date(2026, 2, 1):  # February's bill is not due yet
                billing.record_payment(s, clock, SYSTEM, bill.id, amount_minor=MONTHLY,
                                       paid_at=datetime(end.year, end.month, end.day, 12, tzinfo=UTC))
            bills.append(bill.id)
    heads = {who: staff_headers(uow, clock, uid, role) for who, uid, role in [
        ("jo", staff["jo"], "agent"), ("sam", staff["sam"], "agent"), ("lee", staff["lee"], "team_lead"),
        ("hana", staff["hana"], "team_lead"), ("bea", staff["bea"], "back_office"), ("ada", staff["ada"], "admin")]}
    return SimpleNamespace(staff=staff, h=heads, tom=tom.id, priya=priya.id, account=acc.id, line=line.id,
                           bills=bills)


@pytest.fixture
def s3(uow, clock):
    return make_priya(uow, clock)


def ask_termination(client, s3, who="jo", **extra):
    return client.post(f"{V1}/approvals", headers=s3.h[who], json={
        "action": "terminate_line", "productId": s3.line, "channel": "phone",
        "reason": "The number is registered online in another person's name: suspected fraud", **extra})


def product_status(client, s3) -> str:
    return client.get(f"{PRODUCTS}/{s3.line}", headers=s3.h["jo"]).json()["status"]
