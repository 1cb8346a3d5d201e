"""Identifiers over time (``/api/v1``): who held which number, SIM, device, e-mail, handle or account, when.

Translation only: the rules (normalisation, half-open periods, no overlap) live in
``customers.rules`` and ``customers.identifier_service``.
"""

from __future__ import annotations

from fastapi import APIRouter, Query, Response
from pydantic import AwareDatetime

from onethread.access import service as access
from onethread.access.rules import CUSTOMER_READERS, CUSTOMER_WRITERS
from onethread.api.deps import ClockDep, ContainerDep, DbSession, allow
from onethread.api.tmf.conventions import created
from onethread.api.v1.schemas import V1, HistoryOut, HoldingEndIn, HoldingIn, HoldingOut, MoveIn, MoveOut, ResolutionOut
from onethread.customers import identifier_service as identifiers
from onethread.customers import queries
from onethread.customers import service as customers

router = APIRouter(prefix=V1, tags=["identifiers over time"])

KIND = Query(..., max_length=20, description="msisdn | iccid | imei | email | social | account")
VALUE = Query(..., max_length=200, description="as written (normalised before use)")


def _holding_out(session, holding) -> HoldingOut:
    holding_, ident = identifiers.get_holding(session, holding.id)
    return HoldingOut.of(holding_, ident, customers.get_customer(session, holding.customer_id).name)


@router.get("/identifiers/resolve", response_model=ResolutionOut,
            summary="Who held an identifier at an instant (default: now)")
def resolve(session: DbSession, clock: ClockDep, container: ContainerDep, actor: allow(CUSTOMER_READERS),
            kind: str = KIND, value: str = VALUE,
            at: AwareDatetime | None = Query(None, description="the instant; default now")) -> ResolutionOut:
    result = identifiers.resolve(session, kind, value, at or clock.now(), region=container.settings.default_region)
    for customer_id in filter(None, [result.customer_id, *result.candidates]):
        access.audit(session, clock, actor, action="read", resource_type="identifier", resource_id=result.holding_id,
                     customer_id=customer_id, channel="api", purpose="resolve")
    return ResolutionOut.of(result)


@router.get("/identifiers/history", response_model=HistoryOut,
            summary="Every holder of an identifier, oldest first, with their periods (evidence view)")
def history(session: DbSession, clock: ClockDep, container: ContainerDep, actor: allow(CUSTOMER_READERS),
            kind: str = KIND, value: str = VALUE) -> HistoryOut:
    region = container.settings.default_region
    normal = identifiers.normalise(kind, value, region)
    holdings = identifiers.history(session, kind, normal, region=region)
    names = queries.customer_names(session, [h.customer_id for h in holdings])
    for customer_id in sorted(names):
        access.audit(session, clock, actor, action="read", resource_type="identifier", resource_id=None,
                     customer_id=customer_id, channel="api", purpose="identifier history")
    out = []
    for h in holdings:
        holding, ident = identifiers.get_holding(session, h.id)
        out.append(HoldingOut.of(holding, ident, names.get(h.customer_id)))
    return HistoryOut(kind=kind, value=normal, holdings=out)


@router.post("/identifiers/move", status_code=201, response_model=MoveOut,
             summary="Give an identifier to another customer from an instant (recycling, porting)")
def move(body: MoveIn, response: Response, session: DbSession, clock: ClockDep, container: ContainerDep,
         actor: allow(CUSTOMER_WRITERS)) -> MoveOut:
    ended, holding = identifiers.move_identifier(
        session, clock, actor, kind=body.kind, value=body.value, to_customer_id=body.toCustomerId, at=body.at,
        reason=body.reason, region=container.settings.default_region)
    out = _holding_out(session, holding)
    created(response, out.href)
    return MoveOut(ended=_holding_out(session, ended) if ended else None, holding=out)


@router.post("/customers/{customer_id}/identifiers", status_code=201, response_model=HoldingOut,
             summary="Record that a customer holds an identifier for a period")
def assign(customer_id: str, body: HoldingIn, response: Response, session: DbSession, clock: ClockDep,
           container: ContainerDep, actor: allow(CUSTOMER_WRITERS)) -> HoldingOut:
    holding = identifiers.assign(session, clock, actor, customer_id=customer_id, kind=body.kind, value=body.value,
                                 valid_from=body.validFrom, valid_to=body.validTo, product_id=body.productId,
                                 region=container.settings.default_region)
    out = _holding_out(session, holding)
    created(response, out.href)
    return out


@router.get("/customers/{customer_id}/identifiers", response_model=list[HoldingOut],
            summary="A customer's identifiers: in force now, at an instant, or the whole history")
def list_for_customer(customer_id: str, response: Response, session: DbSession, clock: ClockDep,
                      actor: allow(CUSTOMER_READERS),
                      at: AwareDatetime | None = Query(None, description="in force at this instant; default now"),
                      history: bool = Query(False, description="every holding, past and future (ignores at)"),
                      ) -> list[HoldingOut]:
    customer = customers.read_customer(session, clock, actor, customer_id, channel="api", purpose="identifiers")
    rows = identifiers.holdings_of(session, customer.id, at=None if history else (at or clock.now()))
    response.headers["X-Total-Count"] = response.headers["X-Result-Count"] = str(len(rows))
    return [HoldingOut.of(holding, ident, customer.name) for holding, ident in rows]


@router.get("/identifier-holdings/{holding_id}", response_model=HoldingOut, summary="One identifier holding")
def get_holding(holding_id: str, session: DbSession, clock: ClockDep, actor: allow(CUSTOMER_READERS)) -> HoldingOut:
    holding, _ = identifiers.get_holding(session, holding_id)
    access.audit(session, clock, actor, action="read", resource_type="identifier", resource_id=holding.id,
                 customer_id=holding.customer_id, channel="api")
    return _holding_out(session, holding)


@router.post("/identifier-holdings/{holding_id}/end", response_model=HoldingOut,
             summary="End a holding (the identifier is free from that instant)")
def end(holding_id: str, session: DbSession, clock: ClockDep, actor: allow(CUSTOMER_WRITERS),
        body: HoldingEndIn | None = None) -> HoldingOut:
    body = body or HoldingEndIn()
    holding = identifiers.end_holding(session, clock, actor, holding_id, at=body.at, reason=body.reason)
    return _holding_out(session, holding)
