"""Pure rules for customers and identifiers: normalisation, periods, value, tenure."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime

import phonenumbers

MSISDN = "msisdn"
ICCID = "iccid"
IMEI = "imei"
EMAIL = "email"
SOCIAL = "social"
ACCOUNT = "account"
IDENTIFIER_KINDS = (MSISDN, ICCID, IMEI, EMAIL, SOCIAL, ACCOUNT)
KIND_LABELS = {
    MSISDN: "Phone number",
    ICCID: "SIM (ICCID)",
    IMEI: "Device (IMEI)",
    EMAIL: "E-mail",
    SOCIAL: "Social handle",
    ACCOUNT: "Account number",
}

SOCIAL_PLATFORMS = frozenset({"x", "facebook", "instagram", "tiktok", "linkedin", "threads", "bluesky", "whatsapp"})
_PLATFORM_ALIASES = {"twitter": "x", "fb": "facebook", "ig": "instagram"}

REPRESENTATIVE_PERMISSIONS = frozenset(
    {"view_account", "view_cases", "message_owner", "raise_complaint", "make_changes", "order", "receive_letters"}
)
VULNERABILITY_KINDS = frozenset(
    {"age", "digital_exclusion", "health", "disability", "bereavement", "financial", "language", "other"}
)
HOUSEHOLD_ROLES = frozenset({"head", "spouse", "partner", "child", "parent", "other"})
RELATIONSHIP_KINDS = frozenset({"spouse", "partner", "child", "parent", "sibling", "user_of", "employee_of"})
# A party's status, as TMF632 names them (IndividualStateType, OrganizationStateType).
PARTY_STATUSES = {"individual": ("initialized", "validated", "deceased"),
                  "organization": ("initialized", "validated", "closed")}

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_HANDLE = re.compile(r"^[a-z0-9_.\-]{1,64}$")


class InvalidIdentifier(ValueError):
    """The value cannot be that kind of identifier; the message says why."""


def luhn_ok(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2 == 1:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def normalise(kind: str, value: str, *, region: str | None = None) -> str:
    """The one stored form of an identifier, or ``InvalidIdentifier`` saying what is wrong.

    ``region`` (ISO 3166 alpha-2) reads a national phone number: the caller passes the configured
    one (``ONETHREAD_DEFAULT_REGION``). Without it only international numbers (``+31 6 ...``) are read;
    a national one is refused rather than guessed."""
    if kind not in IDENTIFIER_KINDS:
        raise InvalidIdentifier(f"unknown identifier kind {kind!r}; one of: {', '.join(IDENTIFIER_KINDS)}")
    raw = (value or "").strip()
    if not raw:
        raise InvalidIdentifier(f"{KIND_LABELS[kind]} is empty")
    if kind == MSISDN:
        return normalise_msisdn(raw, region)
    if kind in (ICCID, IMEI):
        digits = re.sub(r"[\s\-/.]", "", raw)
        if kind == ICCID:
            digits = digits.rstrip("Ff")  # some printers pad with F
            if not digits.isdigit() or not 18 <= len(digits) <= 22 or not digits.startswith("89"):
                raise InvalidIdentifier("an ICCID is 18-22 digits starting with 89")
            if not luhn_ok(digits):
                raise InvalidIdentifier("ICCID check digit is wrong (mistyped?)")
            return digits
        if not digits.isdigit() or len(digits) != 15:
            raise InvalidIdentifier("an IMEI is 15 digits")
        if not luhn_ok(digits):
            raise InvalidIdentifier("IMEI check digit is wrong (mistyped?)")
        return digits
    if kind == EMAIL:
        if not _EMAIL.match(raw):
            raise InvalidIdentifier(f"{raw!r} is not an e-mail address")
        return raw.lower()
    if kind == SOCIAL:
        return normalise_social(raw)
    account = re.sub(r"\s", "", raw).upper()
    if not re.fullmatch(r"[A-Z0-9\-]{3,40}", account):
        raise InvalidIdentifier("an account number is 3-40 letters, digits or '-'")
    return account


def normalise_msisdn(raw: str, region: str | None) -> str:
    try:
        parsed = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException as exc:
        if region is None and exc.error_type == phonenumbers.NumberParseException.INVALID_COUNTRY_CODE:
            raise InvalidIdentifier(f"{raw!r} has no country code and no region is given to read it by: "
                                    "write it with its country code (+...)") from exc
        raise InvalidIdentifier(f"{raw!r} is not a phone number") from exc
    # "Possible" (right length for the country), not "valid" (in a range the library knows
    # is allocated): the operator's own inventory is the authority on its numbers, and the
    # library's range tables lag behind new allocations (and reject test ranges).
    if not phonenumbers.is_possible_number(parsed):
        read_as = f"region {region} assumed" if region else "read by its country code"
        raise InvalidIdentifier(f"{raw!r} is not a possible phone number ({read_as})")
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def normalise_social(raw: str, platform: str | None = None) -> str:
    """``platform:handle``, both lower case, handle without '@'."""
    if platform is None:
        if ":" not in raw:
            raise InvalidIdentifier("a social handle is written platform:handle, e.g. x:@janedoe")
        platform, raw = raw.split(":", 1)
    platform = _PLATFORM_ALIASES.get(platform.strip().lower(), platform.strip().lower())
    if platform not in SOCIAL_PLATFORMS:
        raise InvalidIdentifier(f"unknown platform {platform!r}; one of: {', '.join(sorted(SOCIAL_PLATFORMS))}")
    handle = raw.strip().lstrip("@").lower()
    if not _HANDLE.match(handle):
        raise InvalidIdentifier(f"{raw!r} is not a handle")
    return f"{platform}:{handle}"


def overlaps(a_from: datetime, a_to: datetime | None, b_from: datetime, b_to: datetime | None) -> bool:
    """Half-open periods [from, to); ``None`` means open-ended."""
    return (b_to is None or a_from < b_to) and (a_to is None or b_from < a_to)


def contains(valid_from: datetime, valid_to: datetime | None, at: datetime) -> bool:
    return valid_from <= at and (valid_to is None or at < valid_to)


@dataclass(frozen=True)
class Tenure:
    since: date
    years: int
    months: int

    @property
    def label(self) -> str:
        if self.years == 0:
            return f"{self.months} month{'s' if self.months != 1 else ''}"
        years = f"{self.years} year{'s' if self.years != 1 else ''}"
        return f"{years}, {self.months} month{'s' if self.months != 1 else ''}"


def tenure(since: date, on: date) -> Tenure:
    months = (on.year - since.year) * 12 + (on.month - since.month) - (1 if on.day < since.day else 0)
    months = max(months, 0)
    return Tenure(since=since, years=months // 12, months=months % 12)


ACTIVE, PENDING, EXPIRED, REVOKED = "active", "pending", "expired", "revoked"


def representative_status(valid_from: date, valid_until: date | None, revoked_at: datetime | None, on: date) -> str:
    """A representative's standing on day ``on``: revoked, pending (not yet valid), expired or active.

    ``valid_until`` is exclusive (the first day they may no longer act); a revocation counts
    from the day it was made, so the same representative is active for a date before it.
    """
    if revoked_at is not None and revoked_at.date() <= on:
        return REVOKED
    if on < valid_from:
        return PENDING
    if valid_until is not None and on >= valid_until:
        return EXPIRED
    return ACTIVE


def permissions_in_force(permissions: list[str], status: str) -> list[str]:
    """What a representative may do with that standing: everything granted, or nothing."""
    return sorted(permissions) if status == ACTIVE else []


def vulnerability_active(ended_at: datetime | None, at: datetime) -> bool:
    return ended_at is None or ended_at > at


def check_permissions(permissions: list[str]) -> list[str]:
    unknown = sorted(set(permissions) - REPRESENTATIVE_PERMISSIONS)
    if unknown:
        raise ValueError(
            f"unknown permission(s) {', '.join(unknown)}; one of: {', '.join(sorted(REPRESENTATIVE_PERMISSIONS))}"
        )
    if not permissions:
        raise ValueError("a representative needs at least one permission")
    return sorted(set(permissions))


# --- how a vulnerability's needs shape service ----------------------------------------------

# Needs that change what onethread does, each in the words a person reads on the case and the 360.
# Any other need is kept as recorded and shown as written.
ASSISTED_CHANNELS = "assisted_channels"
NO_DIGITAL_ONLY = "no_digital_only_contact"
LETTERS = "letters"
PHONE = "phone"
PROACTIVE_CONTACT = "proactive_contact"
PRIORITY = "priority"
COPY_REPRESENTATIVE = "copy_representative"
NEED_WORDS = {
    ASSISTED_CHANNELS: "assisted channels only: by phone, by letter or in person",
    NO_DIGITAL_ONLY: "nothing that only reaches them online (no portal, chat or social reply on its own)",
    LETTERS: "write to them by letter",
    PHONE: "call them by phone",
    PROACTIVE_CONTACT: "the case owner contacts them at a set cadence while a case is open",
    PRIORITY: "served first in the queues",
    COPY_REPRESENTATIVE: "copy their representative on every message",
}
# Needs under which a step that reaches the customer only online is refused.
ASSISTED_ONLY_NEEDS = frozenset({ASSISTED_CHANNELS, NO_DIGITAL_ONLY})
# The channels that reach someone without a screen: a call, a letter, a visit.
ASSISTED_REPLY_CHANNELS = ("letter", "phone")
# Replies that onethread sends on a channel the customer may not read are turned into letters by
# outreach's guard (e-mail, text); these only exist online and are refused instead.
DIGITAL_ONLY_CHANNELS = frozenset({"portal", "chat", "social"})


def need_words(need: str) -> str:
    """A need in plain words (an unknown one as recorded, underscores as spaces)."""
    return NEED_WORDS.get(need, need.replace("_", " "))


@dataclass(frozen=True)
class ServiceNeeds:
    """What the customer's recorded (consented, in force) needs ask of whoever serves them."""

    needs: tuple[str, ...] = ()
    preferred: tuple[str, ...] = ()  # the customer's chosen channels (contact preferences), in order

    @property
    def assisted_only(self) -> bool:
        return bool(ASSISTED_ONLY_NEEDS & set(self.needs))

    @property
    def proactive(self) -> bool:
        return PROACTIVE_CONTACT in self.needs

    @property
    def priority(self) -> bool:
        return PRIORITY in self.needs

    @property
    def copy_representative(self) -> bool:
        return COPY_REPRESENTATIVE in self.needs

    @property
    def words(self) -> list[str]:
        return [need_words(n) for n in self.needs]

    @property
    def reply_channel(self) -> str | None:
        """The channel a reply goes by unless the person chooses another: the customer's first
        chosen channel they can receive, else the one their needs name; None: no choice on record."""
        for channel in self.preferred:
            if not self.assisted_only or channel in ASSISTED_REPLY_CHANNELS:
                return channel
        if LETTERS in self.needs:
            return "letter"
        if PHONE in self.needs or self.assisted_only:
            return "phone"
        return None

    def refuses(self, channel: str) -> str | None:
        """Why a reply by ``channel`` would not reach the customer, or None when it may go."""
        if self.assisted_only and channel in DIGITAL_ONLY_CHANNELS:
            return (f"the customer is served by assisted channels only (a recorded need): a reply by {channel} "
                    f"reaches them only online; reply by {' or '.join(ASSISTED_REPLY_CHANNELS)}")
        return None


def service_needs(needs: list[list[str] | None], preferred: list[str] | None) -> ServiceNeeds:
    """The needs of every consented record in force, once each, in the order recorded."""
    merged = dict.fromkeys(n for group in needs for n in (group or []))
    return ServiceNeeds(tuple(merged), tuple(preferred or ()))
