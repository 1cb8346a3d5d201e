"""E-mail out: the message as RFC 5322 bytes (threaded, with its attachments) and one SMTP attempt
whose outcome is sent, retry (nothing was handed over), failed (refused for good) or unknown (the
connection ended after the message was handed over: the server may have it).

No database here; ``delivery`` records what happened.
"""

from __future__ import annotations

import smtplib
import ssl
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, getaddresses

from onethread.outreach.rules import Outcome


@dataclass(frozen=True)
class SmtpConfig:
    host: str
    port: int = 587
    security: str = "starttls"  # starttls | ssl | none
    user: str | None = None
    password: str | None = None
    timeout: float = 30.0
    ssl_context: ssl.SSLContext | None = None

    @property
    def name(self) -> str:
        return f"smtp://{self.host}:{self.port}"


@dataclass(frozen=True)
class Attachment:
    filename: str
    content_type: str
    content: bytes


def build(*, sender: str, to: str, cc: list[str], subject: str, body: str, message_id: str, date: datetime,
          in_reply_to: str | None, references: str | None, attachments: list[Attachment]) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = to
    if cc:
        msg["Cc"] = ", ".join(cc)
    msg["Subject"] = subject
    msg["Date"] = format_datetime(date)
    msg["Message-ID"] = message_id
    if in_reply_to:
        msg["In-Reply-To"] = in_reply_to
    if references:
        msg["References"] = references
    msg["Auto-Submitted"] = "auto-generated" if not in_reply_to else "no"
    msg.set_content(body)
    for a in attachments:
        main, _, sub = a.content_type.partition("/")
        msg.add_attachment(a.content, maintype=main, subtype=sub or "octet-stream", filename=a.filename)
    return msg


def _connect(config: SmtpConfig) -> smtplib.SMTP:
    context = config.ssl_context or ssl.create_default_context()
    if config.security == "ssl":
        conn = smtplib.SMTP_SSL(config.host, config.port, timeout=config.timeout, context=context)
    else:
        conn = smtplib.SMTP(config.host, config.port, timeout=config.timeout)
    conn.ehlo()
    if config.security == "starttls":
        conn.starttls(context=context)
        conn.ehlo()
    if config.user:
        conn.login(config.user, config.password or "")
    return conn


def send(config: SmtpConfig, msg: EmailMessage) -> Outcome:
    """One attempt. Everything up to the DATA command is safe to retry; once the message itself
    is on the wire, a dropped connection or a timeout is an outcome in doubt, never retried blindly."""
    sender = getaddresses([msg["From"]])[0][1]
    recipients = [a for _, a in getaddresses(msg.get_all("To", []) + msg.get_all("Cc", [])) if a]
    handed_over = False
    try:
        conn = _connect(config)
    except smtplib.SMTPAuthenticationError as exc:
        return Outcome("retry", f"login refused by {config.name}: {exc.smtp_code} {_text(exc.smtp_error)}")
    except (OSError, smtplib.SMTPException) as exc:
        return Outcome("retry", f"cannot reach {config.name}: {exc}")
    try:
        code, answer = conn.mail(sender)
        if code != 250:
            return _refused("MAIL FROM", code, answer)
        accepted = []
        for rcpt in recipients:
            code, answer = conn.rcpt(rcpt)
            if code in (250, 251):
                accepted.append(rcpt)
            elif rcpt == recipients[0]:
                return _refused(f"RCPT TO {rcpt}", code, answer)
        handed_over = True
        code, answer = conn.data(msg.as_bytes())
        if code != 250:
            return _refused("DATA", code, answer)
        return Outcome("sent", f"accepted by {config.name}: {_text(answer)}")
    except smtplib.SMTPResponseException as exc:
        if handed_over and exc.smtp_code >= 500:
            return Outcome("failed", f"{config.name} refused the message: {exc.smtp_code} {_text(exc.smtp_error)}")
        if handed_over and exc.smtp_code < 400:
            return Outcome("unknown", f"{config.name} answered {exc.smtp_code} after the message was sent")
        return Outcome("retry", f"{config.name}: {exc.smtp_code} {_text(exc.smtp_error)}")
    except (smtplib.SMTPServerDisconnected, TimeoutError, OSError) as exc:
        if handed_over:
            return Outcome("unknown", f"{config.name} dropped the connection after the message was sent "
                                      f"({type(exc).__name__}: {exc}): it may have it")
        return Outcome("retry", f"{config.name} dropped the connection before the message was sent: {exc}")
    finally:
        try:
            conn.quit()
        except (OSError, smtplib.SMTPException):
            conn.close()


def _text(answer) -> str:
    return answer.decode("utf-8", "replace") if isinstance(answer, bytes) else str(answer)


def _refused(step: str, code: int, answer) -> Outcome:
    kind = "failed" if code >= 500 else "retry"
    return Outcome(kind, f"{step} refused: {code} {_text(answer)}")


def probe(config: SmtpConfig) -> str | None:
    """Connect, greet, log in, quit: None when the server is fine, else what is wrong."""
    try:
        conn = _connect(config)
    except (OSError, smtplib.SMTPException) as exc:
        return f"cannot use {config.name}: {exc}"
    try:
        conn.noop()
    finally:
        try:
            conn.quit()
        except (OSError, smtplib.SMTPException):
            conn.close()
    return None
