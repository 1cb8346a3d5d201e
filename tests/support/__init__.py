"""Helpers the test modules share: worlds, sign-ins, HTTP and CLI helpers, mail servers.

No test module imports another test module (tests/unit/test_test_layout.py); what two of them
need lives here."""
