"""Opaque, prefixed, time-sortable IDs: ``prj_`` + 26 Crockford base32 characters.

48 bits of millisecond time then 80 random bits (ULID layout), so IDs sort by creation and serve
as pagination cursors. This module is the only place IDs are made.
"""

from __future__ import annotations

import secrets
import time

PREFIXES = {
    "account": "acc",
    "project": "prj",
    "batch": "bat",
    "image": "img",
    "task": "tsk",
    "assignment": "asg",
    "upload": "upl",
}
_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
ID_LENGTH = 26


def _encode(value: int, length: int) -> str:
    chars = []
    for _ in range(length):
        value, rem = divmod(value, 32)
        chars.append(_ALPHABET[rem])
    return "".join(reversed(chars))


def new_id(prefix: str) -> str:
    millis = time.time_ns() // 1_000_000
    value = (millis << 80) | secrets.randbits(80)
    return f"{prefix}_{_encode(value, ID_LENGTH)}"


def is_valid_id(value: str, prefix: str) -> bool:
    head, sep, body = value.partition("_")
    return (
        sep == "_"
        and head == prefix
        and len(body) == ID_LENGTH
        and all(c in _ALPHABET for c in body)
    )
