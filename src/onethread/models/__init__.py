"""ORM tables, one file per aggregate. Importing this package registers every table."""

from onethread.db.outbox import ConsumerReceipt, OutboxEvent
from onethread.models.access import ApiToken, AuditEntry, StaffUser, Team
from onethread.models.customer import (
    BillingAccount,
    Customer,
    Household,
    HouseholdMember,
    Representative,
    Vulnerability,
)
from onethread.models.identifier import Identifier, IdentifierHolding
from onethread.models.party import Party, PartyRelationship
from onethread.models.product import Product, ProductStatusChange

__all__ = [
    "ApiToken",
    "AuditEntry",
    "BillingAccount",
    "ConsumerReceipt",
    "Customer",
    "Household",
    "HouseholdMember",
    "Identifier",
    "IdentifierHolding",
    "OutboxEvent",
    "Party",
    "PartyRelationship",
    "Product",
    "ProductStatusChange",
    "Representative",
    "StaffUser",
    "Team",
    "Vulnerability",
]
