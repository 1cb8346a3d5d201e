"""S4 with its bills: Harbour Lane Joinery with the tablet SIM removed in store on 10 March (``joinery``,
the ``s4`` fixture), and its monthly bills as the bill import's CSV (``month_rows``, ``csv_of``)."""

from __future__ import annotations

from datetime import UTC, datetime
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from onethread.billing import bill_csv
from onethread.inventory import service as inventory
from onethread.models import BillingAccount, Product
from tests.support.s4_world import world
from tests.support.trouble_ticket_api import staff_headers

TABLET_ICCID = "8944100000000004044"


HEADER = ",".join(bill_csv.COLUMNS)


def joinery(uow, clock) -> SimpleNamespace:
    """S4's world; the tablet SIM removed in the store on 10 March; the clock on 5 June."""
    w = world(uow, clock)
    clock.set(datetime(2026, 3, 10, 11, tzinfo=UTC))
    with uow() as s:
        tablet = s.get(Product, w["tablet"])
        inventory.change_status(s, clock, w["sam"], tablet, "terminated", at=clock.now(), channel="store",
                                reason="removed at renewal; SIM destroyed in store")
        account = s.scalars(select(BillingAccount).where(BillingAccount.customer_id == w["customer"])).one()
        lines = [p.id for p in s.scalars(select(Product).where(Product.customer_id == w["customer"],
                                                               Product.kind == "mobile_line").order_by(Product.name))]
    clock.set(datetime(2026, 6, 5, 9, tzinfo=UTC))
    bea = staff_headers(uow, clock, w["bea_id"], "back_office")
    return SimpleNamespace(**w, account=account.id, account_number=account.account_number, lines=lines,
                           h={"bea": bea})


@pytest.fixture
def s4(uow, clock):
    return joinery(uow, clock)


def month_rows(s4, month: int, *, tablet: bool = True, usage: bool = True, number: str | None = None) -> list[str]:
    """One month's bill as CSV rows: three lines at 28.00, the tablet SIM at 10.00 and usage on its ICCID."""
    last = {4: 30, 5: 31, 6: 30}[month]
    charges = [("recurring", f"Business Unlimited (line {n})", 2800, line, "", "") for n, line in
               enumerate(s4.lines, start=1)]
    if tablet:
        charges.append(("recurring", "Tablet data SIM (old iPad)", 1000, s4.tablet, "", ""))
    if usage:
        charges.append(("usage", "Data roaming", 450, "", "iccid", TABLET_ICCID))
    total = sum(c[2] for c in charges)
    bill = number or f"HLJ-2026-{month:02d}"
    start, end = f"2026-{month:02d}-01", f"2026-{month:02d}-{last}"
    issued = f"2026-{month + 1:02d}-01"
    return [f"{s4.account_number},{bill},{start},{end},{issued},{issued[:8]}15,GBP,{total},"
            f"{kind},{text},{amount},{product},{ikind},{ivalue},{start},{end}"
            for kind, text, amount, product, ikind, ivalue in charges]


def csv_of(*rows: str, header: str = HEADER) -> list[str]:
    return [line + "\n" for line in (header, *rows)]
