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
from onethread.db.base import Base
from onethread.demo import worlds
from onethread.demo.billing import load_billing, request_s3_termination
from onethread.demo.cases import load_cases
from onethread.demo.defects import load_known_defects
from onethread.demo.portal import load_portal_accounts
from onethread.demo.triage import load_waiting
from onethread.interactions import service as interactions
from onethread.interactions import session_service as sessions
from onethread.interactions.rules import Direction
from onethread.models import Customer, Team

DEMO_PASSWORD = PUBLIC_DEMO_PASSWORD  # printed by `onethread demo`; refused at sign-in in production


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
    today = clock.now().date()
    users, teams = worlds.staff(session, clock, worlds.STAFF, worlds.TEAMS, password=DEMO_PASSWORD,
                                email_domain="operator.example")
    load_known_defects(session, clock, users)

    b = worlds.Builder(session, clock, SYSTEM, region=c.settings.default_region,
                       currency=c.settings.default_currency)
    daniel = worlds.s1_daniel(b, today)
    margaret = worlds.s2_hughes(b)
    priya = worlds.s3_priya(b, today)
    s4 = worlds.s4_joinery(b)
    renewal = date(2026, 3, 10) if today > date(2026, 3, 10) else today - timedelta(days=60)
    worlds.s4_renewal(b, s4, renewal)
    joinery = s4.customer
    edith = worlds.s5_edith(b, today)

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
