"""Pure rules of outreach: the guard that every outbound message passes, the channel it really
goes out on, retries with backoff, and when a channel is healthy. No database here: the service
reads the customer's real state and hands it over as a ``CustomerState``."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from onethread.kernel.channels import SENT_CHANNELS

CHANNELS = SENT_CHANNELS  # what onethread sends itself
PURPOSES = ("service", "regulatory", "retention", "marketing")
STATUSES = ("queued", "held", "sending", "sent", "delivered", "failed", "suppressed")
OPEN_STATUSES = frozenset({"queued", "held", "sending"})
SEND, SUPPRESS, HOLD = "send", "suppress", "hold"
VERDICTS = (SEND, SUPPRESS, HOLD)
# TMF681 CommunicationMessageStateType for each status.
TMF_STATE = {"queued": "initial", "held": "initial", "sending": "inProgress", "sent": "completed",
             "delivered": "completed", "failed": "failed", "suppressed": "cancelled"}
TMF_MESSAGE_TYPE = {"email": "Email", "letter": "Letter", "sms": "SMS"}

# Purposes the marketing rules apply to. Regulatory letters (deadlock, billing corrections) and
# answers on a case (service) are never suppressed by them.
PROMOTIONAL = frozenset({"retention", "marketing"})
RECENT_WINDOW = timedelta(days=90)  # "recent" contract changes and the net change in commitment
FREQUENCY_WINDOW = timedelta(days=7)
FREQUENCY_CAP = 2  # promotional messages in the window; the next one is suppressed
DEFAULT_QUIET = (21, 8)  # 21:00-08:00 market time: no SMS, no promotional e-mail
SUBJECT_MAX = 300
BODY_MAX = 20_000
# Vulnerability needs that mean letters only (what onethread itself sends: e-mail, text, letter).
LETTERS_NEEDS = frozenset({"letters", "no_digital_only_contact", "assisted_channels"})


@dataclass(frozen=True)
class Reason:
    code: str
    reason: str

    def as_dict(self) -> dict[str, str]:
        return {"code": self.code, "reason": self.reason}


@dataclass(frozen=True)
class Representative:
    name: str
    email: str | None
    receives_letters: bool


@dataclass(frozen=True)
class CustomerState:
    """What the record says about the customer now (never the caller's word)."""

    email: str | None = None
    msisdn: str | None = None
    allowed_channels: tuple[str, ...] = ()  # the customer's choice; empty: any
    needs: frozenset[str] = frozenset()  # active vulnerability needs (consented)
    vulnerable: bool = False
    marketing_consent: bool = False
    opted_out: frozenset[str] = frozenset()
    quiet: tuple[int, int] | None = None  # (from hour, to hour), market time
    copy_representative: bool = False
    representatives: tuple[Representative, ...] = ()
    open_complaints: int = 0
    open_billing_cases: int = 0
    active_products: int = 0  # other than the one that triggered the message
    commitment_change_minor: int = 0  # net change in monthly commitment over RECENT_WINDOW (activations - ends)
    promotional_sent_recently: int = 0  # over FREQUENCY_WINDOW
    local_hour: int = 12  # the hour now, market time


@dataclass(frozen=True)
class Proposed:
    channel: str
    purpose: str
    trigger: str | None = None  # e.g. "line_disconnected"


@dataclass(frozen=True)
class Verdict:
    verdict: str
    channel: str
    reasons: tuple[Reason, ...] = ()
    cc: tuple[Representative, ...] = ()
    defer_hours: int = 0  # quiet hours: send when they end

    @property
    def status(self) -> str:
        return {SEND: "queued", SUPPRESS: "suppressed", HOLD: "held"}[self.verdict]

    def reasons_json(self) -> list[dict[str, str]]:
        return [r.as_dict() for r in self.reasons]


def letters_only(state: CustomerState) -> bool:
    return bool(state.needs & LETTERS_NEEDS) or state.allowed_channels == ("letter",)


def _allowed(state: CustomerState, channel: str) -> bool:
    if channel != "letter" and letters_only(state):
        return False
    return not state.allowed_channels or channel in state.allowed_channels


def choose_channel(state: CustomerState, asked: str) -> tuple[str, list[Reason]]:
    """The channel the message really goes out on: what was asked when the customer accepts it and
    we have an address for it, else a letter (which always reaches them)."""
    if asked == "letter":
        return "letter", []
    if not _allowed(state, asked):
        why = ("the customer receives letters only" if letters_only(state)
               else f"the customer did not choose {asked}")
        return "letter", [Reason("CHANNEL_LETTERS_ONLY" if letters_only(state) else "CHANNEL_NOT_CHOSEN",
                                 f"{why}: sent as a letter instead of {asked}")]
    if asked == "email" and not state.email:
        return "letter", [Reason("NO_EMAIL_ADDRESS", "no e-mail address on record: sent as a letter")]
    if asked == "sms" and not state.msisdn:
        return "letter", [Reason("NO_MOBILE_NUMBER", "no mobile number on record: sent as a letter")]
    return asked, []


def in_quiet_hours(hour: int, quiet: tuple[int, int]) -> bool:
    start, end = quiet
    if start == end:
        return False
    return start <= hour < end if start < end else (hour >= start or hour < end)


def hours_until_quiet_ends(hour: int, quiet: tuple[int, int]) -> int:
    return (quiet[1] - hour) % 24 or 24


def evaluate(state: CustomerState, proposed: Proposed) -> Verdict:
    """The guard: send, suppress or hold, with every reason (a code and a sentence)."""
    if proposed.channel not in CHANNELS:
        raise ValueError(f"channel must be one of {', '.join(CHANNELS)}")
    if proposed.purpose not in PURPOSES:
        raise ValueError(f"purpose must be one of {', '.join(PURPOSES)}")
    channel, reasons = choose_channel(state, proposed.channel)
    suppress: list[Reason] = []
    hold: list[Reason] = []
    promotional = proposed.purpose in PROMOTIONAL
    if promotional:
        if proposed.purpose == "retention" and proposed.trigger == "line_disconnected":
            if state.commitment_change_minor > 0:
                suppress.append(Reason("RETENTION_COMMITMENT_ROSE", (
                    f"the account's monthly commitment rose by {state.commitment_change_minor} (minor units) in "
                    f"the last {RECENT_WINDOW.days} days: this is not a leaver")))
            if state.active_products > 0:
                suppress.append(Reason("RETENTION_STILL_CUSTOMER", (
                    f"the customer still holds {state.active_products} other active product(s): one line "
                    "ending is not the customer leaving")))
        if state.open_complaints:
            suppress.append(Reason("OPEN_COMPLAINT", (
                f"{state.open_complaints} open complaint(s): fix it first, no promotional message meanwhile")))
        if state.open_billing_cases:
            suppress.append(Reason("OPEN_BILLING_CASE", (
                f"{state.open_billing_cases} open billing case(s): no promotional message meanwhile")))
        if proposed.purpose in state.opted_out:
            suppress.append(Reason("OPTED_OUT", f"the customer opted out of {proposed.purpose} messages"))
        if proposed.purpose == "marketing" and not state.marketing_consent:
            suppress.append(Reason("NO_MARKETING_CONSENT", "the customer has not consented to marketing"))
        if state.promotional_sent_recently >= FREQUENCY_CAP:
            suppress.append(Reason("TOO_MANY_MESSAGES", (
                f"{state.promotional_sent_recently} promotional messages in the last {FREQUENCY_WINDOW.days} days "
                f"(at most {FREQUENCY_CAP})")))
        if state.vulnerable and not suppress:
            hold.append(Reason("VULNERABLE_REVIEW", "the customer is vulnerable: a person reviews promotional "
                                                    "messages before they go"))
    defer = 0
    quiet = state.quiet or DEFAULT_QUIET
    if (channel == "sms" or (channel == "email" and promotional)) and in_quiet_hours(state.local_hour, quiet):
        defer = hours_until_quiet_ends(state.local_hour, quiet)
        reasons.append(Reason("QUIET_HOURS", f"quiet hours {quiet[0]:02d}:00-{quiet[1]:02d}:00: sent when they "
                                             f"end, in {defer} hour(s)"))
    cc = tuple(r for r in state.representatives
               if r.receives_letters and (state.copy_representative or letters_only(state)))
    if cc:
        reasons.append(Reason("COPY_REPRESENTATIVE", "copied to " + ", ".join(r.name for r in cc) +
                              " (authorised to receive the customer's letters)"))
    if proposed.purpose == "regulatory":
        reasons.append(Reason("REGULATORY", "a regulatory letter: marketing rules do not apply"))
    if suppress:
        return Verdict(SUPPRESS, channel, tuple(suppress + reasons), cc)
    if hold:
        return Verdict(HOLD, channel, tuple(hold + reasons), cc, defer)
    return Verdict(SEND, channel, tuple(reasons) or (Reason("OK", "nothing in the customer's record stops it"),),
                   cc, defer)


# --- delivery --------------------------------------------------------------------------------

CLAIM_LEASE = timedelta(minutes=10)  # a claim older than this belongs to a worker that died


def backoff(attempts: int) -> timedelta:
    """After the n-th failed attempt: 1, 2, 4, 8 ... minutes, at most six hours."""
    return min(timedelta(minutes=2 ** max(attempts - 1, 0)), timedelta(hours=6))


@dataclass(frozen=True)
class Outcome:
    """How one delivery attempt ended."""

    kind: str  # sent | retry | failed | unknown
    detail: str = ""
    provider_ref: str | None = None


def after_attempt(outcome: Outcome, attempts: int, max_attempts: int) -> str:
    """The message's next status after an attempt."""
    if outcome.kind == "sent":
        return "sent"
    if outcome.kind == "unknown":
        return "held"  # the server may have it: never sent again without a person
    if outcome.kind == "failed" or attempts >= max_attempts:
        return "failed"
    return "queued"


# --- channel health --------------------------------------------------------------------------

@dataclass(frozen=True)
class Health:
    state: str  # green | red
    why: str
    lag_seconds: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def judge(*, now: datetime, last_success: datetime | None, last_error: datetime | None, error: str | None,
          expected_every: int | None, last_activity: datetime | None) -> Health:
    """Red when the last attempt failed, or when nothing succeeded for longer than expected."""
    lag = int((now - last_activity).total_seconds()) if last_activity else None
    if last_error is not None and (last_success is None or last_error >= last_success):
        return Health("red", f"failing since {last_error:%Y-%m-%d %H:%M} UTC: {error or 'error'}", lag)
    if expected_every and last_success is not None and (now - last_success).total_seconds() > expected_every:
        return Health("red", f"silent: no success since {last_success:%Y-%m-%d %H:%M} UTC "
                             f"(expected every {expected_every} s)", lag)
    if last_success is None:
        return Health("green", "not used yet", lag)
    return Health("green", f"ok at {last_success:%Y-%m-%d %H:%M} UTC", lag)
