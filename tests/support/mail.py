"""Private Dovecot and Postfix instances (the ``dovecot`` and ``postfix`` fixtures) and the messages
delivered to them (``delivered``)."""

from __future__ import annotations

import email
import time
from email import policy
from email.message import EmailMessage

import pytest

from tests import imap_server, mail_server
from tests.support.environment import skip_or_fail


@pytest.fixture(scope="session")
def dovecot():
    if not imap_server.installed():
        skip_or_fail("Dovecot is not installed (apt-get install dovecot-imapd)")
    server = imap_server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def postfix(dovecot):
    if not mail_server.installed():
        skip_or_fail("Postfix is not installed (apt-get install postfix)")
    server = mail_server.start(dovecot)
    yield server
    server.remove()


def delivered(dovecot, message_id: str, *, at_least: int = 1, wait: float = 20.0) -> list[EmailMessage]:
    """The copies of ``message_id`` in the Dovecot INBOX Postfix delivers to (Postfix delivers a
    moment after it accepts, so this waits up to ``wait`` seconds for ``at_least`` of them)."""
    deadline = time.monotonic() + wait
    while True:
        conn = dovecot.client()
        try:
            conn.select("INBOX", readonly=True)
            _, data = conn.search(None, "HEADER", "Message-ID", message_id)
            found = []
            for num in (data[0] or b"").split():
                _, parts = conn.fetch(num, "(BODY.PEEK[])")
                found.append(email.message_from_bytes(parts[0][1], policy=policy.default))
        finally:
            conn.logout()
        if len(found) >= at_least or time.monotonic() > deadline:
            return found
        time.sleep(0.2)
