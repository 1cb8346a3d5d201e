"""Reading an e-mail: bytes -> what onethread keeps (no database, no network).

Lenient on purpose: every field that cannot be read is noted in ``extra['problems']`` and the
rest is kept, so one malformed message never blocks a mailbox.
"""

from __future__ import annotations

import email
import hashlib
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage
from email.parser import BytesHeaderParser
from email.utils import parseaddr
from html.parser import HTMLParser

from onethread.interactions import rules

MAX_ID = 300  # width of contact.channel_message_id and contact.in_reply_to
MAX_SUBJECT = 300  # width of contact.subject


@dataclass(frozen=True)
class ParsedMail:
    message_id: str
    sender: str | None
    subject: str | None
    text: str | None
    occurred_at: datetime
    attachments: list[dict]
    in_reply_to: str | None
    references: list[str]
    extra: dict
    # the attachments' bytes, in the order of ``attachments``: (file name, declared type, bytes)
    files: list[tuple[str | None, str, bytes]] = field(default_factory=list)


def message_key(value: str) -> str:
    """A Message-ID as stored: as written (with <>), or a stable hash when wider than the column."""
    if len(value) <= MAX_ID:
        return value
    return f"<sha256.{hashlib.sha256(value.encode('utf-8', 'replace')).hexdigest()}@onethread.invalid>"


def _msg_ids(value: str | None) -> list[str]:
    if not value:
        return []
    found = ["<" + "".join(m.split()) + ">" for m in re.findall(r"<([^<>]+)>", value)]
    if not found and value.strip():
        found = ["<" + "".join(value.split()).strip("<>") + ">"]
    return [message_key(v) for v in found if len(v) > 2]


def _clean(value: str | None, limit: int | None = None) -> str | None:
    if value is None:
        return None
    value = value.replace("\x00", "")  # PostgreSQL text cannot hold NUL
    return value[:limit] if limit else value


class _HtmlText(HTMLParser):
    BLOCKS = frozenset({"p", "div", "br", "li", "tr", "table", "blockquote", "h1", "h2", "h3", "h4", "h5", "h6",
                        "ul", "ol", "pre", "hr"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.hidden = 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style", "head", "title"):
            self.hidden += 1
        elif tag in self.BLOCKS:
            self.parts.append("\n")

    def handle_endtag(self, tag):
        if tag in ("script", "style", "head", "title"):
            self.hidden = max(0, self.hidden - 1)
        elif tag in self.BLOCKS:
            self.parts.append("\n")

    def handle_data(self, data):
        if not self.hidden:
            self.parts.append(data)


def html_to_text(html: str) -> str:
    parser = _HtmlText()
    parser.feed(html)
    parser.close()
    lines = [" ".join(line.split()) for line in "".join(parser.parts).splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def _text_of(part, problems: list[str]) -> str:
    try:
        return part.get_content()
    except Exception as exc:  # unknown charset, broken transfer encoding...
        problems.append(f"body: {exc}")
        payload = part.get_payload(decode=True) or b""
        return payload.decode("utf-8", errors="replace") if isinstance(payload, bytes) else str(payload)


def _is_attachment(part) -> bool:
    return (part.get_content_disposition() == "attachment" or bool(part.get_filename())
            or part.get_content_maintype() != "text")


def _attachment(part, problems: list[str], files: list) -> dict:
    try:
        filename = part.get_filename()
    except Exception as exc:
        problems.append(f"attachment name: {exc}")
        filename = None
    payload = part.get_payload(decode=True)
    data = payload if isinstance(payload, bytes) else part.as_bytes()
    files.append((_clean(filename), part.get_content_type(), data))
    return {"filename": _clean(filename), "contentType": part.get_content_type(), "size": len(data)}


def _attachments(part, body, out: list[dict], problems: list[str], files: list) -> None:
    if part is body:
        return
    if part.get_content_type() == "message/rfc822" or (not part.is_multipart() and _is_attachment(part)):
        out.append(_attachment(part, problems, files))
    elif part.is_multipart():
        for sub in part.get_payload():
            _attachments(sub, body, out, problems, files)


def _guard(problems: list[str], what: str, read, default=None):
    try:
        return read()
    except Exception as exc:
        problems.append(f"{what}: {exc}")
        return default


def _sender(msg: EmailMessage, raw: bytes) -> str | None:
    for address in getattr(msg["From"], "addresses", ()):
        if "@" in (address.addr_spec or ""):
            return address.addr_spec
    # The strict parser gave up: read the raw header the old way.
    _, addr = parseaddr(str(BytesHeaderParser(policy=policy.compat32).parsebytes(raw).get("From", "")))
    return addr if "@" in addr else None


def _date(msg: EmailMessage) -> datetime | None:
    header = msg["Date"]
    when = getattr(header, "datetime", None)
    if when is None:
        return None
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)


def parse(raw: bytes, *, fallback_id: str, internaldate: datetime | None, now: datetime) -> ParsedMail:
    """Read what can be read; every field that cannot is noted in ``extra['problems']``."""
    problems: list[str] = []
    msg = email.message_from_bytes(raw, policy=policy.default)
    ids = _guard(problems, "Message-ID", lambda: _msg_ids(msg.get("Message-ID")), [])
    parents = _guard(problems, "In-Reply-To", lambda: _msg_ids(msg.get("In-Reply-To")), [])
    references = _guard(problems, "References", lambda: _msg_ids(msg.get("References")), [])
    occurred = _guard(problems, "Date", lambda: _date(msg)) or internaldate or now
    subject = _guard(problems, "Subject", lambda: " ".join(str(msg.get("Subject") or "").split()) or None)
    sender = _guard(problems, "From", lambda: _sender(msg, raw))
    body = _guard(problems, "body", lambda: msg.get_body(preferencelist=("plain", "html")))
    text = None
    if body is not None:
        text = _guard(problems, "body", lambda: _text_of(body, problems))
        if text is not None and body.get_content_subtype() == "html":
            text = _guard(problems, "html", lambda: html_to_text(text), text)
    attachments: list[dict] = []
    files: list[tuple[str | None, str, bytes]] = []
    _guard(problems, "attachments", lambda: _attachments(msg, body, attachments, problems, files))
    if len(files) != len(attachments):  # one could not be read whole: keep the names, not half the files
        files = []
    recipients = _guard(problems, "To", lambda: [_clean(a.addr_spec) for a in getattr(msg["To"], "addresses", ())])
    extra: dict = {"to": recipients or []}
    text = _clean(text)
    if text is not None and len(text) > rules.MAX_TEXT:
        text, extra["truncated"] = text[:rules.MAX_TEXT], True
    if problems:
        extra["problems"] = [_clean(p, 300) for p in problems]
    return ParsedMail(
        message_id=ids[0] if ids else fallback_id, sender=_clean(sender), subject=_clean(subject, MAX_SUBJECT),
        text=text, occurred_at=occurred, attachments=attachments, in_reply_to=parents[0] if parents else None,
        references=references, extra=extra, files=files,
    )


def synthetic_id(raw: bytes) -> str:
    """For a message without Message-ID: the same bytes give the same id, even after UIDVALIDITY changes."""
    return f"<sha256.{hashlib.sha256(raw).hexdigest()}@no-message-id.onethread.invalid>"
