"""Find a customer from whatever the person at the desk was given: a phone number in any
format, an e-mail address, a social handle, an account number, a SIM (ICCID) or device (IMEI),
or a name.

An identifier is resolved to whoever holds it *now* (a former holder is never offered, S3);
a name is a case-insensitive match on the customer's name. Every customer shown is an audited
read of personal data.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from onethread.access import service as access
from onethread.access.rules import CUSTOMER_READERS, Principal
from onethread.customers import identifier_service, rules
from onethread.errors import Forbidden, ValidationFailed
from onethread.kernel.clock import Clock
from onethread.models import Customer

MAX_QUERY = 200
NAME_LIMIT = 25


@dataclass(frozen=True)
class Hit:
    customer: Customer
    matched_by: str  # "Phone number +447700900123", "name"


@dataclass(frozen=True)
class SearchResult:
    query: str
    tried: list[str]  # the identifier kinds the text could be ("Phone number", "E-mail", ...)
    hits: list[Hit]
    former_holder_only: list[str]  # "Phone number +44...": known, but nobody holds it now


def candidate_kinds(text: str, region: str | None) -> list[tuple[str, str]]:
    """Every identifier kind ``text`` can be read as, with its normal form (pure). ``region`` reads a
    national phone number (the configured one; no default, so a caller cannot forget it quietly)."""
    raw = text.strip()
    out: list[tuple[str, str]] = []
    kinds = [rules.EMAIL] if "@" in raw and not raw.startswith("@") and ":" not in raw else []
    compact = re.sub(r"[\s\-/.()]", "", raw)
    if compact.lstrip("+").isdigit():
        kinds += [rules.ICCID, rules.IMEI, rules.MSISDN, rules.ACCOUNT]
    elif ":" in raw:
        kinds.append(rules.SOCIAL)
    elif re.search(r"\d", raw):
        kinds.append(rules.ACCOUNT)
    for kind in kinds:
        try:
            out.append((kind, rules.normalise(kind, raw, region=region)))
        except rules.InvalidIdentifier:
            continue
    return out


@dataclass(frozen=True)
class Lookup:
    """What an identifier lookup found: the customers holding it now, each with the label of the
    identifier that found them, the kinds tried, and identifiers nobody holds any more."""
    found: dict[str, str]  # customer id -> "Phone number +447700900123"
    tried: list[str]
    former_holder_only: list[str]
    personal: bool  # read as an identifier that names one person (a number, e-mail, handle, SIM, device)


PERSONAL_KINDS = frozenset({rules.MSISDN, rules.EMAIL, rules.ICCID, rules.IMEI, rules.SOCIAL})


def lookup(session: Session, text: str, when: datetime, *, region: str | None, handle: str | None) -> Lookup:
    """Resolve ``text`` read as every identifier kind it can be, and ``handle`` (a social handle
    with its ``@``, or ``None``), to their holders at ``when``: the one identifier lookup that the
    customer search and the search box share. A former holder is never returned (S3)."""
    found: dict[str, str] = {}
    former: list[str] = []
    lookups = candidate_kinds(text, region)
    tried = [rules.KIND_LABELS[k] for k, _ in lookups] + ([rules.KIND_LABELS[rules.SOCIAL]] if handle else [])
    for kind, value in lookups:
        res = identifier_service.resolve(session, kind, value, when, region=region)
        label = f"{rules.KIND_LABELS[kind]} {res.value}"
        if res.status == identifier_service.FOUND:
            if res.customer_id:
                found.setdefault(res.customer_id, label)
        elif res.status == identifier_service.AMBIGUOUS:
            for cid in res.candidates:
                found.setdefault(cid, label)
        elif identifier_service.history(session, kind, value, region=region):
            former.append(label)
    if handle:
        res = identifier_service.resolve(session, rules.SOCIAL, handle, when, region=region)
        for cid in ([res.customer_id] if res.customer_id else res.candidates):
            found.setdefault(cid, f"{rules.KIND_LABELS[rules.SOCIAL]} @{res.value}")
    personal = any(k in PERSONAL_KINDS for k, _ in lookups) or text.strip().startswith("@")
    return Lookup(found, tried, former, personal)


def _bare_handle(text: str) -> str | None:
    raw = text.strip()
    if raw.startswith("@") and re.fullmatch(r"@[A-Za-z0-9_.\-]{1,64}", raw):
        return raw
    return None


def find(session: Session, clock: Clock, actor: Principal, text: str, *, region: str | None,
         at: datetime | None = None, channel: str = "pages") -> SearchResult:
    """Customers that ``text`` names, best first: identifier holders, then names."""
    if not actor.may(CUSTOMER_READERS):
        raise Forbidden(f"a {actor.role.replace('_', ' ')} does not search customers")
    query = (text or "").strip()
    if not query:
        raise ValidationFailed("type a phone number, e-mail, handle, account number, ICCID, IMEI or name",
                               field="q")
    if len(query) > MAX_QUERY:
        raise ValidationFailed(f"at most {MAX_QUERY} characters", field="q")
    looked = lookup(session, query, at or clock.now(), region=region, handle=_bare_handle(query))
    found, former, tried = looked.found, looked.former_holder_only, looked.tried
    by_id = {c.id: c for c in session.scalars(select(Customer).where(Customer.id.in_(found)))} if found else {}
    hits = [Hit(by_id[cid], label) for cid, label in found.items() if cid in by_id]
    if not hits:  # no identifier matched: perhaps it is a name
        named = session.scalars(select(Customer).where(func.lower(Customer.name).contains(query.lower(),
                                                                                        autoescape=True))
                                .order_by(Customer.name, Customer.id).limit(NAME_LIMIT))
        hits += [Hit(c, "name") for c in named if c.id not in found]
    for hit in hits:
        access.audit(session, clock, actor, action="read", resource_type="customer", resource_id=hit.customer.id,
                     customer_id=hit.customer.id, channel=channel, purpose="search")
    return SearchResult(query, tried, hits, former)
