"""Undoing a case merge. ``merge`` records, on the source's ``merged`` event, everything it moved
or changed (the rows that moved, the clocks it stopped, moved or started, the hand-overs it
cancelled, both cases' fields before). ``unmerge`` puts every one of them back, or refuses with a
409 naming why it can no longer be exact (the target changed since, a moved row left it...)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from onethread.access.rules import SUPERVISORS, Principal
from onethread.cases import rules
from onethread.cases.log import log
from onethread.cases.rules import HandoverStatus
from onethread.errors import Conflict, Forbidden, NotFound, ValidationFailed
from onethread.kernel.clock import Clock
from onethread.models import Case, CaseClock, CaseEvent, Commitment, Contact, Handover, Harm, Participant, Task

MOVED = {"contacts": Contact, "commitments": Commitment, "harms": Harm, "tasks": Task, "participants": Participant}


def _iso(at: datetime | None) -> str | None:
    return at.isoformat() if at else None


def _at(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


def before(session: Session, source: Case, target: Case) -> dict:
    """What the merge is about to move or change, as it is now."""
    session.flush()
    record: dict = {k: sorted(session.scalars(select(m.id).where(m.case_id == source.id))) for k, m in MOVED.items()}
    record["handovers"] = sorted(session.scalars(select(Handover.id).where(
        Handover.case_id == source.id, Handover.status == HandoverStatus.PENDING)))
    record["clocks"] = {c.id: [c.case_id, _iso(c.stopped_at)] for c in session.scalars(
        select(CaseClock).where(CaseClock.case_id.in_((source.id, target.id))))}
    record["source"] = {"status": source.status, "outcome": source.outcome, "closedAt": _iso(source.closed_at),
                        "lastActivityAt": _iso(source.last_activity_at)}
    record["target"] = {"severity": target.severity, "awaitingReplySince": _iso(target.awaiting_reply_since),
                        "lastActivityAt": _iso(target.last_activity_at)}
    record["events"] = _events(session, source, target)
    return record


def _events(session: Session, source: Case, target: Case) -> int:
    return session.scalar(select(func.count(CaseEvent.id)).where(CaseEvent.case_id.in_((source.id, target.id))))


def after(session: Session, record: dict, target: Case) -> dict:
    """Completes the record with the clocks the merge started on the target."""
    session.flush()
    record["newClocks"] = sorted(i for i in session.scalars(select(CaseClock.id).where(CaseClock.case_id == target.id))
                                 if i not in record["clocks"])
    return record


def merge_record(session: Session, source: Case) -> tuple[CaseEvent, dict]:
    """The source's last ``merged`` event and its undo record (404 when the case was not merged)."""
    entry = session.scalars(select(CaseEvent).where(CaseEvent.case_id == source.id, CaseEvent.kind == "merged")
                            .order_by(CaseEvent.at.desc(), CaseEvent.id.desc())).first()
    if source.merged_into_id is None or entry is None:
        raise NotFound(f"case {source.id} is not merged into another")
    if "undo" not in (entry.data or {}):
        raise Conflict("this merge was made before merges were recorded for undoing; it cannot be undone exactly")
    return entry, entry.data["undo"]


def undo_blockers(session: Session, source: Case, target: Case, record: dict) -> list[str]:
    """Why putting both cases back as they were would not be exact (empty: it would be)."""
    reasons = []
    if target.status == rules.CaseStatus.CLOSED:
        reasons.append(f"case {target.id} it was merged into is closed since")
    session.flush()
    if _events(session, source, target) != record["events"] + 2:  # + the merge's own two entries
        reasons.append("the cases changed since the merge (see their logs)")
    for key, model in MOVED.items():
        ids = record[key]
        if ids and session.scalar(select(model.id).where(model.id.in_(ids), model.case_id != target.id).limit(1)):
            reasons.append(f"some {key} moved by the merge are no longer on case {target.id}")
    return reasons


def unmerge(session: Session, clock: Clock, actor: Principal, source_id: str, *, reason: str) -> Case:
    """A team lead or an administrator undoes a merge: both cases are back as they were before it
    (rows, clocks, hand-overs, owner, status, severity), and both logs say who undid it and why."""
    if actor.kind != "staff" or actor.role not in SUPERVISORS:
        raise Forbidden("only a team lead or an administrator, as a named person, undoes a merge")
    if not (reason or "").strip():
        raise ValidationFailed("say why the merge is undone", field="reason")
    source = session.get(Case, source_id)
    if source is None:
        raise NotFound(f"no case {source_id}")
    entry, record = merge_record(session, source)
    target = session.get(Case, source.merged_into_id)
    blockers = undo_blockers(session, source, target, record)
    if blockers:
        raise Conflict("the merge cannot be undone exactly: " + "; ".join(blockers))
    for key, model in MOVED.items():
        for row in session.scalars(select(model).where(model.id.in_(record[key]))) if record[key] else ():
            row.case_id = source.id
    for handover in session.scalars(select(Handover).where(Handover.id.in_(record["handovers"]))) \
            if record["handovers"] else ():
        handover.status, handover.decided_at, handover.decision_note = HandoverStatus.PENDING, None, None
    if record["newClocks"]:
        session.execute(delete(CaseClock).where(CaseClock.id.in_(record["newClocks"])))
    for row in session.scalars(select(CaseClock).where(CaseClock.id.in_(list(record["clocks"])))):
        case_id, stopped_at = record["clocks"][row.id]
        row.case_id, row.stopped_at = case_id, _at(stopped_at)
    was, tw = record["source"], record["target"]
    source.status, source.outcome, source.closed_at = was["status"], was["outcome"], _at(was["closedAt"])
    source.merged_into_id, source.last_activity_at = None, _at(was["lastActivityAt"])
    target.severity, target.awaiting_reply_since = tw["severity"], _at(tw["awaitingReplySince"])
    target.last_activity_at = _at(tw["lastActivityAt"])
    now, text = clock.now(), reason.strip()
    log(session, clock, source, actor, "unmerged", f"Merge into case {target.title} undone", text=text,
        data={"fromId": target.id, "mergedBy": entry.actor_name, "mergedAt": _iso(entry.at)}, at=now)
    log(session, clock, target, actor, "unmerged_out", f"Case {source.title} taken back out of this one", text=text,
        data={"caseId": source.id}, at=now)
    # The log entries must not count as activity: the undo puts the cases back as they were.
    source.last_activity_at, target.last_activity_at = _at(was["lastActivityAt"]), _at(tw["lastActivityAt"])
    return source
