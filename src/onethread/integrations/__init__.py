"""TMF hub subscriptions and outgoing webhooks, delivered by the worker from the outbox.

``rules`` (pure): which events exist, the hub query filter, which callback addresses are allowed,
retries, signatures. ``service``: registering and removing subscriptions, the dead deliveries.
``fanout``: the outbox consumer that turns each domain event into deliveries, exactly once.
``delivery``: the worker's sender (claim, sign, POST, retry, dead).
"""
