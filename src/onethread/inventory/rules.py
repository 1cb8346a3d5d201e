"""Product lifecycle rules (TMF637 ProductStatusType). Pure."""

from __future__ import annotations

PRODUCT_KINDS = ("mobile_line", "data_sim", "handset", "fibre", "broadband", "tv", "accessory")
SIM_KINDS = frozenset({"mobile_line", "data_sim"})
CHANNELS = ("store", "phone", "email", "chat", "social", "letter", "field", "portal", "system")

STATUSES = ("created", "pendingActive", "active", "suspended", "pendingTerminate", "terminated", "cancelled",
            "aborted")
TERMINAL = frozenset({"terminated", "cancelled", "aborted"})
BILLABLE = frozenset({"active", "suspended", "pendingTerminate"})

TRANSITIONS: dict[str, frozenset[str]] = {
    "created": frozenset({"pendingActive", "active", "cancelled", "aborted"}),
    "pendingActive": frozenset({"active", "cancelled", "aborted"}),
    "active": frozenset({"suspended", "pendingTerminate", "terminated"}),
    "suspended": frozenset({"active", "pendingTerminate", "terminated"}),
    "pendingTerminate": frozenset({"active", "terminated"}),
    "terminated": frozenset(),
    "cancelled": frozenset(),
    "aborted": frozenset(),
}

# Which identifier kinds each product kind carries.
IDENTIFIER_KINDS = {
    "mobile_line": ("msisdn", "iccid"),
    "data_sim": ("msisdn", "iccid"),
    "handset": ("imei",),
    "fibre": (),
    "broadband": (),
    "tv": (),
    "accessory": (),
}


def can_move(from_status: str, to_status: str) -> bool:
    return to_status in TRANSITIONS.get(from_status, frozenset())


def transition_error(from_status: str, to_status: str) -> str:
    allowed = sorted(TRANSITIONS.get(from_status, frozenset()))
    if not allowed:
        return f"a {from_status} product cannot change status"
    return f"cannot go from {from_status} to {to_status}; allowed: {', '.join(allowed)}"
