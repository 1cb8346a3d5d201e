"""Load (or reset) the demo: staff and teams, and the five stories' customers with their
identifiers over time, households, representatives, vulnerability and products.

Dates are relative to the clock where the story is ("bought three days ago") and fixed where
the story names them (S4's SIM removed on 10 March). Everything goes through the services,
so the demo produces the same events and audit rows as real use.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from onethread.access import service as access
from onethread.access.rules import PUBLIC_DEMO_PASSWORD, SYSTEM
from onethread.bootstrap import Container
from onethread.customers import identifier_service as ids
from onethread.customers import service as customers
from onethread.db.base import Base
from onethread.demo.billing import load_billing, request_s3_termination
from onethread.demo.cases import load_cases
from onethread.demo.defects import load_known_defects
from onethread.demo.portal import load_portal_accounts
from onethread.demo.triage import load_waiting
from onethread.interactions import service as interactions
from onethread.interactions import session_service as sessions
from onethread.interactions.rules import Direction
from onethread.inventory import service as inventory
from onethread.models import Customer, Team

DEMO_PASSWORD = PUBLIC_DEMO_PASSWORD  # printed by `onethread demo`; refused at sign-in in production

STAFF = [
    # username, display name, role, team
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
TEAMS = [
    ("High Street store", "store", "sam.store"),
    ("Contact centre", "contact_centre", "lee.lead"),
    ("Customer relations", "customer_relations", "hana.head"),
    ("Back office", "back_office", "lee.lead"),
    ("FibreFix Ltd (subcontractor)", "subcontractor", "finn.field"),
]


def at(day: date, hour: int = 9) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=UTC)


def has_data(session: Session) -> bool:
    return bool(session.scalar(select(func.count()).select_from(Customer)))


def reset(c: Container) -> None:
    """Empty every onethread table (the schema stays). Refused in production by the CLI."""
    with c.sessions() as session, session.begin():
        session.execute(update(Team).values(lead_id=None))
        for table in reversed(Base.metadata.sorted_tables):
            session.execute(delete(table))


def load(session: Session, c: Container) -> dict[str, int]:
    clock = c.clock
    region = c.settings.default_region
    cur = c.settings.default_currency
    today = clock.now().date()
    actor = SYSTEM

    teams = {name: access.create_team(session, clock, name=name, kind=kind) for name, kind, _ in TEAMS}
    users = {}
    for username, display, role, team in STAFF:
        users[username] = access.create_user(session, clock, username=username, display_name=display, role=role,
                                             password=DEMO_PASSWORD, email=f"{username}@operator.example",
                                             team_id=teams[team].id if team else None)
    for name, _, lead in TEAMS:
        access.set_team_lead(session, teams[name].id, users[lead].id)
    load_known_defects(session, clock, users)

    def person(given, family, **kw):
        return customers.create_individual(session, clock, actor, given_name=given, family_name=family, **kw)

    def customer(party, since, account_number, **kw):
        cust = customers.create_customer(session, clock, actor, party_id=party.id, customer_since=since, **kw)
        acc = customers.open_billing_account(session, clock, actor, customer_id=cust.id,
                                             account_number=account_number, currency=cur, opened_on=since)
        return cust, acc

    def ident(cust, kind, value, since, until=None, product=None):
        return ids.assign(session, clock, actor, customer_id=cust.id, kind=kind, value=value,
                          valid_from=at(since), valid_to=at(until) if until else None,
                          product_id=product.id if product else None, region=region)

    def product(cust, acc, kind, name, price, since, **kw):
        return inventory.add_product(session, clock, actor, customer_id=cust.id, billing_account_id=acc.id,
                                     kind=kind, name=name, price_minor=price, currency=cur,
                                     activated_at=at(since), purchased_on=since, region=region, **kw)

    # S1 "Defective, not damaged": a long-standing customer, a handset bought three days ago.
    daniel_p = person("Daniel", "Okafor", birth_date=date(1979, 4, 2))
    daniel, daniel_acc = customer(daniel_p, date(2011, 6, 1), "ACC-100101")
    product(daniel, daniel_acc, "mobile_line", "Unlimited 30 (SIM only)", 3000, date(2011, 6, 1),
            identifiers={"msisdn": "07700 900101", "iccid": "8944100000000001016"})
    product(daniel, daniel_acc, "handset", "Nimbus X2 128 GB (24-month plan)", 2200, today - timedelta(days=3),
            model="Nimbus X2", identifiers={"imei": "356938035643809"})
    ident(daniel, "email", "daniel.okafor@mail.example", date(2011, 6, 1))

    # S2 "A year of denial": ten-plus years, husband on contract, daughter's first phone planned.
    margaret_p = person("Margaret", "Hughes", birth_date=date(1974, 9, 14))
    peter_p = person("Peter", "Hughes", birth_date=date(1972, 1, 30))
    lily_p = person("Lily", "Hughes", birth_date=date(2014, 5, 20))
    margaret, margaret_acc = customer(margaret_p, date(2014, 2, 1), "ACC-200201")
    peter, peter_acc = customer(peter_p, date(2016, 8, 15), "ACC-200202")
    product(margaret, margaret_acc, "mobile_line", "Essentials 20 GB", 2500, date(2014, 2, 1),
            identifiers={"msisdn": "07700 900201", "iccid": "8944100000000002014"})
    product(margaret, margaret_acc, "handset", "Lumo 5 (24-month plan)", 1800, date(2025, 1, 10),
            model="Lumo 5", identifiers={"imei": "490154203237518"})
    product(peter, peter_acc, "mobile_line", "Unlimited 30", 3000, date(2016, 8, 15),
            identifiers={"msisdn": "07700 900202", "iccid": "8944100000000002022"})
    household = customers.create_household(session, clock, actor, name="Hughes household")
    customers.add_household_member(session, clock, actor, household_id=household.id, customer_id=margaret.id,
                                   role="head", joined_on=date(2014, 2, 1))
    customers.add_household_member(session, clock, actor, household_id=household.id, customer_id=peter.id,
                                   role="spouse", joined_on=date(2016, 8, 15))
    customers.relate_parties(session, clock, actor, party_id=margaret_p.id, related_party_id=peter_p.id,
                             kind="spouse")
    customers.relate_parties(session, clock, actor, party_id=margaret_p.id, related_party_id=lily_p.id, kind="child")
    ident(margaret, "email", "margaret.hughes@mail.example", date(2014, 2, 1))
    ident(margaret, "social", "x:@maggie_h", date(2019, 3, 1))

    # S3 "Whose number is it?": the number was Tom's until seven years ago, Priya's since.
    tom_p = person("Tom", "Bennett")
    tom, _ = customer(tom_p, date(2012, 3, 1), "ACC-300301")
    priya_p = person("Priya", "Shah", birth_date=date(1988, 11, 3))
    priya, priya_acc = customer(priya_p, date(2019, 9, 1), "ACC-300302")
    recycled_on = date(today.year - 7, 9, 1)
    ident(tom, "msisdn", "07700 900301", date(2012, 3, 1), until=recycled_on)
    line = product(priya, priya_acc, "mobile_line", "Essentials 10 GB", 1500, recycled_on,
                   identifiers={"iccid": "8944100000000003012"})
    ident(priya, "msisdn", "07700 900301", recycled_on, product=line)
    product(priya, priya_acc, "handset", "Nimbus X3 (bought outright)", 0, today - timedelta(days=10),
            model="Nimbus X3", identifiers={"imei": "353879234252633"})
    ident(priya, "email", "priya.shah@mail.example", date(2019, 9, 1))
    ident(priya, "social", "x:@priyashah", date(2020, 1, 1))

    # S4 "The SIM that was thrown away": a business renews, and the old iPad SIM is removed in store.
    joinery_org = customers.create_organization(session, clock, actor, name="Harbour Lane Joinery Ltd")
    mark_p = person("Mark", "Ellis")
    customers.relate_parties(session, clock, actor, party_id=mark_p.id, related_party_id=joinery_org.id,
                             kind="user_of")
    joinery, joinery_acc = customer(joinery_org, date(2015, 4, 1), "ACC-400401")
    renewal = date(2026, 3, 10) if today > date(2026, 3, 10) else today - timedelta(days=60)
    for n, (msisdn, iccid) in enumerate([("07700 900401", "8944100000000004010"),
                                         ("07700 900402", "8944100000000004028"),
                                         ("07700 900403", "8944100000000004036")], start=1):
        product(joinery, joinery_acc, "mobile_line", f"Business Unlimited (line {n})", 2800, date(2015, 4, 1),
                identifiers={"msisdn": msisdn, "iccid": iccid})
    ipad = product(joinery, joinery_acc, "data_sim", "Tablet data SIM 5 GB (old iPad)", 1000, date(2018, 5, 1),
                   identifiers={"iccid": "8944100000000004044"})
    for n, iccid in enumerate(["8944100000000004051", "8944100000000004069"], start=1):
        product(joinery, joinery_acc, "data_sim", f"Data-only SIM 20 GB ({n})", 1200, renewal,
                identifiers={"iccid": iccid})
    for n, imei in enumerate(["352099001761481", "356656423457802", "358240051111110"], start=1):
        product(joinery, joinery_acc, "handset", f"Nimbus X3 (line {n}, renewal)", 1500, renewal, model="Nimbus X3",
                identifiers={"imei": imei})
    inventory.change_status(session, clock, actor, ipad, "terminated", at=at(renewal, 11), channel="store",
                            reason="removed at renewal; SIM destroyed in store")
    ident(joinery, "email", "mark@harbourlane.example", date(2015, 4, 1))
    ident(joinery, "social", "x:@harbourlanejoin", date(2017, 1, 1))

    # S5 "But the fibre works": 89, not digital; her son and a social worker act for her.
    edith_p = person("Edith", "Clarke", birth_date=date(today.year - 89, 2, 11))
    robert_p = person("Robert", "Clarke")
    amira_p = person("Amira", "Haddad")
    edith, edith_acc = customer(edith_p, date(1998, 5, 1), "ACC-500501")
    ident(edith, "msisdn", "01632 960501", date(1998, 5, 1))
    product(edith, edith_acc, "fibre", "Fibre 150", 3500, today - timedelta(days=200))
    customers.relate_parties(session, clock, actor, party_id=edith_p.id, related_party_id=robert_p.id, kind="child")
    customers.add_representative(session, clock, actor, customer_id=edith.id, party_id=robert_p.id,
                                 relationship="son",
                                 permissions=["view_account", "view_cases", "message_owner", "raise_complaint",
                                              "make_changes", "receive_letters"],
                                 valid_from=today - timedelta(days=220), evidence="Lasting power of attorney on file")
    customers.add_representative(session, clock, actor, customer_id=edith.id, party_id=amira_p.id,
                                 relationship="social_worker", permissions=["view_cases", "message_owner"],
                                 valid_from=today - timedelta(days=30), valid_until=today + timedelta(days=335),
                                 evidence="Consent given by Mrs Clarke by phone, recorded by Sofia Lind")
    customers.record_vulnerability(session, clock, actor, customer_id=edith.id, kind="age", consent_given=True,
                                   review_on=today + timedelta(days=180), note="89 years old; lives alone",
                                   needs=["assisted_channels", "proactive_contact", "priority"])
    customers.record_vulnerability(session, clock, actor, customer_id=edith.id, kind="digital_exclusion",
                                   consent_given=True, review_on=today + timedelta(days=180),
                                   note="No e-mail or smartphone; contact by phone or letter, or via her son",
                                   needs=["no_digital_only_contact", "letters"])
    ident(edith, "email", "robert.clarke@mail.example", today - timedelta(days=220))

    people = {"daniel": daniel, "margaret": margaret, "priya": priya, "joinery": joinery, "edith": edith}
    contacts = load_contacts(session, c, people, users, teams, renewal)
    load_billing(session, c, people, users, renewal)  # before the cases: S4's replay audits the bills
    cases = load_cases(session, c, people, users)
    load_portal_accounts(session, c, people)
    request_s3_termination(session, c, people, users)
    contacts += load_waiting(session, c)  # this morning's contacts on no case: My work's waiting contacts

    session.flush()
    return {
        "staff users": len(users),
        "teams": len(teams),
        "customers": session.scalar(select(func.count()).select_from(Customer)),
        "contacts": contacts,
        "cases": cases,
    }


def load_contacts(session: Session, c: Container, people: dict, users: dict, teams: dict, renewal: date) -> int:
    """The stories' contacts on their channels, so each customer's timeline tells the story."""
    clock, region = c.clock, c.settings.default_region
    today = clock.now().date()
    count = 0

    def staff(username):
        return access.staff_principal(users[username])

    def say(who, customer, channel, day, text, *, hour=10, direction=Direction.INBOUND, kind="message", subject=None,
            identifiers=None, session_id=None):
        nonlocal count
        count += 1
        intake = interactions.Intake(
            channel=channel, direction=direction, occurred_at=at(day, hour), text=text, subject=subject, kind=kind,
            channel_message_id=f"demo-{count}", identifiers=identifiers,
            customer_id=None if identifiers else customer.id, session_id=session_id)
        return interactions.record(session, clock, who, intake, region=region).contact

    # S1: the store visit, a transfer to the contact centre that keeps the verification.
    d = people["daniel"]
    visit = sessions.start(session, clock, staff("sam.store"), channel="store", customer_id=d.id)
    sessions.verify(session, clock, staff("sam.store"), visit.id, method="id_document", level=3,
                    ttl=timedelta(minutes=c.settings.verification_ttl_minutes))
    say(staff("sam.store"), d, "store", today, "Handset bought three days ago: no sound through the headphone jack. "
        "Customer asks for a replacement.", kind="visit_note", session_id=visit.id)
    sessions.transfer(session, clock, staff("sam.store"), visit.id, to_team_id=teams["Contact centre"].id,
                      reason="replacement order",
                      note="Nimbus X2, 3 days old, headphone jack dead; ID checked in store")

    # S2: a year of the same problem, told by phone, social media and e-mail.
    m = people["margaret"]
    for months_ago, channel, text in [
        (11, "phone", "Cannot receive calls or voicemail; picture messages fail."),
        (9, "phone", "Still no incoming calls. Told there is no fault on the network."),
        (7, "social", "Nearly a year with no incoming calls and nobody at @operator will admit there is a problem."),
        (6, "email", "Formal complaint: no incoming calls, voicemail or picture messages since last winter."),
        (2, "phone", "Calling again: still no incoming calls. Considering the ombudsman."),
    ]:
        ids = {"social": "x:@maggie_h"} if channel == "social" else (
            {"email": "margaret.hughes@mail.example"} if channel == "email" else {"msisdn": "07700 900201"})
        say(SYSTEM, m, channel, today - timedelta(days=30 * months_ago), text, identifiers=ids,
            kind="post" if channel == "social" else "call" if channel == "phone" else "message")
    say(staff("alex.agent"), m, "social", today - timedelta(days=30 * 7 - 1),
        "Sorry to hear this, Margaret. Please DM us your number and we will sort it out.", direction=Direction.OUTBOUND,
        kind="post")

    # S3: online registration, the call, and a tweet while on hold.
    p = people["priya"]
    say(SYSTEM, p, "portal", today - timedelta(days=9), "Registered the number on the new handset online.",
        identifiers={"msisdn": "07700 900301"}, kind="form")
    call = sessions.start(session, clock, staff("jo.agent"), channel="phone", customer_id=p.id,
                          external_id="demo-call-priya")
    say(SYSTEM, p, "phone", today - timedelta(days=8), "The number shows an ex-colleague's name; asks for it in her "
        "own name.", identifiers={"msisdn": "07700 900301"}, kind="call", session_id=call.id)
    say(SYSTEM, p, "social", today - timedelta(days=8), "On hold for 40 minutes to get MY OWN number in my name.",
        identifiers={"social": "x:@priyashah"}, kind="post", hour=10)

    # S4: the thrown-away SIM, told four times.
    j = people["joinery"]
    say(staff("sam.store"), j, "store", renewal + timedelta(days=42), "April bill still charges the old tablet SIM "
        "that was removed here at renewal.", kind="visit_note")
    say(SYSTEM, j, "portal", renewal + timedelta(days=60), "Charged again in May for a SIM you destroyed in March.",
        identifiers={"email": "mark@harbourlane.example"}, kind="form", subject="Billing error")
    say(SYSTEM, j, "phone", renewal + timedelta(days=71), "Helpline: credit for May only, April refused.",
        identifiers={"msisdn": "07700 900401"}, kind="call")
    say(SYSTEM, j, "social", renewal + timedelta(days=84), "Third month of being billed for a SIM that is in your "
        "store's bin.", identifiers={"social": "x:@harbourlanejoin"}, kind="post")

    # S5: the son, the technician, the social worker.
    e = people["edith"]
    say(SYSTEM, e, "phone", today - timedelta(days=200), "Son calls on her behalf: order fibre for his mother.",
        identifiers={"msisdn": "01632 960501"}, kind="call")
    for days, text in [(180, "Visit failed: no network connection at the street cabinet."),
                       (160, "Visit failed again: network connection still not made."),
                       (140, "Install done. Drilled into a heating pipe behind the wall; temporary repair.")]:
        say(staff("finn.field"), e, "field", today - timedelta(days=days), text, kind="technician_note")
    say(SYSTEM, e, "phone", today - timedelta(days=120), "Son: the pipe leaks, the wall is open, no heating.",
        identifiers={"msisdn": "01632 960501"}, kind="call")
    say(staff("bea.backoffice"), e, "letter", today - timedelta(days=60), "Letter from Mrs Clarke: still no heating, "
        "nobody answers.", kind="letter")
    say(staff("alex.agent"), e, "phone", today - timedelta(days=20), "Social worker Amira Haddad calls about the "
        "leaking pipe; call dropped.", kind="call")
    return count
