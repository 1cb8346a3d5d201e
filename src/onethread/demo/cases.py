"""The five stories' cases, routed from the demo contacts already loaded, replayed in time order
through the services with the worker's sweep running before every step, as a live system would
have run them. So the demo shows what onethread does with each story:

- S1: a fault case from the store visit, owned by the contact centre, a doorstep swap promised;
- S2: a complaint nobody works on for months: every clock past due, escalated up to the head of
  customer relations, the owner replaced by rule, the deadlock letter at the regulator deadline,
  the public promise on social media missed; it heads the supervisor queue;
- S3: a complaint about a number in someone else's name, handled: acknowledged, the customer's
  account, an apology, the number put right, closed with her confirmation;
- S4: one billing case from four channels with one owner, the refund promise missed and
  escalated; the bill audit puts the removed tablet SIM's April and May charges on the case with
  the refund for both months (billing-error policy), Bea confirms the findings, the promises are
  kept and the case closed;
- S5: the installation case with its work order (the network connection a prerequisite, two
  visits failed for it and escalated), then the damage case: the technician's incident, an urgent
  harm (no heating, vulnerable customer) with its claim task, FibreFix's own repair that closes
  nothing and FibreFix's audit, the insurer, the plumber, the claims handler and the social worker as participants
  with tasks, a late reply escalated to the owner's lead, an owner who keeps the family informed.

The replay clock is a ``SettableClock`` set from the container's clock: the demo's dates are
relative to whenever it is loaded.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from onethread.access import service as access
from onethread.bootstrap import Container
from onethread.cases import clocks, handover_service, items_service, policy
from onethread.cases import service as cases
from onethread.cases.rules import ClockKind, ItemStatus
from onethread.decisions import bill_audit
from onethread.decisions import service as decisions
from onethread.demo.field import S5Field
from onethread.interactions.rules import Direction
from onethread.kernel.case_status import CaseStatus
from onethread.kernel.clock import Clock, SettableClock
from onethread.models import BillFinding, Case, CaseClock, Commitment, Contact, Product, Task

Step = Callable[[Clock], None]


class Replay:
    """Steps at their own times; the worker sweeps before each one."""

    def __init__(self, session: Session, now: datetime):
        self.session, self.now = session, now
        self.steps: list[tuple[datetime, int, Step]] = []
        self.ids: dict[str, str] = {}

    def at(self, when: datetime, fn: Step) -> None:
        self.steps.append((min(when, self.now), len(self.steps), fn))

    def run(self) -> None:
        if not self.steps:
            return
        self.steps.sort(key=lambda s: (s[0], s[1]))
        story = SettableClock(self.steps[0][0])
        for when, _, fn in self.steps:
            story.set(when)
            self.worker(story)
            fn(story)
        story.set(self.now)
        self.worker(story)

    def worker(self, clock: Clock) -> None:
        clocks.sweep(self.session, clock, worker="demo")
        handover_service.replace_away_owners(self.session, clock)

    def keep_alive(self, key: str, who, start: datetime, end: datetime, text: str) -> None:
        """The owner keeps the customer informed before the case would go quiet: a candidate
        step each working morning, taken only when the no-activity clock is due before the next."""
        calendar = policy.market("GB").calendar
        day = start.date() + timedelta(days=1)
        mornings = []
        while datetime.combine(day, time(7), tzinfo=start.tzinfo) < min(end, self.now):
            if calendar.is_working_day(day):
                mornings.append(datetime.combine(day, time(7), tzinfo=start.tzinfo))
            day += timedelta(days=1)
        for this, following in zip(mornings, [*mornings[1:], None], strict=True):
            self.at(this, self._update(key, who, following, text))

    def _update(self, key: str, who, following: datetime | None, text: str) -> Step:
        def step(clock: Clock) -> None:
            case = self.session.get(Case, self.ids[key])
            if case.status == CaseStatus.CLOSED:
                return
            due = self.session.scalar(select(CaseClock.due_at).where(
                CaseClock.case_id == case.id, CaseClock.kind == ClockKind.NO_ACTIVITY, CaseClock.stopped_at.is_(None),
                CaseClock.fired_at.is_(None)))
            if due is not None and (following is None or due <= following):
                cases.reply(self.session, clock, who, case.id, text=text, channel="phone")
        return step


def _contacts(session: Session, customer_id: str, channel: str | None = None, direction: str = "inbound"
              ) -> list[Contact]:
    query = select(Contact).where(Contact.customer_id == customer_id, Contact.direction == direction)
    if channel:
        query = query.where(Contact.channel == channel)
    return list(session.scalars(query.order_by(Contact.occurred_at, Contact.id)))


def _product(session: Session, customer_id: str, kind: str) -> Product:
    return session.scalars(select(Product).where(Product.customer_id == customer_id, Product.kind == kind)
                           .order_by(Product.created_at)).first()


def load_cases(session: Session, c: Container, people: dict, users: dict) -> int:
    """Route the demo contacts into the stories' cases (see the module docstring); returns how many."""
    session.flush()
    decisions.load_shipped(session, c.clock)  # S1's phone decision asks the shipped device-fault policy
    replay = Replay(session, c.clock.now())

    def staff(username: str):
        return access.staff_principal(users[username])

    _s1(session, replay, people["daniel"], users, staff)
    _s2(session, replay, people["margaret"], users, staff)
    _s3(session, replay, people["priya"], users, staff)
    _s4(session, replay, people["joinery"], users, staff)
    _s5(session, replay, people["edith"], users, staff)
    replay.run()
    return len(set(replay.ids.values()))


