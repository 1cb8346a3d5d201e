"""Identifiers over time: assign, end, move, and resolve a value to its holder at an instant.

The invariant: one identifier never has two holders at overlapping times. Every write
first locks the identifier's row (``SELECT ... FOR UPDATE`` on PostgreSQL; SQLite's
writer lock, taken by ``BEGIN IMMEDIATE``, does the same), then checks the periods, so two
concurrent assignments of the same number serialise and the second is refused. PostgreSQL
also carries an exclusion constraint as a last line of defence.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import bindparam, or_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from onethread.access.rules import Principal
from onethread.customers import rules
from onethread.customers.events import IdentifierAssigned, IdentifierReleased
from onethread.db.outbox import record_event
from onethread.errors import Conflict, NotFound, ValidationFailed
from onethread.kernel.clock import Clock, ensure_utc
from onethread.kernel.ids import new_id
from onethread.models import Customer, Identifier, IdentifierHolding, Product

FOUND, NONE, AMBIGUOUS = "found", "none", "ambiguous"


@dataclass(frozen=True)
class Resolution:
    status: str  # found | none | ambiguous
    kind: str
    value: str  # normalised
    at: datetime
    customer_id: str | None = None
    holding_id: str | None = None
    candidates: list[str] = field(default_factory=list)  # customer ids when ambiguous

    def as_dict(self) -> dict:
        return {
            "status": self.status,
            "kind": self.kind,
            "value": self.value,
            "at": self.at.isoformat(),
            "customerId": self.customer_id,
            "holdingId": self.holding_id,
            "candidates": self.candidates,
        }


def normalise(kind: str, value: str, region: str | None) -> str:
    try:
        return rules.normalise(kind, value, region=region)
    except rules.InvalidIdentifier as exc:
        raise ValidationFailed(str(exc), field="value") from exc


def _lock_identifier(session: Session, kind: str, value: str, now: datetime) -> Identifier:
    """Get-or-create the identifier row and lock it for the rest of the transaction."""
    dialect = session.get_bind().dialect.name
    values = {"id": new_id(), "kind": kind, "value": value, "created_at": now}
    if dialect == "postgresql":
        session.execute(postgresql.insert(Identifier).values(**values).on_conflict_do_nothing())
    elif dialect == "sqlite":
        session.execute(sqlite.insert(Identifier).values(**values).on_conflict_do_nothing())
    else:  # pragma: no cover - only the two supported databases
        raise RuntimeError(f"unsupported database {dialect}")
    return session.scalars(
        select(Identifier)
        .where(Identifier.kind == kind, Identifier.value == value)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one()


def assign(session: Session, clock: Clock, actor: Principal, *, customer_id: str, kind: str, value: str,
           valid_from: datetime | None = None, valid_to: datetime | None = None, product_id: str | None = None,
           region: str | None = None) -> IdentifierHolding:
    """Give ``customer_id`` the identifier for [valid_from, valid_to); refuse any overlap."""
    if session.get(Customer, customer_id) is None:
        raise NotFound(f"no customer with id {customer_id}", field="customerId")
    if product_id is not None:
        product = session.get(Product, product_id)
        if product is None or product.customer_id != customer_id:
            raise ValidationFailed(f"product {product_id} is not this customer's", field="productId")
    normal = normalise(kind, value, region)
    now = clock.now()
    start = ensure_utc(valid_from) if valid_from else now
    end = ensure_utc(valid_to) if valid_to else None
    if end is not None and end <= start:
        raise ValidationFailed("validTo must be after validFrom", field="validTo")
    ident = _lock_identifier(session, kind, normal, now)
    clash = session.scalars(
        select(IdentifierHolding)
        .where(
            IdentifierHolding.identifier_id == ident.id,
            or_(IdentifierHolding.valid_to.is_(None), IdentifierHolding.valid_to > start),
            *([IdentifierHolding.valid_from < end] if end is not None else []),
        )
        .order_by(IdentifierHolding.valid_from)
    ).first()
    if clash is not None:
        if clash.customer_id == customer_id and clash.valid_to is None and end is None:
            raise Conflict(f"{rules.KIND_LABELS[kind]} {normal} is already held by this customer",
                           field="value", details={"holdingId": clash.id})
        until = clash.valid_to.isoformat() if clash.valid_to else "now (still held)"
        holder = session.get(Customer, clash.customer_id)
        raise Conflict(
            f"{rules.KIND_LABELS[kind]} {normal} is held by {holder.name} (customer {clash.customer_id}) "
            f"from {clash.valid_from.isoformat()} until {until}; end that holding first",
            field="value",
            details={"holdingId": clash.id, "customerId": clash.customer_id,
                     "validFrom": clash.valid_from.isoformat(),
                     "validTo": clash.valid_to.isoformat() if clash.valid_to else None},
        )
    holding = IdentifierHolding(identifier_id=ident.id, customer_id=customer_id, product_id=product_id,
                                valid_from=start, valid_to=end, recorded_by=actor.id, created_at=now)
    session.add(holding)
    session.flush()
    record_event(session, IdentifierAssigned(
        occurred_at=now, aggregate_id=ident.id, customer_id=customer_id, kind=kind, value=normal,
        valid_from=start.isoformat(), valid_to=end.isoformat() if end else None, holding_id=holding.id,
        actor=actor.id))
    return holding


def end_holding(session: Session, clock: Clock, actor: Principal, holding_id: str, *,
                at: datetime | None = None, reason: str | None = None) -> IdentifierHolding:
    holding = session.get(IdentifierHolding, holding_id)
    if holding is None:
        raise NotFound(f"no identifier holding {holding_id}")
    ident = session.get(Identifier, holding.identifier_id)
    _lock_identifier(session, ident.kind, ident.value, clock.now())
    # Read the holding again under the lock: a concurrent end or move may have changed it.
    session.refresh(holding)
    end = ensure_utc(at) if at else clock.now()
    if holding.valid_to is not None and holding.valid_to <= end:
        raise Conflict(f"this holding already ended on {holding.valid_to.isoformat()}")
    if end <= holding.valid_from:
        raise ValidationFailed("the end must be after the start of the holding", field="at")
    holding.valid_to = end
    holding.end_reason = reason
    record_event(session, IdentifierReleased(
        occurred_at=clock.now(), aggregate_id=ident.id, customer_id=holding.customer_id, kind=ident.kind,
        value=ident.value, valid_to=end.isoformat(), holding_id=holding.id, reason=reason, actor=actor.id))
    return holding


def move(session: Session, clock: Clock, actor: Principal, *, kind: str, value: str, to_customer_id: str,
         at: datetime | None = None, reason: str | None = None, region: str | None = None) -> IdentifierHolding:
    """End the current holder's period at ``at`` and start ``to_customer_id``'s (number recycling, porting)."""
    return move_identifier(session, clock, actor, kind=kind, value=value, to_customer_id=to_customer_id, at=at,
                           reason=reason, region=region)[1]


def move_identifier(session: Session, clock: Clock, actor: Principal, *, kind: str, value: str,
                    to_customer_id: str, at: datetime | None = None, reason: str | None = None,
                    region: str | None = None) -> tuple[IdentifierHolding | None, IdentifierHolding]:
    """Like :func:`move`; returns ``(the holding it ended or None, the new holding)``."""
    normal = normalise(kind, value, region)
    if session.get(Customer, to_customer_id) is None:
        raise NotFound(f"no customer with id {to_customer_id}", field="toCustomerId")
    when = ensure_utc(at) if at else clock.now()
    _lock_identifier(session, kind, normal, clock.now())  # resolve under the lock: no move races another
    current = resolve(session, kind, normal, when, region=region)
    ended = None
    if current.status == FOUND:
        if current.customer_id == to_customer_id:
            raise Conflict("the customer already holds this identifier at that time", field="toCustomerId")
        ended = end_holding(session, clock, actor, current.holding_id, at=when, reason=reason or "moved")
    holding = assign(session, clock, actor, customer_id=to_customer_id, kind=kind, value=normal, valid_from=when,
                     region=region)
    return ended, holding


# Resolution runs for every contact and every call: its SELECT is built once, with bound
# parameters (SQLAlchemy caches the compiled statement, not the Python that builds it).
_AT = bindparam("at")
_HOLDER_AT = (
    select(IdentifierHolding.id, IdentifierHolding.customer_id)
    .join(Identifier, Identifier.id == IdentifierHolding.identifier_id)
    .where(
        Identifier.kind == bindparam("kind"),
        Identifier.value == bindparam("value"),
        IdentifierHolding.valid_from <= _AT,
        or_(IdentifierHolding.valid_to.is_(None), IdentifierHolding.valid_to > _AT),
    )
)


def resolve(session: Session, kind: str, value: str, at: datetime, *, region: str | None = None) -> Resolution:
    """Who held ``value`` at ``at``. ``none`` if nobody; never a former or later holder."""
    when = ensure_utc(at)
    if kind == rules.SOCIAL and ":" not in value:
        return _resolve_bare_handle(session, value, when)
    normal = normalise(kind, value, region)
    return _holder(kind, normal, when, session.execute(_HOLDER_AT, {"kind": kind, "value": normal, "at": when}).all())


def _holder(kind: str, normal: str, when: datetime, rows) -> Resolution:
    """The resolution from the holdings in force at ``when`` (rows with ``id`` and ``customer_id``)."""
    if not rows:
        return Resolution(NONE, kind, normal, when)
    if len(rows) > 1:  # cannot happen while the invariant holds; say so rather than pick one
        return Resolution(AMBIGUOUS, kind, normal, when, candidates=sorted({r.customer_id for r in rows}))
    return Resolution(FOUND, kind, normal, when, customer_id=rows[0].customer_id, holding_id=rows[0].id)


# Many resolutions at once (a batch of contacts): every holding of the identifiers asked about,
# in one SELECT by (kind, value) through the unique index; the holder at each instant is then
# picked from them, as _HOLDER_AT picks it.
_HOLDINGS_OF = (
    select(Identifier.kind, Identifier.value, IdentifierHolding.id, IdentifierHolding.customer_id,
           IdentifierHolding.valid_from, IdentifierHolding.valid_to)
    .join(Identifier, Identifier.id == IdentifierHolding.identifier_id)
    .where(Identifier.kind.in_(bindparam("kinds", expanding=True)),
           Identifier.value.in_(bindparam("values", expanding=True)))
)


def resolve_many(session: Session, asks: list[tuple[str, str, datetime]], *, region: str | None = None
                 ) -> list[Resolution | ValidationFailed]:
    """:func:`resolve` for many ``(kind, value, at)``, in the order asked. A value that is not a
    valid identifier of its kind gives, in its place, the ``ValidationFailed`` that ``resolve``
    would raise."""
    out: list[Resolution | ValidationFailed | None] = [None] * len(asks)
    pending: dict[int, tuple[str, str, datetime]] = {}
    for i, (kind, value, at) in enumerate(asks):
        when = ensure_utc(at)
        if kind == rules.SOCIAL and ":" not in value:
            out[i] = _resolve_bare_handle(session, value, when)
            continue
        try:
            pending[i] = (kind, normalise(kind, value, region), when)
        except ValidationFailed as exc:
            out[i] = exc
    if pending:
        kinds = sorted({kind for kind, _, _ in pending.values()})
        values = sorted({normal for _, normal, _ in pending.values()})
        held: dict[tuple[str, str], list] = {}
        for row in session.execute(_HOLDINGS_OF, {"kinds": kinds, "values": values}):
            held.setdefault((row.kind, row.value), []).append(row)
        for i, (kind, normal, when) in pending.items():
            in_force = [r for r in held.get((kind, normal), ())
                        if r.valid_from <= when and (r.valid_to is None or r.valid_to > when)]
            out[i] = _holder(kind, normal, when, in_force)
    return out  # type: ignore[return-value]


def _resolve_bare_handle(session: Session, handle: str, when: datetime) -> Resolution:
    """A handle given without its platform: several platforms may know it (ambiguous)."""
    bare = handle.strip().lstrip("@").lower()
    rows = session.execute(
        select(IdentifierHolding.id, IdentifierHolding.customer_id, Identifier.value)
        .join(Identifier, Identifier.id == IdentifierHolding.identifier_id)
        .where(
            Identifier.kind == rules.SOCIAL,
            Identifier.value.like(f"%:{bare}"),
            IdentifierHolding.valid_from <= when,
            or_(IdentifierHolding.valid_to.is_(None), IdentifierHolding.valid_to > when),
        )
    ).all()
    rows = [r for r in rows if r.value.split(":", 1)[1] == bare]
    customers = sorted({r.customer_id for r in rows})
    if not customers:
        return Resolution(NONE, rules.SOCIAL, bare, when)
    if len(customers) > 1:
        return Resolution(AMBIGUOUS, rules.SOCIAL, bare, when, candidates=customers)
    return Resolution(FOUND, rules.SOCIAL, bare, when, customer_id=customers[0], holding_id=rows[0].id)


def history(session: Session, kind: str, value: str, *, region: str | None = None) -> list[IdentifierHolding]:
    """Every holding of one identifier, oldest first (the S3 evidence view uses this)."""
    normal = normalise(kind, value, region)
    return list(session.scalars(
        select(IdentifierHolding)
        .join(Identifier, Identifier.id == IdentifierHolding.identifier_id)
        .where(Identifier.kind == kind, Identifier.value == normal)
        .order_by(IdentifierHolding.valid_from)
    ))


def holdings_of(session: Session, customer_id: str, *, at: datetime | None = None,
                ) -> list[tuple[IdentifierHolding, Identifier]]:
    """A customer's holdings, all of them, or only those in force at ``at``."""
    query = (
        select(IdentifierHolding, Identifier)
        .join(Identifier, Identifier.id == IdentifierHolding.identifier_id)
        .where(IdentifierHolding.customer_id == customer_id)
        .order_by(Identifier.kind, IdentifierHolding.valid_from, Identifier.value)
    )
    if at is not None:
        when = ensure_utc(at)
        query = query.where(IdentifierHolding.valid_from <= when,
                            or_(IdentifierHolding.valid_to.is_(None), IdentifierHolding.valid_to > when))
    return [tuple(row) for row in session.execute(query).all()]


def get_holding(session: Session, holding_id: str) -> tuple[IdentifierHolding, Identifier]:
    holding = session.get(IdentifierHolding, holding_id)
    if holding is None:
        raise NotFound(f"no identifier holding {holding_id}")
    return holding, session.get(Identifier, holding.identifier_id)
