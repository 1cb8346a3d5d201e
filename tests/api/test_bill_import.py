"""Bills imported from the billing system, over HTTP and from CSV files (the service and the
``onethread import bills`` command): usage naming a SIM the customer no longer holds is kept as
evidence, flagged; a bad file is refused with its line numbers and nothing is imported; the same
file imported twice imports nothing twice. S4's business customer, whose tablet SIM was removed
in the store on 10 March."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from onethread.access.rules import SYSTEM
from onethread.billing import bill_csv
from onethread.models import Bill, Charge
from tests.support.s4_bills import HEADER, TABLET_ICCID, csv_of, month_rows
from tests.support.s4_bills import s4 as s4
from tests.tmf_schema import assert_tmf_error

V1 = "/api/v1"


def counts(uow) -> tuple[int, int]:
    with uow() as s:
        return s.scalar(select(func.count()).select_from(Bill)), s.scalar(select(func.count()).select_from(Charge))


def test_usage_naming_the_removed_sim_is_imported_as_evidence_and_flagged(client, s4, token_for):
    body = {"billingAccountId": s4.account, "billNumber": "HLJ-2026-04", "periodStart": "2026-04-01",
            "periodEnd": "2026-04-30", "issuedOn": "2026-05-01", "dueOn": "2026-05-15", "amount": 1450,
            "currency": "GBP", "charges": [
                {"kind": "recurring", "description": "Tablet data SIM", "amount": 1000, "productId": s4.tablet},
                {"kind": "usage", "description": "Data roaming", "amount": 450,
                 "identifier": {"kind": "iccid", "value": TABLET_ICCID}}]}
    r = client.post(f"{V1}/bills", json=body, headers=token_for("integration"))
    assert r.status_code == 201, r.text
    recurring, usage = r.json()["charges"]
    assert usage["productId"] == s4.tablet and usage["identifierId"]  # the SIM's product, found from its holding
    assert (usage["outsideHolding"], recurring["outsideHolding"]) == (True, False)
    # A SIM this customer never held is still refused.
    other = {**body, "billNumber": "HLJ-2026-04B", "amount": 450, "charges": [
        {**body["charges"][1], "identifier": {"kind": "iccid", "value": "8944100000000009993"}}]}
    assert "was not this customer's" in assert_tmf_error(
        client.post(f"{V1}/bills", json=other, headers=token_for("integration")), 400)["message"]


def test_a_good_file_is_imported_once_however_often_it_is_imported(uow, clock, s4):
    lines = csv_of(*month_rows(s4, 4), *month_rows(s4, 5))
    with uow() as s:
        report = bill_csv.import_csv(s, clock, SYSTEM, lines, region="GB")
    assert report.ok, report.problems
    assert (report.rows_read, report.bills_imported, report.charges_imported, report.bills_skipped) == (10, 2, 10, 0)
    assert counts(uow) == (2, 10)
    with uow() as s:
        again = bill_csv.import_csv(s, clock, SYSTEM, lines, region="GB")
        flagged = s.scalar(select(func.count()).select_from(Charge).where(Charge.outside_holding.is_(True)))
    assert (again.ok, again.bills_imported, again.bills_skipped) == (True, 0, 2)
    assert counts(uow) == (2, 10) and flagged == 2  # the usage on the removed SIM in April and in May


@pytest.mark.parametrize(("mangle", "expected"), [
    (lambda rows: csv_of(*rows, header=HEADER.replace("bill_amount", "total")),
     [(1, "missing column(s): bill_amount; unknown column(s): total")]),
    (lambda rows: csv_of(rows[0], rows[1].replace("2026-04-30", "30/04/2026", 1), *rows[2:]),
     [(3, "bill_period_end '30/04/2026' is not a date"), (3, "bill_period_end differs from line 2")]),
    (lambda rows: csv_of(*rows[:3], rows[3].removesuffix("2026-04-01,2026-04-30") + "2026-04-31,2026-04-30",
                         rows[4]),
     [(5, "period_start '2026-04-31' is not a date")]),
    (lambda rows: csv_of(*rows, rows[0].replace("ACC-400401", "ACC-999999")),
     [(7, "no billing account ACC-999999")]),
    (lambda rows: csv_of(*rows, rows[2]),
     [(7, "repeats line 4")]),
    (lambda rows: csv_of(*rows[:4], rows[4].replace(",450,", ",4.50,")),
     [(6, "amount '4.50' is not a whole number")]),
    (lambda rows: csv_of(*rows[:4], rows[4].replace(TABLET_ICCID, "8944100000000009993")),
     [(6, "8944100000000009993 was not this customer's")]),
])
def test_a_bad_file_is_refused_with_its_line_numbers_and_nothing_is_imported(uow, clock, s4, mangle, expected):
    good_may = month_rows(s4, 5)  # a good bill in the same file is not imported either
    with uow() as s:
        report = bill_csv.import_csv(s, clock, SYSTEM, [*mangle(month_rows(s4, 4)), *(r + "\n" for r in good_may)],
                                     region="GB")
    assert not report.ok and report.bills_imported == 0
    for line, words in expected:
        assert any(at == line and words in reason for at, reason in report.problems), report.problems
    assert counts(uow) == (0, 0)


def test_the_import_and_audit_commands_summarise_import_once_and_refuse_a_bad_file(database_url, s4, uow, tmp_path):
    from tests.support.cli import ok, refused, run

    good = tmp_path / "bills.csv"
    good.write_text("".join(csv_of(*month_rows(s4, 4), *month_rows(s4, 5))), encoding="utf-8")
    first = ok(run(database_url, "import", "bills", str(good)))
    assert "rows read: 10; bills imported: 2 (10 charges); already recorded, skipped: 0; rows rejected: 0" \
        in first.stdout
    # audited at once: the removed tablet SIM's rental and its usage, in April and in May
    assert "audit: 4 new finding(s) (BA01 charged_after_termination: 2, BA02 usage_after_deactivation: 2, " \
        "BA03 charged_twice: 0, BA04 price_mismatch: 0)" in first.stdout
    assert "0 new finding(s)" in ok(run(database_url, "audit", "bills", "--customer", s4.customer)).stdout
    again = ok(run(database_url, "import", "bills", str(good), "--quiet"))
    assert "bills imported: 0 (0 charges); already recorded, skipped: 2" in again.stdout
    assert counts(uow) == (2, 10)
    bad = tmp_path / "bad.csv"
    rows = month_rows(s4, 6)
    bad.write_text("".join(csv_of(*rows, rows[1], rows[2].replace("2026-06-01", "June 1st", 1))), encoding="utf-8")
    said = refused(run(database_url, "import", "bills", str(bad)), "nothing imported")
    assert "line 7: repeats line 3" in said and "line 8: bill_period_start 'June 1st'" in said
    assert counts(uow) == (2, 10)
    refused(run(database_url, "import", "bills", str(tmp_path / "missing.csv")), "cannot read")
