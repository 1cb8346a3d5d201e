"""What follows the bill audit (S4): findings put on the customer's billing case, the refund for
every affected period decided by the billing-error policy, the refund and the corrected bill as
commitments with dates, and a named person confirming or dismissing a finding.

- The audit's overcharges (findings with money at stake, not dismissed, not on a case yet) join
  the customer's open billing case (the oldest), else open one, owned by the person running the
  audit, else by the first active back-office user.
- The refund is asked of ``billing_error_goodwill`` with every overcharged period on the case:
  one decision for all of them (April and May, never May alone), recorded on the case. The
  previous audit commitments still open are cancelled, saying which decision replaced them, and
  two are made: the refund by the decision's due date, the corrected bill ``CORRECTED_BILL_DAYS``
  after it.
- Dismissing a finding takes it out of the refund, which is decided again. Services never commit.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from onethread.access.rules import BACK_OFFICE, FIELD_SUBCONTRACTOR, Principal
from onethread.billing import audit, findings
from onethread.billing import rules as billing_rules
from onethread.cases import items_service
from onethread.cases import service as cases
from onethread.cases.log import log
from onethread.cases.rules import ItemStatus
from onethread.decisions import rules
from onethread.decisions import service as decisions
from onethread.errors import Conflict, Forbidden, ValidationFailed
from onethread.kernel.case_status import CaseStatus
from onethread.kernel.clock import Clock
from onethread.kernel.money import Money
from onethread.models import BillFinding, Case, Commitment, Contact, Decision, StaffUser

POLICY = "billing_error_goodwill"
CASE_KIND = "billing_dispute"
CASE_CATEGORY = "bill audit"
CORRECTED_BILL_DAYS = 10  # after the refund's due date
REFUND_TEXT = "Refund (bill audit)"
CORRECTED_TEXT = "Corrected bill (bill audit)"
LIVE = ("open", "confirmed")


@dataclass
class FollowUp:
    run: audit.AuditRun
    case_ids: list[str]  # cases that took new findings
    unowned: list[str]  # customers whose findings wait for an owner (nobody to own a case)


def _money(minor: int, currency: str) -> str:
    return f"{Money(minor, currency).as_decimal_str()} {currency}"


def _owner(session: Session, actor: Principal) -> str | None:
    if actor.kind == "staff" and actor.role != FIELD_SUBCONTRACTOR:
        return actor.id
    return session.scalar(select(StaffUser.id).where(StaffUser.role == BACK_OFFICE, StaffUser.active.is_(True))
                          .order_by(StaffUser.created_at, StaffUser.id).limit(1))


def billing_case(session: Session, customer_id: str) -> Case | None:
    """The customer's open billing case (the oldest), which every billing finding and contact joins."""
    return session.scalars(select(Case).where(Case.customer_id == customer_id, Case.kind == CASE_KIND,
                                              Case.status != CaseStatus.CLOSED)
                           .order_by(Case.opened_at, Case.id)).first()


def audit_and_follow_up(session: Session, clock: Clock, actor: Principal, *, customer_ids: list[str] | None = None,
                        bill_ids: list[str] | None = None) -> FollowUp:
    """Run the audit, then put every new overcharge on its customer's billing case with the refund."""
    run = audit.run(session, clock, customer_ids=customer_ids, bill_ids=bill_ids)
    query = select(BillFinding.customer_id).where(BillFinding.case_id.is_(None), BillFinding.status.in_(LIVE),
                                                  BillFinding.at_stake_minor > 0).distinct()
    if customer_ids is not None:
        query = query.where(BillFinding.customer_id.in_(customer_ids))
    if bill_ids is not None:
        query = query.where(BillFinding.customer_id.in_(
            select(BillFinding.customer_id).where(BillFinding.bill_id.in_(bill_ids))))
    case_ids, unowned = [], []
    for customer_id in sorted(session.scalars(query)):
        case = put_on_case(session, clock, actor, customer_id)
        (case_ids if case else unowned).append(case.id if case else customer_id)
    return FollowUp(run, case_ids, unowned)


def put_on_case(session: Session, clock: Clock, actor: Principal, customer_id: str) -> Case | None:
    """The customer's overcharges not on a case yet join the billing case (opened when none), and the
    refund is decided again for everything on it. None when nobody can own a new case."""
    new = list(session.scalars(select(BillFinding).where(
        BillFinding.customer_id == customer_id, BillFinding.case_id.is_(None), BillFinding.status.in_(LIVE),
        BillFinding.at_stake_minor > 0).order_by(BillFinding.period_start, BillFinding.code, BillFinding.id)))
    if not new:
        return None
    case = billing_case(session, customer_id)
    if case is None:
        owner = _owner(session, actor)
        if owner is None:
            return None
        products = {f.product_id for f in new}
        case = cases.open_new(session, clock, actor, customer_id=customer_id, kind=CASE_KIND,
                              title="Charged for products no longer held (bill audit)", opened_via="system",
                              category=CASE_CATEGORY, owner_id=owner,
                              product_id=products.pop() if len(products) == 1 else None)
    for f in new:
        f.case_id = case.id
    at_stake = sum(f.at_stake_minor for f in new)
    views = findings.views(session, select(BillFinding).where(BillFinding.id.in_([f.id for f in new])))
    log(session, clock, case, actor, "note", f"Bill audit: {len(new)} finding(s), {_money(at_stake, new[0].currency)} "
        "overcharged", text="\n".join(f"{v.finding.code} ({v.bill_number}): {v.explanation}" for v in views),
        channel="system", data={"findingIds": [f.id for f in new]})
    decide_refund(session, clock, actor, case)
    return case


