"""The channels a customer and the operator reach each other by: one vocabulary, with its labels
and the subsets each capability allows, so no capability keeps a list of its own.

``Channel`` is a ``StrEnum``: a member *is* its string (``Channel.PHONE == "phone"``), so it is
stored, sent as JSON and compared with what a client sent without conversion.
"""

from __future__ import annotations

from enum import StrEnum


class Channel(StrEnum):
    STORE = "store"
    PHONE = "phone"
    EMAIL = "email"
    CHAT = "chat"
    SOCIAL = "social"
    LETTER = "letter"
    SMS = "sms"
    FIELD = "field"  # a technician at the customer's
    PORTAL = "portal"  # the customer's own online forms
    SYSTEM = "system"  # onethread or another system acting on its own

    @property
    def label(self) -> str:
        return LABELS[self]


# What people (staff pages, the timeline, TMF ChannelRef names) call each channel.
LABELS: dict[Channel, str] = {
    Channel.STORE: "Store", Channel.PHONE: "Phone", Channel.EMAIL: "E-mail", Channel.CHAT: "Web chat",
    Channel.SOCIAL: "Social media", Channel.LETTER: "Letter", Channel.SMS: "SMS",
    Channel.FIELD: "Field technician", Channel.PORTAL: "Online form / portal", Channel.SYSTEM: "System",
}
_LABEL_OF: dict[str, str] = {channel.value: text for channel, text in LABELS.items()}  # by plain string

# Every channel a contact can come or go by (interactions).
CHANNELS: tuple[Channel, ...] = tuple(Channel)
# Where a person serves the customer live, in a contact session (interactions, warm hand-overs).
SESSION_CHANNELS = (Channel.PHONE, Channel.STORE, Channel.CHAT)
# What a product change can be asked through (inventory): any channel but a text message.
PRODUCT_CHANNELS = tuple(c for c in Channel if c is not Channel.SMS)
# What a person records by hand on a case as having happened (not onethread's own texts, not "system").
RECORDED_CHANNELS = (Channel.PHONE, Channel.STORE, Channel.EMAIL, Channel.LETTER, Channel.SOCIAL, Channel.CHAT,
                     Channel.FIELD, Channel.PORTAL)
# The channels a reply to the customer can go out on. A store visit or a technician's visit is
# something that happens to the customer, not a way of answering them: a reply that "went out
# by store" reaches nobody and would stop the waiting clock for nothing.
REPLY_CHANNELS = (Channel.EMAIL, Channel.LETTER, Channel.SMS, Channel.PHONE, Channel.SOCIAL, Channel.CHAT,
                  Channel.PORTAL)
# Of those, the ones onethread itself delivers (outreach): e-mail, letter, text message.
SENT_CHANNELS = (Channel.EMAIL, Channel.LETTER, Channel.SMS)


def label(channel: str) -> str:
    """The channel's label; an unknown value (an old row) is shown as it is."""
    return _LABEL_OF.get(channel, channel)
