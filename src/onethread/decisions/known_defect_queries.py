"""Read models for the known-defects page: the registry grouped by status with live counts of the
reports behind each entry, and one entry with the reports themselves (whose customer, in their
words, when, through which channel). Reading the reports shows customers' names, so it is audited,
one row per customer shown. The rules are in ``known_defects``; nothing here changes anything but
the audit log.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from onethread.access import service as access
from onethread.access.rules import Principal
from onethread.customers import queries as customer_queries
from onethread.decisions import known_defects, symptoms
from onethread.kernel.clock import Clock
from onethread.models import DefectReport, KnownDefect

SHOWN_PER_STATUS = 100
REPORTS_SHOWN = 200


@dataclass(frozen=True)
class EntryRow:
    """An entry as the registry list shows it, with its reports counted now."""

    defect: KnownDefect
    label: str
    customers: int  # distinct customers who reported it, ever
    reports: int
    first_reported_at: datetime | None
    last_reported_at: datetime | None


@dataclass(frozen=True)
class Registry:
    by_status: dict[str, list[EntryRow]]  # proposed, confirmed, retired (in that order)
    totals: dict[str, int]  # how many of each, beyond those shown
    models: list[str]  # every model in the registry, for the filter


def label_of(symptom: str) -> str:
    return symptoms.table().label(symptom) or symptom.replace("_", " ")


def registry(session: Session, *, model: str | None = None, limit: int = SHOWN_PER_STATUS) -> Registry:
    """Proposals, then confirmed, then retired entries (newest change first in each), filtered by model."""
    by_status: dict[str, list[KnownDefect]] = {}
    totals: dict[str, int] = {}
    for status in known_defects.STATUSES:
        by_status[status], totals[status] = known_defects.list_defects(session, status=status, model=model,
                                                                        limit=limit)
    shown = [d for rows in by_status.values() for d in rows]
    counts: dict[tuple[str, str], tuple[int, int, datetime, datetime]] = {}
    if shown:
        rows = session.execute(
            select(DefectReport.device_model, DefectReport.symptom,
                   func.count(func.distinct(DefectReport.customer_id)), func.count(),
                   func.min(DefectReport.reported_at), func.max(DefectReport.reported_at))
            .where(DefectReport.device_model.in_({d.device_model for d in shown}),
                   DefectReport.symptom.in_({d.symptom for d in shown}))
            .group_by(DefectReport.device_model, DefectReport.symptom))
        counts = {(m, s): (c, n, first, last) for m, s, c, n, first, last in rows}
    models = list(session.scalars(select(KnownDefect.device_model).distinct().order_by(KnownDefect.device_model)))

    def row(d: KnownDefect) -> EntryRow:
        c, n, first, last = counts.get((d.device_model, d.symptom), (0, 0, None, None))
        return EntryRow(d, label_of(d.symptom), c, n, first, last)

    return Registry({s: [row(d) for d in rows] for s, rows in by_status.items()}, totals, models)


@dataclass(frozen=True)
class ReportRow:
    id: str
    customer_id: str
    customer_name: str
    wording: str
    matched: str | None  # how the wording matched the symptom table
    reported_at: datetime
    channel: str | None
    case_id: str | None
    decision_id: str | None


@dataclass(frozen=True)
class EntryView:
    defect: KnownDefect
    label: str
    evidence: known_defects.Evidence
    reports: list[ReportRow]  # newest first, at most REPORTS_SHOWN
    people: dict[str, str]  # staff ids on the entry -> names


def entry(session: Session, clock: Clock, actor: Principal, defect_id: str, *,
          limit: int = REPORTS_SHOWN) -> EntryView:
    """One entry with the reports behind it, newest first. The customers shown are audited."""
    defect = known_defects.get(session, defect_id)
    rows = list(session.scalars(
        select(DefectReport).where(DefectReport.device_model == defect.device_model,
                                   DefectReport.symptom == defect.symptom)
        .order_by(DefectReport.reported_at.desc(), DefectReport.id.desc()).limit(limit)))
    names = customer_queries.customer_names(session, [r.customer_id for r in rows])
    reports = []
    for r in rows:
        found = symptoms.match(r.wording)
        reports.append(ReportRow(r.id, r.customer_id, names.get(r.customer_id, r.customer_id), r.wording,
                                 found.explain() if found else None, r.reported_at, r.channel, r.case_id,
                                 r.decision_id))
    shown: dict[str, list[str]] = {}
    for r in rows:
        shown.setdefault(r.customer_id, []).append(r.id)
    for cid, ids in sorted(shown.items()):
        access.audit(session, clock, actor, action="read", resource_type="defect_report",
                     resource_id=ids[0] if len(ids) == 1 else None, customer_id=cid,
                     purpose="known-defect evidence", detail={"knownDefectId": defect.id, "reportIds": ids})
    people = customer_queries.actor_names(session, [defect.proposed_by, defect.confirmed_by, defect.retired_by])
    people.setdefault(known_defects.BY_THRESHOLD, "onethread (the report threshold)")
    return EntryView(defect, label_of(defect.symptom), known_defects.evidence(session, clock, defect), reports,
                     people)
