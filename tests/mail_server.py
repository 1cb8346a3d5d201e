"""A private Postfix for tests, delivering into the private Dovecot's Maildir (tests/imap_server.py).

Nothing system-wide is touched: its own config directory, queue, data directory and log file in a
temp dir, an SMTP listener on a free 127.0.0.1 port, and every recipient at every domain delivered
by Postfix's virtual(8) agent into the Dovecot user's Maildir, where the tests read it back over
IMAP. ``start()`` returns None when Postfix is not installed (the tests then skip, or fail under
ONETHREAD_REQUIRE_ALL=1). ``stop()`` and ``restart()`` stop the server for channel-health tests.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import smtplib
import socket
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from tests import imap_server

MAIN_CF = """\
# onethread test instance (tests/mail_server.py); private to {root}
compatibility_level = 3.6
queue_directory = {root}/queue
data_directory = {root}/data
command_directory = {command_directory}
daemon_directory = {daemon_directory}
meta_directory = {meta_directory}
shlib_directory = {shlib_directory}
mail_owner = postfix
setgid_group = postdrop
myhostname = mail.onethread.test
mydomain = onethread.test
myorigin = $myhostname
mydestination =
inet_interfaces = loopback-only
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
smtpd_relay_restrictions = permit_mynetworks, reject
smtpd_recipient_restrictions = permit_mynetworks, reject
alias_maps =
alias_database =
local_recipient_maps =
relayhost =
biff = no
maillog_file = {root}/maillog
maillog_file_prefixes = {root}
virtual_mailbox_domains = static:ALL
virtual_mailbox_base = {maildir_base}
virtual_mailbox_maps = static:{user}/
virtual_minimum_uid = 1
virtual_uid_maps = static:{uid}
virtual_gid_maps = static:{gid}
virtual_transport = virtual
smtpd_banner = $myhostname ESMTP onethread-test
queue_run_delay = 1s
minimal_backoff_time = 1s
maximal_backoff_time = 2s
"""

MASTER_CF = """\
127.0.0.1:{port} inet n - n - - smtpd
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
tlsmgr    unix  -       -       n       1000?   1       tlsmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
smtp      unix  -       -       n       -       -       smtp
relay     unix  -       -       n       -       -       smtp
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
virtual   unix  -       n       n       -       -       virtual
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
"""


def installed() -> bool:
    return Path("/usr/sbin/postfix").exists() or bool(shutil.which("postfix"))


def _postconf(name: str) -> str:
    out = subprocess.run([shutil.which("postconf") or "/usr/sbin/postconf", "-h", name], capture_output=True,
                         text=True, timeout=30)
    return out.stdout.strip()


@dataclass
class Postfix:
    root: Path
    port: int
    dovecot: imap_server.Dovecot
    host: str = "127.0.0.1"

    def _postfix(self, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run([shutil.which("postfix") or "/usr/sbin/postfix", "-c", str(self.root), *args],
                              capture_output=True, text=True, timeout=60)

    def log(self) -> str:
        path = self.root / "maillog"
        return path.read_text(errors="replace") if path.exists() else ""

    def accepting(self) -> bool:
        try:
            with smtplib.SMTP(self.host, self.port, timeout=5) as conn:
                return conn.noop()[0] == 250
        except (OSError, smtplib.SMTPException):
            return False

    def stop(self) -> None:
        self._postfix("stop")
        deadline = time.monotonic() + 15
        while self.accepting() and time.monotonic() < deadline:
            time.sleep(0.1)

    def start(self) -> None:
        done = self._postfix("start")
        if done.returncode != 0:
            raise RuntimeError(f"postfix did not start: {done.stdout}{done.stderr}\n{self.log()}")
        deadline = time.monotonic() + 20
        while not self.accepting():
            if time.monotonic() > deadline:
                raise RuntimeError(f"postfix does not answer on {self.port}:\n{self.log()}")
            time.sleep(0.1)

    def remove(self) -> None:
        self.stop()
        shutil.rmtree(self.root, ignore_errors=True)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(dovecot: imap_server.Dovecot) -> Postfix | None:
    """A private Postfix delivering every message into ``dovecot``'s user's Maildir."""
    if not installed():
        return None
    root = Path(tempfile.mkdtemp(prefix="onethread-postfix-"))
    root.chmod(0o755)
    for sub in ("queue", "data"):
        (root / sub).mkdir()
    postfix_user = pwd.getpwnam("postfix")
    os.chown(root / "data", postfix_user.pw_uid, postfix_user.pw_gid)
    mail_owner = (dovecot.root / "mail").stat()
    port = _free_port()
    (root / "main.cf").write_text(MAIN_CF.format(
        root=root, maildir_base=dovecot.root / "mail", user=dovecot.user, uid=mail_owner.st_uid,
        gid=mail_owner.st_gid, command_directory=_postconf("command_directory"),
        daemon_directory=_postconf("daemon_directory"), meta_directory=_postconf("meta_directory"),
        shlib_directory=_postconf("shlib_directory") or "no"))
    (root / "master.cf").write_text(MASTER_CF.format(port=port))
    server = Postfix(root=root, port=port, dovecot=dovecot)
    server.start()
    return server


class SmtpHop:
    """An SMTP hop in front of a real server that passes everything through, except the server's
    answer to a message (DATA ... CRLF.CRLF): with ``after_data="drop"`` it closes the client's
    connection instead of passing the answer on (the server has the message, the client never
    hears so: the duplicate-delivery trap of RFC 1047); with ``"delay"`` it holds the answer back
    for ``delay`` seconds (time for a test to step in between the send and its record)."""

    def __init__(self, upstream_port: int, *, after_data: str = "drop", delay: float = 0.0):
        self.upstream_port, self.after_data, self.delay = upstream_port, after_data, delay
        self.listener = socket.socket()
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(5)
        self.port = self.listener.getsockname()[1]
        self.dropped = 0
        self._stop = False
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while not self._stop:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self._relay, args=(client,), daemon=True).start()

    def _relay(self, client: socket.socket) -> None:
        upstream = socket.create_connection(("127.0.0.1", self.upstream_port), timeout=30)
        state = {"in_data": False, "sent": False}

        def client_to_server():
            buffer = b""
            with contextlib.suppress(OSError):
                while chunk := client.recv(65536):
                    upstream.sendall(chunk)
                    buffer = (buffer + chunk)[-65536:]
                    if not state["in_data"] and buffer.upper().endswith(b"DATA\r\n"):
                        state["in_data"], buffer = True, b""
                    elif state["in_data"] and buffer.endswith(b"\r\n.\r\n"):
                        state["sent"] = True

        threading.Thread(target=client_to_server, daemon=True).start()
        with contextlib.suppress(OSError):
            while chunk := upstream.recv(65536):
                if state["sent"] and self.after_data == "drop":
                    self.dropped += 1
                    break  # the server accepted it; the client never hears
                if state["sent"] and self.delay:
                    time.sleep(self.delay)
                    state["sent"] = False
                client.sendall(chunk)
        with contextlib.suppress(OSError):
            client.shutdown(socket.SHUT_RDWR)
        client.close()
        with contextlib.suppress(OSError):
            upstream.sendall(b"QUIT\r\n")
        upstream.close()

    def close(self) -> None:
        self._stop = True
        self.listener.close()
