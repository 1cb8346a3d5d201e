"""Demo known defects: S1's handset has a confirmed headphone-jack defect in the registry, so a
device-fault decision for it (asked in the store or by phone, with or without ``known_defect``)
finds it there; and a retired entry shows what "fixed by an update" looks like.

Registered through the service by the head of customer relations, dated weeks before the story
(the registry was confirmed long before Daniel walked into the store).
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.orm import Session

from onethread.access import service as access
from onethread.decisions import known_defects
from onethread.kernel.clock import Clock, SettableClock

S1_MODEL = "Nimbus X2"  # Daniel's handset in demo/loader.py


def load_known_defects(session: Session, clock: Clock, users: dict) -> int:
    """Register the demo's known defects; returns how many entries."""
    head = access.staff_principal(users["hana.head"])
    then = SettableClock(clock.now() - timedelta(days=60))
    known_defects.register(
        session, then, head, device_model=S1_MODEL, symptom="audio_jack",
        description="Headphone jack stops working in the first weeks: no sound in wired earphones.",
        note="Confirmed with the manufacturer after many owners reported it; replace, never assess.")
    flicker = known_defects.register(
        session, then, head, device_model="Lumo 5", symptom="screen_flicker",
        description="Screen flickers at low brightness.")
    then.advance(timedelta(days=21))
    known_defects.retire(session, then, head, flicker.id, note="Fixed by the manufacturer's software update 5.2.")
    return 2