def decide_refund(session: Session, clock: Clock, actor: Principal, case: Case) -> Decision | None:
    """Ask the billing-error policy for the refund of every overcharged period on the case; record it
    and replace the audit's open commitments with the refund and the corrected bill."""
    live = list(session.scalars(select(BillFinding).where(
        BillFinding.case_id == case.id, BillFinding.status.in_(LIVE), BillFinding.at_stake_minor > 0)
        .order_by(BillFinding.period_start, BillFinding.id)))
    previous = list(session.scalars(select(Commitment).where(
        Commitment.case_id == case.id, Commitment.status == ItemStatus.OPEN,
        Commitment.text.like(f"{REFUND_TEXT}%") | Commitment.text.like(f"{CORRECTED_TEXT}%"))))
    if not live:
        for item in previous:
            items_service.close_commitment(session, clock, actor, item.id, kept=False,
                                           note="every bill audit finding on the case was dismissed")
        return None
    currency = live[0].currency
    contacts = session.scalar(select(func.count()).select_from(Contact).where(Contact.case_id == case.id)) or 0
    facts = billing_rules.refund_facts([(f.period_start, f.at_stake_minor) for f in live], contacts_made=contacts,
                                       usage_after_removal=any(f.code == "BA02" for f in live), currency=currency)
    if decisions.current_version(session, POLICY, required=False) is None:
        decisions.load_shipped(session, clock)  # a command run before the server ever stored them
    decision = decisions.decide(session, clock, actor, policy=POLICY, facts=facts, channel="system",
                                customer_id=case.customer_id, product_id=case.product_id, case_id=case.id)
    explained = decisions.explain(session, decision.id)
    amounts = rules.evaluate(explained.policy, {k: v for k, v in decision.facts.items()
                                                if k in explained.policy.facts}).amounts
    for f in live:
        f.decision_id = decision.id
    periods = " and ".join(f"{start:%B %Y}" for start in sorted({f.period_start for f in live}))
    for item in previous:
        items_service.close_commitment(session, clock, actor, item.id, kept=False,
                                       note=f"replaced by the refund for {periods} (decision {decision.id})")
    due = decision.due_at or clock.now() + timedelta(days=5)
    refund, credit = amounts.get("refund", 0), amounts.get("total_credit", 0)
    items_service.add_commitment(
        session, clock, actor, case.id, made_via="system", due_at=due,
        text=f"{REFUND_TEXT}: {_money(refund, currency)} for {periods}"
             + (f", {_money(credit, currency)} with goodwill" if credit != refund else "")
             + f" (decision {decision.id}, {decision.outcome.replace('_', ' ')})")
    items_service.add_commitment(session, clock, actor, case.id, made_via="system",
                                 due_at=due + timedelta(days=CORRECTED_BILL_DAYS),
                                 text=f"{CORRECTED_TEXT}: the bills for {periods} corrected and sent again")
    return decision


def review(session: Session, clock: Clock, actor: Principal, finding_id: str, *, verdict: str,
           note: str | None = None) -> BillFinding:
    """A named person confirms or dismisses a finding (a dismissal says why); recorded on the finding
    and on its case, whose refund is decided again without a dismissed finding."""
    if actor.kind != "staff":
        raise Forbidden("a finding is confirmed or dismissed by a named person, not a system")
    if verdict not in ("confirm", "dismiss"):
        raise ValidationFailed("verdict must be confirm or dismiss", field="verdict")
    note = (note or "").strip() or None
    if verdict == "dismiss" and note is None:
        raise ValidationFailed("say why the finding is dismissed", field="note")
    if note is not None and len(note) > billing_rules.REVIEW_NOTE_MAX:
        raise ValidationFailed(f"the note is at most {billing_rules.REVIEW_NOTE_MAX} characters", field="note")
    finding = findings.get_finding(session, finding_id, for_update=True)
    if finding.status != "open":
        raise Conflict(f"the finding is already {finding.status} (by {finding.reviewed_by_name})")
    finding.status = "confirmed" if verdict == "confirm" else "dismissed"
    finding.reviewed_by, finding.reviewed_by_name, finding.reviewed_at = actor.id, actor.name, clock.now()
    finding.review_note = note
    session.flush()
    if finding.case_id is not None:
        case = cases.get_case(session, finding.case_id)
        log(session, clock, case, actor, "note", f"Bill audit finding {finding.code} {finding.status} "
            f"({finding.period_start:%B %Y}, {_money(finding.at_stake_minor, finding.currency)})", text=note,
            data={"findingId": finding.id, "status": finding.status})
        if finding.status == "dismissed" and case.status != CaseStatus.CLOSED:
            decide_refund(session, clock, actor, case)
    return finding
