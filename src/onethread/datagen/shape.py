"""What a mid-size operator's data looks like, one batch of customers at a time.

Customers are generated in the order they joined (ids and ``customer_since`` both increase with
the customer's number), so every index led by ``customer_id`` grows at its right-hand end.
Everything else a customer owns is generated with the customer and carries its ``customer_id``.
All randomness comes from one seeded ``random.Random`` consumed in a fixed order: the same
options give the same rows. Rows are plain tuples in the column order of ``TABLES``.
"""

from __future__ import annotations

from bisect import bisect
from collections import deque
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from itertools import accumulate
from random import Random

from onethread.cases import rules as case_rules
from onethread.datagen.ulid import IdMaker
from onethread.interactions.timeline import TITLES

DAY = 86400.0
HOUR = 3600.0

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


# --- vocabulary ------------------------------------------------------------------------------

GIVEN = ("Olivia", "Amelia", "Isla", "Ava", "Mia", "Ivy", "Lily", "Freya", "Grace", "Sophia", "Noah", "Oliver",
         "George", "Arthur", "Leo", "Harry", "Oscar", "Archie", "Henry", "Jack", "Theo", "Alfie", "Ruth", "Aisha",
         "Priya", "Tomasz", "Agnieszka", "Mohammed", "Fatima", "Siobhan", "Dylan", "Megan", "Rhys", "Eilidh")
FAMILY = ("Smith", "Jones", "Taylor", "Brown", "Williams", "Wilson", "Johnson", "Davies", "Patel", "Robinson",
          "Wright", "Thompson", "Evans", "Walker", "White", "Roberts", "Green", "Hall", "Wood", "Jackson", "Clarke",
          "Khan", "Nowak", "Murphy", "O'Brien", "Campbell", "Hughes", "Edwards", "Ahmed", "Kowalski", "Singh")
ORG_WORDS = ("Harbour", "Northgate", "Meadow", "Copper", "Riverside", "Summit", "Oak", "Beacon", "Kestrel", "Anvil",
             "Lantern", "Granite", "Willow", "Orchard", "Falcon", "Bramble")
ORG_KINDS = ("Plumbing", "Logistics", "Dental Practice", "Bakery", "Builders", "Accountants", "Cafe", "Garage",
             "Florists", "Solicitors", "Surveyors", "Print Works")
DOMAINS = ("example.com", "mail.example.net", "post.example.org", "inbox.example.co.uk")
PLANS = {
    "mobile_line": (("Unlimited", 2500), ("Essential 10GB", 1200), ("Max 100GB", 2000), ("SIM only 30GB", 1500),
                    ("Family add-on", 800), ("Business Unlimited", 3200)),
    "data_sim": (("Data SIM 50GB", 1600), ("Tablet 20GB", 1000)),
    "handset": (("Pixel 8", 0), ("iPhone 15", 3500), ("Galaxy S24", 3000), ("Moto G54", 0), ("iPhone 13", 1900)),
    "fibre": (("Full Fibre 500", 4200), ("Full Fibre 900", 5500), ("Fibre 150", 3000)),
    "broadband": (("Broadband 67", 2800), ("Broadband Essential", 2200)),
    "tv": (("TV Essentials", 1500), ("TV Sports", 3800)),
}
SLOT_KINDS = ("mobile_line", "handset", "fibre", "broadband", "data_sim", "tv")
SLOT_WEIGHTS = (40, 24, 12, 8, 10, 6)
CHANNELS = ("phone", "email", "chat", "store", "portal", "social", "letter", "field")
CHANNEL_WEIGHTS = (35, 20, 15, 10, 8, 5, 3, 4)
CHANNEL_KIND = {"phone": "call", "email": "message", "chat": "message", "store": "visit", "portal": "message",
                "social": "post", "letter": "letter", "field": "visit"}
STAFFED = frozenset({"phone", "store", "field", "letter"})
SUBJECTS = ("My bill is higher than last month", "No signal at home", "Broadband keeps dropping", "Moving house",
            "Upgrade question", "Roaming charges", "Cancel my contract", "Engineer visit", "Refund not received",
            "Change of address", "Lost phone", "Porting my number")
