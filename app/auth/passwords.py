"""Passwords: argon2id (argon2-cffi's RFC 9106 low-memory profile), never stored or logged."""

from __future__ import annotations

from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()  # argon2id, t=3, m=64 MiB, p=4


@cache
def _dummy_hash() -> str:
    """Verified against when the email is unknown, so a wrong email costs as long as a wrong
    password and response time does not tell which emails have accounts. Made on first use, not
    at import: a hash costs ~0.1-1 s of CPU, which every process start (CLI, worker) would pay."""
    return _hasher.hash("not a password anybody has")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def password_matches(password: str, stored_hash: str | None) -> bool:
    try:
        return _hasher.verify(stored_hash or _dummy_hash(), password) and stored_hash is not None
    except (VerificationError, InvalidHashError):
        return False
