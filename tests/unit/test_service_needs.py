"""The pure reading of a vulnerable customer's needs: which channel a reply takes, what is refused."""

from __future__ import annotations

from onethread.customers.rules import ServiceNeeds, need_words, service_needs


def test_the_reply_channel_follows_her_choice_then_her_needs_then_nothing():
    assert service_needs([["assisted_channels"], ["letters"]], None).reply_channel == "letter"
    assert service_needs([["assisted_channels"]], None).reply_channel == "phone"
    assert service_needs([["phone"]], None).reply_channel == "phone"
    assert service_needs([["priority"]], ["sms", "email"]).reply_channel == "sms"
    # an assisted-only customer's chosen e-mail is skipped for the letter she also chose
    assert service_needs([["assisted_channels"]], ["email", "letter"]).reply_channel == "letter"
    assert ServiceNeeds().reply_channel is None


def test_only_online_only_replies_are_refused_and_only_for_assisted_customers():
    assisted = service_needs([["no_digital_only_contact"]], None)
    assert [c for c in ("email", "letter", "sms", "phone", "social", "chat", "portal") if assisted.refuses(c)] == [
        "social", "chat", "portal"]
    assert "reply by letter or phone" in assisted.refuses("portal")
    assert not service_needs([["priority"]], None).refuses("portal")


def test_needs_merge_once_in_order_and_read_in_plain_words():
    needs = service_needs([["priority", "letters"], None, ["letters", "proactive_contact"]], None)
    assert needs.needs == ("priority", "letters", "proactive_contact")
    assert needs.priority and needs.proactive and not needs.assisted_only and not needs.copy_representative
    assert need_words("letters") == "write to them by letter"
    assert need_words("large_print") == "large print"  # an unknown need, as recorded