TEXTS = ("Hello, I was charged twice this month and would like it put right.",
         "Since Monday there is no signal at home, calls drop after a minute.",
         "The broadband drops every evening around 8pm, the router lights go orange.",
         "I am moving house next month and want the fibre moved with me.",
         "What would an upgrade cost me? My contract ends soon.",
         "I was abroad last week and the roaming charges look wrong.",
         "Please call me back about the engineer appointment, nobody came.",
         "I still have not received the refund I was promised.",
         "My phone was stolen, please block the SIM.",
         "Thanks, that is sorted now.",
         "Can you explain the one-off charge on my last bill?",
         "The handset you sent has a cracked screen.",
         "Customer called about payment date change; explained options.",
         "Outbound: reminded the customer of the engineer visit tomorrow.",
         "Spoke to the customer, agreed a goodwill credit.")
CASE_KINDS = case_rules.KINDS
CASE_KIND_WEIGHTS = {"fault": 30, "complaint": 15, "billing_dispute": 20, "order_problem": 15, "damage_claim": 5,
                     "request": 15}
CASE_TITLES = {
    "fault": ("No signal at home", "Broadband dropping in the evenings", "Fibre down since the storm",
              "Calls cut off after a minute"),
    "complaint": ("Engineer did not turn up", "Promised call-back never came", "Rude treatment in store",
                  "Charged after cancelling"),
    "billing_dispute": ("Charged twice for the same month", "Roaming charges disputed", "Unexpected one-off charge"),
    "order_problem": ("Handset not delivered", "Wrong SIM sent", "Fibre installation delayed"),
    "damage_claim": ("Engineer damaged the wall", "Water leak after installation", "Garden dug up by contractor"),
    "request": ("Change of address", "Move fibre to the new home", "Add a family member's line"),
}
SEVERITY_WEIGHTS = (20, 55, 20, 5)
OUTCOMES = ("Fixed remotely and confirmed with the customer.", "Credit applied to the next bill.",
            "Engineer visit completed, service restored.", "Explained the charges; the customer accepted.",
            "Replacement sent and received.")
HARMS = (("no_service", "Without phone or internet for days"), ("money_taken", "Money taken twice from the account"),
         ("property_damage", "Hole in the hallway wall"), ("health", "Could not call the GP"),
         ("other", "Had to take days off work waiting for the engineer"))
COMMITMENTS = ("Call back with the engineer's findings", "Refund the double charge", "Send a replacement SIM",
               "Confirm the new installation date", "Write with the outcome of the investigation")
TASKS = ("Check the line test results", "Arrange an engineer visit", "Raise a refund with billing",
         "Get the contractor's report", "Send the replacement handset")
CLOCK_AFTER = {  # calendar approximations of the built-in policy's clocks (hours)
    "first_response": 8.0, "no_activity": 5 * 24.0, "resolution_target": 28 * 24.0, "customer_waiting": 24.0,
    "regulator_warning": 42 * 24.0, "regulator_deadline": 56 * 24.0,
}
TERMINATION_REASONS = ("moved to another provider", "no longer needed", "moving abroad", "too expensive",
                       "upgraded elsewhere")
TEAMS = (("Contact centre North", "contact_centre"), ("Contact centre South", "contact_centre"),
         ("Contact centre Wales", "contact_centre"), ("Stores", "store"), ("Back office", "back_office"),
         ("Complaints", "complaints"), ("Customer relations", "customer_relations"), ("Field services", "field"))
TEAM_ROLES = {"contact_centre": "agent", "store": "store_advisor", "back_office": "back_office",
              "complaints": "specialist", "customer_relations": "specialist", "field": "field_subcontractor"}


def _chooser(rng: Random, items, weights):
    cum = list(accumulate(weights))
    total = cum[-1]
    rnd = rng.random
    items = tuple(items)

    def pick():
        return items[bisect(cum, rnd() * total)]
    return pick


