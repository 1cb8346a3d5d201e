"""Known defects: a registry of (device model, symptom) with a status, fed by customers' reports.

Every report of a fault is kept in the customer's own words with the symptom key the curated table
(``symptoms.yaml``) gives it. When **distinct customers** reporting the same symptom on the same
model within the table's window reach its threshold, a ``proposed`` entry is raised, once, for a
person to confirm (``confirmed``) or reject (``retired``). A confirmed entry is what the decision
service treats as "a recognised defect of that model". See docs/decisions.md, "Known defects".

- One entry per (model, symptom), ever: once proposed, confirmed or retired, later reports change
  no entry; they are kept and counted live in the entry's evidence.
- A retired entry is never proposed again by reports; a person may confirm it again.
- ``report_count`` is the number of distinct customers in the window when the entry was proposed
  (or registered).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from onethread.access.rules import ADMIN, SPECIALIST, TEAM_LEAD, Principal
from onethread.cases import service as cases
from onethread.customers.queries import actor_names
from onethread.customers.service import get_customer
from onethread.db.outbox import record_event
from onethread.decisions import symptoms
from onethread.decisions.events import DefectReported
from onethread.decisions.symptoms import SymptomMatch
from onethread.errors import Conflict, Forbidden, NotFound, ValidationFailed
from onethread.interactions.rules import CHANNELS
from onethread.kernel import pagination
from onethread.kernel.clock import Clock
from onethread.kernel.events import DomainEvent
from onethread.models import Customer, DefectReport, KnownDefect

PROPOSED, CONFIRMED, RETIRED = "proposed", "confirmed", "retired"
STATUSES = (PROPOSED, CONFIRMED, RETIRED)
CURATORS = frozenset({SPECIALIST, TEAM_LEAD, ADMIN})  # who confirms, retires and registers entries
BY_THRESHOLD = "onethread"  # proposed_by when the reports crossed the threshold
WORDING_MAX = 2000
NOTE_MAX = 2000
WORDINGS_SHOWN = 50

# (status now, action) -> status after. Anything else is a 409.
TRANSITIONS = {
    (PROPOSED, "confirm"): CONFIRMED,
    (RETIRED, "confirm"): CONFIRMED,  # a person may bring a retired entry back; reports never do
    (PROPOSED, "retire"): RETIRED,  # a proposal rejected
    (CONFIRMED, "retire"): RETIRED,  # the model was fixed
}


# --- input -----------------------------------------------------------------------------------

def check_model(model: object, field: str = "deviceModel") -> str:
    """The model as the registry stores it (``symptoms.normalise_model``), or ``ValidationFailed``."""
    if not isinstance(model, str):
        raise ValidationFailed("the device model must be text", field=field)
    normal = symptoms.normalise_model(model)
    if not normal:
        raise ValidationFailed("name the device model", field=field)
    if len(normal) > symptoms.MODEL_MAX:
        raise ValidationFailed(f"a device model is at most {symptoms.MODEL_MAX} characters", field=field)
    return normal


def check_wording(wording: object, field: str = "wording") -> str:
    if not isinstance(wording, str) or not wording.strip():
        raise ValidationFailed("say what the fault is", field=field)
    if len(wording) > WORDING_MAX:
        raise ValidationFailed(f"a symptom is at most {WORDING_MAX} characters", field=field)
    return wording.strip()


def _note(note: str | None) -> str | None:
    if note is None:
        return None
    if not isinstance(note, str):
        raise ValidationFailed("the note must be text", field="note")
    if len(note) > NOTE_MAX:
        raise ValidationFailed(f"a note is at most {NOTE_MAX} characters", field="note")
    return note.strip() or None


def symptom_of(wording_or_key: str) -> SymptomMatch | None:
    return symptoms.match(wording_or_key)


def _curator(actor: Principal) -> None:
    if not actor.may(CURATORS):
        raise Forbidden(f"a {actor.role} may not change the known-defect registry")


# --- reading ---------------------------------------------------------------------------------

def get(session: Session, defect_id: str) -> KnownDefect:
    row = session.get(KnownDefect, defect_id)
    if row is None:
        raise NotFound(f"no known defect {defect_id}")
    return row


def find(session: Session, model: str, symptom: str) -> KnownDefect | None:
    """The entry for a normalised model and a symptom key, whatever its status."""
    return session.scalar(select(KnownDefect).where(KnownDefect.device_model == model,
                                                    KnownDefect.symptom == symptom))


def known_at(defect: KnownDefect | None, at: datetime) -> bool:
    """Whether the entry counted as a confirmed defect at ``at``."""
    if defect is None or defect.confirmed_at is None or defect.confirmed_at > at:
        return False
    if defect.status == CONFIRMED:
        return True
    return defect.status == RETIRED and defect.retired_at is not None and defect.retired_at > at


def is_known_defect(session: Session, model: str, wording_or_symptom: str, at: datetime) -> KnownDefect | None:
    """The confirmed known defect of ``model`` for this symptom (a key or any wording) at ``at``, or None."""
    if not isinstance(model, str) or not isinstance(wording_or_symptom, str):
        return None
    normal = symptoms.normalise_model(model)
    found = symptom_of(wording_or_symptom)
    if not normal or found is None:
        return None
    defect = find(session, normal, found.symptom)
    return defect if known_at(defect, at) else None


def list_defects(session: Session, *, status: str | None = None, model: str | None = None, offset: int = 0,
                 limit: int = 100, cursor: str | None = None) -> tuple[list[KnownDefect], int]:
    """Entries, newest change first, filtered by status and (normalised) model; and how many in all.
    ``cursor``: the page after the entry it names (``pagination.after``)."""
    query = select(KnownDefect)
    if status is not None:
        if status not in STATUSES:
            raise ValidationFailed(f"status must be one of {', '.join(STATUSES)}", field="status")
        query = query.where(KnownDefect.status == status)
    if model is not None:
        query = query.where(KnownDefect.device_model == check_model(model, "model"))
    total = session.scalar(select(func.count()).select_from(query.subquery()))
    keyset = pagination.after(cursor, KnownDefect.updated_at, KnownDefect.id, descending=True)
    if keyset is not None:
        query, offset = query.where(keyset), 0
    rows = session.scalars(query.order_by(KnownDefect.updated_at.desc(), KnownDefect.id.desc())
                           .offset(offset).limit(limit))
    return list(rows), total


def distinct_customers(session: Session, model: str, symptom: str, *, since: datetime | None = None,
                       until: datetime | None = None) -> int:
    query = select(func.count(func.distinct(DefectReport.customer_id))).where(
        DefectReport.device_model == model, DefectReport.symptom == symptom)
    if since is not None:
        query = query.where(DefectReport.reported_at > since)
    if until is not None:
        query = query.where(DefectReport.reported_at <= until)
    return session.scalar(query) or 0


@dataclass(frozen=True)
class Wording:
    text: str
    reports: int
    last_reported_at: datetime


@dataclass(frozen=True)
class Evidence:
    """The reports behind an entry: counted live, whatever its status."""

    customers: int  # distinct customers, ever
    customers_in_window: int  # distinct customers within the proposal window, up to now
    reports: int
    window_days: int
    threshold: int
    wordings: list[Wording]  # the most recent distinct wordings first (at most WORDINGS_SHOWN)


def evidence(session: Session, clock: Clock, defect: KnownDefect) -> Evidence:
    proposal = symptoms.table().proposal
    now = clock.now()
    where = (DefectReport.device_model == defect.device_model, DefectReport.symptom == defect.symptom)
    reports = session.scalar(select(func.count()).select_from(DefectReport).where(*where)) or 0
    last = func.max(DefectReport.reported_at)
    rows = session.execute(select(DefectReport.wording, func.count(), last).where(*where)
                           .group_by(DefectReport.wording).order_by(last.desc(), DefectReport.wording)
                           .limit(WORDINGS_SHOWN)).all()
    return Evidence(
        customers=distinct_customers(session, defect.device_model, defect.symptom),
        customers_in_window=distinct_customers(session, defect.device_model, defect.symptom,
                                               since=now - timedelta(days=proposal.window_days), until=now),
        reports=reports, window_days=proposal.window_days, threshold=proposal.threshold,
        wordings=[Wording(w, n, at) for w, n, at in rows])


# --- reports and proposals -------------------------------------------------------------------

@dataclass(frozen=True)
class Reported:
    report: DefectReport
    match: SymptomMatch | None
    defect: KnownDefect | None  # the entry for this model and symptom, if there is one now
    proposed: bool  # this report raised the proposal


def record_report(session: Session, clock: Clock, actor: Principal, *, customer_id: str, device_model: str,
                  wording: str, channel: str | None = None, case_id: str | None = None,
                  decision_id: str | None = None) -> Reported:
    """Keep a customer's report of a fault, matched to a symptom; raise a proposal when distinct
    customers in the window reach the threshold and the model and symptom have no entry yet."""
    model = check_model(device_model)
    text = check_wording(wording)
    if channel is not None and channel not in CHANNELS:
        raise ValidationFailed(f"channel must be one of {', '.join(CHANNELS)}", field="channel")
    customer = get_customer(session, customer_id)
    if case_id is not None and cases.get_case(session, case_id).customer_id != customer_id:
        raise ValidationFailed("the case is not this customer's", field="caseId")
    found = symptom_of(text)
    return record_checked_report(session, clock, actor, customer=customer, model=model, text=text, found=found,
                                 defect=find(session, model, found.symptom) if found else None, channel=channel,
                                 case_id=case_id, decision_id=decision_id)


def record_checked_report(session: Session, clock: Clock, actor: Principal, *, customer: Customer, model: str,
                          text: str, found: SymptomMatch | None, defect: KnownDefect | None,
                          channel: str | None = None, case_id: str | None = None,
                          decision_id: str | None = None) -> Reported:
    """``record_report`` for a caller that has already checked the input (the customer, the case is
    theirs, the channel, ``check_model``/``check_wording``), matched the symptom and looked its
    entry up (``find``): the decision service, which needs both for the decision itself."""
    customer_id = customer.id
    now = clock.now()
    report = DefectReport(customer_id=customer_id, device_model=model, symptom=found.symptom if found else None,
                          wording=text, reported_at=now, channel=channel, case_id=case_id, decision_id=decision_id,
                          recorded_by=actor.id)
    session.add(report)
    session.flush()
    record_event(session, DefectReported(
        occurred_at=now, aggregate_id=report.id, customer_id=customer_id, report_id=report.id, device_model=model,
        symptom=report.symptom, wording=text, matched=found.explain() if found else None, channel=channel,
        case_id=case_id, decision_id=decision_id, actor=actor.id, actor_name=actor.name))
    if found is None:
        return Reported(report, None, None, False)
    if defect is not None:
        return Reported(report, found, defect, False)
    defect, proposed = _propose_if_due(session, clock, model, found)
    return Reported(report, found, defect, proposed)


def _propose_if_due(session: Session, clock: Clock, model: str,
                    found: SymptomMatch) -> tuple[KnownDefect | None, bool]:
    proposal = symptoms.table().proposal
    now = clock.now()
    count = distinct_customers(session, model, found.symptom, since=now - timedelta(days=proposal.window_days),
                               until=now)
    if count < proposal.threshold:
        return None, False
    defect = KnownDefect(device_model=model, symptom=found.symptom, status=PROPOSED, report_count=count,
                         description=found.label, proposed_at=now, proposed_by=BY_THRESHOLD, created_at=now,
                         updated_at=now)
    try:
        with session.begin_nested():
            session.add(defect)
            session.flush()
    except IntegrityError:
        # Another report raised it a moment ago: that one stands.
        existing = find(session, model, found.symptom)
        if existing is None:
            raise
        return existing, False
    _event(session, "known_defect.proposed", defect, None, threshold=proposal.threshold,
           windowDays=proposal.window_days)
    return defect, True


# --- people deciding -------------------------------------------------------------------------

def register(session: Session, clock: Clock, actor: Principal, *, device_model: str, symptom: str,
             description: str | None = None, note: str | None = None) -> KnownDefect:
    """A specialist, team lead or admin registers a confirmed known defect directly. An existing
    entry for the model and symptom is a 409 naming it (confirm that one instead)."""
    _curator(actor)
    model = check_model(device_model)
    if not isinstance(symptom, str) or not symptom.strip():
        raise ValidationFailed("name the symptom (a key, or in words)", field="symptom")
    found = symptom_of(check_wording(symptom, "symptom"))
    if found is None:
        raise ValidationFailed(f"no symptom in the table matches '{symptom.strip()}'; known symptoms: "
                               f"{', '.join(symptoms.table().symptoms)}", field="symptom")
    if description is not None and (not isinstance(description, str) or len(description) > NOTE_MAX):
        raise ValidationFailed(f"the description is text of at most {NOTE_MAX} characters", field="description")
    note = _note(note)
    existing = find(session, model, found.symptom)
    if existing is not None:
        raise Conflict(f"{model} / {found.symptom} is already in the registry ({existing.status}, id {existing.id})"
                       + ("; confirm it instead" if existing.status != CONFIRMED else ""))
    now = clock.now()
    window = timedelta(days=symptoms.table().proposal.window_days)
    defect = KnownDefect(
        device_model=model, symptom=found.symptom, status=CONFIRMED,
        description=(description or "").strip() or found.label,
        report_count=distinct_customers(session, model, found.symptom, since=now - window, until=now),
        proposed_at=now, proposed_by=actor.id, confirmed_at=now, confirmed_by=actor.id, note=note,
        created_at=now, updated_at=now)
    try:
        with session.begin_nested():
            session.add(defect)
            session.flush()
    except IntegrityError as exc:
        raise Conflict(f"{model} / {found.symptom} was registered a moment ago") from exc
    _event(session, "known_defect.confirmed", defect, actor, fromStatus=None, registered=True)
    return defect


class ChangedSinceRead(Conflict):
    """The entry moved on after the caller read it (``expected_version`` is not its version)."""


def confirm(session: Session, clock: Clock, actor: Principal, defect_id: str, *, note: str | None = None,
            expected_version: int | None = None) -> KnownDefect:
    """A curator confirms a proposed (or retired) entry. With ``expected_version`` (the version the
    caller read: the page's form, the API's If-Match) an entry that has moved on since is refused
    with ``ChangedSinceRead`` naming who moved it and when, and nothing changes."""
    return _move(session, clock, actor, defect_id, "confirm", note, expected_version)


def retire(session: Session, clock: Clock, actor: Principal, defect_id: str, *, note: str | None = None,
           expected_version: int | None = None) -> KnownDefect:
    """A curator rejects a proposal or retires a confirmed entry; ``expected_version`` as in ``confirm``."""
    return _move(session, clock, actor, defect_id, "retire", note, expected_version)


def _changed_since_read(session: Session, defect: KnownDefect, action: str) -> ChangedSinceRead:
    by, at = ((defect.confirmed_by, defect.confirmed_at) if defect.status == CONFIRMED
              else (defect.retired_by, defect.retired_at) if defect.status == RETIRED
              else (None, defect.updated_at))
    who = (actor_names(session, [by]).get(by) if by else None) or "someone else"
    when = f"{at:%d %b %Y, %H:%M} UTC" if at else "a moment ago"
    return ChangedSinceRead(
        f"{who} {defect.status} it after you read it ({when}): it is now {defect.status}. "
        f"Your {action} was not applied; read the entry again.",
        details={"status": defect.status, "version": defect.version, "by": who,
                 "at": at.isoformat() if at else None})


def _move(session: Session, clock: Clock, actor: Principal, defect_id: str, action: str,
          note: str | None, expected_version: int | None = None) -> KnownDefect:
    _curator(actor)
    note = _note(note)
    defect = get(session, defect_id)
    if expected_version is not None and expected_version != defect.version:
        raise _changed_since_read(session, defect, action)
    after = TRANSITIONS.get((defect.status, action))
    if after is None:
        verb = {"confirm": "confirmed", "retire": "retired"}.get(action, action)
        raise Conflict(f"the known defect is already {defect.status}; it cannot be {verb}")
    before, now = defect.status, clock.now()
    defect.status, defect.updated_at = after, now
    if after == CONFIRMED:
        defect.confirmed_at, defect.confirmed_by = now, actor.id
    else:
        defect.retired_at, defect.retired_by = now, actor.id
    if note is not None:
        defect.note = note
    session.flush()
    _event(session, f"known_defect.{after}", defect, actor, fromStatus=before, note=note)
    return defect


def _event(session: Session, kind: str, defect: KnownDefect, actor: Principal | None, **extra) -> None:
    record_event(session, DomainEvent(
        type=kind, occurred_at=defect.updated_at, aggregate_type="known_defect", aggregate_id=defect.id,
        payload={"knownDefectId": defect.id, "deviceModel": defect.device_model, "symptom": defect.symptom,
                 "status": defect.status, "reportCount": defect.report_count,
                 "actor": actor.id if actor else BY_THRESHOLD, "actorName": actor.name if actor else "onethread",
                 **extra}))
