"""API keys: ``tsr_<key id>_<secret>``; only a SHA-256 of the secret is stored.

The key id finds the row through an index; the secret's hash is then compared in constant time,
so response timing never tells how much of a guessed key was right. The secret is 32 random bytes,
so a fast hash is enough: there is nothing to brute-force.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

_PREFIX = "tsr"


@dataclass(frozen=True)
class NewKey:
    key_id: str
    secret_hash: str
    plaintext: str


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def generate_api_key() -> NewKey:
    key_id = secrets.token_hex(8)
    secret = secrets.token_urlsafe(32)
    return NewKey(key_id, hash_secret(secret), f"{_PREFIX}_{key_id}_{secret}")


def split_api_key(key: str) -> tuple[str, str] | None:
    """``(key_id, secret)`` or None when the string cannot be one of our keys."""
    parts = key.split("_", 2)
    if len(parts) != 3 or parts[0] != _PREFIX or len(parts[1]) != 16 or len(parts[2]) < 40:
        return None
    return parts[1], parts[2]


def secret_matches(secret: str, stored_hash: str) -> bool:
    return hmac.compare_digest(hash_secret(secret), stored_hash)
