"""The decision service: one answer for every channel, recorded with its inputs and policy version.

Policies are versioned rows (``policy_version``); the shipped files in ``policies/`` are stored at
start-up when their version is not stored yet, and an admin loads new versions. A decision is
always taken by the newest version and explained later by the version that took it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from onethread.access.rules import Principal
from onethread.cases import items_service
from onethread.cases import service as cases
from onethread.cases.log import log
from onethread.cases.rules import ItemStatus
from onethread.customers.service import get_customer
from onethread.db.outbox import record_event
from onethread.decisions import known_defects, rules
from onethread.decisions.rules import FactError, Policy, PolicyError
from onethread.decisions.symptoms import SymptomMatch
from onethread.errors import Conflict, NotFound, ValidationFailed
from onethread.interactions.rules import CHANNELS
from onethread.kernel.case_status import CaseStatus
from onethread.kernel.clock import Clock
from onethread.kernel.events import DomainEvent
from onethread.models import Case, Commitment, Decision, KnownDefect, PolicyVersion, Product
from onethread.outreach import guard

SHIPPED = Path(__file__).with_name("policies")
SHIPPED_BY = "onethread"
SOURCE_MAX = 200_000


# --- policies --------------------------------------------------------------------------------

def shipped_files() -> list[Path]:
    return sorted(SHIPPED.glob("*.yaml"))


def _store(session: Session, clock: Clock, policy: Policy, source: str, loaded_by: str) -> PolicyVersion:
    row = PolicyVersion(name=policy.name, version=policy.version, source=source, checksum=rules.checksum(source),
                        loaded_at=clock.now(), loaded_by=loaded_by)
    session.add(row)
    session.flush()
    return row


def load_shipped(session: Session, clock: Clock) -> list[PolicyVersion]:
    """Store each shipped policy file whose version is not stored yet; returns what was stored."""
    stored = []
    for path in shipped_files():
        source = path.read_text(encoding="utf-8")
        policy = rules.parse(source, str(path))  # a broken shipped file stops start-up, naming file and line
        if _find(session, policy.name, policy.version) is None:
            stored.append(_store(session, clock, policy, source, SHIPPED_BY))
    return stored


def load_version(session: Session, clock: Clock, actor: Principal, source: str, *,
                 source_name: str = "the request body") -> PolicyVersion:
    """An admin loads a new version of a policy. Every version is kept; a version number is never reused."""
    if not (source or "").strip():
        raise ValidationFailed("send the policy's YAML", field="source")
    if len(source) > SOURCE_MAX:
        raise ValidationFailed(f"a policy is at most {SOURCE_MAX} characters", field="source")
    try:
        policy = rules.parse(source, source_name)
    except PolicyError as exc:
        raise ValidationFailed(str(exc), field="source", details={"line": exc.line}) from exc
    existing = _find(session, policy.name, policy.version)
    if existing is not None:
        if existing.checksum == rules.checksum(source):
            return existing  # the same file loaded again: nothing new
        raise Conflict(f"{policy.name} version {policy.version} is already loaded with other content; "
                       "give the new one a new version number")
    newest = current_version(session, policy.name, required=False)
    if newest is not None and policy.version < newest.version:
        raise Conflict(f"{policy.name} is at version {newest.version}; a new version must be higher")
    return _store(session, clock, policy, source, actor.id)


def _find(session: Session, name: str, version: int) -> PolicyVersion | None:
    return session.scalar(select(PolicyVersion).where(PolicyVersion.name == name, PolicyVersion.version == version))


@dataclass(frozen=True)
class VersionRef:
    """A stored policy version without its source: what a decision needs to find its parsed policy."""

    id: str
    name: str
    version: int
    checksum: str


def current_version(session: Session, name: str, *, required: bool = True) -> VersionRef | None:
    """The newest version of a policy: its small columns only, read on every decision (several
    server processes may load versions, so the database says which is newest; the source is read
    only when this process has not parsed that checksum yet)."""
    row = session.execute(select(PolicyVersion.id, PolicyVersion.name, PolicyVersion.version, PolicyVersion.checksum)
                          .where(PolicyVersion.name == name)
                          .order_by(PolicyVersion.version.desc()).limit(1)).first()
    if row is None:
        if required:
            raise NotFound(f"no policy {name}")
        return None
    return VersionRef(*row)


def list_policies(session: Session) -> list[PolicyVersion]:
    """The newest version of each policy."""
    newest = (select(PolicyVersion.name, func.max(PolicyVersion.version).label("v"))
              .group_by(PolicyVersion.name).subquery())
    return list(session.scalars(select(PolicyVersion).join(
        newest, (newest.c.name == PolicyVersion.name) & (newest.c.v == PolicyVersion.version))
        .order_by(PolicyVersion.name)))


def versions(session: Session, name: str) -> list[PolicyVersion]:
    rows = list(session.scalars(select(PolicyVersion).where(PolicyVersion.name == name)
                                .order_by(PolicyVersion.version)))
    if not rows:
        raise NotFound(f"no policy {name}")
    return rows


_PARSED: dict[str, Policy] = {}  # checksum -> parsed policy (a stored version never changes)


def parsed(session: Session, row: PolicyVersion | VersionRef) -> Policy:
    """The parsed policy of a stored version; its source is read (and parsed) once per process."""
    policy = _PARSED.get(row.checksum)
    if policy is None:
        source = row.source if isinstance(row, PolicyVersion) else session.scalar(
            select(PolicyVersion.source).where(PolicyVersion.id == row.id))
        policy = _PARSED[row.checksum] = rules.parse(source, f"{row.name} version {row.version}")
    return policy


# --- decisions -------------------------------------------------------------------------------

def decide(session: Session, clock: Clock, actor: Principal, *, policy: str, facts: Any, channel: str,
           customer_id: str, product_id: str | None = None, case_id: str | None = None) -> Decision:
    """Ask a policy. The answer depends on the facts alone; the channel is only recorded."""
    if channel not in CHANNELS:
        raise ValidationFailed(f"channel must be one of {', '.join(CHANNELS)}", field="channel")
    customer = get_customer(session, customer_id)
    if product_id is not None:
        product = session.get(Product, product_id)
        if product is None or product.customer_id != customer_id:
            raise ValidationFailed("the product is not this customer's", field="productId")
    case = None
    if case_id is not None:
        case = cases.get_case(session, case_id)
        if case.customer_id != customer_id:
            raise ValidationFailed("the case is not this customer's", field="caseId")
    row = current_version(session, policy)
    pol = parsed(session, row)
    now = clock.now()
    facts, registry, lookup = _with_registry(session, pol, facts, now)
    facts, record = _with_customer_record(pol, facts, customer.customer_since, now.date())
    facts, complaints = _with_complaint_record(session, pol, facts, customer_id)
    try:
        checked = rules.check_facts(pol, facts)
    except FactError as exc:
        raise ValidationFailed(str(exc), field=f"facts.{exc.fact}") from exc
    verdict = rules.evaluate(pol, checked)
    if registry is not None:
        checked = {**checked, REGISTRY_FACT: registry}
    if record is not None:
        checked = {**checked, CUSTOMER_RECORD_FACT: record}
    if complaints is not None:
        checked = {**checked, COMPLAINTS_RECORD_FACT: complaints}
    outcome = verdict.outcome
    decision = Decision(
        customer_id=customer_id, product_id=product_id, case_id=case_id, policy_version_id=row.id,
        policy_name=pol.name, policy_version=pol.version, channel=channel, facts=checked, rule_id=verdict.rule.id,
        outcome=outcome.name, staff_reason=outcome.staff_reason, customer_reason=outcome.customer_reason,
        due_at=now + timedelta(days=outcome.due_in_days) if outcome.due_in_days else None, decided_at=now,
        decided_by=actor.id, decided_by_name=actor.name)
    session.add(decision)
    session.flush()
    title = f"Decision ({pol.name} v{pol.version}): {outcome.name.replace('_', ' ')}"
    data = {"decisionId": decision.id, "policy": pol.name, "policyVersion": pol.version, "outcome": outcome.name,
            "rule": verdict.rule.id}
    if lookup is not None:
        # The fault is also a report for the known-defect registry (it may raise a proposal). The
        # customer, case and channel are checked above, the model, wording, symptom and entry were
        # looked up once, in _with_registry.
        known_defects.record_checked_report(session, clock, actor, customer=customer, model=lookup.model,
                                            text=lookup.text, found=lookup.found, defect=lookup.defect,
                                            channel=channel, case_id=case_id, decision_id=decision.id)
        data["knownDefectId"] = registry["known_defect_id"] if registry["confirmed"] else None
    if case is not None:
        log(session, clock, case, actor, "decision", title, text=outcome.customer_reason, channel=channel, data=data)
    else:
        record_event(session, DomainEvent(
            type="decision.made", occurred_at=now, aggregate_type="decision", aggregate_id=decision.id,
            customer_id=customer_id,
            payload={**data, "actor": actor.id, "actorName": actor.name, "channel": channel,
                     "timelineTitle": title, "timelineDetail": outcome.customer_reason}))
    return decision


REGISTRY_FACT = "known_defect_registry"  # recorded with the facts: what the registry said, and whether it was used


@dataclass(frozen=True)
class _Lookup:
    """The registry look-up of a device-fault decision, done once and reused for its report."""

    model: str  # normalised
    text: str  # the customer's words, stripped
    found: SymptomMatch | None
    defect: KnownDefect | None


def _with_registry(session: Session, policy: Policy, facts: Any, now: datetime
                   ) -> tuple[Any, dict | None, _Lookup | None]:
    """For a policy that takes ``device_model`` and ``symptom`` (the device-fault policy): match the
    symptom, look the model and symptom up in the known-defect registry and, when the caller did not
    say ``known_defect`` (and the policy takes it), let the registry say it: a confirmed entry is a
    recognised defect. Returns the facts to check, what to record about the registry, and the
    look-up itself (for the report the decision files)."""
    if not isinstance(facts, dict) or not {"device_model", "symptom"} <= set(policy.facts):
        return facts, None, None
    model, wording = facts.get("device_model"), facts.get("symptom")
    if not isinstance(model, str) or not isinstance(wording, str):
        return facts, None, None  # check_facts names the missing or mistyped fact
    model = known_defects.check_model(model, "facts.device_model")
    text = known_defects.check_wording(wording, "facts.symptom")
    found = known_defects.symptom_of(text)
    defect = known_defects.find(session, model, found.symptom) if found else None
    confirmed = known_defects.known_at(defect, now)
    source = "caller"
    if "known_defect" in policy.facts and facts.get("known_defect") is None:
        facts, source = {**facts, "known_defect": confirmed}, "registry"
    return facts, {"source": source, "device_model": model, "symptom": found.symptom if found else None,
                   "matched": found.explain() if found else None,
                   "known_defect_id": defect.id if defect else None,
                   "status": defect.status if defect else None,
                   "confirmed": confirmed}, _Lookup(model, text, found, defect)


EXISTING = "is_existing_customer"
# recorded with the facts: what the customer record said about being an existing customer, and whether it was used
CUSTOMER_RECORD_FACT = "existing_customer_record"


def _with_customer_record(policy: Policy, facts: Any, customer_since: date, today: date) -> tuple[Any, dict | None]:
    """For a policy that takes ``is_existing_customer`` and ``days_since_purchase`` (the device-fault
    policy): a customer since before the purchase is an existing customer. When the caller did not
    say ``is_existing_customer``, the customer record says it; either way what the record says is
    recorded beside the facts. The purchase date is ``days_since_purchase`` before today (the clock's)."""
    if not isinstance(facts, dict) or not {EXISTING, "days_since_purchase"} <= set(policy.facts):
        return facts, None
    days = facts.get("days_since_purchase")
    if not isinstance(days, int) or isinstance(days, bool):
        return facts, None  # check_facts names the missing or mistyped fact
    try:
        purchased_on = today - timedelta(days=days)
    except OverflowError:
        return facts, None  # no calendar date: nothing to derive from
    existing = customer_since < purchased_on
    source = "caller"
    if facts.get(EXISTING) is None:
        facts, source = {**facts, EXISTING: existing}, "customer_record"
    return facts, {"source": source, "customer_since": customer_since.isoformat(),
                   "purchased_on": purchased_on.isoformat(), "existing_customer": existing}


COMPLAINTS = "open_complaints"
COMPLAINTS_RECORD_FACT = "open_complaints_record"  # recorded with the facts: what the caller said, what the record says


def _with_complaint_record(session: Session, policy: Policy, facts: Any, customer_id: str) -> tuple[Any, dict | None]:
    """For a policy that takes ``open_complaints`` (the retention offer): the customer's complaints and
    billing cases not yet closed, counted in the record. The caller's number is recorded beside it
    but never used: a channel that says "0 open complaints" cannot buy off a complaint."""
    if not isinstance(facts, dict) or COMPLAINTS not in policy.facts:
        return facts, None
    counted = guard.open_complaints(session, customer_id)
    said = facts.get(COMPLAINTS)
    return {**facts, COMPLAINTS: counted}, {"source": "record", "record": counted, "caller": said,
                                             "caller_overruled": said is not None and said != counted}


def get_decision(session: Session, decision_id: str) -> Decision:
    decision = session.get(Decision, decision_id)
    if decision is None:
        raise NotFound(f"no decision {decision_id}")
    return decision


@dataclass(frozen=True)
class Explanation:
    decision: Decision
    policy: Policy
    rule: rules.Rule
    outcome: rules.Outcome


def explain(session: Session, decision_id: str) -> Explanation:
    """A decision explained by the policy version that took it, whatever has been loaded since."""
    decision = get_decision(session, decision_id)
    policy = parsed(session, session.get(PolicyVersion, decision.policy_version_id))
    rule = next(r for r in policy.rules if r.id == decision.rule_id)
    return Explanation(decision, policy, rule, policy.outcomes[decision.outcome])


def open_case_for_product(session: Session, customer_id: str, product_id: str | None) -> Case | None:
    """The customer's open case about this product (the oldest, if several), which a decision and a
    replacement for that product belong on."""
    if product_id is None:
        return None
    return session.scalars(select(Case).where(Case.customer_id == customer_id, Case.product_id == product_id,
                                              Case.status != CaseStatus.CLOSED)
                           .order_by(Case.opened_at, Case.id)).first()


def replacement_promised(session: Session, case_id: str | None) -> Commitment | None:
    """An open replacement promise on the case: a commitment a decision's order made, not yet kept."""
    if case_id is None:
        return None
    return session.scalars(select(Commitment).join(Decision, Decision.commitment_id == Commitment.id)
                           .where(Commitment.case_id == case_id, Commitment.status == ItemStatus.OPEN)
                           .order_by(Commitment.made_at)).first()


def order_replacement(session: Session, clock: Clock, actor: Principal, decision_id: str, *,
                      channel: str) -> tuple[Decision, Commitment]:
    """Place the replacement a decision allows, from any channel: a commitment with the outcome's due
    date on the decision's case; else on the customer's open case about the same product (the
    decision is put on it too); else on a new fault case owned by the caller. Refused when that
    case already holds an open replacement promise: never a second replacement for one problem."""
    if channel not in CHANNELS:
        raise ValidationFailed(f"channel must be one of {', '.join(CHANNELS)}", field="channel")
    decision = get_decision(session, decision_id)
    outcome = explain(session, decision_id).outcome
    if outcome.order is None or decision.due_at is None:
        raise Conflict(f"the decision is {decision.outcome.replace('_', ' ')}: it does not order a replacement")
    if decision.commitment_id is not None:
        raise Conflict("the replacement for this decision is already ordered")
    now = clock.now()
    if decision.due_at <= now:
        raise Conflict("the decision's date has passed; ask the policy again")
    case_id = decision.case_id
    if case_id is None:
        found = open_case_for_product(session, decision.customer_id, decision.product_id)
        if found is not None:
            case_id = decision.case_id = found.id
            log(session, clock, found, actor, "decision",
                f"Decision ({decision.policy_name} v{decision.policy_version}): {decision.outcome.replace('_', ' ')}",
                text=decision.customer_reason, channel=decision.channel,
                data={"decisionId": decision.id, "policy": decision.policy_name,
                      "policyVersion": decision.policy_version, "outcome": decision.outcome, "rule": decision.rule_id})
    promised = replacement_promised(session, case_id)
    if promised is not None:
        raise Conflict(f"a replacement is already promised on this case: {promised.text}, due "
                       f"{promised.due_at:%Y-%m-%d}, made via {promised.made_via}; keep that promise instead of "
                       "ordering a second one", details={"caseId": case_id, "commitmentId": promised.id})
    if case_id is None:
        model = decision.facts.get("device_model")
        case_id = cases.open_new(session, clock, actor, customer_id=decision.customer_id, kind="fault",
                                 title=f"Replacement {model}" if model else "Replacement device",
                                 opened_via=channel, product_id=decision.product_id).id
    case = items_service.open_case(session, case_id)
    commitment = items_service.add_commitment(session, clock, actor, case_id, text=outcome.order,
                                              due_at=decision.due_at, made_via=channel)
    log(session, clock, case, actor, "replacement_ordered",
        f"Replacement ordered ({outcome.name.replace('_', ' ')}, by {decision.due_at:%Y-%m-%d})", channel=channel,
        data={"decisionId": decision.id, "commitmentId": commitment.id, "dueAt": decision.due_at.isoformat()})
    decision.ordered_at, decision.order_channel = now, channel
    decision.order_case_id, decision.commitment_id = case_id, commitment.id
    return decision, commitment
