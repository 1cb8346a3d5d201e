"""S5's world for field service: Edith's fibre order with its work order (``field_world``), the
subcontractor and a visit slot."""

from __future__ import annotations

from datetime import date, timedelta

from onethread.access import service as access
from onethread.access.rules import SYSTEM
from onethread.cases import service as cases
from onethread.customers import service as customers
from onethread.demo import worlds
from onethread.inventory import service as inventory

V1 = "/api/v1"


def field_world(uow, clock, *, vulnerable: bool = True) -> dict:
    """Edith, her fibre and its installation case; FibreFix (Finn the technician, Fay its manager),
    the network team (Nina its lead), Alex the case owner, Sam the supplier manager."""
    with uow() as s:
        users, teams = worlds.staff(s, clock, [
            ("alex.agent", "Alex Morgan", "agent", "Contact centre"),
            ("lee.lead", "Lee Carter", "team_lead", "Contact centre"),
            ("nina.net", "Nina Berg", "team_lead", "Network team"),
            ("sam.supply", "Sam Okafor", "back_office", "Contact centre"),
            ("finn.field", "Finn Walsh", "field_subcontractor", "FibreFix Ltd"),
            ("fay.fibrefix", "Fay Dunn", "field_subcontractor", "FibreFix Ltd"),
            ("carl.cable", "Carl Ives", "field_subcontractor", "CableCo"),
            ("ada.admin", "Ada Admin", "admin", "Contact centre"),
        ], [("Network team", "network", "nina.net"), ("Contact centre", "contact_centre", "lee.lead"),
            ("FibreFix Ltd", "subcontractor", "fay.fibrefix"), ("CableCo", "subcontractor", "carl.cable")])
        people = {u.split(".")[0]: user for u, user in users.items()}
        network, fibrefix, other = teams["Network team"], teams["FibreFix Ltd"], teams["CableCo"]
        party = customers.create_individual(s, clock, SYSTEM, given_name="Edith", family_name="Clarke",
                                            birth_date=date(1937, 2, 11))
        edith = customers.create_customer(s, clock, SYSTEM, party_id=party.id, customer_since=date(1998, 5, 1))
        if vulnerable:
            customers.record_vulnerability(s, clock, SYSTEM, customer_id=edith.id, kind="age", consent_given=True,
                                           review_on=date(2026, 12, 1), note="89 years old; lives alone",
                                           needs=["assisted_channels", "priority"])
        fibre = inventory.add_product(s, clock, SYSTEM, customer_id=edith.id, kind="fibre", name="Fibre 150",
                                      price_minor=3500, currency="GBP", status="pendingActive")
        case = cases.open_new(s, clock, access.staff_principal(people["alex"]), customer_id=edith.id,
                              kind="order_problem", title="Fibre installation", opened_via="phone",
                              product_id=fibre.id, owner_id=people["alex"].id)
        headers = {}
        for name, u in people.items():
            _, secret = access.create_token(s, clock, name=f"{name}'s token", role=u.role, staff_user_id=u.id)
            headers[name] = {"Authorization": f"Bearer {secret}"}
        return {"customer": edith.id, "fibre": fibre.id, "case": case.id, "h": headers,
                "ids": {n: u.id for n, u in people.items()},
                "teams": {"network": network.id, "fibrefix": fibrefix.id, "other": other.id}}


def subcontractor(client, w, team: str = "fibrefix", name: str = "FibreFix Ltd") -> str:
    made = client.post(f"{V1}/subcontractors", headers=w["h"]["ada"], json={
        "name": name, "teamId": w["teams"][team], "supplierManagerId": w["ids"]["sam"]})
    assert made.status_code == 201, made.text
    return made.json()["id"]


def slot(clock, days: int) -> dict:
    start = clock.now() + timedelta(days=days)
    return {"validFor": {"startDateTime": start.isoformat(), "endDateTime": (start + timedelta(hours=4)).isoformat()}}
