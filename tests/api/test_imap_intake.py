"""E-mail intake against a real Dovecot: matching, the match queue, threads, restart safety.

Each test gets its own IMAP folder (fresh UIDs and UIDVALIDITY) on one session-wide server.
"""

from __future__ import annotations

import dataclasses
import ssl
import threading
import uuid
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime

import pytest
from sqlalchemy import func, select

from onethread.access.rules import SYSTEM
from onethread.config import Settings
from onethread.customers import identifier_service
from onethread.customers import service as customers
from onethread.errors import ValidationFailed
from onethread.interactions import service as interactions
from onethread.interactions.channels import imap
from onethread.interactions.channels.mail import parse
from onethread.jobs.registry import pollers
from onethread.jobs.runner import run_once
from onethread.models import Contact, MailboxCursor, MatchItem, TimelineEntry
from tests import imap_server
from tests.support.environment import START
from tests.support.mail import dovecot as dovecot

KNOWN = "dana.known@mail.example"
SENT = START - timedelta(hours=20)


@pytest.fixture
def mailbox(dovecot) -> str:
    name = f"test_{uuid.uuid4().hex[:12]}"
    dovecot.create_mailbox(name)
    return name


@pytest.fixture
def settings(database_url, dovecot, mailbox) -> Settings:
    return Settings(database_url=database_url, env="test", imap_host=dovecot.host, imap_port=dovecot.port,
                    imap_ssl=False, imap_user=dovecot.user, imap_password=dovecot.password, imap_mailbox=mailbox,
                    imap_batch_size=10)


@pytest.fixture
def customer_id(uow, clock) -> str:
    with uow() as s:
        party = customers.create_individual(s, clock, SYSTEM, given_name="Dana", family_name="Known")
        cust = customers.create_customer(s, clock, SYSTEM, party_id=party.id)
        identifier_service.assign(s, clock, SYSTEM, customer_id=cust.id, kind="email", value=KNOWN,
                                  valid_from=START - timedelta(days=365))
        return cust.id


def mail(n: int, *, sender: str = KNOWN, subject: str | None = None, body: str | None = None,
         in_reply_to: str | None = None, references: str | None = None, message_id: str | None = "auto",
         html: str | None = None, attachment: bytes | None = None, sent: datetime = SENT) -> bytes:
    msg = EmailMessage()
    msg["From"] = f"Customer {n} <{sender}>"
    msg["To"] = "support@operator.example"
    msg["Subject"] = subject or f"message {n}"
    msg["Date"] = format_datetime(sent + timedelta(minutes=n))
    if message_id:
        msg["Message-ID"] = f"<m{n}.{uuid.uuid4().hex[:8]}@mail.example>" if message_id == "auto" else message_id
    if in_reply_to:
        msg["In-Reply-To"] = in_reply_to
    if references:
        msg["References"] = references
    msg.set_content(body or f"Hello, this is message {n}.")
    if html:
        msg.add_alternative(html, subtype="html")
    if attachment is not None:
        msg.add_attachment(attachment, maintype="application", subtype="pdf", filename="bill.pdf")
    return bytes(msg)


def poll(container) -> imap.PollReport:
    [(name, poller)] = pollers(container)
    assert name == "imap"
    return poller()


def contacts(uow) -> list[Contact]:
    with uow() as s:
        return list(s.scalars(select(Contact).order_by(Contact.occurred_at, Contact.id)))


def test_known_sender_is_matched_unknown_goes_to_the_match_queue(container, uow, dovecot, mailbox, customer_id):
    dovecot.append(mailbox, mail(1, html="<p>Hello <b>there</b></p>", attachment=b"%PDF-1.4 bill"),
                   mail(2, sender="stranger@elsewhere.example", subject="who am I"))

    report = run_once(container)  # the worker's pass: `onethread worker --once` does exactly this

    assert "2 stored (1 to the match queue)" in report.polls["imap"], report.summary()
    known, unknown = contacts(uow)
    assert (known.channel, known.direction, known.kind) == ("email", "inbound", "message")
    assert known.customer_id == customer_id and known.match_status == "matched"
    assert known.subject == "message 1" and known.text.strip() == "Hello, this is message 1."
    assert known.occurred_at.replace(tzinfo=UTC) == SENT + timedelta(minutes=1)
    [kept] = known.attachments  # the file itself is kept (test_attachments_kept.py reads it back)
    assert {k: kept[k] for k in ("filename", "contentType", "size", "name", "mimeType")} == {
        "filename": "bill.pdf", "contentType": "application/pdf", "size": 13, "name": "bill.pdf",
        "mimeType": "application/pdf"}
    assert kept["url"] == f"/api/v1/attachments/{kept['id']}/content"
    assert known.identifiers == {"email": KNOWN}
    assert known.channel_message_id.startswith("<m1.") and known.thread_id == known.id
    assert known.actor_name == "E-mail intake" and known.extra["imap"]["uid"] == 1
    assert unknown.customer_id is None and unknown.match_status == "queued"
    with uow() as s:
        item = s.scalar(select(MatchItem).where(MatchItem.contact_id == unknown.id))
        assert item is not None and item.reason == "no_match"
        assert s.scalar(select(func.count()).select_from(TimelineEntry)
                        .where(TimelineEntry.customer_id == customer_id, TimelineEntry.channel == "email")) == 1
    # Read-only: both messages are still there and not even marked \Seen.
    assert dovecot.uids(mailbox) == [1, 2]
    assert not any(b"\\Seen" in f for f in dovecot.flags(mailbox))


