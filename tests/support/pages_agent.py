"""The agent desktop's world (agents in a team with a lead, a subcontractor, Edith with an open
case), signing in as a browser does, and counting rows."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import func, select

from onethread.access import service as access
from onethread.access.rules import SYSTEM
from onethread.cases import service as cases
from onethread.customers import identifier_service
from onethread.customers import service as customers
from onethread.interactions import service as interactions
from onethread.inventory import service as inventory

PASSWORD = "correct horse battery"


BROWSER = {"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"}  # what a browser asks for


def world(uow, clock) -> dict:
    """Two agents in a team with a lead, a subcontractor, and Edith (a number, an e-mail, an
    account, a household, her son as representative, a vulnerability) with one open case."""
    with uow() as s:
        team = access.create_team(s, clock, name="Contact centre")
        relations = access.create_team(s, clock, name="Customer relations", kind="customer_relations")

        def user(username, name, role, team_id=None):  # only those who sign in get a (slow to hash) password
            signs_in = username in ("ann.agent", "bob.agent", "finn.field")
            return access.create_user(s, clock, username=username, display_name=name, role=role,
                                      password=PASSWORD if signs_in else None, team_id=team_id)

        ann = user("ann.agent", "Ann Agent", "agent", team.id)
        bob = user("bob.agent", "Bob Baker", "agent", team.id)
        lee = user("lee.lead", "Lee Lead", "team_lead", team.id)
        head = user("hana.head", "Hana Head", "team_lead", relations.id)
        access.set_team_lead(s, team.id, lee.id)
        access.set_team_lead(s, relations.id, head.id)
        user("finn.field", "Finn Field", "field_subcontractor")

        party = customers.create_individual(s, clock, SYSTEM, given_name="Edith", family_name="Clarke",
                                            birth_date=date(1937, 2, 3))
        edith = customers.create_customer(s, clock, SYSTEM, party_id=party.id, customer_since=date(2011, 6, 1))
        acc = customers.open_billing_account(s, clock, SYSTEM, customer_id=edith.id, account_number="ACC-777001",
                                             currency="GBP", opened_on=date(2011, 6, 1))
        inventory.add_product(s, clock, SYSTEM, customer_id=edith.id, billing_account_id=acc.id, kind="mobile_line",
                              name="Talk and Text", price_minor=1250,
                              activated_at=datetime(2011, 6, 1, 9, tzinfo=UTC),
                              identifiers={"msisdn": "07700 900123", "iccid": "8944100000000004044"}, region="GB")
        inventory.add_product(s, clock, SYSTEM, customer_id=edith.id, billing_account_id=acc.id, kind="handset",
                              name="Easy phone", model="Doro 8100", activated_at=datetime(2024, 1, 5, 9, tzinfo=UTC),
                              identifiers={"imei": "490154203237518"}, region="GB")
        old = inventory.add_product(s, clock, SYSTEM, customer_id=edith.id, billing_account_id=acc.id,
                                    kind="data_sim", name="Old tablet SIM", price_minor=800,
                                    activated_at=datetime(2015, 1, 1, 9, tzinfo=UTC))
        inventory.change_status(s, clock, SYSTEM, old, "terminated", channel="store", reason="removed at renewal")
        identifier_service.assign(s, clock, SYSTEM, customer_id=edith.id, kind="email", value="edith@example.org",
                                  valid_from=datetime(2011, 6, 1, tzinfo=UTC))
        identifier_service.assign(s, clock, SYSTEM, customer_id=edith.id, kind="social", value="x:@edith_c",
                                  valid_from=datetime(2020, 1, 1, tzinfo=UTC))
        son_party = customers.create_individual(s, clock, SYSTEM, given_name="Tom", family_name="Clarke")
        son = customers.create_customer(s, clock, SYSTEM, party_id=son_party.id, customer_since=date(2019, 1, 1))
        inventory.add_product(s, clock, SYSTEM, customer_id=son.id, kind="mobile_line", name="Unlimited",
                              currency="GBP", price_minor=3000, activated_at=datetime(2019, 1, 1, 9, tzinfo=UTC))
        home = customers.create_household(s, clock, SYSTEM, name="Clarke family")
        customers.add_household_member(s, clock, SYSTEM, household_id=home.id, customer_id=edith.id, role="head")
        customers.add_household_member(s, clock, SYSTEM, household_id=home.id, customer_id=son.id, role="child")
        customers.add_representative(s, clock, SYSTEM, customer_id=edith.id, party_id=son_party.id,
                                     relationship="son", permissions=["view_cases", "message_owner"])
        customers.record_vulnerability(s, clock, SYSTEM, customer_id=edith.id, kind="digital_exclusion",
                                       consent_given=True, review_on=date(2027, 1, 1), note="prefers letters",
                                       needs=["phone calls", "letters"])
        ann_p = access.staff_principal(ann)
        contact = interactions.record(s, clock, ann_p, interactions.Intake(
            channel="phone", direction="inbound", occurred_at=clock.now(), kind="call", customer_id=edith.id,
            text="My landline has been dead for a week."), region="GB").contact
        case, _ = cases.route_contact(s, clock, ann_p, contact.id, kind="fault", title="Landline dead for a week")
        return {"ann": ann.id, "bob": bob.id, "lee": lee.id, "head": head.id, "edith": edith.id, "son": son.id,
                "case": case.id}


def sign_in(client, username="ann.agent", next_url: str | None = None):
    data = {"username": username, "password": PASSWORD}
    if next_url is not None:
        data["next"] = next_url
    return client.post("/login", data=data, follow_redirects=False)


def count(uow, model, **where) -> int:
    with uow() as s:
        query = select(func.count()).select_from(model)
        for key, value in where.items():
            query = query.where(getattr(model, key) == value)
        return s.scalar(query)
