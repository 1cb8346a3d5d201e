"""Shared building blocks with no business rules: clock, ids, money, events, pagination."""
