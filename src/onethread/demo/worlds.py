"""The five stories' worlds (docs/stories.md) and the staff set-up, built through the services.

One place for the stories' customers, their accounts, products, identifiers over time,
households, representatives and vulnerability: ``onethread demo`` builds all five
(demo/loader.py), and the tests build the ones they need from the same functions (the fixtures
in ``tests/support/worlds.py``). A world is built in the caller's session and transaction; dates
are fixed where the story names them and relative to ``today`` where it says "three days ago".
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy.orm import Session

from onethread.access import service as access
from onethread.access.rules import SYSTEM, Principal
from onethread.customers import identifier_service as identifiers
from onethread.customers import service as customers
from onethread.inventory import service as inventory
from onethread.kernel.clock import Clock
from onethread.models import BillingAccount, Customer, Party, Product, StaffUser, Team

# (username, display name, role, team name or None)
StaffSpec = tuple[str, str, str, str | None]
# (team name, kind, lead's username or None)
TeamSpec = tuple[str, str, str | None]

# The operator's staff in the demo: one person for each role the stories need.
STAFF: list[StaffSpec] = [
    ("ada.admin", "Ada Admin", "admin", None),
    ("sam.store", "Sam Patel", "store_advisor", "High Street store"),
    ("alex.agent", "Alex Morgan", "agent", "Contact centre"),
    ("jo.agent", "Jo Reid", "agent", "Contact centre"),
    ("sofia.specialist", "Sofia Lind", "specialist", "Customer relations"),
    ("lee.lead", "Lee Carter", "team_lead", "Contact centre"),
    ("hana.head", "Hana Novak", "team_lead", "Customer relations"),
    ("bea.backoffice", "Bea Jones", "back_office", "Back office"),
    ("finn.field", "Finn Walsh", "field_subcontractor", "FibreFix Ltd (subcontractor)"),
]
TEAMS: list[TeamSpec] = [
    ("High Street store", "store", "sam.store"),
    ("Contact centre", "contact_centre", "lee.lead"),
    ("Customer relations", "customer_relations", "hana.head"),
    ("Back office", "back_office", "lee.lead"),
    ("FibreFix Ltd (subcontractor)", "subcontractor", "finn.field"),
]

# S1 in the store: the advisor who serves Daniel, and the contact centre his case goes to.
S1_STORE_TEAMS: list[TeamSpec] = [("High Street store", "store", None), ("Contact centre", "contact_centre", None)]
S1_STORE_STAFF: list[StaffSpec] = [("sol.store", "Sol Reyes", "store_advisor", "High Street store"),
                                   ("alex.agent", "Alex Morgan", "agent", "Contact centre"),
                                   ("lee.lead", "Lee Carter", "team_lead", "Contact centre")]

# S2's escalation chain: the contact centre's lead, then the head of customer relations.
S2_ESCALATION_TEAMS: list[TeamSpec] = [("Contact centre", "contact_centre", "lee.lead"),
                                       ("Customer relations", "customer_relations", "hana.head")]
S2_ESCALATION_STAFF: list[StaffSpec] = [("lee.lead", "Lee Carter", "team_lead", "Contact centre"),
                                        ("hana.head", "Hana Novak", "team_lead", "Customer relations")]

# S5's specialists: Gertrude owns Edith's damage case; Marta leads the team.
S5_SPECIALIST_TEAMS: list[TeamSpec] = [("Case specialists", "specialists", "marta.lead")]
S5_SPECIALISTS: list[StaffSpec] = [("gertrude.b", "Gertrude Blanc", "specialist", "Case specialists"),
                                   ("marta.lead", "Marta Lopez", "team_lead", "Case specialists")]

S4_TABLET = "Tablet data SIM 5 GB (old iPad)"
S4_TABLET_ICCID = "8944100000000004044"


def at(day: date, hour: int = 9, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=UTC)


def staff(session: Session, clock: Clock, users: Sequence[StaffSpec], teams: Sequence[TeamSpec] = (), *,
          password: str | None = None, passwords: Mapping[str, str] | None = None,
          email_domain: str | None = None) -> tuple[dict[str, StaffUser], dict[str, Team]]:
    """The teams, then the staff users (each in their team), then each team's lead. Every user
    gets ``password`` (None: cannot sign in with one) unless ``passwords`` names theirs."""
    made_teams = {name: access.create_team(session, clock, name=name, kind=kind) for name, kind, _ in teams}
    made_users = {}
    for username, display, role, team in users:
        made_users[username] = access.create_user(
            session, clock, username=username, display_name=display, role=role,
            password=(passwords or {}).get(username, password),
            email=f"{username}@{email_domain}" if email_domain else None,
            team_id=made_teams[team].id if team else None)
    for name, _, lead in teams:
        if lead is not None:
            access.set_team_lead(session, made_teams[name].id, made_users[lead].id)
    return made_users, made_teams


@dataclass(frozen=True)
class Builder:
    """Who builds a world, where and how: the services' session, clock and actor, and the
    market's region and currency."""

    session: Session
    clock: Clock
    actor: Principal = SYSTEM
    region: str = "GB"
    currency: str = "GBP"

    def person(self, given: str, family: str, **kw: Any) -> Party:
        return customers.create_individual(self.session, self.clock, self.actor, given_name=given,
                                           family_name=family, **kw)

    def customer(self, party: Party, since: date, account_number: str,
                 **kw: Any) -> tuple[Customer, BillingAccount]:
        cust = customers.create_customer(self.session, self.clock, self.actor, party_id=party.id,
                                         customer_since=since, **kw)
        acc = customers.open_billing_account(self.session, self.clock, self.actor, customer_id=cust.id,
                                             account_number=account_number, currency=self.currency, opened_on=since)
        return cust, acc

    def ident(self, cust: Customer, kind: str, value: str, since: date, until: date | None = None,
              product: Product | None = None) -> Any:
        return identifiers.assign(self.session, self.clock, self.actor, customer_id=cust.id, kind=kind, value=value,
                                  valid_from=at(since), valid_to=at(until) if until else None,
                                  product_id=product.id if product else None, region=self.region)

    def product(self, cust: Customer, acc: BillingAccount, kind: str, name: str, price: int, since: date,
                **kw: Any) -> Product:
        return inventory.add_product(self.session, self.clock, self.actor, customer_id=cust.id,
                                     billing_account_id=acc.id, kind=kind, name=name, price_minor=price,
                                     currency=self.currency, activated_at=at(since), purchased_on=since,
                                     region=self.region, **kw)