def _luhn_complete(digits: str) -> str:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2 == 0:  # doubled once the check digit is appended
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return digits + str((10 - total % 10) % 10)


def _dt(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, UTC)


def _day(ts: float) -> date:
    return datetime.fromtimestamp(ts, UTC).date()


@dataclass
class _Product:
    id: str
    kind: str
    name: str
    price: int
    account_id: str
    start: float
    end: float | None
    msisdn_id: str | None = None


@dataclass
class _Staff:
    id: str
    name: str
    team: int
    role: str


SLICE = 1_000  # customers generated from one random stream (fixed: the data must not depend on options
                # like the batch size or the number of workers)


class Staff:
    """Teams and staff (owners of cases, agents on contacts), the same for every slice."""

    def __init__(self, opts: Options) -> None:
        rng = Random(f"{opts.seed}:staff")
        ids = IdMaker(rng)
        at = _dt(opts.now.timestamp() - opts.years * 365.25 * DAY)
        self.teams: list[tuple] = []
        self.users: list[tuple] = []
        self.team_ids: list[str] = []
        self.owners: list[_Staff] = []
        self.agents: list[_Staff] = []
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
                member = _Staff(sid, f"{given} {family}", t, role)
                if k == 0:
                    self.leads[t] = sid
                if role != "field_subcontractor":
                    self.owners.append(member)
                if role in ("agent", "store_advisor"):
                    self.agents.append(member)
                self.users.append((sid, user, member.name, f"{user}@staff.example.com", tid, role, None, True, False,
                                   at))
            self.teams.append((tid, name, kind, self.leads[t], at))


