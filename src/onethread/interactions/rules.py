"""Pure rules for contacts: channels, how identifiers decide a customer, verification validity."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from onethread.kernel.channels import CHANNELS as CHANNELS  # re-exported: the contact channels
from onethread.kernel.channels import SESSION_CHANNELS as SESSION_CHANNELS


class Direction(StrEnum):
    """Which way a contact went (``Contact.direction``); a channel's health has the first two."""

    INBOUND = "inbound"  # from the customer (or a system on their behalf)
    OUTBOUND = "outbound"  # to the customer
    INTERNAL = "internal"  # a note among staff, never shown to the customer

    @property
    def label(self) -> str:
        return DIRECTION_LABELS[self]


# What the timeline says of each direction.
DIRECTION_LABELS: dict[Direction, str] = {Direction.INBOUND: "from the customer", Direction.OUTBOUND: "to the customer",
                                          Direction.INTERNAL: "internal"}


class MatchStatus(StrEnum):
    """How a contact came to its customer (``Contact.match_status``)."""

    MATCHED = "matched"  # its identifiers named one customer
    QUEUED = "queued"  # waiting in the match queue for a person
    LINKED = "linked"  # a person linked it from the queue


DIRECTIONS = tuple(Direction)
CONTACT_KINDS = ("message", "call", "visit", "post", "direct_message", "note", "letter", "form", "visit_note",
                 "technician_note", "chat")
# Names other systems give onethread's channels (a TMF ChannelRef's name), lower case.
CHANNEL_WORDS = {
    "self service": "portal", "self-service": "portal", "online": "portal", "web": "portal", "web form": "portal",
    "online form / portal": "portal", "call centre": "phone", "call center": "phone", "contact centre": "phone",
    "contact center": "phone", "telephone": "phone", "voice": "phone", "shop": "store", "retail store": "store",
    "e-mail": "email", "mail": "email", "web chat": "chat", "social media": "social", "post": "letter",
    "field technician": "field",
}


def channel_named(text: str | None) -> str | None:
    """onethread's channel for an id or a name another system uses (case-insensitive), else None."""
    word = " ".join((text or "").strip().lower().split())
    return word if word in CHANNELS else CHANNEL_WORDS.get(word)
VERIFICATION_METHODS = {
    # method: the highest level it can establish
    "security_questions": 2,
    "one_time_code": 2,
    "id_document": 3,
    "account_pin": 1,
    "voice_biometrics": 2,
}
MAX_VERIFICATION_LEVEL = max(VERIFICATION_METHODS.values())
MAX_TEXT = 100_000
SOCIAL_KINDS = ("post", "direct_message")  # what a social platform delivers
WEBHOOK_MAX_SKEW_SECONDS = 300  # a signed delivery older or newer than this is refused (replay)


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
    found = {lk.customer_id for lk in lookups if lk.status == "found" and lk.customer_id is not None}
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


def verification_valid(expires_at: datetime, at: datetime, ended_at: datetime | None = None) -> bool:
    """Valid until it expires, and never after its contact session ended."""
    return at < expires_at and (ended_at is None or at < ended_at)


def needs_verification(best_level: int | None, required_level: int) -> bool:
    return best_level is None or best_level < required_level


# --- signed webhooks (social platforms) --------------------------------------------------------

def webhook_signature(secret: str, timestamp: str, body: bytes) -> str:
    """``sha256=<hex>``: HMAC-SHA256 with ``secret`` of ``"{timestamp}.{body}"`` (the raw bytes)."""
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def webhook_problem(secret: str | None, timestamp: str | None, signature: str | None, body: bytes,
                    now: datetime, max_skew_seconds: int = WEBHOOK_MAX_SKEW_SECONDS,
                    platform: str | None = None) -> str | None:
    """Why a delivery must be refused, or None when it is authentic and fresh.

    The timestamp is Unix seconds; it is part of the signed string, so an old delivery cannot be
    replayed with a new timestamp. With ``platform`` the signed string is
    ``"{timestamp}.{platform}.{body}"``: a delivery signed for one platform cannot be replayed to
    another platform's URL. The comparison is constant-time.
    """
    if not secret:
        return "the webhook secret is not configured; deliveries are refused"
    if not signature:
        return "X-Onethread-Signature is missing"
    if not timestamp:
        return "X-Onethread-Timestamp is missing"
    stamp = timestamp.strip()
    if not stamp.isascii() or not stamp.isdigit() or len(stamp) > 12:
        return "X-Onethread-Timestamp must be Unix seconds"
    if abs(now.timestamp() - int(stamp)) > max_skew_seconds:
        return f"X-Onethread-Timestamp is more than {max_skew_seconds} seconds away from our clock"
    signed = body if platform is None else platform.encode("utf-8") + b"." + body
    expected = webhook_signature(secret, stamp, signed)
    if not hmac.compare_digest(expected.encode(), signature.strip().encode("utf-8", "replace")):
        return "the signature does not match the body"
    return None


# --- contacts as TMF683 party interactions, and channel intake -------------------------------

MAX_SUBJECT = 300  # contact.subject
MAX_MESSAGE_ID = 300  # contact.channel_message_id
MAX_EXTERNAL_ID = 200  # contact_session.external_id (call id, visit id, chat id)
CONTACT_STATUSES = ("inProgress", "completed")
_DEFAULT_KINDS = {"store": "visit", "phone": "call", "chat": "chat", "social": "post", "letter": "letter",
                  "field": "technician_note", "portal": "form"}
# Why an unattached contact may join the customer its session turns out to be about: it named
# nobody (no identifier, or one nobody held). Contradicting identifiers wait for a person.
_JOINS_WITH_SESSION = ("no_identifiers", "no_match")


def default_kind(channel: str) -> str:
    """The kind of contact a channel delivers when the sender does not say (a phone contact is a call)."""
    return _DEFAULT_KINDS.get(channel, "message")


def contact_status(session_status: str | None) -> str:
    """``inProgress`` while the contact's session (call, visit, chat) is live; ``completed`` otherwise."""
    return "inProgress" if session_status == "live" else "completed"


def may_identify_session(waiting_reasons: list[str | None]) -> bool:
    """A contact that matched one customer identifies its (unidentified) session only when every
    earlier unattached contact of that session named nobody. ``None``: one a person already
    dismissed, which must not be attached by the back door either."""
    return all(reason in _JOINS_WITH_SESSION for reason in waiting_reasons)


def transfer_already_applied(holder: tuple[str | None, str | None], target: tuple[str | None, str | None],
                             hops_to_target: list[datetime], at: datetime) -> bool:
    """A redelivered transfer event changes nothing: the call is already held by the target, or a
    transfer to that target was recorded at or after the moment the event says it happened."""
    staff, team = target
    held = holder[0] == staff if staff else holder == (None, team)
    return held or any(hop_at >= at for hop_at in hops_to_target)