def _route(session: Session, replay: Replay, key: str, contact: Contact, actor, **how) -> Step:
    def step(clock: Clock) -> None:
        if key in replay.ids:
            how.pop("owner_id", None)
        case, _ = cases.route_contact(session, clock, actor, contact.id, **how)
        replay.ids.setdefault(key, case.id)
    return step


def _s1(session, replay, daniel, users, staff) -> None:
    visit = _contacts(session, daniel.id, "store")[0]
    handset = _product(session, daniel.id, "handset")
    replay.at(visit.occurred_at, _route(session, replay, "s1", visit, staff("sam.store"), kind="fault",
                                        title="Headphone jack dead on a three-day-old handset",
                                        product_id=handset.id, category="device_fault",
                                        owner_id=users["jo.agent"].id))

    def swap(clock):  # the same decision service the store asks, and its order: the promise on the case
        jo = staff("jo.agent")
        bought = handset.purchased_on or clock.now().date()
        decision = decisions.decide(
            session, clock, jo, policy="device_fault", channel="phone", customer_id=daniel.id,
            product_id=handset.id, case_id=replay.ids["s1"],
            facts={"device_model": handset.model or handset.name, "symptom": "no sound from the headphone jack",
                   "days_since_purchase": (clock.now().date() - bought).days, "physical_damage_evidence": False,
                   "in_stock": False})
        decisions.order_replacement(session, clock, jo, decision.id, channel="phone")
        cases.reply(session, clock, jo, replay.ids["s1"], channel="phone",
                    text="Jo Reid, contact centre: a recognised defect of the Nimbus X2. A replacement comes to "
                         "your door within five days; no assessment, no form.")
    replay.at(visit.occurred_at + timedelta(minutes=20), swap)


