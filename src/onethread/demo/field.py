"""S5's field side in the demo: the installation as a work order with its prerequisite (the
network connection at the cabinet, owned by the network team), two visits that fail for that
cause (the second escalates to the network team's lead and the case owner), the third visit, the
technician's incident (a drilled heating pipe: the urgent harm on the damage case and its claim
task), FibreFix's own repair that closes nothing, and FibreFix's record opening an audit for the
supplier manager. Replayed in time with the rest of S5 (``demo.cases``).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from onethread.access import service as access
from onethread.cases import service as cases
from onethread.fieldservice import incidents
from onethread.fieldservice import service as field
from onethread.kernel.clock import Clock
from onethread.models import Contact, Product, Team

Step = Callable[[Clock], None]
PREREQUISITE = "Network connection at the cabinet"


class S5Field:
    """The steps, scheduled on the S5 replay around the technician's three notes."""

    def __init__(self, session: Session, replay, users: dict, staff, fibre: Product):
        self.session, self.replay, self.users, self.staff, self.fibre = session, replay, users, staff, fibre
        self.ids: dict[str, str] = {}

    def schedule(self, failed: list[Contact], damage: Contact, edith_id: str) -> None:
        first = failed[0].occurred_at
        self.replay.at(first - timedelta(days=4), lambda clock: self._open(clock, edith_id))
        for note in failed:
            self._visit(note.occurred_at, outcome="failed")
        self._visit(damage.occurred_at, outcome="done")

    def _open(self, clock: Clock, edith_id: str) -> None:
        s, alex = self.session, self.staff("alex.agent")
        network = access.create_team(s, clock, name="Network team", kind="network")
        access.set_team_lead(s, network.id, self.users["lee.lead"].id)
        fibrefix = s.scalar(select(Team).where(Team.name == "FibreFix Ltd (subcontractor)"))
        sub = field.create_subcontractor(s, clock, name="FibreFix Ltd", team_id=fibrefix.id,
                                         supplier_manager_id=self.users["bea.backoffice"].id)
        case = cases.open_new(s, clock, alex, customer_id=edith_id, kind="order_problem", opened_via="phone",
                              title="Fibre installation: visits fail, network connection not made",
                              product_id=self.fibre.id, category="installation", owner_id=self.users["alex.agent"].id)
        self.replay.ids["s5-install"] = case.id
        wo = field.create_work_order(s, clock, alex, case_id=case.id, kind="installation", subcontractor_id=sub.id,
                                     title="Fibre 150 installation at Mrs Clarke's")
        field.add_task(s, clock, alex, wo.id, title=PREREQUISITE, kind="prerequisite", cause="network_connection",
                       team_id=network.id, due_at=clock.now() + timedelta(days=3))
        field.add_task(s, clock, alex, wo.id, title="Install the fibre box and test the line")
        self.ids["wo"] = wo.id

    def _prerequisite_done(self, clock: Clock) -> None:
        for item, _ in field.open_prerequisites(self.session, self.ids["wo"]):
            field.complete_task(self.session, clock, self.staff("lee.lead"), item.id,
                                note="Network team: connection made at the cabinet")

    def _visit(self, at: datetime, *, outcome: str) -> None:
        s, key = self.session, f"visit-{at.isoformat()}"
        alex, finn = self.staff("alex.agent"), self.staff("finn.field")

        def book(clock: Clock) -> None:
            self._prerequisite_done(clock)
            v = field.book_visit(s, clock, alex, self.ids["wo"], slot_start=at - timedelta(hours=2),
                                 slot_end=at + timedelta(hours=2), technician_id=self.users["finn.field"].id)
            self.ids[key] = v.id

        def dispatch(clock: Clock) -> None:
            field.dispatch_visit(s, clock, finn, self.ids[key])

        def result(clock: Clock) -> None:
            if outcome == "failed":
                field.record_outcome(s, clock, finn, self.ids[key], outcome="failed", cause="network_connection",
                                     note="No signal at the street cabinet: the network connection is not made")
            else:
                field.record_outcome(s, clock, finn, self.ids[key], outcome="done",
                                     note="Fibre connected and tested")
        self.replay.at(at - timedelta(days=3), book)
        self.replay.at(at - timedelta(hours=3), dispatch)
        self.replay.at(at - timedelta(minutes=2), result)

    def incident(self, clock: Clock, case_id: str) -> None:
        """The technician reports the drilled pipe on the damage case (urgent: vulnerable, no heating)."""
        item = incidents.report(self.session, clock, self.staff("finn.field"), self.ids["wo"], kind="damage",
                                harm_kind="no_heating", severity="medium", case_id=case_id,
                                description="No heating or hot water since the pipe was drilled",
                                claim_owner_id=self.users["sofia.specialist"].id)
        self.ids["incident"] = item.id

    def repair(self, clock: Clock) -> None:
        incidents.record_repair(self.session, clock, self.staff("finn.field"), self.ids["incident"],
                                note="FibreFix: clamp fitted on the drilled pipe")
