"""E-mail intake: the IMAP poller the worker runs when ONETHREAD_IMAP_HOST is set.

One poll: connect, EXAMINE the mailbox (read-only: nothing is ever deleted, moved or
flagged; bodies are fetched with BODY.PEEK), compare UIDVALIDITY with the stored cursor
(a new value resets the cursor to 0; the Message-ID idempotency of ``record`` keeps the
re-read from duplicating), then take up to ``batch_size`` UIDs above the cursor in UID
order. Each message is stored in its own transaction together with the cursor advance,
so a worker stopped mid-batch resumes after the last committed message, and a message
stored by a run that died before committing its cursor is simply recognised again.
"""

from __future__ import annotations

import contextlib
import imaplib
import logging
import re
import ssl
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.orm import Session, sessionmaker

from onethread.access.rules import INTEGRATION, Principal
from onethread.attachments import service as attachments
from onethread.errors import DomainError
from onethread.interactions import service
from onethread.interactions.channels.mail import ParsedMail, parse, synthetic_id
from onethread.interactions.rules import Direction
from onethread.interactions.service import Intake
from onethread.kernel.clock import Clock
from onethread.models import MailboxCursor

log = logging.getLogger("onethread.imap")

CHANNEL = "email"
ACTOR = Principal(kind="system", id="imap", name="E-mail intake", role=INTEGRATION)
# The database went away or is busy: stop this poll without moving the cursor; the next pass retries.
TRANSIENT = (OperationalError, InterfaceError, PoolTimeout)


@dataclass(frozen=True)
class MailboxConfig:
    host: str
    user: str
    password: str
    port: int = 993
    ssl: bool = True
    mailbox: str = "INBOX"
    batch_size: int = 50
    timeout: float = 60.0
    ssl_context: ssl.SSLContext | None = field(default=None, compare=False, repr=False)  # default: system CAs

    @property
    def key(self) -> str:
        """The cursor's name: which account and folder it tracks (the port may change freely)."""
        return f"imap://{self.user}@{self.host}/{self.mailbox}"[:300]


@dataclass
class PollReport:
    mailbox: str
    stored: int = 0
    queued: int = 0  # of the stored, how many went to the match queue (sender not known)
    duplicates: int = 0  # already stored (redelivery, UIDVALIDITY re-read, another worker)
    skipped: list[tuple[int, str]] = field(default_factory=list)  # (uid, why) - logged, cursor moved past
    pending: int = 0  # UIDs still waiting after this batch
    uidvalidity_reset: bool = False

    @property
    def changed(self) -> bool:
        return bool(self.stored or self.duplicates or self.skipped or self.uidvalidity_reset)

    def summary(self) -> str:
        text = (f"{self.mailbox}: {self.stored} stored ({self.queued} to the match queue), "
                f"{self.duplicates} already stored, {len(self.skipped)} skipped")
        if self.skipped:
            text += " (" + "; ".join(f"uid {uid}: {why}" for uid, why in self.skipped) + ")"
        if self.pending:
            text += f", {self.pending} waiting for the next pass"
        if self.uidvalidity_reset:
            text += ", UIDVALIDITY changed: re-read from the start"
        return text


# --- storing: one message, one transaction, cursor included --------------------------------------

def _to_db(value: int) -> int:
    """IMAP numbers are unsigned 32-bit; the cursor columns are 64-bit (migration 0004)."""
    return value


def _from_db(value: int) -> int:
    return value


def _locked_cursor(session: Session, key: str) -> MailboxCursor | None:
    return session.scalars(select(MailboxCursor).where(MailboxCursor.mailbox == key).with_for_update()
                           .execution_options(populate_existing=True)).first()


def _open_cursor(sessions: sessionmaker[Session], clock: Clock, key: str, uidvalidity: int,
                 report: PollReport) -> int:
    with sessions() as session, session.begin():
        cursor = _locked_cursor(session, key)
        if cursor is None:
            try:
                with session.begin_nested():
                    session.add(MailboxCursor(mailbox=key, uidvalidity=_to_db(uidvalidity), last_uid=0,
                                              updated_at=clock.now()))
            except IntegrityError:
                pass  # another worker created it first
            cursor = _locked_cursor(session, key)
        if _from_db(cursor.uidvalidity) != uidvalidity:
            log.warning("%s: UIDVALIDITY changed from %s to %s; reading the mailbox again from the start "
                        "(Message-IDs already stored are not duplicated)", key, _from_db(cursor.uidvalidity),
                        uidvalidity)
            cursor.uidvalidity, cursor.last_uid, cursor.updated_at = _to_db(uidvalidity), 0, clock.now()
            report.uidvalidity_reset = True
        return _from_db(cursor.last_uid)


