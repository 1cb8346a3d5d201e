"""Demo: a few contacts that arrived this morning and joined no case, so that the staff's
My work shows waiting contacts (docs/routing.md): triage puts each in its queue, with its
first-response clock, and hands it to whoever can take it."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.orm import Session

from onethread.access.rules import SYSTEM
from onethread.bootstrap import Container
from onethread.interactions import service as interactions
from onethread.interactions.rules import Direction

WAITING = [  # (minutes ago, channel, kind, identifiers, subject, text)
    (95, "email", "message", {"email": "daniel.okafor@mail.example"}, "Invoice question",
     "My last invoice shows a roaming charge from a weekend I spent at home. Can someone look at it?"),
    (50, "email", "message", {"email": "new.neighbour@mail.example"}, "Moving to your network",
     "Hello, I would like to bring my number over from another operator. What do I need?"),
    (20, "portal", "form", {"email": "mark@harbourlane.example"}, "Extra user",
     "We are hiring in June: please quote for two more lines on the business account."),
]


def load_waiting(session: Session, c: Container) -> int:
    now = c.clock.now()
    for n, (minutes, channel, kind, identifiers, subject, text) in enumerate(WAITING):
        interactions.record(session, c.clock, SYSTEM, interactions.Intake(
            channel=channel, direction=Direction.INBOUND, kind=kind, occurred_at=now - timedelta(minutes=minutes),
            subject=subject, text=text, identifiers=identifiers, channel_message_id=f"demo-waiting-{n}"),
            region=c.settings.default_region)
    return len(WAITING)
