"""Merging two customer records that are the same person, and undoing it.

A merge moves every row of the source customer (identifier holdings with their periods as they
are, contacts, cases and their logs, products, accounts, bills...) to the target and records
which rows moved, so that an undo moves exactly those back. It needs evidence that the two
records are one person: the same name and date of birth, or the same name with each record verified
with an identity document. A shared e-mail address or number is never enough: numbers are
recycled and addresses shared, so the former holder of a number is not merged in on it.
"""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.orm import Session, aliased

from onethread.access import service as access
from onethread.access.rules import SUPERVISORS, Principal
from onethread.db.base import Base
from onethread.db.outbox import record_events
from onethread.errors import Conflict, Forbidden, NotFound, ValidationFailed
from onethread.kernel.clock import Clock
from onethread.kernel.events import DomainEvent
from onethread.models import Customer, CustomerMerge, IdentifierHolding, Party, Verification

EVIDENCE = ("name_and_birth_date", "verified_identity")
# Rows added after the merge to a case or product it moved belong with it: an undo would split them.
# A child row and the row it belongs to (its case, product, bill...) are one customer's: the keys
# say so (composite foreign keys, docs/scaling.md), so an undo never splits them.
LINKS = tuple(sorted({(column, fk.referred_table.name) for table in Base.metadata.sorted_tables
                      for fk in table.foreign_key_constraints
                      if len(fk.column_keys) == 2 and "customer_id" in fk.column_keys
                      for column in fk.column_keys if column != "customer_id"}))
KEPT = ("audit_entry", "outbox_event", "customer_merge")  # history as it happened; merges name both
# Not moved but rewritten: the search index follows the rows (its handler reindexes both
# customers on the merge's events), so an index row rewritten since never blocks an undo.
DERIVED = ("search_doc",)


def _supervisor(actor: Principal, what: str) -> None:
    if actor.kind != "staff" or actor.role not in SUPERVISORS:
        raise Forbidden(f"only a team lead or an administrator, as a named person, {what}")


def _customer(session: Session, customer_id: str, field: str) -> Customer:
    found = session.get(Customer, customer_id)
    if found is None:
        raise ValidationFailed(f"no customer {customer_id}", field=field)
    return found


def _tables():
    return [t for t in Base.metadata.sorted_tables
            if "customer_id" in t.c and "id" in t.c and t.name not in KEPT + DERIVED]


def _announce(session: Session, clock: Clock, actor: Principal, record: CustomerMerge, type_: str) -> None:
    """One event per customer of the merge (``customer.merged`` / ``customer.merge_undone``): what
    is derived from their rows (the search index, subscribers) follows."""
    record_events(session, [DomainEvent(type=type_, occurred_at=clock.now(), aggregate_type="customer",
                                        aggregate_id=customer_id, customer_id=customer_id,
                                        payload={"actor": actor.id, "actorName": actor.name, "merge": record.id,
                                                 "sourceId": record.source_id, "targetId": record.target_id})
                            for customer_id in (record.source_id, record.target_id)])


def shared_identifiers(session: Session, source_id: str, target_id: str) -> int:
    other = aliased(IdentifierHolding)
    return len(session.execute(select(IdentifierHolding.identifier_id).join(
        other, other.identifier_id == IdentifierHolding.identifier_id).where(
        IdentifierHolding.customer_id == source_id, other.customer_id == target_id).distinct()).all())


def evidence_holds(session: Session, source: Customer, target: Customer, evidence: str) -> bool:
    """``name_and_birth_date``: both parties carry the same name and date of birth.
    ``verified_identity``: the same name, each record verified with an identity document, and no
    two different dates of birth on file."""
    a, b = session.get(Party, source.party_id), session.get(Party, target.party_id)
    if a.display_name.strip().casefold() != b.display_name.strip().casefold():
        return False
    if evidence == "name_and_birth_date":
        return bool(a.birth_date and a.birth_date == b.birth_date)
    if a.birth_date and b.birth_date and a.birth_date != b.birth_date:
        return False  # two dates of birth on file: two people, whatever was checked
    checked = set(session.scalars(select(Verification.customer_id).where(
        Verification.customer_id.in_((source.id, target.id)), Verification.method == "id_document")))
    return checked == {source.id, target.id}