def _claim(session: Session, key: str, uidvalidity: int, uid: int) -> MailboxCursor | None:
    """The cursor, locked, if this UID is still ours to handle (not done by another worker)."""
    cursor = _locked_cursor(session, key)
    if cursor is None or _from_db(cursor.uidvalidity) != uidvalidity or _from_db(cursor.last_uid) >= uid:
        return None
    return cursor


def to_intake(session: Session, mail: ParsedMail) -> Intake:
    """The Intake for a parsed message; a reply joins the thread of the first parent found."""
    thread_id = None
    for parent_id in [*([mail.in_reply_to] if mail.in_reply_to else []), *reversed(mail.references)]:
        parent = service.find_by_message_id(session, CHANNEL, parent_id)
        if parent is not None:
            thread_id = parent.thread_id or parent.id
            break
    return Intake(channel=CHANNEL, direction=Direction.INBOUND, kind="message", occurred_at=mail.occurred_at,
                  subject=mail.subject, text=mail.text, attachments=mail.attachments,
                  identifiers={"email": mail.sender} if mail.sender else None, channel_message_id=mail.message_id,
                  in_reply_to=mail.in_reply_to, thread_id=thread_id, extra=mail.extra)


def _store(sessions: sessionmaker[Session], clock: Clock, key: str, uidvalidity: int, uid: int,
           raw: bytes, internaldate: datetime | None, report: PollReport) -> None:
    mail = parse(raw, fallback_id=synthetic_id(raw), internaldate=internaldate, now=clock.now())
    mail.extra["imap"] = {"mailbox": key, "uidvalidity": uidvalidity, "uid": uid}
    with sessions() as session, session.begin():
        cursor = _claim(session, key, uidvalidity, uid)
        if cursor is None:
            report.duplicates += 1
            return
        recorded = service.record(session, clock, ACTOR, to_intake(session, mail))
        if recorded.created and mail.files:  # the files themselves, not only their names
            attachments.keep(session, clock, ACTOR, recorded.contact,
                             [attachments.Incoming(n, t, d) for n, t, d in mail.files], source="email", strict=False)
        cursor.last_uid, cursor.updated_at = _to_db(uid), clock.now()
    if recorded.created:
        report.stored += 1
        report.queued += int(recorded.match_item is not None)
    else:
        report.duplicates += 1


def _skip(sessions: sessionmaker[Session], clock: Clock, key: str, uidvalidity: int, uid: int, why: str,
          report: PollReport) -> None:
    with sessions() as session, session.begin():
        cursor = _claim(session, key, uidvalidity, uid)
        if cursor is not None:
            cursor.last_uid, cursor.updated_at = _to_db(uid), clock.now()
    report.skipped.append((uid, why))


# --- IMAP ------------------------------------------------------------------------------------

class ImapError(Exception):
    """The server refused something or answered what we cannot read (the poll stops, the cursor stays)."""


def _quote(mailbox: str) -> str:
    if re.fullmatch(r"[A-Za-z0-9_./-]+", mailbox):
        return mailbox
    return '"' + mailbox.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _ok(answer: tuple[str, list], what: str) -> list:
    typ, data = answer
    if typ != "OK":
        raise ImapError(f"{what}: {typ} {b' '.join(d for d in data if isinstance(d, bytes))!r}")
    return data


def _connect(config: MailboxConfig) -> imaplib.IMAP4:
    if config.ssl:
        conn = imaplib.IMAP4_SSL(config.host, config.port, ssl_context=config.ssl_context or
                                 ssl.create_default_context(), timeout=config.timeout)
    else:
        conn = imaplib.IMAP4(config.host, config.port, timeout=config.timeout)
    try:
        _ok(conn.login(config.user, config.password), "LOGIN")
    except imaplib.IMAP4.error as exc:
        with contextlib.suppress(OSError):
            conn.shutdown()
        raise ImapError(f"login as {config.user} on {config.host} refused: {exc}") from exc
    return conn


