"""Role x route: every guarded route, called by every kind of caller, lets in exactly the roles
it names and no one else.

The callers: a system token of each token role; a token issued to a staff member of each staff
role (a person's token); a staff page session of each staff role; a customer signed in to the
portal and a representative signed in to the portal. For each route the guard in its dependency
tree says which roles and which credential it takes (``Authorize``: a bearer token or the staff
page cookie; ``StaffPage``: the staff page cookie only; ``PortalAuthorize``: the portal cookie
only). A caller the route does not take gets 401 (wrong credential) or 403 (wrong role); a caller
it takes gets past the guard (whatever the route then says about the ``NOPE`` ids and the empty
body, it is not 401 or 403, and never a 5xx).

It runs on SQLite only: a guard reads the caller's token, session or portal account, and nothing
of it depends on the database (the same guards answer 401 and 403 on PostgreSQL in the route
tests); the 24 callers x every route make about 5,500 requests.
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from onethread.access import portal as accounts
from onethread.access import service as access
from onethread.access import signin
from onethread.access.rules import PORTAL_USERS, STAFF_ROLES, SYSTEM, TOKEN_ROLES
from onethread.api.deps import SESSION_COOKIE, Authorize
from onethread.api.v1.portal import PORTAL_COOKIE, PortalAuthorize
from onethread.cases import service as cases
from onethread.customers import service as customers
from onethread.fieldservice import incidents
from onethread.fieldservice import service as field
from onethread.web.common import StaffPage
from tests.support.routes import classify, route_contexts

PASSWORD = "a long enough password"

# Routes whose guard lets a wider group in and whose handler then refuses some of it with a 403,
# on purpose: (method, path) -> the roles it refuses inside, and why.
CHECKED_INSIDE = {
    ("POST", "/known-defects"): ({"agent", "back_office", "store_advisor"},
                                 "everyone at the desk reads the registry; only curators add to it"),
}
# Routes whose guard lets the role in but whose handler refuses a system token (no person behind it).
PERSONS_ONLY = {
    ("GET", "/api/v1/me/work"): "My work is a person's list: a token not issued to a person has none",
    ("POST", "/api/v1/work-orders"): "opening a work order is a named person's act",
    ("POST", "/api/v1/work-orders/{wo_id}/visits"): "booking a visit is a named person's act",
    ("POST", "/api/v1/visits/{visit_id}/dispatch"): "dispatching a technician is a named person's act",
    ("POST", "/api/v1/visits/{visit_id}/outcome"): "a visit's outcome is a named person's word",
    ("POST", "/api/v1/visits/{visit_id}/cancel"): "cancelling a visit is a named person's act",
    ("POST", "/api/v1/work-orders/{wo_id}/incidents"): "an incident is reported by a named person",
    ("POST", "/api/v1/field-incidents/{incident_id}/repair"): "a repair is recorded by a named person",
    ("POST", "/api/v1/field-incidents/{incident_id}/confirm"): "confirming a repair is a named person's act",
}
# A system token calls a persons-only route with real ids and a valid body (taken from the world
# the ``real`` fixture builds), so its 403 is the refusal of a system, not a 404 or a 400.
PERSONS_ONLY_BODIES = {
    ("POST", "/api/v1/work-orders"): lambda ids: {"caseId": ids["case"], "kind": "installation",
                                                  "title": "Matrix fibre", "subcontractorId": ids["sub"]},
    ("POST", "/api/v1/work-orders/{wo_id}/visits"): lambda ids: {"validFor": ids["slot"]},
    ("POST", "/api/v1/visits/{visit_id}/dispatch"): lambda ids: {"technicianId": ids["technician"]},
    ("POST", "/api/v1/visits/{visit_id}/outcome"): lambda ids: {"outcome": "done"},
    ("POST", "/api/v1/visits/{visit_id}/cancel"): lambda ids: {"cancelledBy": "operator", "reason": "matrix"},
    ("POST", "/api/v1/work-orders/{wo_id}/incidents"): lambda ids: {
        "kind": "damage", "harmKind": "property_damage", "severity": "low", "description": "matrix"},
    ("POST", "/api/v1/field-incidents/{incident_id}/repair"): lambda ids: {"note": "matrix"},
    ("POST", "/api/v1/field-incidents/{incident_id}/confirm"): lambda ids: {"confirmedBy": "customer",
                                                                             "note": "matrix"},
}


def guard_of(dependant) -> Authorize:
    """The route's guard (the innermost, most specific one when there are several)."""
    found = []
    stack = [dependant]
    while stack:
        current = stack.pop()
        if isinstance(current.call, Authorize):
            found.append(current.call)
        stack.extend(current.dependencies)
    kinds = [g for g in found if isinstance(g, PortalAuthorize | StaffPage)]
    guard = kinds[0] if kinds else found[0]
    roles = frozenset.intersection(*(g.roles for g in found if type(g) is type(guard)))
    return type(guard), roles


def credential_taken(guard: type, kind: str) -> bool:
    if guard is PortalAuthorize:
        return kind == "portal"
    if guard is StaffPage:
        return kind == "page"
    return kind in ("token", "person-token", "page")


