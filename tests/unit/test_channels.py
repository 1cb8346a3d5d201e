"""One channel vocabulary: every capability's channel list and every label come from kernel/channels.py."""

from __future__ import annotations

from onethread.api.tmf import party_interaction
from onethread.cases import contact_service
from onethread.cases import rules as case_rules
from onethread.interactions import rules as contact_rules
from onethread.inventory import rules as inventory_rules
from onethread.kernel import channels
from onethread.kernel.channels import Channel
from onethread.outreach import rules as outreach_rules
from onethread.web import agent


def test_a_channel_is_its_string_and_has_one_label():
    assert Channel.PHONE == "phone" and f"{Channel.PHONE}" == "phone" and "phone" in channels.CHANNELS
    assert Channel("social").label == channels.label("social") == "Social media"
    assert channels.label("pigeon") == "pigeon"  # an unknown value from an old row is shown as it is
    assert set(channels.LABELS) == set(Channel)


def test_every_capability_draws_its_channels_from_the_one_vocabulary():
    assert contact_rules.CHANNELS is channels.CHANNELS == tuple(Channel)
    assert contact_rules.SESSION_CHANNELS is channels.SESSION_CHANNELS
    assert agent.TIMELINE_CHANNELS is channels.CHANNELS
    assert inventory_rules.CHANNELS is channels.PRODUCT_CHANNELS and "sms" not in inventory_rules.CHANNELS
    assert case_rules.REPLY_CHANNELS is channels.REPLY_CHANNELS and "store" not in case_rules.REPLY_CHANNELS
    assert case_rules.SENT_CHANNELS is outreach_rules.CHANNELS is channels.SENT_CHANNELS
    assert contact_service.RECORDABLE_CHANNELS is channels.RECORDED_CHANNELS
    for subset in (channels.SESSION_CHANNELS, channels.PRODUCT_CHANNELS, channels.RECORDED_CHANNELS,
                   channels.REPLY_CHANNELS, channels.SENT_CHANNELS):
        assert set(subset) <= set(Channel)
    assert set(channels.SENT_CHANNELS) <= set(channels.REPLY_CHANNELS)


def test_the_tmf_channel_names_are_the_labels_and_read_back():
    assert party_interaction.CHANNEL_NAMES is channels.LABELS
    for channel in Channel:
        assert contact_rules.channel_named(channel.value) == channel
    assert contact_rules.channel_named("Online form / portal") == Channel.PORTAL