def s1_daniel(b: Builder, today: date) -> Customer:
    """S1 "Defective, not damaged": a long-standing customer, a handset bought three days ago."""
    daniel_p = b.person("Daniel", "Okafor", birth_date=date(1979, 4, 2))
    daniel, acc = b.customer(daniel_p, date(2011, 6, 1), "ACC-100101")
    b.product(daniel, acc, "mobile_line", "Unlimited 30 (SIM only)", 3000, date(2011, 6, 1),
              identifiers={"msisdn": "07700 900101", "iccid": "8944100000000001016"})
    b.product(daniel, acc, "handset", "Nimbus X2 128 GB (24-month plan)", 2200, today - timedelta(days=3),
              model="Nimbus X2", identifiers={"imei": "356938035643809"})
    b.ident(daniel, "email", "daniel.okafor@mail.example", date(2011, 6, 1))
    return daniel


def s2_hughes(b: Builder) -> Customer:
    """S2 "A year of denial": ten-plus years, husband on contract, daughter's first phone planned.
    Returns Margaret, the customer of the story."""
    margaret_p = b.person("Margaret", "Hughes", birth_date=date(1974, 9, 14))
    peter_p = b.person("Peter", "Hughes", birth_date=date(1972, 1, 30))
    lily_p = b.person("Lily", "Hughes", birth_date=date(2014, 5, 20))
    margaret, margaret_acc = b.customer(margaret_p, date(2014, 2, 1), "ACC-200201")
    peter, peter_acc = b.customer(peter_p, date(2016, 8, 15), "ACC-200202")
    b.product(margaret, margaret_acc, "mobile_line", "Essentials 20 GB", 2500, date(2014, 2, 1),
              identifiers={"msisdn": "07700 900201", "iccid": "8944100000000002014"})
    b.product(margaret, margaret_acc, "handset", "Lumo 5 (24-month plan)", 1800, date(2025, 1, 10),
              model="Lumo 5", identifiers={"imei": "490154203237518"})
    b.product(peter, peter_acc, "mobile_line", "Unlimited 30", 3000, date(2016, 8, 15),
              identifiers={"msisdn": "07700 900202", "iccid": "8944100000000002022"})
    s, clock, actor = b.session, b.clock, b.actor
    household = customers.create_household(s, clock, actor, name="Hughes household")
    customers.add_household_member(s, clock, actor, household_id=household.id, customer_id=margaret.id,
                                   role="head", joined_on=date(2014, 2, 1))
    customers.add_household_member(s, clock, actor, household_id=household.id, customer_id=peter.id,
                                   role="spouse", joined_on=date(2016, 8, 15))
    customers.relate_parties(s, clock, actor, party_id=margaret_p.id, related_party_id=peter_p.id, kind="spouse")
    customers.relate_parties(s, clock, actor, party_id=margaret_p.id, related_party_id=lily_p.id, kind="child")
    b.ident(margaret, "email", "margaret.hughes@mail.example", date(2014, 2, 1))
    b.ident(margaret, "social", "x:@maggie_h", date(2019, 3, 1))
    return margaret


