"""A staff user with a password, and signing in to the pages."""

from __future__ import annotations

from onethread.access import service as access

PASSWORD = "correct horse battery"


def make_user(uow, clock, username="ann.agent", role="agent", display="Ann Agent") -> str:
    with uow() as s:
        return access.create_user(s, clock, username=username, display_name=display, role=role,
                                  password=PASSWORD).id


def sign_in(client, username="ann.agent", password=PASSWORD):
    return client.post("/login", data={"username": username, "password": password}, follow_redirects=False)
