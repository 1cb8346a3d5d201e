"""S4's world with its staff: the store, contact centre, social care, billing and customer relations
teams, and Harbour Lane Joinery from ``onethread.demo.worlds``."""

from __future__ import annotations

from onethread.access import service as access
from onethread.demo import worlds

TABLET = "Tablet data SIM (old iPad)"


S4_TEAMS = [("High Street store", "store", "sam.store"), ("Contact centre", "contact_centre", "alex.agent"),
            ("Social care team", "contact_centre", "tess.social"),
            ("Billing back office", "back_office", "dana.lead"),
            ("Customer relations", "customer_relations", "hana.head")]


S4_STAFF = [("sam.store", "Sam Patel", "store_advisor", "High Street store"),
            ("jo.agent", "Jo Reid", "agent", "Contact centre"),
            ("alex.agent", "Alex Morgan", "agent", "Contact centre"),
            ("tess.social", "Tess Ward", "agent", "Social care team"),
            ("bea.billing", "Bea Jones", "back_office", "Billing back office"),
            ("dana.lead", "Dana Price", "team_lead", "Billing back office"),
            ("hana.head", "Hana Novak", "team_lead", "Customer relations")]


def world(uow, clock) -> dict:
    with uow() as s:
        users, _ = worlds.staff(s, clock, S4_STAFF, S4_TEAMS)
        sam, jo, alex, tess, bea, dana = (users[u] for u in ("sam.store", "jo.agent", "alex.agent", "tess.social",
                                                              "bea.billing", "dana.lead"))
        joinery = worlds.s4_joinery(worlds.Builder(s, clock), tablet_name=TABLET)
        cust, tablet = joinery.customer, joinery.tablet
        principals = {u.username.split(".")[0]: access.staff_principal(u) for u in (sam, jo, alex, tess, bea, dana)}
        return {"customer": cust.id, "tablet": tablet.id, **principals, "bea_id": bea.id, "dana_id": dana.id}
