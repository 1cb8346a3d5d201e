"""The bill audit: imported charges compared with the product inventory, set-based.

One ``INSERT ... SELECT`` reads every charge in scope (all, one customer's, or some bills') once
and applies each rule to it, writing a ``bill_finding`` per charge a rule catches, with the money
at stake. A finding's id is its rule's code and its charge's id, and a charge a rule already
found is skipped, so running the audit again finds nothing twice and never touches a finding a
person has confirmed or dismissed. The rules (codes in ``rules.AUDIT_RULES``,
explained in docs/billing.md):

- BA01 a recurring charge for a product terminated before the charged period (the whole charge at
  stake) or during it (pro rata by day: the days from the termination day to the period's end);
- BA02 usage charged on a product after it was deactivated, or naming an identifier the customer
  no longer held in the period (the whole charge, pro rata when the deactivation fell inside it);
- BA03 a product's recurring charge whose period overlaps an earlier one of the same product
  (earlier: by period start, then by import; the later charge at stake);
- BA04 a recurring charge for a whole calendar month, on a product held all month, that is not
  the product's monthly price (the difference at stake, negative when undercharged).

Dates: a charge's period is its own, else its bill's; a termination is counted from its day
(UTC). Services never commit.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import bindparam, text
from sqlalchemy.orm import Session

from onethread.billing import rules
from onethread.db.types import UTCDateTime
from onethread.kernel.clock import Clock

# The few expressions SQLite and PostgreSQL spell differently.
_DIALECT = {
    "sqlite": {
        "day": "date({0})",
        "days": "CAST(julianday({1}) - julianday({0}) AS INTEGER)",
        "whole_month": "(strftime('%d', {0}) = '01' AND date({1}, '+1 day') = date({1}, 'start of month', "
                       "'+1 month'))",
    },
    "postgresql": {
        "day": "CAST({0} AS DATE)",
        "days": "({1} - {0})",
        "whole_month": "(EXTRACT(DAY FROM {0}) = 1 AND EXTRACT(DAY FROM {1} + 1) = 1)",
    },
}

# One row per charge in scope, read once (materialized) for the four rules, with its period, its
# product's dates and, for BA03, the latest end of the same product's earlier recurring charges
# (ordered by period start, then import). {scope} narrows it.
_LINES = """
WITH line AS MATERIALIZED (
  SELECT c.id AS charge_id, c.customer_id, c.bill_id, c.product_id, c.kind, c.amount_minor, c.currency,
         c.outside_holding,
         COALESCE(c.period_start, b.period_start) AS ps, COALESCE(c.period_end, b.period_end) AS pe,
         p.price_minor, p.currency AS price_currency,
         {day_terminated} AS td, {day_activated} AS ad,
         MAX(COALESCE(c.period_end, b.period_end)) OVER (
           PARTITION BY c.product_id, c.kind
           ORDER BY COALESCE(c.period_start, b.period_start), c.created_at, c.id
           ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS prior_end
  FROM charge c JOIN bill b ON b.id = c.bill_id LEFT JOIN product p ON p.id = c.product_id
  WHERE c.amount_minor > 0 {scope}
)
"""

_INSERT = """
INSERT INTO bill_finding (id, code, customer_id, bill_id, charge_id, product_id, period_start, period_end,
                          reference_on, charged_minor, at_stake_minor, currency, status, found_at)
"""

_SELECT = """
SELECT '{code}-' || l.charge_id, '{code}', l.customer_id, l.bill_id, l.charge_id, l.product_id, l.ps, l.pe,
       {ref}, l.amount_minor, {stake}, l.currency, 'open', :now
FROM line l
WHERE {where}
  AND l.charge_id NOT IN (SELECT f.charge_id FROM bill_finding f WHERE f.code = '{code}' AND f.charge_id IS NOT NULL)
"""

# The share of a charge for the days from the product's last day-after (td) to the period's end.
_PRO_RATA = ("CASE WHEN l.td IS NULL OR l.td <= l.ps THEN l.amount_minor "
             "ELSE CAST(l.amount_minor AS BIGINT) * ({days_td_pe} + 1) / ({days_ps_pe} + 1) END")

_RULES = {
    "BA01": {"where": "l.kind = 'recurring' AND l.td IS NOT NULL AND l.td <= l.pe", "ref": "l.td",
             "stake": _PRO_RATA},
    "BA02": {"where": "l.kind = 'usage' AND ((l.td IS NOT NULL AND l.td <= l.pe) OR l.outside_holding = {true})",
             "ref": "l.td", "stake": _PRO_RATA},
    # a charge whose period starts before the end of an earlier one of the same product overlaps it
    "BA03": {"where": "l.kind = 'recurring' AND l.product_id IS NOT NULL AND l.prior_end >= l.ps",
             "ref": "NULL", "stake": "l.amount_minor"},
    "BA04": {"where": "l.kind = 'recurring' AND l.product_id IS NOT NULL AND l.ad IS NOT NULL AND l.ad <= l.ps "
                      "AND (l.td IS NULL OR l.td > l.pe) AND l.price_currency = l.currency "
                      "AND l.amount_minor <> l.price_minor AND {whole_month}",
             "ref": "NULL", "stake": "l.amount_minor - l.price_minor"},
}


@dataclass
class AuditRun:
    found: dict[str, int]  # new findings per rule code

    @property
    def total(self) -> int:
        return sum(self.found.values())


def _sql(dialect: str, scope: str) -> str:
    """One statement: the line set read once, each rule's findings appended, their codes returned."""
    f = _DIALECT[dialect]
    selects = []
    for code in rules.AUDIT_RULES:
        rule = _RULES[code]
        stake = rule["stake"].format(days_td_pe=f["days"].format("l.td", "l.pe"),
                                     days_ps_pe=f["days"].format("l.ps", "l.pe"))
        where = rule["where"].format(true="TRUE" if dialect == "postgresql" else "1",
                                     whole_month=f["whole_month"].format("l.ps", "l.pe"))
        selects.append(_SELECT.format(code=code, ref=rule["ref"], stake=stake, where=where))
    head = _LINES.format(day_terminated=f["day"].format("p.terminated_at"),
                         day_activated=f["day"].format("p.activated_at"), scope=scope)
    return _INSERT + head + "UNION ALL".join(selects) + "RETURNING code"


def run(session: Session, clock: Clock, *, customer_ids: Iterable[str] | None = None,
        bill_ids: Iterable[str] | None = None) -> AuditRun:
    """Apply every rule to the charges in scope (every charge when neither is given)."""
    dialect = session.get_bind().dialect.name
    params: dict = {"now": clock.now()}
    scope, expanding = "", []
    if customer_ids is not None:
        scope += " AND c.customer_id IN :customers"
        params["customers"] = list(customer_ids) or [""]
        expanding.append("customers")
    if bill_ids is not None:
        # the bills' customers' other charges too: a charge twice is found across bills
        scope += " AND c.customer_id IN (SELECT customer_id FROM bill WHERE id IN :bills)"
        params["bills"] = list(bill_ids) or [""]
        expanding.append("bills")
    statement = text(_sql(dialect, scope)).bindparams(
        bindparam("now", type_=UTCDateTime()), *(bindparam(name, expanding=True) for name in expanding))
    found = dict.fromkeys(rules.AUDIT_RULES, 0)
    if dialect == "postgresql":
        # one sort of the line set for BA03's window, in memory rather than spilled to disk, and no
        # compile time (JIT) for a statement run once; both for this statement only
        before = session.execute(text("SELECT current_setting('work_mem'), current_setting('jit')")).one()
        session.execute(text("SELECT set_config('work_mem', '256MB', true), set_config('jit', 'off', true)"))
    for code in session.execute(statement, params).scalars():
        found[code] += 1
    if dialect == "postgresql":
        session.execute(text("SELECT set_config('work_mem', :w, true), set_config('jit', :j, true)"),
                        {"w": before[0], "j": before[1]})
    session.flush()
    return AuditRun(found)
