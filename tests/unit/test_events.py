"""Typed domain events: one class per type, stored as the same envelope as before (camelCase keys,
in the same order), parsed back, and subscribed by class in one handler map."""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import UTC, datetime
from typing import ClassVar

import pytest

from onethread.bootstrap import HANDLERS, register_handlers
from onethread.cases.events import TriageEscalated
from onethread.customers.events import IdentifierAssigned, IdentifierReleased
from onethread.decisions.events import DefectReported
from onethread.fieldservice.events import IncidentReported, SubcontractorAuditOpened
from onethread.interactions.events import ContactDismissed, ContactRecorded
from onethread.inventory.events import ProductStatusChanged, ProductTerminated
from onethread.kernel.events import DomainEvent, Event, EventBus, event_class, parse
from onethread.outreach.events import (
    CampaignQueued,
    CampaignSendRequested,
    ChannelGreen,
    ChannelRed,
    ContactPreferencesRecorded,
)
from onethread.privacy.events import CustomerErased

AT = datetime(2026, 3, 10, 11, 0, tzinfo=UTC)


def _contact(**extra) -> ContactRecorded:
    return ContactRecorded(occurred_at=AT, aggregate_id="CON1", customer_id="CUS1", channel="email",
                           direction="inbound", kind="message", subject="Bill", summary="Why so high?",
                           actor_name="Margaret", match_status="matched", explanation="e-mail known",
                           session_id=None, actor="SYSTEM", **extra)


def test_a_contact_event_is_stored_with_the_keys_and_order_consumers_read():
    stored = _contact().envelope()
    assert (stored.type, stored.aggregate_type, stored.aggregate_id, stored.customer_id) == (
        "contact.recorded", "contact", "CON1", "CUS1")
    assert list(stored.payload.items()) == [
        ("channel", "email"), ("direction", "inbound"), ("kind", "message"), ("subject", "Bill"),
        ("summary", "Why so high?"), ("actorName", "Margaret"), ("matchStatus", "matched"),
        ("explanation", "e-mail known"), ("sessionId", None), ("actor", "SYSTEM")]


def test_update_and_thread_appear_only_when_the_event_has_them():
    payload = _contact(update=True, thread_id="CON0").envelope().payload
    assert list(payload)[-2:] == ["update", "threadId"]
    assert (payload["update"], payload["threadId"]) == (True, "CON0")
    assert "threadId" not in _contact(update=True).envelope().payload
    assert list(_contact(update=True, at=AT.isoformat()).envelope().payload)[-2:] == ["update", "at"]


def test_a_stored_event_reads_back_as_its_class_and_an_old_one_without_optional_keys_too():
    event = _contact(update=True, thread_id="CON0")
    assert parse(event.envelope(), ContactRecorded) == event
    old = DomainEvent(type="contact.recorded", occurred_at=AT, aggregate_type="contact", aggregate_id="CON1",
                      customer_id="CUS1", payload=_contact().envelope().payload, id="01OLD")
    assert parse(old, ContactRecorded) == _contact()
    assert event_class("contact.recorded") is ContactRecorded
    assert event_class("case.closed") is None  # not typed yet: stored as a bare envelope
    with pytest.raises(ValueError, match=r"not a contact\.dismissed"):
        parse(old, ContactDismissed)


def test_a_termination_is_a_status_change_under_its_own_type():
    common = dict(occurred_at=AT, aggregate_id="PRD1", customer_id="CUS1", actor="SYSTEM", kind="data_sim",
                  name="Tablet SIM", from_status="active", to_status="terminated", at=AT.isoformat(),
                  channel="store", reason=None, effective_at=AT.isoformat())
    ended, changed = ProductTerminated(**common).envelope(), ProductStatusChanged(**common).envelope()
    assert (ended.type, changed.type) == ("product.terminated", "product.status_changed")
    assert ended.payload == changed.payload
    assert list(ended.payload) == ["actor", "kind", "name", "fromStatus", "toStatus", "at", "channel", "reason",
                                   "effectiveAt"]