def s3_priya(b: Builder, today: date) -> Customer:
    """S3 "Whose number is it?": the number was Tom's until seven years ago, Priya's since."""
    tom, _ = b.customer(b.person("Tom", "Bennett"), date(2012, 3, 1), "ACC-300301")
    priya_p = b.person("Priya", "Shah", birth_date=date(1988, 11, 3))
    priya, priya_acc = b.customer(priya_p, date(2019, 9, 1), "ACC-300302")
    recycled_on = date(today.year - 7, 9, 1)
    b.ident(tom, "msisdn", "07700 900301", date(2012, 3, 1), until=recycled_on)
    line = b.product(priya, priya_acc, "mobile_line", "Essentials 10 GB", 1500, recycled_on,
                     identifiers={"iccid": "8944100000000003012"})
    b.ident(priya, "msisdn", "07700 900301", recycled_on, product=line)
    b.product(priya, priya_acc, "handset", "Nimbus X3 (bought outright)", 0, today - timedelta(days=10),
              model="Nimbus X3", identifiers={"imei": "353879234252633"})
    b.ident(priya, "email", "priya.shah@mail.example", date(2019, 9, 1))
    b.ident(priya, "social", "x:@priyashah", date(2020, 1, 1))
    return priya


@dataclass(frozen=True)
class Joinery:
    """S4's business customer as built: the ids a story needs."""

    customer: Customer
    account: BillingAccount
    lines: list[Product]
    tablet: Product


def s4_joinery(b: Builder, *, tablet_name: str = S4_TABLET) -> Joinery:
    """S4 "The SIM that was thrown away": Harbour Lane Joinery since 2015, three lines, the old
    iPad's data SIM since 2018, an e-mail and a social handle. The tablet SIM is still active."""
    org = customers.create_organization(b.session, b.clock, b.actor, name="Harbour Lane Joinery Ltd")
    joinery, acc = b.customer(org, date(2015, 4, 1), "ACC-400401")
    lines = [b.product(joinery, acc, "mobile_line", f"Business Unlimited (line {n})", 2800, date(2015, 4, 1),
                       identifiers={"msisdn": msisdn, "iccid": iccid})
             for n, (msisdn, iccid) in enumerate([("07700 900401", "8944100000000004010"),
                                                  ("07700 900402", "8944100000000004028"),
                                                  ("07700 900403", "8944100000000004036")], start=1)]
    tablet = b.product(joinery, acc, "data_sim", tablet_name, 1000, date(2018, 5, 1),
                       identifiers={"iccid": S4_TABLET_ICCID})
    b.ident(joinery, "email", "mark@harbourlane.example", date(2015, 4, 1))
    b.ident(joinery, "social", "x:@harbourlanejoin", date(2017, 1, 1))
    return Joinery(joinery, acc, lines, tablet)