def test_replies_join_the_thread_of_their_parent(container, uow, dovecot, mailbox, customer_id):
    first = "<first.thread@mail.example>"
    dovecot.append(
        mailbox,
        mail(1, message_id=first),
        mail(2, in_reply_to=first, references=first, subject="Re: message 1"),
        # Only References, the parent last, behind an id we never saw:
        mail(3, references=f"<unknown@else.example> {first}", subject="Re: Re: message 1"),
        mail(4, subject="a new question"),
    )
    assert poll(container).stored == 4
    one, two, three, four = contacts(uow)
    assert one.thread_id == one.id
    assert two.thread_id == one.id and two.in_reply_to == first
    assert three.thread_id == one.id and three.in_reply_to is None
    assert four.thread_id == four.id

    # A later reply to the reply (a new poll) still lands in the first message's thread.
    dovecot.append(mailbox, mail(5, in_reply_to=two.channel_message_id, sender="stranger@elsewhere.example"))
    assert poll(container).stored == 1
    assert contacts(uow)[-1].thread_id == one.id


class Crash(BaseException):
    """The worker process dying: not an error the poller may catch and skip."""


def test_a_crash_mid_batch_loses_nothing_and_duplicates_nothing(container, uow, dovecot, mailbox, customer_id,
                                                                monkeypatch):
    dovecot.append(mailbox, *(mail(n) for n in range(1, 6)))
    real_record, calls = interactions.record, []

    def dies_on_the_third(*args, **kwargs):
        calls.append(1)
        if len(calls) == 3:
            raise Crash()
        return real_record(*args, **kwargs)

    monkeypatch.setattr(interactions, "record", dies_on_the_third)
    with pytest.raises(Crash):
        poll(container)
    assert [c.subject for c in contacts(uow)] == ["message 1", "message 2"]
    with uow() as s:
        assert s.scalar(select(MailboxCursor.last_uid)) == 2

    monkeypatch.setattr(interactions, "record", real_record)
    report = poll(container)  # the restarted worker
    assert (report.stored, report.duplicates, report.skipped) == (3, 0, [])
    assert [c.subject for c in contacts(uow)] == [f"message {n}" for n in range(1, 6)]

    # Nothing new: polling again changes nothing.
    again = poll(container)
    assert (again.stored, again.duplicates, again.skipped, again.changed) == (0, 0, [], False)
    assert len(contacts(uow)) == 5

    # A cursor behind what is stored (stored, then died before the cursor moved) re-reads as duplicates.
    with uow() as s:
        s.scalar(select(MailboxCursor)).last_uid = 3
    report = poll(container)
    assert (report.stored, report.duplicates) == (0, 2)
    assert len(contacts(uow)) == 5


def test_two_workers_polling_at_once_store_each_message_once(container, uow, dovecot, mailbox, customer_id):
    dovecot.append(mailbox, *(mail(n) for n in range(1, 9)))
    start, reports, errors = threading.Barrier(2), [], []

    def worker():
        start.wait()
        try:
            reports.append(poll(container))
        except Exception as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors
    assert sum(r.stored for r in reports) == 8
    assert len(contacts(uow)) == 8


def test_uidvalidity_change_re_reads_without_duplicates(container, uow, dovecot, mailbox, customer_id):
    no_id = mail(3, message_id=None, subject="sent without a Message-ID")
    dovecot.append(mailbox, mail(1), mail(2), no_id)
    assert poll(container).stored == 3
    assert contacts(uow)[-1].channel_message_id.endswith("@no-message-id.onethread.invalid>")

    dovecot.set_uidvalidity(mailbox, 3_000_000_000)  # above 2**31: the cursor still tells them apart
    dovecot.append(mailbox, mail(4))
    report = poll(container)
    assert report.uidvalidity_reset
    assert (report.stored, report.duplicates, report.skipped) == (1, 3, [])
    assert len(contacts(uow)) == 4
    again = poll(container)
    assert (again.stored, again.duplicates, again.uidvalidity_reset) == (0, 0, False)


