"""E-mail really sent: a private Postfix delivers into a private Dovecot, and the tests read each
message back over IMAP. Threading both ways, the deadlock letter's PDF, and exactly once: a server
that drops the connection after DATA, a worker killed between the send and its record, retries
with backoff until failed, a stopped server turning the channel red and green again.
"""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
import time
import uuid
from datetime import timedelta
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path

import pypdf
import pytest
from sqlalchemy import select, text

from onethread.access import service as access
from onethread.access.rules import SYSTEM
from onethread.cases import clocks
from onethread.cases import service as cases
from onethread.config import Settings
from onethread.customers import identifier_service
from onethread.customers import service as customers
from onethread.db.engine import make_engine
from onethread.jobs.runner import run_once
from onethread.models import Case, Contact, OutboundMessage
from onethread.outreach import delivery, health
from onethread.outreach import service as outreach
from onethread.sandbox import service as sandbox
from tests import mail_server
from tests.support.mail import delivered
from tests.support.mail import dovecot as dovecot
from tests.support.mail import postfix as postfix

CUSTOMER = "margaret.hughes@mail.example"
ONETHREAD = str(Path(sys.executable).parent / "onethread")


@pytest.fixture
def intake(dovecot) -> str:
    """The support mailbox the IMAP intake reads (a fresh folder per test)."""
    name = f"intake_{uuid.uuid4().hex[:12]}"
    dovecot.create_mailbox(name)
    return name


@pytest.fixture
def smtp_port(postfix, request) -> int:
    """Postfix's port, or the port of the test's SMTP hop in front of it when it has one."""
    return request.getfixturevalue("hop").port if "hop" in request.fixturenames else postfix.port


@pytest.fixture
def settings(database_url, dovecot, intake, smtp_port) -> Settings:
    return Settings(database_url=database_url, env="test", smtp_host="127.0.0.1", smtp_port=smtp_port,
                    smtp_security="none", smtp_timeout_seconds=10, imap_host=dovecot.host, imap_port=dovecot.port,
                    imap_ssl=False, imap_user=dovecot.user, imap_password=dovecot.password, imap_mailbox=intake)


@pytest.fixture
def world(uow, clock):
    with uow() as s:
        team = access.create_team(s, clock, name="Contact centre")
        agent = access.create_user(s, clock, username="alex.agent", display_name="Alex Morgan", role="agent",
                                   password=None, team_id=team.id)
        party = customers.create_individual(s, clock, SYSTEM, given_name="Margaret", family_name="Hughes")
        cust = customers.create_customer(s, clock, SYSTEM, party_id=party.id)
        identifier_service.assign(s, clock, SYSTEM, customer_id=cust.id, kind="email", value=CUSTOMER,
                                  valid_from=clock.now() - timedelta(days=365))
        _, secret = access.create_token(s, clock, name="alex", role="agent", staff_user_id=agent.id)
        return {"customer": cust.id, "agent": access.staff_principal(agent),
                "as_alex": {"Authorization": f"Bearer {secret}"}}


def customer_mail(*, subject: str, body: str, message_id: str, in_reply_to: str | None = None,
                  references: str | None = None, when) -> bytes:
    msg = EmailMessage()
    msg["From"] = f"Margaret Hughes <{CUSTOMER}>"
    msg["To"] = "customer.care@onethread.example"
    msg["Subject"] = subject
    msg["Date"] = format_datetime(when)
    msg["Message-ID"] = message_id
    if in_reply_to:
        msg["In-Reply-To"] = in_reply_to
        msg["References"] = references or in_reply_to
    msg.set_content(body)
    return bytes(msg)


def test_a_reply_by_email_is_sent_by_the_worker_and_the_answer_threads_back_onto_the_case(
        client, container, uow, clock, world, dovecot, intake):
    first = f"<first.{uuid.uuid4().hex[:8]}@mail.example>"
    dovecot.append(intake, customer_mail(subject="No incoming calls", body="I cannot receive calls.",
                                         message_id=first, when=clock.now()))
    run_once(container)
    with uow() as s:
        contact = s.scalar(select(Contact).where(Contact.channel_message_id == first))
        case, _ = cases.route_contact(s, clock, world["agent"], contact.id, kind="complaint",
                                      title="No incoming calls")
        case_id = case.id
    reply = client.post(f"/api/v1/cases/{case_id}/replies", headers=world["as_alex"],
                        json={"text": "We are testing your line today.", "channel": "email"})
    assert reply.status_code == 201, reply.text
    [queued] = client.get(f"/api/v1/cases/{case_id}/messages", headers=world["as_alex"]).json()
    assert queued["status"] == "queued"
    assert delivered(dovecot, queued["messageId"], wait=0) == []  # never inside the request

    report = run_once(container)
    assert "1 sent" in report.outreach, report.summary()
    [mail] = delivered(dovecot, queued["messageId"])
    assert mail["To"] == CUSTOMER and mail["In-Reply-To"] == first and first in mail["References"]
    assert mail["Subject"] == "Your case: No incoming calls"
    assert "We are testing your line today." in mail.get_body(("plain",)).get_content()
    [sent] = client.get(f"/api/v1/cases/{case_id}/messages", headers=world["as_alex"]).json()
    assert sent["status"] == "sent" and sent["state"] == "completed" and sent["attempts"] == 1

    # The customer answers our e-mail: the intake threads it back onto the case.
    answer = f"<answer.{uuid.uuid4().hex[:8]}@mail.example>"
    dovecot.append(intake, customer_mail(subject="Re: Your case: No incoming calls", body="Still nothing.",
                                         message_id=answer, in_reply_to=mail["Message-ID"],
                                         references=f"{first} {mail['Message-ID']}", when=clock.now()))
    run_once(container)
    with uow() as s:
        back = s.scalar(select(Contact).where(Contact.channel_message_id == answer))
        assert back.case_id == case_id and back.thread_id == contact.id
        assert s.get(Case, case_id).awaiting_reply_since is not None


