"""What a mid-size operator's data looks like, one batch of customers at a time.

Customers are generated in the order they joined (ids and ``customer_since`` both increase with
the customer's number), so every index led by ``customer_id`` grows at its right-hand end.
Everything else a customer owns is generated with the customer and carries its ``customer_id``.
All randomness comes from one seeded ``random.Random`` consumed in a fixed order: the same
options give the same rows. Rows are plain tuples in the column order of ``TABLES``.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from datetime import date, datetime
from random import Random

from onethread.cases import rules as case_rules
from onethread.datagen.activity import Activity
from onethread.datagen.ulid import IdMaker
from onethread.datagen.vocabulary import (
    CASE_KIND_WEIGHTS,
    CHANNEL_WEIGHTS,
    CHANNELS,
    DAY,
    DOMAINS,
    FAMILY,
    GIVEN,
    HOUR,
    ORG_KINDS,
    ORG_WORDS,
    PLANS,
    SEVERITY_WEIGHTS,
    SLOT_KINDS,
    SLOT_WEIGHTS,
    TEAM_ROLES,
    TEAMS,
    TERMINATION_REASONS,
    ProductDraft,
    StaffDraft,
    as_day,
    as_dt,
    chooser,
    luhn_complete,
)

# Insertion order respects foreign keys (team/staff are written once, before the batches).
TABLES: dict[str, tuple[str, ...]] = {
    "team": ("id", "name", "kind", "lead_id", "created_at"),
    "staff_user": ("id", "username", "display_name", "email", "team_id", "role", "password_hash", "active", "away",
                   "created_at"),
    "party": ("id", "kind", "given_name", "family_name", "organization_name", "title", "birth_date",
              "preferred_language", "status", "created_at", "updated_at", "version"),
    "customer": ("id", "party_id", "name", "status", "customer_since", "segment", "created_at", "updated_at",
                 "version"),
    "billing_account": ("id", "customer_id", "account_number", "name", "currency", "status", "opened_on",
                        "created_at"),
    "household": ("id", "name", "created_at"),
    "household_member": ("id", "household_id", "customer_id", "role", "joined_on", "left_on", "created_at"),
    "product": ("id", "customer_id", "billing_account_id", "kind", "name", "description", "status", "price_minor",
                "currency", "model", "purchased_on", "activated_at", "terminated_at", "termination_channel",
                "termination_reason", "replaces_product_id", "parent_product_id", "created_at", "updated_at",
                "version"),
    "product_status_change": ("id", "product_id", "customer_id", "from_status", "to_status", "at", "channel",
                              "actor_id", "reason"),
    "identifier": ("id", "kind", "value", "created_at"),
    "identifier_holding": ("id", "identifier_id", "customer_id", "product_id", "valid_from", "valid_to",
                           "end_reason", "recorded_by", "created_at"),
    "case_file": ("id", "customer_id", "kind", "category", "product_id", "title", "customer_account", "status",
                  "severity", "owner_id", "opened_via", "opened_at", "opened_by", "market", "last_activity_at",
                  "awaiting_reply_since", "closed_at", "outcome", "customer_confirmed", "merged_into_id",
                  "escalation_level", "version"),
    "contact": ("id", "customer_id", "channel", "direction", "occurred_at", "recorded_at", "channel_message_id",
                "kind", "subject", "text", "attachments", "identifiers", "match_status", "staff_user_id",
                "actor_name", "session_id", "thread_id", "in_reply_to", "case_id", "extra"),
    "global_key": ("space", "value", "ref_id"),  # a contact's redelivery key (docs/scaling.md)
    "timeline_entry": ("id", "customer_id", "occurred_at", "kind", "channel", "title", "detail", "actor_name",
                       "ref_type", "ref_id", "event_id"),
    "case_event": ("id", "case_id", "customer_id", "at", "kind", "actor_id", "actor_name", "text", "audience",
                   "data"),
    "commitment": ("id", "case_id", "customer_id", "text", "due_at", "made_via", "made_by", "made_at", "public",
                   "status", "closed_at", "closed_note"),
    "harm": ("id", "case_id", "customer_id", "kind", "description", "reported_severity", "severity", "reported_by",
             "reported_at", "resolved_at", "resolution"),
    "case_task": ("id", "case_id", "customer_id", "title", "assignee_kind", "assignee_id", "assignee_name",
                  "due_at", "status", "created_by", "created_at", "done_at", "note"),
    "case_clock": ("id", "case_id", "customer_id", "kind", "ref_id", "started_at", "due_at", "stopped_at",
                   "fired_at", "fired_by"),
    "escalation": ("id", "case_id", "customer_id", "clock_id", "clock_kind", "level", "to_staff_id", "at", "reason",
                   "acknowledged_at"),
    "bill": ("id", "customer_id", "billing_account_id", "bill_number", "period_start", "period_end", "issued_on",
             "due_on", "amount_minor", "currency", "status", "paid_minor", "paid_at", "written_off_minor",
             "created_at"),
    "charge": ("id", "customer_id", "bill_id", "product_id", "identifier_id", "kind", "description", "amount_minor",
               "currency", "period_start", "period_end", "created_at"),
}
BATCH_TABLES = tuple(t for t in TABLES if t not in ("team", "staff_user"))


@dataclass(frozen=True)
class Options:
    customers: int
    now: datetime
    seed: int = 1
    contacts_per_customer: float = 10.0  # mean, long tail included
    cases_per_customer: float = 1.0
    open_share: float = 0.15  # of cases, opened in the last 60 days
    bill_months: int = 4
    long_tail_every: int = 10_000  # customer 7, 10 007, 20 007... have thousands of contacts
    long_tail_min: int = 1_000
    long_tail_max: int = 5_000
    years: int = 15  # customers joined over this many years before ``now``
    sweep_lag_hours: float = 24.0  # clocks due in this last stretch are unfired (the sweep's work)
    currency: str = "GBP"

    def long_tail(self, index: int) -> bool:
        return index % self.long_tail_every == min(7, self.long_tail_every - 1)


SLICE = 1_000  # customers generated from one random stream (fixed: the data must not depend on options
                # like the batch size or the number of workers)


class Staff:
    """Teams and staff (owners of cases, agents on contacts), the same for every slice."""

    def __init__(self, opts: Options) -> None:
        rng = Random(f"{opts.seed}:staff")
        ids = IdMaker(rng)
        at = as_dt(opts.now.timestamp() - opts.years * 365.25 * DAY)
        self.teams: list[tuple] = []
        self.users: list[tuple] = []
        self.team_ids: list[str] = []
        self.owners: list[StaffDraft] = []
        self.agents: list[StaffDraft] = []
        self.leads: dict[int, str] = {}
        per_team = max(2, min(250, opts.customers // 4000))
        for t, (name, kind) in enumerate(TEAMS):
            tid = ids.at(at)
            self.team_ids.append(tid)
            for k in range(per_team + 1):
                role = "team_lead" if k == 0 else TEAM_ROLES[kind]
                given, family = GIVEN[rng.randrange(len(GIVEN))], FAMILY[rng.randrange(len(FAMILY))]
                sid = ids.at(at)
                user = f"gen.{kind}.{t}.{k}"
                member = StaffDraft(sid, f"{given} {family}", t, role)
                if k == 0:
                    self.leads[t] = sid
                if role != "field_subcontractor":
                    self.owners.append(member)
                if role in ("agent", "store_advisor"):
                    self.agents.append(member)
                self.users.append((sid, user, member.name, f"{user}@staff.example.com", tid, role, None, True, False,
                                   at))
            self.teams.append((tid, name, kind, self.leads[t], at))


class Generator(Activity):
    """Rows for one slice of customers (``SLICE`` of them), batch by batch, in customer order.

    Each slice has its own random stream seeded from (seed, slice): slices can be written by
    several workers in any order and the rows are still the same.
    """

    def __init__(self, opts: Options, staff: Staff, slice_index: int) -> None:
        self.o = opts
        rng = self.rng = Random(f"{opts.seed}:{slice_index}")
        self.ids = IdMaker(rng)
        self.now = opts.now.timestamp()
        self.start = self.now - opts.years * 365.25 * DAY
        self.span = (self.now - 30 * DAY) - self.start
        self.pick_slot = chooser(rng, SLOT_KINDS, SLOT_WEIGHTS)
        self.pick_channel = chooser(rng, CHANNELS, CHANNEL_WEIGHTS)
        self.pick_case_kind = chooser(rng, CASE_KIND_WEIGHTS, CASE_KIND_WEIGHTS.values())
        self.pick_severity = chooser(rng, case_rules.SEVERITIES, SEVERITY_WEIGHTS)
        self.pool: deque[tuple[float, str, str]] = deque(maxlen=50_000)  # released numbers: (at, id, value)
        # Numbers, SIMs and IMEIs are counted per slice in disjoint ranges: unique across slices.
        self.numbers = self.sims = self.imeis = slice_index * 50_000
        self.household_left = 0
        self.household: tuple[str, float] | None = None
        self._first_msisdn: str | None = None
        self.titles: dict[tuple, tuple[str, str | None]] = {}
        self.owners, self.agents, self.leads, self.team_ids = staff.owners, staff.agents, staff.leads, staff.team_ids
        # Normal customers' contact counts are floor(Exp(m)); m chosen so that the mean over all
        # customers, long tail included, is ``contacts_per_customer``.
        tail_mean = (opts.long_tail_min + opts.long_tail_max) / 2 / opts.long_tail_every
        self.contact_scale = max(0.5, opts.contacts_per_customer - tail_mean + 0.5)
        self.case_scale = max(0.1, opts.cases_per_customer + 0.5) if opts.cases_per_customer >= 1 else None

    # --- one batch -------------------------------------------------------------------------

    def batch(self, first: int, last: int) -> dict[str, list[tuple]]:
        out: dict[str, list[tuple]] = {t: [] for t in BATCH_TABLES}
        for i in range(first, last):
            self._customer(i, out)
        return out

    def _customer(self, i: int, out: dict[str, list[tuple]]) -> None:
        rng, o, ids = self.rng, self.o, self.ids
        rnd = rng.random
        since_ts = self.start + (i + 0.05 + 0.9 * rnd()) / o.customers * self.span
        since = as_dt(since_ts)
        since_day = since.date()
        business = rnd() < 0.08
        party_id = ids.at_seconds(since_ts)
        cid = ids.at_seconds(since_ts)
        given = GIVEN[rng.randrange(len(GIVEN))]
        family = FAMILY[rng.randrange(len(FAMILY))]
        if business:
            org = f"{ORG_WORDS[rng.randrange(len(ORG_WORDS))]} {ORG_KINDS[rng.randrange(len(ORG_KINDS))]} Ltd"
            out["party"].append((party_id, "organization", None, None, org, None, None, "en", "validated", since,
                                 since, 1))
            name = org
        else:
            birth = date(1940 + rng.randrange(65), 1 + rng.randrange(12), 1 + rng.randrange(28))
            out["party"].append((party_id, "individual", given, family, None, None, birth, "en", "validated", since,
                                 since, 1))
            name = f"{given} {family}"
        out["customer"].append((cid, party_id, name, "approved", since_day, "business" if business else "consumer",
                                since, since, 1))
        out["timeline_entry"].append((ids.at_seconds(since_ts), cid, since, "customer", None, "Became a customer",
                                      None, None, "customer", cid, None))
        accounts = []
        for a in range(2 if business and rnd() < 0.3 else 1):
            aid = ids.at_seconds(since_ts)
            number = f"GEN{i:08d}{a}"
            accounts.append((aid, number))
            out["billing_account"].append((aid, cid, number, "Main account" if a == 0 else "Second site",
                                           o.currency, "active", since_day, since))
        self._household(cid, since_ts, business, out)

        email_value = None
        if rnd() < (0.95 if business else 0.85):
            local = f"accounts{i}" if business else f"{given}.{family}{i}".lower().replace("'", "")
            email_value = f"{local}@{DOMAINS[i % len(DOMAINS)]}"
            self._hold_new(out, "email", email_value, cid, None, since_ts, None, None)
        if not business and rnd() < 0.04:
            self._hold_new(out, "social", f"x:{given.lower()}{family.lower().replace(chr(39), '')}{i}", cid, None,
                           since_ts, None, None)

        products = self._products(cid, since_ts, business, accounts, out)
        msisdn_value = self._first_msisdn
        self._cases_and_contacts(i, cid, since_ts, products, msisdn_value, email_value, out)
        self._bills(cid, accounts, products, out)

    def _household(self, cid: str, since_ts: float, business: bool, out) -> None:
        rng = self.rng
        if business:
            return
        if self.household_left > 0 and self.household is not None:
            hid, _created = self.household
            self.household_left -= 1
            role = "partner" if rng.random() < 0.4 else "child"
            out["household_member"].append((self.ids.at_seconds(since_ts), hid, cid, role, as_day(since_ts), None,
                                            as_dt(since_ts)))
            return
        if rng.random() < 0.12:
            hid = self.ids.at_seconds(since_ts)
            self.household = (hid, since_ts)
            self.household_left = 1 + rng.randrange(3)
            out["household"].append((hid, f"Household {hid[-6:]}", as_dt(since_ts)))
            out["household_member"].append((self.ids.at_seconds(since_ts), hid, cid, "head", as_day(since_ts), None,
                                            as_dt(since_ts)))

    # --- identifiers ---------------------------------------------------------------------

    def _identifier(self, out, kind: str, value: str, at: float) -> str:
        iid = self.ids.at_seconds(at)
        out["identifier"].append((iid, kind, value, as_dt(at)))
        return iid

    def _hold_new(self, out, kind: str, value: str, cid: str, product_id: str | None, start: float,
                  end: float | None, reason: str | None) -> str:
        iid = self._identifier(out, kind, value, start)
        self._hold(out, iid, cid, product_id, start, end, reason)
        return iid

    def _hold(self, out, iid: str, cid: str, product_id: str | None, start: float, end: float | None,
              reason: str | None) -> None:
        out["identifier_holding"].append((self.ids.at_seconds(start), iid, cid, product_id, as_dt(start),
                                          None if end is None else as_dt(end), reason, None, as_dt(start)))

    def _number(self, start: float) -> tuple[str | None, str]:
        """(identifier id, value): a recycled number (id known) released long enough ago (quarantine
        90 days), else a fresh number (id None)."""
        pool = self.pool
        if pool and self.rng.random() < 0.5:
            for j in range(min(16, len(pool))):
                released, iid, value = pool[j]
                if released + 90 * DAY < start:
                    del pool[j]
                    return iid, value
        self.numbers += 1
        m = (self.numbers * 7919 + 12_345_678) % 300_000_000  # a bijection on 0..3e8-1
        return None, f"+44{700_000_000 + m}"

    def _products(self, cid: str, since_ts: float, business: bool, accounts, out) -> list[ProductDraft]:
        rng, ids, now = self.rng, self.ids, self.now
        rnd = rng.random
        slots = (2 + rng.randrange(3)) if business else (1 + (rnd() > 0.35) + (rnd() > 0.5) + (rnd() > 0.7))
        products: list[ProductDraft] = []
        self._first_msisdn = None
        for s in range(slots):
            kind = ("mobile_line" if rnd() < 0.85 else "fibre") if s == 0 else self.pick_slot()
            if business and kind in ("tv", "handset") and s > 0:
                kind = "mobile_line"
            t = since_ts + rnd() * HOUR * 72 if s == 0 else since_ts + rnd() * (now - since_ts - DAY)
            channel = CHANNELS[rng.randrange(4)] if rnd() < 0.9 else "portal"
            account_id = accounts[rng.randrange(len(accounts))][0]
            number_id = value = sim_id = None
            chain_start = t
            previous = None
            mobile = kind in ("mobile_line", "data_sim")
            while True:
                plan, price = PLANS[kind][rng.randrange(len(PLANS[kind]))]
                pid = ids.at_seconds(t)
                replaced_at = t + (60 + rnd() * 1000) * DAY if rnd() < 0.22 else None
                if replaced_at is not None and replaced_at > now - DAY:
                    replaced_at = None
                removed_at = None
                if replaced_at is None and rnd() < 0.1:
                    removed_at = t + rnd() * (now - t)
                end = replaced_at or removed_at
                status = "terminated" if end else ("suspended" if rnd() < 0.02 else "active")
                start_dt = as_dt(t)
                reason = None
                if replaced_at:
                    reason = "replaced by a new plan" if mobile else "upgraded"
                elif removed_at:
                    reason = TERMINATION_REASONS[rng.randrange(len(TERMINATION_REASONS))]
                model = plan if kind == "handset" else None
                out["product"].append((
                    pid, cid, account_id, kind, plan, None, status, price, self.o.currency, model,
                    start_dt.date() if kind == "handset" else None, start_dt, None if end is None else as_dt(end),
                    channel if end else None, reason, previous, None, start_dt,
                    as_dt(end) if end else start_dt, 2 if end else 1))
                changes = out["product_status_change"]
                changes.append((ids.at_seconds(t), pid, cid, None, "active", start_dt, channel, None, None))
                out["timeline_entry"].append((ids.at_seconds(t), cid, start_dt, "product", channel,
                                              *self._title("product.created", name=plan, channel=channel), None,
                                              "product", pid, None))
                if status == "suspended":
                    at = t + rnd() * (now - t)
                    changes.append((ids.at_seconds(at), pid, cid, "active", "suspended", as_dt(at), "system", None,
                                    "payment overdue"))
                if end:
                    changes.append((ids.at_seconds(end), pid, cid, "active", "terminated", as_dt(end), channel, None,
                                    reason))
                    out["timeline_entry"].append((ids.at_seconds(end), cid, as_dt(end), "product", channel,
                                                  *self._title("product.terminated", name=plan, channel=channel,
                                                               reason=reason), None, "product", pid, None))
                if mobile and number_id is None:  # the chain's number and SIM, held across plan changes
                    number_id, value = self._number(t)
                    if number_id is None:
                        number_id = self._identifier(out, "msisdn", value, t)
                    self.sims += 1
                    sim_id = self._identifier(out, "iccid", luhn_complete(f"8944{self.sims:014d}"), t)
                    chain_start = t
                elif kind == "handset":
                    self.imeis += 1
                    self._hold_new(out, "imei", luhn_complete(f"35{self.imeis:012d}"), cid, pid, t, end,
                                   reason if end else None)
                products.append(ProductDraft(pid, kind, plan, price, account_id, t, end, number_id))
                if replaced_at is None:
                    if mobile:
                        for iid in (number_id, sim_id):
                            self._hold(out, iid, cid, pid, chain_start, removed_at, reason if removed_at else None)
                        if removed_at is None and self._first_msisdn is None:
                            self._first_msisdn = value
                        elif removed_at is not None:
                            self.pool.append((removed_at, number_id, value))
                    break
                previous, t = pid, replaced_at
        return products
