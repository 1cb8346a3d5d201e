"""Pure rules for contacts: channels, how identifiers decide a customer, verification validity."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

CHANNELS = ("store", "phone", "email", "chat", "social", "letter", "field", "portal", "system")
DIRECTIONS = ("inbound", "outbound", "internal")
CONTACT_KINDS = ("message", "call", "visit", "post", "direct_message", "note", "letter", "form", "visit_note",
                 "technician_note", "chat")
SESSION_CHANNELS = ("phone", "store", "chat")
VERIFICATION_METHODS = {
    # method: the highest level it can establish
    "security_questions": 2,
    "one_time_code": 2,
    "id_document": 3,
    "account_pin": 1,
    "voice_biometrics": 2,
}
MAX_TEXT = 100_000


@dataclass(frozen=True)
class Lookup:
    """One identifier the channel knew, and whom it resolved to at the contact's time."""

    kind: str
    value: str
    status: str  # found | none | ambiguous
    customer_id: str | None
    candidates: tuple[str, ...] = ()


@dataclass(frozen=True)
class Decision:
    customer_id: str | None  # set when the contact can be attached
    reason: str | None  # no_identifiers | no_match | conflict | ambiguous (None when matched)
    candidates: tuple[str, ...]
    explanation: str


def decide(lookups: list[Lookup]) -> Decision:
    """Attach only when every identifier that resolved points to the same one customer.

    Identifiers that point to different customers, or an ambiguous one, go to the match
    queue; so do contacts whose identifiers resolve to nobody. A number's former holder is
    never a candidate: resolution is at the contact's time.
    """
    if not lookups:
        return Decision(None, "no_identifiers", (), "the channel gave no identifier")
    ambiguous = [lk for lk in lookups if lk.status == "ambiguous"]
    found = {lk.customer_id for lk in lookups if lk.status == "found"}
    candidates = tuple(sorted(found | {c for lk in ambiguous for c in lk.candidates}))
    if ambiguous:
        names = ", ".join(f"{lk.kind} {lk.value}" for lk in ambiguous)
        return Decision(None, "ambiguous", candidates, f"{names} matches more than one customer")
    if len(found) > 1:
        parts = ", ".join(f"{lk.kind} {lk.value} -> {lk.customer_id}" for lk in lookups if lk.status == "found")
        return Decision(None, "conflict", candidates, f"identifiers point to different customers ({parts})")
    if not found:
        names = ", ".join(f"{lk.kind} {lk.value}" for lk in lookups)
        return Decision(None, "no_match", (), f"nobody held {names} at that time")
    (customer_id,) = found
    unknown = [lk for lk in lookups if lk.status == "none"]
    note = f"; not on record: {', '.join(f'{lk.kind} {lk.value}' for lk in unknown)}" if unknown else ""
    return Decision(customer_id, None, (customer_id,), f"all known identifiers agree{note}")


def verification_valid(expires_at: datetime, at: datetime) -> bool:
    return at < expires_at


def needs_verification(best_level: int | None, required_level: int) -> bool:
    return best_level is None or best_level < required_level
