"""Parties, customers, accounts, households, representatives, vulnerability, identifiers over time."""
