"""Pages: the store view. A store advisor finds the customer, sees them and their open cases, asks
the decision service about a faulty device, places the replacement the answer allows, and opens a
case and hands it over warmly to the contact centre with the story.

Translation only: the decision is ``decisions.service``, the order ``decisions.order_replacement``,
the case and the hand-over ``cases.warm_handover``. Compact and touch-sized
for a store tablet (768 px and up). See docs/pages.md, "Store".
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlalchemy.orm import Session

from onethread.access.rules import ADMIN, STORE_ADVISOR, TEAM_LEAD, Principal
from onethread.api.deps import ClockDep, ContainerDep, DbSession
from onethread.cases import queries, reads
from onethread.cases import rules as case_rules
from onethread.cases import warm_handover as handovers
from onethread.customers import search as customer_search
from onethread.customers import service as customers
from onethread.decisions import service as decisions
from onethread.errors import DomainError, Forbidden, NotFound, ValidationFailed
from onethread.interactions import rules as contact_rules
from onethread.interactions import session_service
from onethread.inventory import service as inventory
from onethread.kernel.clock import Clock
from onethread.web.common import form_failed, render, staff_page

STORE_ROLES = frozenset({STORE_ADVISOR, TEAM_LEAD, ADMIN})
StoreStaff = staff_page(STORE_ROLES)
CHANNEL = "store"
POLICY = "device_fault"
WORDS_MAX = 2000
OPEN_CASES_SHOWN = 20
MODEL_MAX = 120

router = APIRouter(include_in_schema=False)

# The service names facts (``facts.symptom``); the form names its own fields.
FACT_FIELDS = {"facts.device_model": "device_model", "facts.symptom": "symptom",
               "facts.days_since_purchase": "purchased_on", "facts.physical_damage_evidence": "damage",
               "facts.in_stock": "in_stock", "facts.known_defect": "known_defect", "productId": "product_id",
               "toOwnerId": "to_owner_id", "toStaffId": "to_owner_id", "reason": "note",
               "customer_account": "words", "customerAccount": "words", "caseId": "case_id"}


def _errors(session: Session, exc: DomainError, form_name: str) -> dict[str, str]:
    """The failed action's message next to its field (or at the top of its form); nothing kept."""
    failed = form_failed(session, exc)
    return {form_name if k == "_form" else FACT_FIELDS.get(k, k): v for k, v in failed.items()}


def _too_long(value: str, limit: int, name: str, errors: dict[str, str]) -> None:
    if len(value) > limit:
        errors[name] = f"at most {limit} characters"


@dataclass
class FaultForm:
    """What the advisor typed in the device-fault form, kept to show it again with its errors."""

    product_id: str = ""
    device_model: str = ""
    symptom: str = ""
    purchased_on: str = ""
    damage: str = ""
    in_stock: str = ""
    known_defect: str = ""  # "" = the known-defects list says; "yes" / "no" = the advisor knows better
    case_id: str = ""  # the open case the decision goes on ("" = the device's open case, else a new one)


@dataclass
class HandoverForm:
    case_id: str = ""
    kind: str = "fault"
    title: str = ""
    words: str = ""
    to_owner_id: str = ""
    note: str = ""


@dataclass
class IdentityForm:
    method: str = "id_document"
    level: str = ""


@dataclass
class StoreCustomerPage:
    """Everything the store's customer page shows."""

    fault: FaultForm = field(default_factory=FaultForm)
    handover: HandoverForm = field(default_factory=HandoverForm)
    identity: IdentityForm = field(default_factory=IdentityForm)
    errors: dict[str, str] = field(default_factory=dict)
    decision_id: str | None = None


# --- finding the customer -----------------------------------------------------------------------

@router.get("/store", response_class=HTMLResponse)
def store_search(request: Request, session: DbSession, clock: ClockDep, principal: StoreStaff,
                 container: ContainerDep, q: Annotated[str | None, Query()] = None):
    result, errors = None, {}
    if q is not None:
        try:
            result = customer_search.find(session, clock, principal, q, channel=CHANNEL,
                                          region=container.settings.default_region)
        except (ValidationFailed, Forbidden) as exc:
            errors = form_failed(session, exc)
        else:
            if len(result.hits) == 1:  # one match: straight to the customer
                return RedirectResponse(f"/store/customers/{result.hits[0].customer.id}", status_code=303)
    return render(request, "store/search.html", {"principal": principal, "q": q or "", "result": result,
                                                 "errors": errors},
                  status_code=400 if errors else 200)


# --- the customer -------------------------------------------------------------------------------

