"""A case's status: read by every capability that touches cases, including those below ``cases``
in the layers (outreach asks whether a customer has an open case), so it lives in the kernel.
``cases.rules`` re-exports it with the rest of the case vocabulary.
"""

from __future__ import annotations

from enum import StrEnum


class CaseStatus(StrEnum):
    """A case's status; a member is its string (``CaseStatus.CLOSED == "closed"``), stored as such."""

    OPEN = "open"
    IN_PROGRESS = "in_progress"
    WAITING_CUSTOMER = "waiting_customer"  # a person replied; the customer's answer is awaited
    RESOLVED = "resolved"  # done from our side, to be confirmed
    CLOSED = "closed"