class Generator:
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
        self.pick_slot = _chooser(rng, SLOT_KINDS, SLOT_WEIGHTS)
        self.pick_channel = _chooser(rng, CHANNELS, CHANNEL_WEIGHTS)
        self.pick_case_kind = _chooser(rng, CASE_KIND_WEIGHTS, CASE_KIND_WEIGHTS.values())
        self.pick_severity = _chooser(rng, case_rules.SEVERITIES, SEVERITY_WEIGHTS)
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
        since = _dt(since_ts)
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
            out["household_member"].append((self.ids.at_seconds(since_ts), hid, cid, role, _day(since_ts), None,
                                            _dt(since_ts)))
            return
        if rng.random() < 0.12:
            hid = self.ids.at_seconds(since_ts)
            self.household = (hid, since_ts)
            self.household_left = 1 + rng.randrange(3)
            out["household"].append((hid, f"Household {hid[-6:]}", _dt(since_ts)))
            out["household_member"].append((self.ids.at_seconds(since_ts), hid, cid, "head", _day(since_ts), None,
                                            _dt(since_ts)))

    # --- identifiers ---------------------------------------------------------------------

    def _identifier(self, out, kind: str, value: str, at: float) -> str:
        iid = self.ids.at_seconds(at)
        out["identifier"].append((iid, kind, value, _dt(at)))
        return iid

    def _hold_new(self, out, kind: str, value: str, cid: str, product_id: str | None, start: float,
                  end: float | None, reason: str | None) -> str:
        iid = self._identifier(out, kind, value, start)
        self._hold(out, iid, cid, product_id, start, end, reason)
        return iid

    def _hold(self, out, iid: str, cid: str, product_id: str | None, start: float, end: float | None,
              reason: str | None) -> None:
        out["identifier_holding"].append((self.ids.at_seconds(start), iid, cid, product_id, _dt(start),
                                          None if end is None else _dt(end), reason, None, _dt(start)))

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

    def _products(self, cid: str, since_ts: float, business: bool, accounts, out) -> list[_Product]:
        rng, ids, now = self.rng, self.ids, self.now
        rnd = rng.random
        slots = (2 + rng.randrange(3)) if business else (1 + (rnd() > 0.35) + (rnd() > 0.5) + (rnd() > 0.7))
        products: list[_Product] = []
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
                start_dt = _dt(t)
                reason = None
                if replaced_at:
                    reason = "replaced by a new plan" if mobile else "upgraded"
                elif removed_at:
                    reason = TERMINATION_REASONS[rng.randrange(len(TERMINATION_REASONS))]
                model = plan if kind == "handset" else None
                out["product"].append((
                    pid, cid, account_id, kind, plan, None, status, price, self.o.currency, model,
                    start_dt.date() if kind == "handset" else None, start_dt, None if end is None else _dt(end),
                    channel if end else None, reason, previous, None, start_dt,
                    _dt(end) if end else start_dt, 2 if end else 1))
                changes = out["product_status_change"]
                changes.append((ids.at_seconds(t), pid, cid, None, "active", start_dt, channel, None, None))
                out["timeline_entry"].append((ids.at_seconds(t), cid, start_dt, "product", channel,
                                              *self._title("product.created", name=plan, channel=channel), None,
                                              "product", pid, None))
                if status == "suspended":
                    at = t + rnd() * (now - t)
                    changes.append((ids.at_seconds(at), pid, cid, "active", "suspended", _dt(at), "system", None,
                                    "payment overdue"))
                if end:
                    changes.append((ids.at_seconds(end), pid, cid, "active", "terminated", _dt(end), channel, None,
                                    reason))
                    out["timeline_entry"].append((ids.at_seconds(end), cid, _dt(end), "product", channel,
                                                  *self._title("product.terminated", name=plan, channel=channel,
                                                               reason=reason), None, "product", pid, None))
                if mobile and number_id is None:  # the chain's number and SIM, held across plan changes
                    number_id, value = self._number(t)
                    if number_id is None:
                        number_id = self._identifier(out, "msisdn", value, t)
                    self.sims += 1
                    sim_id = self._identifier(out, "iccid", _luhn_complete(f"8944{self.sims:014d}"), t)
                    chain_start = t
                elif kind == "handset":
                    self.imeis += 1
                    self._hold_new(out, "imei", _luhn_complete(f"35{self.imeis:012d}"), cid, pid, t, end,
                                   reason if end else None)
                products.append(_Product(pid, kind, plan, price, account_id, t, end, number_id))
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

    def _title(self, event_type: str, **payload) -> tuple[str, str | None]:
        key = (event_type, *payload.values())
        got = self.titles.get(key)
        if got is None:
            if len(self.titles) > 50_000:
                self.titles.clear()
            got = self.titles[key] = TITLES[event_type](payload)
        return got

    # --- cases and contacts --------------------------------------------------------------

    def _cases_and_contacts(self, i: int, cid: str, since_ts: float, products: list[_Product],
                            msisdn: str | None, email: str | None, out) -> None:
        rng, o = self.rng, self.o
        rnd = rng.random
        if o.long_tail(i):
            n_contacts = o.long_tail_min + rng.randrange(o.long_tail_max - o.long_tail_min + 1)
        else:
            n_contacts = int(rng.expovariate(1.0 / self.contact_scale))
        if self.case_scale is not None:
            n_cases = int(rng.expovariate(1.0 / self.case_scale))
        else:
            n_cases = 1 if rnd() < o.cases_per_customer else 0
        used = 0
        for _ in range(n_cases):
            used += self._case(cid, since_ts, products, msisdn, email, out)
        history_from = max(since_ts, self.now - 3 * 365.25 * DAY)
        for _ in range(max(0, n_contacts - used)):
            at = history_from + rnd() * (self.now - history_from)
            self._contact(cid, at, self.pick_channel(), msisdn, email, None, out)

    def _contact(self, cid: str, at: float, channel: str, msisdn: str | None, email: str | None,
                 case_id: str | None, out, inbound: bool | None = None) -> None:
        rng, ids = self.rng, self.ids
        r = rng.random()
        if inbound is None:
            direction = "inbound" if r < 0.72 else ("outbound" if r < 0.95 else "internal")
        else:
            direction = "inbound" if inbound else "outbound"
        kind = "note" if direction == "internal" else CHANNEL_KIND[channel]
        contact_id = ids.at_seconds(at)
        when = _dt(at)
        staff = None
        if direction != "inbound" or channel in STAFFED:
            staff = self.agents[rng.randrange(len(self.agents))]
        subject = SUBJECTS[rng.randrange(len(SUBJECTS))] if channel in ("email", "letter", "portal") else None
        text = TEXTS[rng.randrange(len(TEXTS))]
        message_id = thread = None
        identifiers: dict = {}
        extra: dict = {}
        if channel == "email":
            message_id = f"<{contact_id.lower()}@mail.example.net>"
            thread = contact_id
            if email and direction == "inbound":
                identifiers = {"email": email}
        elif channel in ("phone", "chat"):
            message_id = f"{channel}-{contact_id}"
            if msisdn and direction == "inbound":
                identifiers = {"msisdn": msisdn}
        elif channel == "social":
            message_id = f"x-{contact_id}"
            extra = {"platform": "x"}
        actor = staff.name if staff else None
        out["contact"].append((contact_id, cid, channel, direction, when, when, message_id, kind, subject, text, [],
                               identifiers, "matched", staff.id if staff else None, actor, None, thread, None,
                               case_id, extra))
        title, detail = self._title("contact.recorded", channel=channel, direction=direction, kind=kind,
                                    subject=subject, summary=text)
        out["timeline_entry"].append((ids.at_seconds(at), cid, when, "contact", channel, title, detail, actor,
                                      "contact", contact_id, None))

    def _case_log(self, out, case_id: str, cid: str, at: float, kind: str, actor: _Staff, title: str,
                  text: str | None = None, channel: str | None = None, data: dict | None = None,
                  audience: str = "internal") -> None:
        when = _dt(at)
        out["case_event"].append((self.ids.at_seconds(at), case_id, cid, when, kind, actor.id, actor.name, text,
                                  audience, data or {}))
        out["timeline_entry"].append((self.ids.at_seconds(at), cid, when, "case", channel, title[:300], text,
                                      actor.name, "case", case_id, None))

    def _case(self, cid: str, since_ts: float, products: list[_Product], msisdn: str | None, email: str | None,
              out) -> int:
        """One case with its contacts, log, items and clocks; returns how many contacts it used."""
        rng, o, ids, now = self.rng, self.o, self.ids, self.now
        rnd = rng.random
        kind = self.pick_case_kind()
        is_open = rnd() < o.open_share
        if is_open:
            opened = max(now - rnd() ** 2 * 60 * DAY, since_ts + HOUR)
        else:
            lo = max(since_ts + HOUR, now - 5 * 365.25 * DAY)
            opened = lo + rnd() * max(HOUR, now - 10 * DAY - lo)
        owner = self.owners[rng.randrange(len(self.owners))]
        channel = CHANNELS[rng.randrange(5)]
        case_id = ids.at_seconds(opened)
        product = products[rng.randrange(len(products))] if products and kind != "billing_dispute" else None
        title = CASE_TITLES[kind][rng.randrange(len(CASE_TITLES[kind]))]
        account = TEXTS[rng.randrange(len(TEXTS))]
        severity = self.pick_severity()
        # The contact that opened it, then the case's own log.
        self._contact(cid, opened - rnd() * 600, channel, msisdn, email, case_id, out, inbound=True)
        used = 1
        label = kind.replace("_", " ").capitalize()
        self._case_log(out, case_id, cid, opened, "opened", owner, f"{label} case opened: {title}", text=account,
                       channel=channel, data={"ownerId": owner.id, "ownerName": owner.name, "kind": kind})
        if is_open:
            last = opened + rnd() * (now - opened)
            status = ("open", "in_progress", "waiting_customer")[rng.randrange(3)]
        else:
            last = opened + (HOUR + rnd() * 30 * DAY)
            last = min(last, now - HOUR)
            status = "closed"
        if last > opened + HOUR and rnd() < 0.6:
            self._contact(cid, last, channel if channel != "store" else "phone", msisdn, email, case_id, out,
                          inbound=rnd() < 0.5)
            used += 1
        awaiting = last if is_open and status != "waiting_customer" and rnd() < 0.3 else None
        clocks: list[tuple[str, str | None, float, float, float | None]] = []  # kind, ref, start, due, stopped
        closed = None if is_open else last
        # Items.
        if rnd() < 0.25:
            made = opened + rnd() * (last - opened)
            due = made + (1 + rnd() * 6) * DAY
            com_id = ids.at_seconds(made)
            text = COMMITMENTS[rng.randrange(len(COMMITMENTS))]
            kept = not is_open or due < now - 7 * DAY
            out["commitment"].append((com_id, case_id, cid, text, _dt(due), channel, owner.id, _dt(made),
                                      rnd() < 0.5, "kept" if kept else "open", _dt(min(due, last)) if kept else None,
                                      None))
            self._case_log(out, case_id, cid, made, "commitment_made", owner,
                           f"Promised: {text} (by {_day(due):%Y-%m-%d})", channel=channel)
            clocks.append(("commitment_due", com_id, made, due, min(due, last) if kept else None))
        if kind in ("fault", "damage_claim") and rnd() < 0.3:
            hk, desc = HARMS[rng.randrange(len(HARMS))]
            at = opened + rnd() * (last - opened)
            resolved = None if is_open else _dt(last)
            out["harm"].append((ids.at_seconds(at), case_id, cid, hk, desc, severity, severity, "the customer",
                                _dt(at), resolved, None if is_open else "Put right"))
            self._case_log(out, case_id, cid, at, "harm_reported", owner, f"Harm: {desc} [{severity}]")
        if rnd() < 0.2:
            at = opened + rnd() * (last - opened)
            due = at + (1 + rnd() * 6) * DAY
            task_id = ids.at_seconds(at)
            title_t = TASKS[rng.randrange(len(TASKS))]
            team = rng.randrange(len(self.team_ids))
            done = not is_open or due < now - 3 * DAY
            out["case_task"].append((task_id, case_id, cid, title_t, "team", self.team_ids[team], TEAMS[team][0],
                                     _dt(due), "done" if done else "open", owner.id, _dt(at),
                                     _dt(min(due, last)) if done else None, None))
            self._case_log(out, case_id, cid, at, "task_added",
                           owner, f"Task for {TEAMS[team][0]}: {title_t} (due {_day(due):%Y-%m-%d})")
            clocks.append(("task_overdue", task_id, at, due, min(due, last) if done else None))
        # Policy clocks.
        responded = opened + (0.2 + rnd() * 6) * HOUR
        if is_open and status == "open" and rnd() < 0.4:
            responded = None
        clocks.append(("first_response", None, opened, opened + CLOCK_AFTER["first_response"] * HOUR,
                       responded if responded is not None and (closed is None or responded < closed) else closed))
        clocks.append(("no_activity", None, last, last + CLOCK_AFTER["no_activity"] * HOUR, closed))
        clocks.append(("resolution_target", None, opened, opened + CLOCK_AFTER["resolution_target"] * HOUR, closed))
        if kind == "complaint":
            for k in ("regulator_warning", "regulator_deadline"):
                clocks.append((k, None, opened, opened + CLOCK_AFTER[k] * HOUR, closed))
        if awaiting is not None:
            clocks.append(("customer_waiting", None, awaiting, awaiting + CLOCK_AFTER["customer_waiting"] * HOUR,
                           None))
        level = 0
        swept_until = now - o.sweep_lag_hours * HOUR
        lead = self.leads[owner.team]
        for ck, ref, started, due, stopped in clocks:
            fired = None
            if (stopped is None or stopped > due) and due <= swept_until:
                fired = due + rnd() * 120  # the sweep that ran just after it fell due
                if stopped is not None and stopped < fired:
                    fired = None
            clock_id = ids.at_seconds(started)
            out["case_clock"].append((clock_id, case_id, cid, ck, ref, _dt(started), _dt(due),
                                      None if stopped is None else _dt(stopped),
                                      None if fired is None else _dt(fired), None if fired is None else "sweep"))
            if fired is not None:
                rung = case_rules.BREACH_RUNG.get(ck, 1)
                level = max(level, rung)
                out["escalation"].append((ids.at_seconds(fired), case_id, cid, clock_id, ck, rung,
                                          owner.id if rung == 1 else lead, _dt(fired),
                                          f"{ck.replace('_', ' ')} missed", None if closed is None else _dt(closed)))
        outcome = confirmed = None
        if closed is not None:
            outcome = OUTCOMES[rng.randrange(len(OUTCOMES))]
            confirmed = rnd() < 0.8
            self._case_log(out, case_id, cid, closed, "closed",
                           owner, f"Case closed ({'confirmed' if confirmed else 'not confirmed'} by the customer)",
                           text=outcome, data={"customerConfirmed": confirmed}, audience="customer")
        out["case_file"].append((
            case_id, cid, kind, None, product.id if product else None, title, account, status, severity, owner.id,
            channel, _dt(opened), owner.id, "GB", _dt(last), None if awaiting is None else _dt(awaiting),
            None if closed is None else _dt(closed), outcome, None if closed is None else confirmed, None, level,
            1))
        return used

    # --- billing ---------------------------------------------------------------------------

    def _bills(self, cid: str, accounts, products: list[_Product], out) -> None:
        rng, o, ids = self.rng, self.o, self.ids
        rnd = rng.random
        today = _day(self.now)
        month_start = today.replace(day=1)
        for aid, number in accounts:
            mine = [p for p in products if p.account_id == aid]
            for m in range(o.bill_months, 0, -1):
                # Bill for the month that began m months before this month.
                year, month = divmod(month_start.year * 12 + month_start.month - 1 - m, 12)
                p_start = date(year, month + 1, 1)
                nxt = date(year + (month + 1) // 12, (month + 1) % 12 + 1, 1)
                p_end = nxt - timedelta(days=1)
                start_ts = datetime(p_start.year, p_start.month, 1, tzinfo=UTC).timestamp()
                end_ts = datetime(nxt.year, nxt.month, 1, tzinfo=UTC).timestamp()
                billable = [p for p in mine if p.start < end_ts and (p.end is None or p.end >= start_ts)]
                if not billable:
                    continue
                issued = nxt
                issued_ts = end_ts + 6 * HOUR
                bill_id = ids.at_seconds(issued_ts)
                created = _dt(issued_ts)
                total = 0
                for p in billable:
                    if p.price:
                        total += p.price
                        out["charge"].append((ids.at_seconds(issued_ts), cid, bill_id, p.id, p.msisdn_id,
                                              "recurring", f"{p.name}, monthly", p.price, o.currency, p_start,
                                              p_end, created))
                    if p.msisdn_id is not None and rnd() < 0.3:
                        amount = 50 + rng.randrange(2500)
                        total += amount
                        out["charge"].append((ids.at_seconds(issued_ts), cid, bill_id, p.id, p.msisdn_id, "usage",
                                              "Calls, texts and data outside the allowance", amount, o.currency,
                                              p_start, p_end, created))
                r = rnd()
                if r < 0.03:
                    total += 1000
                    out["charge"].append((ids.at_seconds(issued_ts), cid, bill_id, None, None, "one_off",
                                          "Replacement SIM and delivery", 1000, o.currency, None, None, created))
                elif r < 0.05:
                    total -= 500
                    out["charge"].append((ids.at_seconds(issued_ts), cid, bill_id, None, None, "credit",
                                          "Goodwill credit", -500, o.currency, None, None, created))
                due = issued + timedelta(days=14)
                paid, paid_at, status = 0, None, "issued"
                if m > 1 or due < today:
                    s = rnd()
                    if s < 0.94 or m > 2:
                        status, paid, paid_at = "paid", total, _dt(issued_ts + (3 + rnd() * 10) * DAY)
                    elif s < 0.985:
                        status = "overdue"
                    else:
                        status = "disputed"
                out["bill"].append((bill_id, cid, aid, f"{number}-{p_start:%Y%m}", p_start, p_end, issued, due,
                                    total, o.currency, status, paid, paid_at, 0, created))