def _s2(session, replay, margaret, users, staff) -> None:
    for n, contact in enumerate(_contacts(session, margaret.id)):
        replay.at(contact.occurred_at, _route(
            session, replay, "s2", contact, staff("alex.agent" if n % 2 == 0 else "jo.agent"), kind="complaint",
            title="No incoming calls, voicemail or picture messages", category="network",
            owner_id=users["alex.agent"].id))
    for reply in _contacts(session, margaret.id, "social", direction=Direction.OUTBOUND):
        def promise(clock, reply=reply):
            cases.route_contact(session, clock, staff("alex.agent"), reply.id, kind="complaint", title="-",
                                case_id=replay.ids["s2"])
            items_service.add_commitment(session, clock, staff("alex.agent"), replay.ids["s2"], public=True,
                                         text="sort out the incoming calls (promised in a public reply)",
                                         due_at=clock.now() + timedelta(days=2), made_via="social")
        replay.at(reply.occurred_at, promise)


def _s3(session, replay, priya, users, staff) -> None:
    call = _contacts(session, priya.id, "phone")[0]
    jo = staff("jo.agent")
    replay.at(call.occurred_at, _route(session, replay, "s3", call, jo, kind="complaint",
                                       title="Her own number shows an ex-colleague's name", category="identity",
                                       owner_id=users["jo.agent"].id))
    for other in _contacts(session, priya.id, "portal") + _contacts(session, priya.id, "social"):
        replay.at(max(other.occurred_at, call.occurred_at) + timedelta(minutes=1), _route(
            session, replay, "s3", other, jo, kind="complaint", title="-", category="identity"))

    def handled(clock):
        case_id = replay.ids["s3"]
        for step, text in (("acknowledged", "Jo Reid took the complaint on the call, not a form."),
                           ("customer_account", "The number has been hers for seven years; it was Tom Bennett's "
                                                "before. The registration picked his old name."),
                           ("apology", "We are sorry: nobody should be accused of fraud over our records.")):
            cases.record_step(session, clock, jo, case_id, step=step, text=text)
        items_service.add_task(session, clock, jo, case_id, title="Register the number in Priya Shah's name",
                               assignee_kind="staff", assignee_id=users["bea.backoffice"].id,
                               due_at=clock.now() + timedelta(days=1))
        cases.reply(session, clock, jo, case_id, channel="phone",
                    text="Your number is yours: back office registers it in your name today.")
    replay.at(call.occurred_at + timedelta(minutes=30), handled)

    def closed(clock):
        case_id = replay.ids["s3"]
        task = session.scalars(select(Task).where(Task.case_id == case_id)).one()
        items_service.complete_task(session, clock, staff("bea.backoffice"), task.id,
                                    note="Registered in Priya Shah's name; holder history checked since 2012")
        cases.record_step(session, clock, jo, case_id, step="resolution_offer",
                          text="Number in her name, written apology, no fraud flag, one month free.")
        cases.reply(session, clock, jo, case_id, channel="phone", text="Done: the number is in your name.")
        cases.close(session, clock, jo, case_id, customer_confirmed=True,
                    outcome="Number registered in her name; apology and a month free; no fraud flag")
    replay.at(call.occurred_at + timedelta(hours=5), closed)