def _customer_page(request: Request, session: Session, clock: Clock, principal: Principal, customer_id: str,
                   state: StoreCustomerPage, status_code: int = 200):
    try:
        customer = customers.read_customer(session, clock, principal, customer_id, channel=CHANNEL,
                                           purpose="store")
    except NotFound:
        return render(request, "store/not_found.html", {"principal": principal, "customer_id": customer_id},
                      status_code=404)
    now = clock.now()
    open_cases, _ = reads.list_cases(session, clock, principal, offset=0, limit=OPEN_CASES_SHOWN,
                                     customer_id=customer.id, statuses=sorted(case_rules.OPEN_STATUSES),
                                     channel=CHANNEL)
    details = reads.details(session, open_cases, now=now)
    devices = [p for p in inventory.customer_products(session, customer.id) if p.model]
    decision = None
    if state.decision_id:
        try:
            decision = decisions.get_decision(session, state.decision_id)
        except NotFound:
            decision = None
        if decision is not None and decision.customer_id != customer.id:
            decision = None
    orders = decision is not None and decisions.explain(session, decision.id).outcome.order is not None
    if decision is not None and decision.order_case_id and not state.handover.case_id:
        state.handover.case_id = decision.order_case_id  # the case the order opened is the one to hand over
    if not state.fault.device_model and devices:  # start from the newest device on record
        newest = max(devices, key=lambda p: (p.purchased_on or date.min, p.id))
        state.fault.product_id, state.fault.device_model = newest.id, newest.model or ""
        state.fault.purchased_on = newest.purchased_on.isoformat() if newest.purchased_on else ""
        on_device = decisions.open_case_for_product(session, customer.id, newest.id)
        state.fault.case_id = state.fault.case_id or (on_device.id if on_device else "")
    # A replacement already promised for the problem: the page says so instead of offering a second order.
    promised = None
    if decision is not None and decision.commitment_id is None:
        target = decision.case_id or getattr(decisions.open_case_for_product(session, customer.id,
                                                                             decision.product_id), "id", None)
        promised = decisions.replacement_promised(session, target)
    pending = {case_id: h for case_id, items in details.handovers.items() for h in items if h.status == "pending"}
    receivers = queries.handover_receivers(session, excluding=principal.id)
    visit = session_service.live_store_visit(session, customer.id, principal.id)
    verification = session_service.valid_verification(session, visit.id, now) if visit else None
    receiver_names = {r.id: r for r in receivers}
    groups: dict[str, list] = {}  # by team, in the query's order (people without a team last)
    for r in receivers:
        groups.setdefault(r.team or "No team", []).append(r)
    return render(request, "store/customer.html", {
        "principal": principal, "customer": customer, "cases": open_cases, "details": details,
        "pending": pending, "devices": devices, "decision": decision, "orders": orders, "state": state,
        "promised": promised, "case_of_product": {p.id: getattr(decisions.open_case_for_product(
            session, customer.id, p.id), "id", "") for p in devices},
        "errors": state.errors, "receivers": receivers, "receiver_groups": list(groups.items()),
        "receiver_names": receiver_names, "now": now,
        "today": now.date().isoformat(), "kinds": case_rules.KINDS,
        "visit": visit, "verification": verification, "methods": contact_rules.VERIFICATION_METHODS,
    }, status_code=status_code)


@router.get("/store/customers/{customer_id}", response_class=HTMLResponse)
def store_customer(customer_id: str, request: Request, session: DbSession, clock: ClockDep, principal: StoreStaff,
                   decision: Annotated[str | None, Query()] = None):
    return _customer_page(request, session, clock, principal, customer_id, StoreCustomerPage(decision_id=decision))


@router.post("/store/customers/{customer_id}/identity", response_class=HTMLResponse)
def check_identity(customer_id: str, request: Request, session: DbSession, clock: ClockDep, container: ContainerDep,
                   principal: StoreStaff, method: Annotated[str, Form()] = "", level: Annotated[str, Form()] = ""):
    """The advisor checked who the customer is: the store visit (a contact session) records the
    verification, which stays valid for its time and goes with the visit when it is handed over."""
    state = StoreCustomerPage(identity=IdentityForm(method, level))
    try:
        number = int(level)
    except ValueError:
        state.errors = {"level": "choose the level the check establishes"}
        return _customer_page(request, session, clock, principal, customer_id, state, status_code=400)
    try:
        session_service.store_visit(session, clock, principal, customer_id, method=method, level=number,
                                    ttl=timedelta(minutes=container.settings.verification_ttl_minutes))
    except DomainError as exc:
        state.errors = _errors(session, exc, "identity")
        return _customer_page(request, session, clock, principal, customer_id, state, status_code=exc.http_status)
    return RedirectResponse(f"/store/customers/{quote(customer_id)}#visit", status_code=303)


def _yes_no(value: str, field_name: str, question: str, errors: dict[str, str]) -> bool | None:
    if value == "yes":
        return True
    if value == "no":
        return False
    errors[field_name] = f"answer {question}: yes or no"
    return None


def _days_since(value: str, today: date, errors: dict[str, str]) -> int | None:
    try:
        bought = date.fromisoformat(value.strip())
    except ValueError:
        errors["purchased_on"] = "give the purchase date (from the receipt), as YYYY-MM-DD"
        return None
    if bought > today:
        errors["purchased_on"] = "the purchase date is in the future"
        return None
    return (today - bought).days


