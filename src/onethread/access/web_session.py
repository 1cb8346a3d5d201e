"""Signed, time-limited page-session cookies (itsdangerous)."""

from __future__ import annotations

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

_SALT = "onethread.staff-session"


def issue(user_id: str, secret: str) -> str:
    return URLSafeTimedSerializer(secret, salt=_SALT).dumps({"uid": user_id})


def read(cookie: str, secret: str, max_age_seconds: int) -> str | None:
    try:
        data = URLSafeTimedSerializer(secret, salt=_SALT).loads(cookie, max_age=max_age_seconds)
    except (BadSignature, SignatureExpired):
        return None
    return data.get("uid") if isinstance(data, dict) else None
