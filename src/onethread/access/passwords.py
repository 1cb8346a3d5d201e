"""Argon2id password hashing.

Production and development hash with argon2-cffi's defaults (RFC 9106's low-memory profile:
3 passes over 64 MiB). The test environment (``ONETHREAD_ENV=test``) hashes with argon2id at its
minimum cost, so that a suite signing in thousands of times does not spend minutes hashing; a
hash records its own parameters, so either kind verifies anywhere. ``bootstrap.build`` chooses.
"""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

STANDARD = PasswordHasher()
TEST_ONLY = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)

_hasher = STANDARD
# Verifying against this keeps the time the same whether or not the user exists.
_dummy = {id(STANDARD): STANDARD.hash("onethread-no-such-user")}


def configure(env: str) -> None:
    """Hash at the minimum cost in the test environment, at the standard cost otherwise."""
    global _hasher
    _hasher = TEST_ONLY if env == "test" else STANDARD
    if id(_hasher) not in _dummy:
        _dummy[id(_hasher)] = _hasher.hash("onethread-no-such-user")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(password_hash or _dummy[id(_hasher)], password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False
