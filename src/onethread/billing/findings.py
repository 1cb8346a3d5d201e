"""Read model for the bill audit's findings: a customer's findings, explained, with the money at
stake (the read is audited)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from onethread.access import service as access
from onethread.access.rules import Principal
from onethread.billing import rules
from onethread.errors import NotFound, ValidationFailed
from onethread.kernel.clock import Clock
from onethread.kernel.money import Money
from onethread.models import Bill, BillFinding, Customer, Product


@dataclass(frozen=True)
class FindingView:
    finding: BillFinding
    rule: str
    explanation: str
    bill_number: str
    customer_name: str = ""


def _money(minor: int, currency: str) -> str:
    return f"{Money(minor, currency).as_decimal_str()} {currency}"


def explain(finding: BillFinding, product_name: str | None) -> str:
    return rules.explain_finding(finding.code, product=product_name or "a charge with no product",
                                 start=finding.period_start, end=finding.period_end, ref=finding.reference_on,
                                 charged=_money(finding.charged_minor, finding.currency),
                                 stake=_money(finding.at_stake_minor, finding.currency))


def views(session: Session, query) -> list[FindingView]:
    rows = session.execute(query.add_columns(Product.name, Bill.bill_number, Customer.name)
                           .outerjoin(Product, Product.id == BillFinding.product_id)
                           .join(Bill, Bill.id == BillFinding.bill_id)
                           .join(Customer, Customer.id == BillFinding.customer_id)
                           .order_by(BillFinding.period_start, BillFinding.code, BillFinding.id)).all()
    return [FindingView(f, rules.AUDIT_RULES[f.code][0], explain(f, name), number, customer)
            for f, name, number, customer in rows]


def by_id(finding_id: str):
    return select(BillFinding).where(BillFinding.id == finding_id)


def customer_findings(session: Session, clock: Clock, actor: Principal, customer_id: str, *,
                      status: str | None = None, case_id: str | None = None,
                      channel: str | None = None) -> list[FindingView]:
    """The customer's findings (those on one case when ``case_id``), oldest period first; ``status``
    narrows them."""
    if status is not None and status not in rules.FINDING_STATUSES:
        raise ValidationFailed(f"status must be one of {', '.join(rules.FINDING_STATUSES)}", field="status")
    query = select(BillFinding).where(BillFinding.customer_id == customer_id)
    if status is not None:
        query = query.where(BillFinding.status == status)
    if case_id is not None:
        query = query.where(BillFinding.case_id == case_id)
    found = views(session, query)
    access.audit(session, clock, actor, action="read", resource_type="bill_finding", resource_id=None,
                 customer_id=customer_id, channel=channel, purpose="bill audit",
                 detail={"findingIds": [v.finding.id for v in found]})
    return found


def list_findings(session: Session, clock: Clock, actor: Principal, *, status: str | None = "open",
                  limit: int = 500, channel: str | None = None) -> tuple[list[FindingView], int]:
    """Every customer's findings with ``status`` (all when None), oldest period first, at most
    ``limit`` of them, and how many there are; one audit row per customer shown."""
    if status is not None and status not in rules.FINDING_STATUSES:
        raise ValidationFailed(f"status must be one of {', '.join(rules.FINDING_STATUSES)}", field="status")
    query = select(BillFinding)
    if status is not None:
        query = query.where(BillFinding.status == status)
    total = session.scalar(select(func.count()).select_from(query.subquery()))
    found = views(session, query.limit(limit))
    shown: dict[str, list[str]] = defaultdict(list)
    for v in found:
        shown[v.finding.customer_id].append(v.finding.id)
    for customer_id, ids in sorted(shown.items()):
        access.audit(session, clock, actor, action="read", resource_type="bill_finding", resource_id=None,
                     customer_id=customer_id, channel=channel, purpose="bill audit", detail={"findingIds": ids})
    return found, total


def get_finding(session: Session, finding_id: str, *, for_update: bool = False) -> BillFinding:
    finding = session.get(BillFinding, finding_id, with_for_update=for_update)
    if finding is None:
        raise NotFound(f"no bill finding {finding_id}")
    return finding