def _s4(session, replay, joinery, users, staff) -> None:
    tablet = session.scalars(select(Product).where(Product.customer_id == joinery.id, Product.kind == "data_sim",
                                                   Product.status == "terminated")).first()
    told = sorted(_contacts(session, joinery.id), key=lambda x: x.occurred_at)
    routers = {"store": "sam.store", "portal": "jo.agent", "phone": "alex.agent", "social": "alex.agent"}
    bea = staff("bea.backoffice")
    for contact in told:
        replay.at(contact.occurred_at, _route(
            session, replay, "s4", contact, staff(routers.get(contact.channel, "jo.agent")),
            kind="billing_dispute", title="Charged for the tablet SIM removed in store", product_id=tablet.id,
            category="billing", owner_id=users["bea.backoffice"].id))

        def answer(clock, channel=contact.channel):
            cases.reply(session, clock, bea, replay.ids["s4"], channel="email",
                        text="Bea Jones, billing: I own your case and have the whole story; no need to repeat it.")
            if channel == "phone":
                items_service.add_commitment(session, clock, staff("alex.agent"), replay.ids["s4"],
                                             text="refund the April and May charges for the removed tablet SIM",
                                             due_at=clock.now() + timedelta(days=5), made_via="phone")
        replay.at(contact.occurred_at + timedelta(hours=1), answer)
    if not told:
        return
    replay.keep_alive("s4", bea, told[0].occurred_at, told[-1].occurred_at + timedelta(days=2),
                      "Update from Bea Jones on your billing case.")
    end = told[-1].occurred_at + timedelta(days=2)

    def audited(clock):
        # Bea runs the bill audit: the tablet SIM's April and May charges join her case, with the
        # refund for both months decided by the billing-error policy and promised with dates.
        bill_audit.audit_and_follow_up(session, clock, bea, customer_ids=[joinery.id])
    if end - timedelta(days=1) < replay.now:
        replay.at(end - timedelta(days=1), audited)

    def refunded(clock):
        case_id = replay.ids["s4"]
        for finding in list(session.scalars(select(BillFinding).where(BillFinding.case_id == case_id,
                                                                      BillFinding.status == "open"))):
            bill_audit.review(session, clock, bea, finding.id, verdict="confirm",
                              note="the SIM was removed in the store on the renewal day (inventory)")
        for item in list(session.scalars(select(Commitment).where(
                Commitment.case_id == case_id, Commitment.status == ItemStatus.OPEN))):
            items_service.close_commitment(session, clock, bea, item.id, kept=True,
                                           note="April and May refunded as decided, late")
        cases.reply(session, clock, bea, case_id, channel="email",
                    text="April and May are credited. Sorry it took four conversations.")
        cases.close(session, clock, bea, case_id, customer_confirmed=True,
                    outcome="Charges for the removed tablet SIM refunded for April and May")
    if end < replay.now:
        replay.at(end, refunded)