def test_the_deadlock_letter_is_a_pdf_emailed_at_the_deadline(container, uow, clock, world, dovecot):
    with uow() as s:
        case = cases.open_new(s, clock, world["agent"], customer_id=world["customer"], kind="complaint",
                              title="No incoming calls", opened_via="phone")
        case_id = case.id
    clock.advance(timedelta(weeks=8, minutes=1))
    with uow() as s:
        clocks.sweep(s, clock)
        message = s.scalar(select(OutboundMessage).where(OutboundMessage.case_id == case_id))
        assert (message.template, message.purpose, message.channel) == ("deadlock", "regulatory", "email")
        message_id = message.message_id
    run_once(container)
    [mail] = delivered(dovecot, message_id)
    assert mail["Subject"] == "Your complaint: your right to go to the ombudsman"
    [pdf] = list(mail.iter_attachments())
    assert pdf.get_content_type() == "application/pdf" and pdf.get_filename().startswith("deadlock-")
    text = pypdf.PdfReader(io.BytesIO(pdf.get_content())).pages[0].extract_text()
    assert "Communications Ombudsman" in text and "Margaret Hughes" in text and "2 March 2026" in text


@pytest.fixture
def hop(postfix, request):
    mode = getattr(request, "param", "drop")
    server = mail_server.SmtpHop(postfix.port, after_data=mode, delay=4.0 if mode == "delay" else 0.0)
    yield server
    server.close()


def queue_email(uow, clock, world, subject: str, *, max_attempts: int | None = None) -> tuple[str, str]:
    with uow() as s:
        message = outreach.queue(s, clock, world["agent"], customer_id=world["customer"], channel="email",
                                 purpose="service", subject=subject, body="Your engineer comes on Friday.",
                                 max_attempts=max_attempts)
        return message.id, message.message_id


def test_a_server_that_drops_the_connection_after_data_gets_the_message_once(
        container, uow, clock, world, dovecot, hop):
    assert container.settings.smtp_port == hop.port
    message_id, mail_id = queue_email(uow, clock, world, "Engineer visit")
    report = run_once(container)
    assert "1 in doubt" in report.outreach, report.summary()
    assert hop.dropped == 1
    with uow() as s:
        message = s.get(OutboundMessage, message_id)
        assert message.status == "held" and message.reasons[-1]["code"] == "OUTCOME_UNKNOWN"
    clock.advance(timedelta(hours=1))
    run_once(container)  # never sent again by itself
    run_once(container)
    assert len(delivered(dovecot, mail_id, at_least=2, wait=3)) == 1


def test_a_worker_killed_between_the_send_and_its_record_never_sends_twice(
        database_url, uow, clock, world, dovecot, postfix, container):
    slow = mail_server.SmtpHop(postfix.port, after_data="delay", delay=6.0)
    try:
        message_id, mail_id = queue_email(uow, clock, world, "Killed worker")
        with uow() as s:
            sandbox.set_row(s, clock.now(), clock.now())
        env = {**os.environ, "ONETHREAD_DATABASE_URL": database_url, "ONETHREAD_CLOCK": "manual",
               "ONETHREAD_ENV": "test", "ONETHREAD_SMTP_HOST": "127.0.0.1", "ONETHREAD_SMTP_PORT": str(slow.port),
               "ONETHREAD_SMTP_SECURITY": "none"}
        env.pop("ONETHREAD_TEST_DATABASE_URL", None)
        worker = subprocess.Popen([ONETHREAD, "worker", "--once"], env=env, stdout=subprocess.DEVNULL,
                                  stderr=subprocess.DEVNULL, start_new_session=True)
        engine = make_engine(database_url)
        lock = "" if engine.dialect.name == "sqlite" else " FOR UPDATE"
        try:
            deadline = time.monotonic() + 60
            with engine.connect() as conn:
                while conn.execute(text("SELECT status FROM outbound_message WHERE id = :id"),
                                   {"id": message_id}).scalar() != "sending":
                    assert time.monotonic() < deadline and worker.poll() is None, "the worker never claimed it"
                    conn.rollback()
                    time.sleep(0.02)
                conn.rollback()
                # Hold the row (PostgreSQL), or the write lock that a transaction takes on SQLite
                # (BEGIN IMMEDIATE): the worker's record of the send has to wait for it.
                conn.execute(text(f"SELECT id FROM outbound_message WHERE id = :id{lock}"), {"id": message_id})
                assert len(delivered(dovecot, mail_id, wait=30)) == 1  # it went out...
                os.killpg(worker.pid, signal.SIGKILL)  # ... and the worker dies before recording it
                worker.wait(10)
                conn.rollback()
        finally:
            engine.dispose()
    finally:
        slow.close()
    with uow() as s:
        assert s.get(OutboundMessage, message_id).status == "sending"
    clock.advance(timedelta(minutes=11))  # past the claim's lease
    report = run_once(container)
    assert "1 in doubt" in report.outreach, report.summary()
    with uow() as s:
        message = s.get(OutboundMessage, message_id)
        assert message.status == "held" and message.reasons[-1]["code"] == "OUTCOME_UNKNOWN"
        assert "stopped while sending" in message.reasons[-1]["reason"]
    run_once(container)
    assert len(delivered(dovecot, mail_id, at_least=2, wait=3)) == 1