@pytest.fixture
def callers(container, uow, clock) -> list[tuple[str, str, dict]]:
    """(kind, role, headers) for every caller of the matrix."""
    secret = container.secret_key
    day = timedelta(hours=8)
    out = []
    with uow() as s:
        team = access.create_team(s, clock, name="Matrix", kind="contact_centre")
        for role in sorted(TOKEN_ROLES):
            _, token = access.create_token(s, clock, name=f"system-{role}", role=role)
            out.append(("token", role, {"Authorization": f"Bearer {token}"}))
        for role in sorted(STAFF_ROLES):
            user = access.create_user(s, clock, username=f"matrix.{role}", display_name=role, role=role,
                                      password=PASSWORD, team_id=team.id)
            _, token = access.create_token(s, clock, name=f"person-{role}", role=role, staff_user_id=user.id)
            out.append(("person-token", role, {"Authorization": f"Bearer {token}"}))
            cookie = signin.open_session(s, clock, kind=signin.STAFF, subject_id=user.id, max_age=day, secret=secret)
            out.append(("page", role, {"Cookie": f"{SESSION_COOKIE}={cookie}"}))
        holder = customers.create_individual(s, clock, SYSTEM, given_name="Paula", family_name="Portal")
        helper = customers.create_individual(s, clock, SYSTEM, given_name="Rita", family_name="Rep")
        customer = customers.create_customer(s, clock, SYSTEM, party_id=holder.id)
        customers.add_representative(s, clock, SYSTEM, customer_id=customer.id, party_id=helper.id,
                                     relationship="daughter", permissions=["view_cases", "message_owner"])
        for who, party in (("customer", holder), ("representative", helper)):
            account = accounts.create_account(s, clock, party_id=party.id, login=f"{who}@mail.example",
                                              password=PASSWORD)
            cookie = signin.open_session(s, clock, kind=signin.PORTAL, subject_id=account.id, max_age=day,
                                         secret=secret)
            out.append(("portal", who, {"Cookie": f"{PORTAL_COOKIE}={cookie}"}))
    return out


@pytest.fixture
def real(uow, clock) -> dict:
    """A case with a work order, a booked visit and an incident, for the persons-only routes."""
    with uow() as s:
        firm = access.create_team(s, clock, name="Matrix Fibre", kind="subcontractor")
        desk = access.create_team(s, clock, name="Matrix desk")
        agent = access.create_user(s, clock, username="matrix.desk", display_name="Desk Agent", role="agent",
                                   password=None, team_id=desk.id)
        tech = access.create_user(s, clock, username="matrix.tech", display_name="Tech", role="field_subcontractor",
                                  password=None, team_id=firm.id)
        access.set_team_lead(s, firm.id, tech.id)
        person = access.staff_principal(agent)
        party = customers.create_individual(s, clock, SYSTEM, given_name="Mary", family_name="Matrix")
        customer = customers.create_customer(s, clock, SYSTEM, party_id=party.id)
        case = cases.open_new(s, clock, person, customer_id=customer.id, kind="order_problem", title="Fibre",
                              opened_via="phone", owner_id=agent.id)
        sub = field.create_subcontractor(s, clock, name="Matrix Fibre", team_id=firm.id,
                                         supplier_manager_id=agent.id)
        wo = field.create_work_order(s, clock, person, case_id=case.id, kind="installation", title="Fibre",
                                     subcontractor_id=sub.id)
        start = clock.now() + timedelta(days=2)
        visit = field.book_visit(s, clock, person, wo.id, slot_start=start, slot_end=start + timedelta(hours=4))
        incident = incidents.report(s, clock, person, wo.id, kind="damage", description="A scratch",
                                    harm_kind="property_damage", severity="low")
        return {"case": case.id, "sub": sub.id, "technician": tech.id, "wo_id": wo.id, "visit_id": visit.id,
                "incident_id": incident.id, "slot": {"startDateTime": start.isoformat(),
                                                     "endDateTime": (start + timedelta(hours=4)).isoformat()}}


def guarded_routes(app) -> list[tuple[str, str, type, frozenset]]:
    guarded = set(classify(app)[0])
    out = []
    for _original, ctx in route_contexts(app):
        for method in sorted(getattr(ctx, "methods", None) or ()):
            if (method, getattr(ctx, "path", None)) in guarded:
                out.append((method, ctx.path, *guard_of(ctx.dependant)))
    return out


@pytest.mark.parametrize("backend", ["sqlite"])
def test_every_route_lets_in_exactly_the_callers_it_names(app, client, callers, real):
    routes = guarded_routes(app)
    assert len(routes) > 50 and any(g is PortalAuthorize for _, _, g, _ in routes)
    assert any(g is StaffPage for _, _, g, _ in routes)
    assert set(PERSONS_ONLY) <= {(m, p) for m, p, _, _ in routes}, "a persons-only route the app does not serve"
    wrong = []
    for method, path, guard, roles in routes:
        url = re.sub(r"\{[^}]+\}", "NOPE", path)
        for kind, role, headers in callers:
            role_ok = role in roles or (kind == "portal" and roles >= PORTAL_USERS)
            if role in CHECKED_INSIDE.get((method, path), ((), ""))[0]:
                role_ok = False
            body = {} if method in ("POST", "PUT", "PATCH") else None
            call = url
            if kind == "token" and (method, path) in PERSONS_ONLY:
                role_ok = False
                call = re.sub(r"\{([^}]+)\}", lambda m: real.get(m.group(1), "NOPE"), path)
                if (method, path) in PERSONS_ONLY_BODIES:
                    body = PERSONS_ONLY_BODIES[(method, path)](real)
            r = client.request(method, call, headers=headers, json=body)
            if not credential_taken(guard, kind):
                expected = {401}
            elif not role_ok:
                expected = {403}
            else:
                expected = None  # let in: anything but 401/403 (and never a 5xx)
            got = r.status_code
            if (expected and got not in expected) or (expected is None and (got in (401, 403) or got >= 500)):
                wrong.append(f"{method} {path} as {kind} {role}: {got} (expected {expected or 'let in'}) "
                             f"{r.text[:120]}")
    assert not wrong, f"{len(wrong)} of {len(routes) * len(callers)} calls:\n" + "\n".join(wrong[:60])