def _s5(session, replay, edith, users, staff) -> None:
    fibre = _product(session, edith.id, "fibre")
    notes = _contacts(session, edith.id, "field")
    if len(notes) < 3:
        return
    alex, sofia = staff("alex.agent"), staff("sofia.specialist")
    failed, damage = notes[:-1], notes[-1]
    on_site = S5Field(session, replay, users, staff, fibre)  # the work order, its visits, the incident
    on_site.schedule(failed, damage, edith.id)
    for note in failed:  # two visits fail: the network connection was never made
        replay.at(note.occurred_at, _route(session, replay, "s5-install", note, alex, kind="order_problem",
                                           title="Fibre installation: visits fail, network connection not made",
                                           product_id=fibre.id, category="installation",
                                           owner_id=users["alex.agent"].id))
        replay.at(note.occurred_at + timedelta(hours=1), lambda clock: cases.reply(
            session, clock, alex, replay.ids["s5-install"], channel="phone",
            text="Sorry: the network connection was not made. I have booked the network team and a new visit."))
    replay.keep_alive("s5-install", alex, failed[0].occurred_at, damage.occurred_at - timedelta(hours=1),
                      "Alex Morgan: the network team is chasing the connection; the next visit is booked.")

    def installed(clock):
        case_id = replay.ids["s5-install"]
        cases.reply(session, clock, alex, case_id, channel="phone", text="The fibre is connected.")
        cases.close(session, clock, alex, case_id, customer_confirmed=False,
                    outcome="Installed on the third visit after the network team made the connection")
    replay.at(damage.occurred_at - timedelta(minutes=1), installed)
    replay.at(damage.occurred_at, _route(session, replay, "s5", damage, alex, kind="damage_claim",
                                         title="Heating pipe drilled during the fibre installation",
                                         product_id=fibre.id, category="installation_damage",
                                         owner_id=users["sofia.specialist"].id))
    start = damage.occurred_at
    parts: dict[str, str] = {}

    def taken(clock):
        case_id = replay.ids["s5"]
        on_site.incident(clock, case_id)  # the technician's report: the urgent harm and the claim task
        cases.reply(session, clock, sofia, case_id, channel="phone",
                    text="Sofia Lind, customer relations: I own your mother's case. My direct line is on the "
                         "letter that follows.")
        for kind, name, org in (("insurer", "Claims desk", "MOUF Assurances"),
                                ("claims_handler", "Paul Girard", "ClaimsCo"),
                                ("plumber", "Nico Ferrand", "Plumbfast")):
            parts[kind] = items_service.add_participant(session, clock, sofia, case_id, kind=kind, name=name,
                                                        organisation=org).id
        task(clock, "Assess the water damage to the wall and carpet", "claims_handler", days=5)
        task(clock, "Repair the pipe and restore the heating", "plumber", days=2)
    replay.at(start + timedelta(hours=1), taken)

    def task(clock, title, kind, *, days):
        items_service.add_task(session, clock, sofia, replay.ids["s5"], title=title, assignee_kind="participant",
                               assignee_id=parts[kind], due_at=clock.now() + timedelta(days=days))

    def done(title_start: str, note: str) -> Step:
        def step(clock):
            found = session.scalars(select(Task).where(
                Task.case_id == replay.ids["s5"], Task.status == ItemStatus.OPEN,
                Task.title.startswith(title_start))).first()
            if found is not None:
                items_service.complete_task(session, clock, sofia, found.id, note=note)
        return step

    replay.at(start + timedelta(days=2), on_site.repair)  # FibreFix's own repair: the harm stays open
    replay.at(start + timedelta(days=3), done("Repair the pipe", "Temporary repair; it still leaks slowly"))
    replay.at(start + timedelta(days=3, minutes=1),
              lambda clock: task(clock, "Replace the leaking pipe section", "plumber", days=160))
    replay.at(start + timedelta(days=9), done("Assess the water", "Wall and carpet to replace; report to the "
                                                                  "insurer"))
    replay.at(start + timedelta(days=9, minutes=1),
              lambda clock: task(clock, "Confirm cover for the wall and carpet", "insurer", days=30))
    for call in _contacts(session, edith.id, "phone"):
        if call.occurred_at > start:
            replay.at(call.occurred_at, _route(session, replay, "s5", call, alex, kind="damage_claim", title="-",
                                               product_id=fibre.id, category="installation_damage"))
            if "ocial worker" in (call.text or ""):
                def referral(clock):
                    case_id = replay.ids["s5"]
                    parts["social_worker"] = items_service.add_participant(
                        session, clock, alex, case_id, kind="social_worker", name="Amira Haddad",
                        organisation="Adult social care")
                    items_service.add_task(session, clock, alex, case_id, assignee_kind="staff",
                                           title="Call Amira Haddad back about the heating",
                                           assignee_id=users["sofia.specialist"].id,
                                           due_at=clock.now() + timedelta(hours=4))
                replay.at(call.occurred_at + timedelta(minutes=5), referral)
                replay.at(call.occurred_at + timedelta(hours=2), done("Call Amira", "Called back: plumber booked"))
            replay.at(call.occurred_at + timedelta(hours=2, minutes=1), lambda clock: cases.reply(
                session, clock, sofia, replay.ids["s5"], channel="phone", text="Sofia Lind called back."))
    for letter in _contacts(session, edith.id, "letter"):
        replay.at(letter.occurred_at, _route(session, replay, "s5", letter, alex, kind="damage_claim", title="-",
                                             product_id=fibre.id, category="installation_damage"))
        replay.at(letter.occurred_at + timedelta(days=3), lambda clock: cases.reply(  # late: escalated
            session, clock, sofia, replay.ids["s5"], channel="letter",
            text="Dear Mrs Clarke, I am sorry for the late answer. The plumber replaces the pipe section soon."))
    replay.keep_alive("s5", sofia, start, replay.now, "Sofia Lind called Robert Clarke with an update.")
