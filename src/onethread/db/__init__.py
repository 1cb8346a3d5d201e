"""Persistence plumbing: declarative base, engine, session scope, outbox, migrations."""