def test_batches_and_pending(container, uow, dovecot, mailbox, customer_id):
    dovecot.append(mailbox, *(mail(n) for n in range(1, 13)))
    first = poll(container)
    assert (first.stored, first.pending) == (10, 2)
    second = poll(container)
    assert (second.stored, second.pending) == (2, 0)
    assert len({c.channel_message_id for c in contacts(uow)}) == 12


MALFORMED = (
    b"From: =?x-no-such-charset?q?Bad?= <<garbage\r\n"
    b"To: support@operator.example\r\n"
    b"Subject: =?utf-8?q?Broken_but_readable?=\r\n"
    b"Date: the day after tomorrow\r\n"
    b"Content-Type: text/html; charset=x-no-such-charset\r\n"
    b"Content-Transfer-Encoding: quoted-printable\r\n"
    b"\r\n"
    b"<html><head><style>p{}</style></head><body><p>My bill=\r\n is wrong</p>\x00"
    b"<div>Please help</div></body></html>\r\n"
)


def test_malformed_message_is_kept_as_far_as_readable_and_a_refused_one_is_skipped(
        container, uow, dovecot, mailbox, customer_id, monkeypatch):
    internal = datetime(2026, 3, 1, 7, 30, tzinfo=UTC)
    dovecot.append(mailbox, MALFORMED, date_time=internal.timestamp())
    dovecot.append(mailbox, mail(2, subject="refused"), mail(3))
    real_record = interactions.record

    def refuses(session, clock, actor, intake, **kw):
        if intake.subject == "refused":
            raise ValidationFailed("text is not acceptable", field="text")
        return real_record(session, clock, actor, intake, **kw)

    monkeypatch.setattr(interactions, "record", refuses)
    report = run_once(container)
    assert "1 skipped (uid 2: text is not acceptable)" in report.polls["imap"]
    broken, third = contacts(uow)
    assert broken.subject == "Broken but readable"
    # Dovecot serves a NUL byte as 0x80 (undecodable: U+FFFD); other servers may pass it on.
    assert broken.text.startswith("My bill is wrong\n") and broken.text.endswith("\nPlease help")
    assert broken.occurred_at.replace(tzinfo=UTC) == internal  # the Date header was unreadable
    assert broken.match_status == "queued" and broken.identifiers == {}
    assert broken.channel_message_id.endswith("@no-message-id.onethread.invalid>")
    assert broken.extra["problems"]
    assert third.subject == "message 3" and third.customer_id == customer_id
    with uow() as s:
        assert s.scalar(select(MailboxCursor.last_uid)) == 3  # moved past the refused one

    monkeypatch.setattr(interactions, "record", real_record)
    assert not poll(container).changed  # skipped stays skipped (it is still on the server)
    assert dovecot.uids(mailbox) == [1, 2, 3]


def test_parse_drops_nul_bytes_postgresql_cannot_store():
    parsed = parse(MALFORMED, fallback_id="<x@y>", internaldate=None, now=START)
    assert parsed.text == "My bill is wrong\n\nPlease help" and parsed.occurred_at == START
    assert parsed.sender is None and parsed.message_id == "<x@y>"


def test_imaps_verifies_the_certificate(container, uow, dovecot, mailbox, customer_id):
    dovecot.append(mailbox, mail(1))
    config = imap.MailboxConfig(host="127.0.0.1", port=dovecot.ssl_port, ssl=True, user=dovecot.user,
                                password=dovecot.password, mailbox=mailbox)
    with pytest.raises(imap.ImapError, match="CERTIFICATE_VERIFY_FAILED"):  # self-signed: not trusted by default
        imap.poll(container.sessions, container.clock, config)
    trusted = dataclasses.replace(config, ssl_context=ssl.create_default_context(cafile=str(dovecot.ca_file)))
    assert imap.poll(container.sessions, container.clock, trusted).stored == 1
    assert contacts(uow)[0].customer_id == customer_id


def test_an_unreachable_server_does_not_stop_the_worker_pass(database_url, clock):
    from onethread.bootstrap import build

    wrong = Settings(database_url=database_url, env="test", imap_host="127.0.0.1", imap_port=imap_server._free_port(),
                     imap_ssl=False, imap_user="x", imap_password="y")
    c = build(wrong, clock=clock)
    try:
        report = run_once(c)
    finally:
        c.dispose()
    assert report.poll_failures == 1 and report.polls["imap"].startswith("failed: cannot reach")


def test_no_imap_host_means_no_poller(database_url, clock):
    from onethread.bootstrap import build

    c = build(Settings(database_url=database_url, env="test"), clock=clock)
    try:
        assert pollers(c) == []
        assert run_once(c).polls == {}
    finally:
        c.dispose()