def s4_renewal(b: Builder, j: Joinery, renewal: date) -> None:
    """S4's renewal in store: Mark Ellis uses the account, two data SIMs and three handsets are
    added, and the old iPad's SIM is removed and destroyed."""
    mark_p = b.person("Mark", "Ellis")
    customers.relate_parties(b.session, b.clock, b.actor, party_id=mark_p.id, related_party_id=j.customer.party_id,
                             kind="user_of")
    for n, iccid in enumerate(["8944100000000004051", "8944100000000004069"], start=1):
        b.product(j.customer, j.account, "data_sim", f"Data-only SIM 20 GB ({n})", 1200, renewal,
                  identifiers={"iccid": iccid})
    for n, imei in enumerate(["352099001761481", "356656423457802", "358240051111110"], start=1):
        b.product(j.customer, j.account, "handset", f"Nimbus X3 (line {n}, renewal)", 1500, renewal,
                  model="Nimbus X3", identifiers={"imei": imei})
    inventory.change_status(b.session, b.clock, b.actor, j.tablet, "terminated", at=at(renewal, 11), channel="store",
                            reason="removed at renewal; SIM destroyed in store")


EDITH_SON_PERMISSIONS = ["view_account", "view_cases", "message_owner", "raise_complaint", "make_changes",
                         "receive_letters"]


def s5_edith(b: Builder, today: date) -> Customer:
    """S5 "But the fibre works": 89, not digital; her son and a social worker act for her."""
    s, clock, actor = b.session, b.clock, b.actor
    edith_p = b.person("Edith", "Clarke", birth_date=date(today.year - 89, 2, 11))
    robert_p = b.person("Robert", "Clarke")
    amira_p = b.person("Amira", "Haddad")
    edith, edith_acc = b.customer(edith_p, date(1998, 5, 1), "ACC-500501")
    b.ident(edith, "msisdn", "01632 960501", date(1998, 5, 1))
    b.product(edith, edith_acc, "fibre", "Fibre 150", 3500, today - timedelta(days=200))
    customers.relate_parties(s, clock, actor, party_id=edith_p.id, related_party_id=robert_p.id, kind="child")
    customers.add_representative(s, clock, actor, customer_id=edith.id, party_id=robert_p.id, relationship="son",
                                 permissions=EDITH_SON_PERMISSIONS, valid_from=today - timedelta(days=220),
                                 evidence="Lasting power of attorney on file")
    customers.add_representative(s, clock, actor, customer_id=edith.id, party_id=amira_p.id,
                                 relationship="social_worker", permissions=["view_cases", "message_owner"],
                                 valid_from=today - timedelta(days=30), valid_until=today + timedelta(days=335),
                                 evidence="Consent given by Mrs Clarke by phone, recorded by Sofia Lind")
    customers.record_vulnerability(s, clock, actor, customer_id=edith.id, kind="age", consent_given=True,
                                   review_on=today + timedelta(days=180), note="89 years old; lives alone",
                                   needs=["assisted_channels", "proactive_contact", "priority"])
    customers.record_vulnerability(s, clock, actor, customer_id=edith.id, kind="digital_exclusion",
                                   consent_given=True, review_on=today + timedelta(days=180),
                                   note="No e-mail or smartphone; contact by phone or letter, or via her son",
                                   needs=["no_digital_only_contact", "letters"])
    b.ident(edith, "email", "robert.clarke@mail.example", today - timedelta(days=220))
    return edith


def principals(users: Iterable[StaffUser]) -> dict[str, Principal]:
    """Each user's principal by username, as the services take them."""
    return {u.username: access.staff_principal(u) for u in users}
