"""The pure rules of event subscriptions: which TMF events a change is, the hub query, the
callback addresses onethread refuses, the retry waits."""

from __future__ import annotations

from datetime import timedelta

import pytest

from onethread.integrations import rules

TT = rules.APIS["troubleTicket"]


def types(event_type: str, **payload) -> list[str]:
    return [e.type for e in rules.tmf_events(event_type, payload)]


def test_domain_events_become_the_tmf_events_of_their_api():
    assert types("case.opened") == ["TroubleTicketCreateEvent"]
    assert types("case.status_changed", to="resolved") == ["TroubleTicketStatusChangeEvent",
                                                            "TroubleTicketResolvedEvent"]
    assert types("case.status_changed", to="waiting_customer") == ["TroubleTicketStatusChangeEvent",
                                                                   "TroubleTicketInformationRequiredEvent"]
    assert types("case.closed") == types("case.merged") == ["TroubleTicketStatusChangeEvent"]
    assert types("case.harm_reported") == ["TroubleTicketAttributeValueChangeEvent"]
    assert types("customer.updated", fields=["name", "status"]) == ["CustomerStateChangeEvent",
                                                                     "CustomerAttributeValueChangeEvent"]
    assert types("customer.updated", fields=[]) == []  # nothing changed, nothing to say
    assert types("individual.created") == ["IndividualCreateEvent"]
    assert types("organization.updated", fields=["status"]) == ["OrganizationStateChangeEvent"]
    assert types("product.terminated", toStatus="terminated") == ["ProductStateChangeEvent"]
    assert types("contact.recorded") == ["PartyInteractionCreateEvent"]
    assert types("contact.recorded", update=True) == ["PartyInteractionAttributeValueChangeEvent"]
    assert types("session.ended") == ["PartyInteractionStatusChangeEvent"]
    assert types("identifier.assigned") == []
    sent = {e for api in rules.APIS.values() for e in api.events} - rules.NEVER_SENT
    assert all(e.endswith("Event") for e in sent)


def test_the_hub_query():
    q = rules.parse_query(TT, "eventType=TroubleTicketStatusChangeEvent&event.troubleTicket.status=resolved,closed")
    assert q.matches("TroubleTicketStatusChangeEvent", {"status": "closed"})
    assert not q.matches("TroubleTicketStatusChangeEvent", {"status": "pending"})
    assert not q.matches("TroubleTicketCreateEvent", {"status": "closed"})
    assert rules.parse_query(TT, None).matches("TroubleTicketCreateEvent", {})
    for bad, says in (("eventType=CustomerCreateEvent", "not an event of this API"), ("status", "not name=value"),
                      ("event.troubleTicket.owner=x", "cannot filter"), ("event.customer.status=x", "cannot filter"),
                      ("x" * 2001, "longer than")):
        with pytest.raises(rules.QueryError, match=says):
            rules.parse_query(TT, bad)


@pytest.mark.parametrize(("address", "internal"), [
    ("127.0.0.1", True), ("10.1.2.3", True), ("172.16.0.1", True), ("192.168.0.10", True), ("169.254.169.254", True),
    ("100.64.0.1", True), ("0.0.0.0", True), ("::1", True), ("fe80::1", True), ("fd00::1", True),
    ("::ffff:127.0.0.1", True), ("224.0.0.1", True), ("93.184.216.34", False), ("2606:2800:220:1::1", False)])
def test_internal_addresses_are_refused_unless_allow_listed(address, internal):
    none = rules.AllowList.parse("")
    assert (rules.address_problem("host.example", address, none) is not None) == internal
    assert rules.address_problem("host.example", address, rules.AllowList.parse(address)) is None
    assert rules.address_problem("host.example", address, rules.AllowList.parse("*.example")) is None
    only = rules.AllowList.parse("crm.internal", only=True)
    assert rules.address_problem("host.example", address, only) is not None
    assert rules.address_problem("crm.internal", address, only) is None


def test_callback_urls():
    allow = rules.AllowList.parse("10.0.0.0/8, hooks.internal")
    ok = rules.parse_callback("https://hooks.example.net:8443/tmf?x=1", production=True, allow=allow)
    assert (ok.host, ok.port, ok.target) == ("hooks.example.net", 8443, "/tmf?x=1")
    for bad in ("ftp://x", "https://user:pw@x.example", "https://x.example/#f", "", "x" * 2001, "http://x:99999/"):
        with pytest.raises(ValueError):
            rules.parse_callback(bad, production=False, allow=allow)
    with pytest.raises(ValueError, match="https"):
        rules.parse_callback("http://x.example/", production=True, allow=allow)
    assert rules.parse_callback("http://hooks.internal/", production=True, allow=allow).scheme == "http"
    with pytest.raises(ValueError):
        rules.AllowList.parse("not a host!")


def test_retries_wait_longer_each_time_up_to_six_hours():
    waits = [rules.backoff(n) for n in range(1, 14)]
    assert waits[:4] == [timedelta(seconds=30), timedelta(minutes=1), timedelta(minutes=2), timedelta(minutes=4)]
    assert waits == sorted(waits) and waits[-1] == timedelta(hours=6)


def test_webhooks_carry_onethread_s_events_without_free_text():
    assert rules.webhook_event("case.decision") == rules.webhook_event("decision.made") == "decision.made"
    assert rules.webhook_event("case.approval_requested") == rules.webhook_event("approval.requested")
    assert rules.webhook_event("case.harm_reported") is None
    assert rules.webhook_data({"caseId": "C", "timelineDetail": "she cried", "reason": "x", "outcome": "repair"}) == {
        "caseId": "C", "outcome": "repair"}
    with pytest.raises(rules.QueryError):
        rules.check_webhook_events(["case.deleted"])