def merge(session: Session, clock: Clock, actor: Principal, *, source_id: str, target_id: str, reason: str,
          evidence: str) -> CustomerMerge:
    """Move everything of ``source`` to ``target``, recorded; 409 when the evidence does not hold."""
    _supervisor(actor, "merges customers")
    source, target = _customer(session, source_id, "sourceId"), _customer(session, target_id, "targetId")
    if source.id == target.id:
        raise ValidationFailed("merge two different customers", field="targetId")
    if evidence not in EVIDENCE:
        raise ValidationFailed(f"name the evidence that they are one person: {' | '.join(EVIDENCE)}",
                               field="evidence")
    if not (reason or "").strip():
        raise ValidationFailed("say why the customers are merged", field="reason")
    if session.scalar(select(CustomerMerge.id).where(CustomerMerge.source_id == source.id,
                                                     CustomerMerge.undone_at.is_(None))):
        raise Conflict(f"customer {source.id} is already merged into another")
    if not evidence_holds(session, source, target, evidence):
        shared = shared_identifiers(session, source.id, target.id)
        link = (f"they share {shared} identifier(s), which alone is not the same person (numbers are recycled, "
                "addresses shared)") if shared else "nothing links them"
        what = ("the same name and date of birth" if evidence == "name_and_birth_date"
                else "the same name, each verified with an identity document")
        raise Conflict(f"the evidence does not hold: the records do not have {what}; {link}")
    moved: dict[str, list[str]] = {}
    for table in _tables():
        ids = sorted(session.scalars(select(table.c.id).where(table.c.customer_id == source.id)))
        if ids:
            session.execute(update(table).where(table.c.id.in_(ids)).values(customer_id=target.id))
            moved[table.name] = ids
    record = CustomerMerge(source_id=source.id, target_id=target.id, evidence=evidence, reason=reason.strip(),
                           moved=moved, merged_by=actor.id, merged_by_name=actor.name, merged_at=clock.now())
    session.add(record)
    session.flush()
    _audit(session, clock, actor, record, "merge_customers", "customer merge")
    _announce(session, clock, actor, record, "customer.merged")
    return record


def _audit(session: Session, clock: Clock, actor: Principal, record: CustomerMerge, action: str, purpose: str) -> None:
    for customer_id in (record.source_id, record.target_id):
        access.audit(session, clock, actor, action=action, resource_type="customer_merge", resource_id=record.id,
                     customer_id=customer_id, channel="api", purpose=purpose)


def read_merge(session: Session, clock: Clock, actor: Principal, merge_id: str) -> CustomerMerge:
    """A merge read back, the read audited for both customers."""
    record = get_merge(session, merge_id)
    _audit(session, clock, actor, record, "read", "customer merge")
    return record


def get_merge(session: Session, merge_id: str) -> CustomerMerge:
    found = session.get(CustomerMerge, merge_id)
    if found is None:
        raise NotFound(f"no customer merge {merge_id}")
    return found


def undo(session: Session, clock: Clock, actor: Principal, merge_id: str, *, reason: str) -> CustomerMerge:
    """Move back exactly the rows the merge moved; 409 when one of them is no longer the target's."""
    _supervisor(actor, "undoes a customer merge")
    record = get_merge(session, merge_id)
    if not (reason or "").strip():
        raise ValidationFailed("say why the merge is undone", field="reason")
    if record.undone_at is not None:
        raise Conflict("this merge is already undone")
    tables = {t.name: t for t in _tables()}
    for name, ids in record.moved.items():
        table = tables[name]
        elsewhere = session.scalar(select(table.c.id).where(table.c.id.in_(ids),
                                                            table.c.customer_id != record.target_id).limit(1))
        if elsewhere or len(session.scalars(select(table.c.id).where(table.c.id.in_(ids))).all()) != len(ids):
            raise Conflict(f"the merge cannot be undone exactly: rows of {name} it moved are no longer "
                           f"customer {record.target_id}'s")
    for column, parent in LINKS:
        parents = record.moved.get(parent, [])
        for table in tables.values():
            if column not in table.c or not parents:
                continue
            query = select(table.c.id).where(table.c[column].in_(parents), table.c.customer_id == record.target_id)
            kept = record.moved.get(table.name, [])
            if kept:
                query = query.where(table.c.id.not_in(kept))
            if session.scalar(query.limit(1)):
                raise Conflict(f"the merge cannot be undone exactly: {table.name} rows were added since to a "
                               f"{parent.replace('_file', '')} it moved (they would be split from it)")
    for name, ids in record.moved.items():
        session.execute(update(tables[name]).where(tables[name].c.id.in_(ids)).values(customer_id=record.source_id))
    record.undone_by, record.undone_by_name, record.undone_at = actor.id, actor.name, clock.now()
    record.undo_reason = reason.strip()
    _audit(session, clock, actor, record, "undo_customer_merge", "customer merge undone")
    _announce(session, clock, actor, record, "customer.merge_undone")
    return record