def _uidvalidity(conn: imaplib.IMAP4, mailbox: str) -> int:
    _ok(conn.select(_quote(mailbox), readonly=True), f"EXAMINE {mailbox}")
    _, data = conn.response("UIDVALIDITY")
    if not data or data[0] is None:
        data = _ok(conn.status(_quote(mailbox), "(UIDVALIDITY)"), "STATUS")
        found = re.search(rb"UIDVALIDITY (\d+)", data[0] or b"")
        data = [found.group(1)] if found else []
    if not data:
        raise ImapError(f"{mailbox}: the server did not say its UIDVALIDITY")
    return int(data[0])


def _internaldate(head: bytes) -> datetime | None:
    found = re.search(rb'INTERNALDATE "([^"]+)"', head)
    if not found:
        return None
    try:
        return datetime.strptime(found.group(1).decode().strip(), "%d-%b-%Y %H:%M:%S %z").astimezone(UTC)
    except ValueError:
        return None


def _fetch(conn: imaplib.IMAP4, uid: int) -> tuple[bytes, datetime | None] | None:
    """The message's bytes (BODY.PEEK: the \\Seen flag is left alone) and INTERNALDATE; None if expunged."""
    data = _ok(conn.uid("FETCH", str(uid), "(UID INTERNALDATE BODY.PEEK[])"), f"FETCH {uid}")
    literals = [item for item in data if isinstance(item, tuple) and len(item) == 2]
    heads = b" ".join(item[0] if isinstance(item, tuple) else (item or b"") for item in data)
    if not literals:
        return None
    for head, body in literals:
        found = re.search(rb"UID (\d+)", head)
        if found and int(found.group(1)) == uid:
            return body, _internaldate(head)
    return (literals[0][1], _internaldate(heads)) if len(literals) == 1 else None


def poll(sessions: sessionmaker[Session], clock: Clock, config: MailboxConfig) -> PollReport:
    """Store up to ``config.batch_size`` new messages; see the module docstring."""
    report = PollReport(mailbox=config.key)
    if not config.user:
        raise ImapError(f"no IMAP user is configured for {config.host}")
    try:
        conn = _connect(config)
    except (OSError, imaplib.IMAP4.error) as exc:  # refused, timed out, TLS failed, not an IMAP server
        raise ImapError(f"cannot reach {config.host}:{config.port}: {exc}") from exc
    try:
        uidvalidity = _uidvalidity(conn, config.mailbox)
        last = _open_cursor(sessions, clock, config.key, uidvalidity, report)
        data = _ok(conn.uid("SEARCH", None, f"UID {last + 1}:*"), "SEARCH")
        # "n:*" always includes the highest UID, even when it is not above n: filter.
        uids = sorted(u for u in {int(x) for x in b" ".join(d for d in data if d).split()} if u > last)
        batch, report.pending = uids[:config.batch_size], max(0, len(uids) - config.batch_size)
        for uid in batch:
            fetched = _fetch(conn, uid)
            if fetched is None:
                _skip(sessions, clock, config.key, uidvalidity, uid, "not returned by the server (expunged?)", report)
                continue
            try:
                _store(sessions, clock, config.key, uidvalidity, uid, fetched[0], fetched[1], report)
            except TRANSIENT:
                raise
            except Exception as exc:
                why = exc.message if isinstance(exc, DomainError) else f"{type(exc).__name__}: {exc}"
                log.log(logging.WARNING if isinstance(exc, DomainError) else logging.ERROR,
                        "%s uid %s could not be stored, skipped (it stays on the server): %s", config.key, uid, why,
                        exc_info=not isinstance(exc, DomainError))
                _skip(sessions, clock, config.key, uidvalidity, uid, why[:300], report)
    except (OSError, imaplib.IMAP4.error) as exc:
        raise ImapError(f"{config.key}: {exc}") from exc
    finally:
        with contextlib.suppress(OSError, imaplib.IMAP4.error):
            conn.logout()
    return report