def test_handlers_are_subscribed_by_class_and_event_means_every_event():
    bus = EventBus()
    calls = []
    bus.subscribe(Event, lambda s, e: calls.append(("any", e.type)))
    bus.subscribe(ContactDismissed, lambda s, e: calls.append(("dismissed", e.type)))
    for handler in bus.handlers_for("contact.dismissed"):
        handler(None, ContactDismissed(occurred_at=AT, aggregate_id="C", actor="A", reason="spam").envelope())
    assert calls == [("dismissed", "contact.dismissed"), ("any", "contact.dismissed")]
    with pytest.raises(TypeError, match="subscribe ContactDismissed"):
        bus.subscribe("contact.dismissed", lambda s, e: None)
    with pytest.raises(TypeError, match="subscribe Event"):
        bus.subscribe("*", lambda s, e: None)


def test_the_application_handler_map_is_what_the_bus_runs():
    bus = EventBus()
    register_handlers(bus)
    assert bus.handlers_for("contact.recorded") == [*HANDLERS[ContactRecorded], *HANDLERS[Event]]
    assert bus.handlers_for("product.terminated") == [*HANDLERS[ProductTerminated], *HANDLERS[Event]]
    assert bus.handlers_for("product.status_changed") == list(HANDLERS[Event])


def test_two_classes_cannot_claim_one_event_type():
    with pytest.raises(TypeError, match=r"two event classes for contact\.dismissed"):
        @dataclass(frozen=True, kw_only=True)
        class Again(Event):
            TYPE: ClassVar[str] = "contact.dismissed"


# The stored payload keys of each typed event, in order, as the bare envelopes wrote them before.
STORED_KEYS = {
    IdentifierAssigned: ["kind", "value", "validFrom", "validTo", "holdingId", "actor"],
    IdentifierReleased: ["kind", "value", "validTo", "holdingId", "reason", "actor"],
    CampaignSendRequested: ["campaignId", "by"],
    CampaignQueued: ["campaignId", "queued"],
    ContactPreferencesRecorded: ["actorName", "timelineTitle", "timelineDetail"],
    ChannelRed: ["channel", "kind", "state", "why", "alert"],
    IncidentReported: ["incidentId", "caseId", "workOrderId", "subcontractorId", "notify"],
    SubcontractorAuditOpened: ["auditId", "subcontractor", "ownerId", "reasons"],
    TriageEscalated: ["level", "toStaffId", "toName", "timelineTitle", "actorName", "system", "channel"],
    CustomerErased: ["actor", "actorName", "channel", "timelineTitle", "timelineDetail"],
    DefectReported: ["reportId", "deviceModel", "symptom", "wording", "matched", "channel", "caseId", "decisionId",
                     "actor", "actorName"],
}


@pytest.mark.parametrize("cls", list(STORED_KEYS), ids=lambda cls: cls.TYPE)
def test_each_typed_event_stores_the_keys_it_always_stored(cls):
    values = {f.name: f"v-{f.name}" for f in fields(cls) if f.name not in ("occurred_at", "aggregate_id",
                                                                            "customer_id")}
    event = cls(occurred_at=AT, aggregate_id="A1", **values)
    stored = event.envelope()
    assert list(stored.payload) == STORED_KEYS[cls]
    assert (stored.type, event_class(stored.type)) == (cls.TYPE, cls)
    assert parse(stored, cls) == event


def test_defaults_fill_what_every_event_of_a_type_says():
    escalated = TriageEscalated(occurred_at=AT, aggregate_id="T1", level=2, to_staff_id=None, to_name=None,
                                timeline_title="t", channel="phone").envelope()
    assert (escalated.payload["actorName"], escalated.payload["system"]) == ("onethread", True)
    assert ChannelGreen(occurred_at=AT, aggregate_id="smtp", channel="smtp", kind="smtp", state="green",
                        why="ok").envelope().payload["alert"] == "admins"
