"""Contacts from every channel, identity resolution and the match queue, contact sessions
with verification and transfers, channel intake (e-mail, social), and the timeline."""
