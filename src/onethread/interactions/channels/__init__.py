"""Channel adapters: turn what a channel delivers into an ``Intake`` for ``interactions.service.record``.

- ``imap``: polls a mailbox for customer e-mail (run by the worker when ONETHREAD_IMAP_HOST is set).
- ``mail``: reads one e-mail message (pure: no database, no network).
"""