@router.post("/store/customers/{customer_id}/decision", response_class=HTMLResponse)
def ask_decision(customer_id: str, request: Request, session: DbSession, clock: ClockDep, principal: StoreStaff,
                 product_id: Annotated[str, Form()] = "", device_model: Annotated[str, Form()] = "",
                 symptom: Annotated[str, Form()] = "", purchased_on: Annotated[str, Form()] = "",
                 damage: Annotated[str, Form()] = "", in_stock: Annotated[str, Form()] = "",
                 known_defect: Annotated[str, Form()] = "", case_id: Annotated[str, Form()] = ""):
    """Ask the device-fault policy with the facts the advisor has in front of them, on the case chosen
    (by default the customer's open case about that device)."""
    form = FaultForm(product_id, device_model.strip(), symptom.strip(), purchased_on, damage, in_stock,
                     known_defect if known_defect in ("yes", "no") else "", case_id)
    errors: dict[str, str] = {}
    if not form.device_model:
        errors["device_model"] = "which model is it? (as on the box or in Settings)"
    if not form.symptom:
        errors["symptom"] = "write down what the customer says is wrong, in their words"
    _too_long(form.device_model, MODEL_MAX, "device_model", errors)
    _too_long(form.symptom, WORDS_MAX, "symptom", errors)
    days = _days_since(purchased_on, clock.now().date(), errors)
    damaged = _yes_no(damage, "damage", "whether there is evidence of physical damage", errors)
    stocked = _yes_no(in_stock, "in_stock", "whether the store has one in stock", errors)
    state = StoreCustomerPage(fault=form, errors=errors)
    if errors:
        return _customer_page(request, session, clock, principal, customer_id, state, status_code=400)
    # known_defect None: the registry says; is_existing_customer left out: the customer record says
    facts = {"device_model": form.device_model, "symptom": form.symptom, "days_since_purchase": days,
             "physical_damage_evidence": damaged, "in_stock": stocked,
             "known_defect": {"yes": True, "no": False}.get(form.known_defect)}
    try:
        on_device = decisions.open_case_for_product(session, customer_id, form.product_id or None)
        d = decisions.decide(session, clock, principal, policy=POLICY, facts=facts, channel=CHANNEL,
                             customer_id=customer_id, product_id=form.product_id or None,
                             case_id=form.case_id or (on_device.id if on_device else None))
    except DomainError as exc:
        state.errors = _errors(session, exc, "decision")
        return _customer_page(request, session, clock, principal, customer_id, state, status_code=exc.http_status)
    return RedirectResponse(f"/store/customers/{customer_id}?decision={d.id}#decision", status_code=303)


@router.post("/store/decisions/{decision_id}/order", response_class=HTMLResponse)
def place_order(decision_id: str, request: Request, session: DbSession, clock: ClockDep, principal: StoreStaff):
    """Place the replacement the decision allows: a dated commitment on the case."""
    try:
        d = decisions.get_decision(session, decision_id)
    except NotFound:
        return render(request, "store/not_found.html", {"principal": principal, "customer_id": None},
                      status_code=404)
    customer_id = d.customer_id
    try:
        d, commitment = decisions.order_replacement(session, clock, principal, decision_id, channel=CHANNEL)
    except DomainError as exc:
        state = StoreCustomerPage(decision_id=decision_id)
        state.errors = {"order": exc.message}
        form_failed(session, exc)
        return _customer_page(request, session, clock, principal, customer_id, state, status_code=exc.http_status)
    return RedirectResponse(f"/store/customers/{customer_id}?decision={d.id}#case-{commitment.case_id}",
                            status_code=303)


@router.post("/store/customers/{customer_id}/handover", response_class=HTMLResponse)
def warm_handover(customer_id: str, request: Request, session: DbSession, clock: ClockDep, principal: StoreStaff,
                  case_id: Annotated[str, Form()] = "", kind: Annotated[str, Form()] = "fault",
                  title: Annotated[str, Form()] = "", words: Annotated[str, Form()] = "",
                  to_owner_id: Annotated[str, Form()] = "", note: Annotated[str, Form()] = ""):
    """Open a case (or take one of the customer's open cases) and offer it to a contact-centre
    person with the story so far; the visit goes with it. Both or neither are saved
    (``cases.warm_handover``)."""
    form = HandoverForm(case_id, kind, title.strip(), words.strip(), to_owner_id, note.strip())
    errors = {FACT_FIELDS.get(k, k): v for k, v in handovers.problems(
        case_id=case_id, title=form.title, words=form.words, to_owner_id=to_owner_id, note=form.note).items()}
    state = StoreCustomerPage(handover=form, errors=errors)
    if errors:
        return _customer_page(request, session, clock, principal, customer_id, state, status_code=400)
    try:
        done = handovers.warm_handover(session, clock, principal, customer_id=customer_id, case_id=case_id or None,
                                       kind=kind, title=form.title, words=form.words, to_owner_id=to_owner_id,
                                       note=form.note, channel=CHANNEL)
    except DomainError as exc:
        state.errors = _errors(session, exc, "handover")
        return _customer_page(request, session, clock, principal, customer_id, state, status_code=exc.http_status)
    return RedirectResponse(f"/store/customers/{quote(customer_id)}#case-{done.case.id}", status_code=303)
