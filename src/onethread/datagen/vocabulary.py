"""The generator's vocabulary and small helpers: names, plans, channels, case kinds and wording,
weighted choice, dates from timestamps. Data only; no randomness of its own."""

from __future__ import annotations

from bisect import bisect
from dataclasses import dataclass
from datetime import UTC, date, datetime
from itertools import accumulate
from random import Random

from onethread.cases import rules as case_rules

DAY = 86400.0
HOUR = 3600.0

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


def chooser(rng: Random, items, weights):
    cum = list(accumulate(weights))
    total = cum[-1]
    rnd = rng.random
    items = tuple(items)

    def pick():
        return items[bisect(cum, rnd() * total)]
    return pick


def luhn_complete(digits: str) -> str:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2 == 0:  # doubled once the check digit is appended
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return digits + str((10 - total % 10) % 10)


def as_dt(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, UTC)


def as_day(ts: float) -> date:
    return datetime.fromtimestamp(ts, UTC).date()


@dataclass
class ProductDraft:
    id: str
    kind: str
    name: str
    price: int
    account_id: str
    start: float
    end: float | None
    msisdn_id: str | None = None


@dataclass
class StaffDraft:
    id: str
    name: str
    team: int
    role: str
