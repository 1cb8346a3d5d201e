"""Signing a staff user in to the pages with a password set for the test (a session cookie)."""

from __future__ import annotations

from onethread.access.passwords import hash_password
from onethread.models import StaffUser

PASSWORD = "correct horse battery"


def sign_in(client, uow, user_id: str) -> None:
    with uow() as s:
        user = s.get(StaffUser, user_id)
        user.password_hash, username = hash_password(PASSWORD), user.username
    client.cookies.clear()
    assert client.post("/login", data={"username": username, "password": PASSWORD},
                       follow_redirects=False).status_code == 303