def test_failures_retry_with_backoff_then_fail_visibly_on_the_case(client, uow, clock, world, container, admin):
    closed = mail_server._free_port()  # nothing listens there
    dead = container.settings.model_copy(update={"smtp_port": closed})
    with uow() as s:
        case = cases.open_new(s, clock, world["agent"], customer_id=world["customer"], kind="fault",
                              title="No signal", opened_via="phone")
        message = outreach.queue(s, clock, world["agent"], customer_id=world["customer"], channel="email",
                                 purpose="service", subject="Update", body="Working on it.", case_id=case.id,
                                 max_attempts=3)
        message_id, case_id = message.id, case.id
    waits = []
    for _ in range(3):
        delivery.send_due(container.sessions, clock, dead, worker="test")
        with uow() as s:
            m = s.get(OutboundMessage, message_id)
            if m.status == "queued":
                waits.append(m.next_attempt_at - clock.now())
                clock.set(m.next_attempt_at)
    assert waits == [timedelta(minutes=1), timedelta(minutes=2)]
    [shown] = client.get(f"/api/v1/cases/{case_id}/messages", headers=admin).json()
    assert shown["status"] == "failed" and shown["state"] == "failed" and shown["attempts"] == 3
    assert shown["reasons"][-1]["code"] == "FAILED" and "cannot reach" in shown["lastError"]
    with uow() as s:
        [smtp] = [v for v in health.board(s, clock) if v.kind == "smtp"]
        assert smtp.state == "red" and "cannot reach" in smtp.why


def test_a_stopped_mail_server_turns_the_channel_red_and_green_again(client, container, uow, clock, postfix, admin):
    run_once(container)
    board = {c["kind"]: c for c in client.get("/api/v1/channels/health", headers=admin).json()}
    assert board["smtp"]["state"] == "green" and board["imap"]["state"] == "green"
    assert client.get("/readyz").status_code == 200
    postfix.stop()
    clock.advance(timedelta(minutes=2))  # an idle channel known to be green is probed once a minute
    try:
        report = run_once(container)
        assert any(n.startswith("smtp://") for n in report.red_channels), report.summary()
        board = {c["kind"]: c for c in client.get("/api/v1/channels/health", headers=admin).json()}
        assert board["smtp"]["state"] == "red" and board["smtp"]["lastError"]
        ready = client.get("/readyz")
        assert ready.status_code == 503 and "lastError" not in str(ready.json())
    finally:
        postfix.start()
    clock.advance(timedelta(seconds=30))
    run_once(container)
    board = {c["kind"]: c for c in client.get("/api/v1/channels/health", headers=admin).json()}
    assert board["smtp"]["state"] == "green"
    assert client.get("/readyz").status_code == 200


def test_a_wrong_imap_password_makes_the_worker_fail_and_the_mailbox_red(database_url, dovecot, intake, uow, clock):
    env = {**os.environ, "ONETHREAD_DATABASE_URL": database_url, "ONETHREAD_ENV": "test",
           "ONETHREAD_IMAP_HOST": dovecot.host, "ONETHREAD_IMAP_PORT": str(dovecot.port), "ONETHREAD_IMAP_SSL": "false",
           "ONETHREAD_IMAP_USER": dovecot.user, "ONETHREAD_IMAP_PASSWORD": "wrong", "ONETHREAD_IMAP_MAILBOX": intake}
    env.pop("ONETHREAD_TEST_DATABASE_URL", None)
    done = subprocess.run([ONETHREAD, "worker", "--once"], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "failing channels: imap://" in done.stderr
    with uow() as s:
        [mailbox] = [v for v in health.board(s, clock) if v.kind == "imap"]
        assert mailbox.state == "red" and "refused" in mailbox.why
