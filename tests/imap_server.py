"""A private Dovecot IMAP server for tests: its own config, port, user and Maildir in a temp dir.

Nothing system-wide is touched: the instance has its own ``base_dir`` (sockets, pid file),
``state_dir`` and log file, listens on a free 127.0.0.1 port, allows plaintext login on
localhost, and keeps mail under the temp dir. ``start()`` returns None when Dovecot is not
installed (the tests then skip, or fail under ONETHREAD_REQUIRE_ALL=1).
"""

from __future__ import annotations

import contextlib
import imaplib
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

USER, PASSWORD = "support", "test-password-1"

CONFIG = """\
# onethread test instance (tests/imap_server.py); private to {root}
base_dir = {root}/run
state_dir = {root}/state
instance_name = onethread-test-{port}
protocols = imap
listen = 127.0.0.1
ssl = yes
ssl_cert = <{root}/tls/cert.pem
ssl_key = <{root}/tls/key.pem
disable_plaintext_auth = no
auth_mechanisms = plain login
log_path = {root}/dovecot.log
mail_location = maildir:{root}/mail/%u
default_internal_user = {internal_user}
default_login_user = {login_user}
first_valid_uid = {uid}
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/passwd
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={root}/home/%u
}}
service imap-login {{
  chroot =
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {ssl_port}
  }}
}}
service anvil {{
  chroot =
}}
"""


def installed() -> bool:
    return bool(shutil.which("dovecot") or Path("/usr/sbin/dovecot").exists())


def _binary(name: str) -> str:
    return shutil.which(name) or next(p for p in (f"/usr/sbin/{name}", f"/usr/bin/{name}") if Path(p).exists())


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Dovecot:
    root: Path
    port: int  # plain IMAP (LOGIN allowed without TLS: it is localhost)
    ssl_port: int  # IMAPS, with a self-signed certificate for 127.0.0.1: trust ``ca_file``
    host: str = "127.0.0.1"
    user: str = USER
    password: str = PASSWORD

    @property
    def conf(self) -> Path:
        return self.root / "dovecot.conf"

    @property
    def ca_file(self) -> Path:
        return self.root / "tls" / "cert.pem"

    def client(self) -> imaplib.IMAP4:
        conn = imaplib.IMAP4(self.host, self.port, timeout=10)
        conn.login(self.user, self.password)
        return conn

    def create_mailbox(self, name: str) -> None:
        conn = self.client()
        try:
            typ, data = conn.create(name)
            assert typ == "OK", data
        finally:
            conn.logout()

    def append(self, mailbox: str, *messages: bytes, date_time: float | None = None) -> None:
        """Deliver messages in this order (APPEND), as an MTA would; ``date_time`` sets INTERNALDATE."""
        conn = self.client()
        try:
            when = imaplib.Time2Internaldate(date_time) if date_time is not None else None
            for raw in messages:
                typ, data = conn.append(mailbox, None, when, raw)
                assert typ == "OK", data
        finally:
            conn.logout()

    def uids(self, mailbox: str) -> list[int]:
        conn = self.client()
        try:
            conn.select(mailbox, readonly=True)
            _, data = conn.uid("SEARCH", None, "ALL")
            return [int(x) for x in data[0].split()]
        finally:
            conn.logout()

    def flags(self, mailbox: str) -> list[bytes]:
        conn = self.client()
        try:
            conn.select(mailbox, readonly=True)
            _, data = conn.uid("FETCH", "1:*", "(FLAGS)")
            return [d for d in data if d]
        finally:
            conn.logout()

    def set_uidvalidity(self, mailbox: str, value: int) -> None:
        self._doveadm("mailbox", "update", "-u", self.user, "--uid-validity", str(value), mailbox)

    def _doveadm(self, *args: str) -> None:
        subprocess.run([_binary("doveadm"), "-c", str(self.conf), *args], check=True, capture_output=True,
                       timeout=30)

    def log(self) -> str:
        path = self.root / "dovecot.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def stop(self) -> None:
        pid_file = self.root / "run" / "master.pid"
        if pid_file.exists():  # SIGTERM to the master is what `doveadm stop` sends
            pid = int(pid_file.read_text().strip())
            _kill(pid)
            _wait_gone(pid)
        else:
            with contextlib.suppress(subprocess.SubprocessError, OSError):
                self._doveadm("stop")
        shutil.rmtree(self.root, ignore_errors=True)


def _kill(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, 15)


def _running(pid: int) -> bool:
    """Alive and not a zombie waiting for init to reap it (the daemon's parent is init)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def _wait_gone(pid: int, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while _running(pid) and time.monotonic() < deadline:
        time.sleep(0.05)


def _self_signed(folder: Path) -> None:
    """A certificate for 127.0.0.1 (openssl comes with dovecot-core)."""
    subprocess.run(
        [_binary("openssl"), "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
         "-days", "2", "-subj", "/CN=localhost", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
         "-keyout", str(folder / "key.pem"), "-out", str(folder / "cert.pem")],
        check=True, capture_output=True, timeout=30)


def start() -> Dovecot | None:
    """Start a private instance and wait until it accepts logins; None when not installed."""
    if not installed():
        return None
    root = Path(tempfile.mkdtemp(prefix="onethread-dovecot-"))
    port = _free_port()
    if os.geteuid() == 0:
        # Dovecot will not read mail as root: mail belongs to an unprivileged user.
        mail_user, internal_user, login_user = "nobody", "dovecot", "dovenull"
        root.chmod(0o755)
    else:  # running unprivileged: every Dovecot process is this user
        mail_user = internal_user = login_user = pwd.getpwuid(os.geteuid()).pw_name
    account = pwd.getpwnam(mail_user)
    for sub in ("run", "state", "mail", "home", "tls"):
        (root / sub).mkdir()
    _self_signed(root / "tls")
    if os.geteuid() == 0:
        for sub in ("mail", "home"):
            os.chown(root / sub, account.pw_uid, account.pw_gid)
    (root / "passwd").write_text(f"{USER}:{{PLAIN}}{PASSWORD}::::::\n")
    (root / "passwd").chmod(0o644)
    server = Dovecot(root=root, port=port, ssl_port=_free_port())
    server.conf.write_text(CONFIG.format(root=root, port=port, ssl_port=server.ssl_port, uid=account.pw_uid,
                                         gid=account.pw_gid,
                                         internal_user=internal_user, login_user=login_user))
    # The daemon keeps its inherited descriptors: give it a file, not a pipe we would wait on.
    with open(root / "startup.log", "wb") as out:
        code = subprocess.call([_binary("dovecot"), "-c", str(server.conf)], stdin=subprocess.DEVNULL,
                               stdout=out, stderr=out, timeout=30)
    if code != 0:
        message = (root / "startup.log").read_text(errors="replace").strip()
        shutil.rmtree(root, ignore_errors=True)
        raise RuntimeError(f"dovecot did not start (exit {code}): {message}")
    deadline = time.monotonic() + 15
    while True:
        try:
            server.client().logout()
            return server
        except (OSError, imaplib.IMAP4.error) as exc:
            if time.monotonic() > deadline:
                log = server.log()
                server.stop()
                raise RuntimeError(f"dovecot did not accept a login: {exc}\n{log}") from exc
            time.sleep(0.05)
