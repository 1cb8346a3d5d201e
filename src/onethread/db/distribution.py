"""How each table would be spread over a distributed PostgreSQL (Citus), in one place.

Every table has one declared role (docs/scaling.md):

- ``customer``: distributed by the customer, co-located; the distribution column is
  ``customer_id`` (``id`` for the ``customer`` table itself). Its primary key is ``(id,
  customer_id)`` and every unique constraint or unique index includes ``customer_id``.
- ``own``: distributed by a key of its own (``party`` by ``id``, ``identifier`` by ``value``, a
  contact and the rows that follow it by the contact's id...): rows that have no customer yet,
  or belong to several. The same rule holds with that key instead of ``customer_id``.
- ``reference``: small, read everywhere: copied to every node.
- ``local``: kept on the coordinator only (sign-ins, the search index, queues of deliveries):
  not distributed, no key rule.

``onethread db upgrade --partitions N`` hash-partitions the ``customer`` and ``own`` tables by
their key (db.partition), which imposes the same rules as Citus; ``tests/api/test_distribution_keys.py``
checks that every table is declared here and keeps its rule, so a new table cannot forget it.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Role:
    kind: str  # customer | own | reference | local
    key: str | None = None  # the distribution column (customer and own)

    @property
    def distributed(self) -> bool:
        return self.kind in ("customer", "own")


CUSTOMER = Role("customer", "customer_id")


def own(key: str) -> Role:
    return Role("own", key)


REFERENCE = Role("reference")
LOCAL = Role("local")

ROLES: dict[str, Role] = {
    # distributed by customer, co-located
    "customer": Role("customer", "id"),
    "billing_account": CUSTOMER,
    "household_member": CUSTOMER,
    "representative": CUSTOMER,
    "vulnerability": CUSTOMER,
    "customer_flag": CUSTOMER,
    "contact_preference": CUSTOMER,
    "product": CUSTOMER,
    "product_status_change": CUSTOMER,
    "identifier_holding": CUSTOMER,
    "bill": CUSTOMER,
    "charge": CUSTOMER,
    "bill_finding": CUSTOMER,
    "case_file": CUSTOMER,
    "case_event": CUSTOMER,
    "case_handover": CUSTOMER,
    "commitment": CUSTOMER,
    "harm": CUSTOMER,
    "case_participant": CUSTOMER,
    "case_task": CUSTOMER,
    "case_clock": CUSTOMER,
    "case_wait": CUSTOMER,
    "escalation": CUSTOMER,
    "decision": CUSTOMER,
    "defect_report": CUSTOMER,
    "approval_request": CUSTOMER,
    "work_order": CUSTOMER,
    "work_order_task": CUSTOMER,
    "visit": CUSTOMER,
    "field_incident": CUSTOMER,
    "timeline_entry": CUSTOMER,
    "verification": CUSTOMER,
    "outbound_message": CUSTOMER,
    "letter_document": CUSTOMER,
    "campaign_recipient": CUSTOMER,
    # distributed by a key of their own
    "party": own("id"),
    "party_relationship": own("party_id"),
    "household": own("id"),
    "identifier": own("value"),
    "global_key": own("value"),
    "contact": own("id"),  # no customer while in the match queue: by its own id
    "contact_session": own("id"),
    "session_hop": own("session_id"),
    "match_item": own("contact_id"),  # co-located with its contact
    "triage_item": own("contact_id"),
    "attachment": own("contact_id"),
    "audit_entry": own("id"),  # reads of no customer's data are audited too
    "outbox_event": own("id"),  # events of no customer (staff, policies) too
    "consumer_receipt": own("event_id"),  # co-located with its event
    "case_read_mark": own("staff_id"),
    # reference tables: small, copied to every node
    "team": REFERENCE,
    "staff_user": REFERENCE,
    "api_token": REFERENCE,
    "instance_secret": REFERENCE,
    "policy_version": REFERENCE,
    "known_defect": REFERENCE,
    "manual_clock": REFERENCE,
    "mailbox_cursor": REFERENCE,
    "channel_health": REFERENCE,
    "campaign": REFERENCE,
    "event_subscription": REFERENCE,
    "subcontractor": REFERENCE,
    "subcontractor_audit": REFERENCE,
    # on the coordinator only
    "portal_account": LOCAL,
    "sign_in_session": LOCAL,
    "sign_in_failure": LOCAL,
    "customer_merge": LOCAL,
    "event_delivery": LOCAL,
    "search_doc": LOCAL,
}


def role_of(table: str) -> Role:
    try:
        return ROLES[table]
    except KeyError:
        raise KeyError(f"table {table} has no declared distribution role (db/distribution.py)") from None


def distributed_tables() -> dict[str, str]:
    """Table -> distribution column, for the tables spread by a key."""
    return {name: role.key for name, role in ROLES.items() if role.distributed and role.key}
