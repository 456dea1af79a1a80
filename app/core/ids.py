"""Opaque, prefixed, time-sortable IDs: ``prj_`` + 26 Crockford base32 characters.

48 bits of millisecond time then 80 random bits (ULID layout), so IDs sort by creation and serve
as pagination cursors. This module is the only place IDs are made.
"""

from __future__ import annotations

import secrets
import threading
import time

PREFIXES = {
    "account": "acc",
    "project": "prj",
    "batch": "bat",
    "image": "img",
    "task": "tsk",
    "assignment": "asg",
    "upload": "upl",
    "api_key": "key",
    "web_session": "ses",
    "settings_change": "set",
    "annotator_model": "mdl",
    "prediction": "prd",
    "webhook": "whk",
    "event": "evt",
}
_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
ID_LENGTH = 26


def _encode(value: int, length: int) -> str:
    chars = []
    for _ in range(length):
        value, rem = divmod(value, 32)
        chars.append(_ALPHABET[rem])
    return "".join(reversed(chars))


_last = [0, 0]  # (millisecond, random part) of the last ID made in this process
_last_lock = threading.Lock()


def new_id(prefix: str) -> str:
    """Within one millisecond the random part counts up (ULID's monotonic mode), so IDs made in
    a row by one process sort in the order they were made: a batch's tasks keep upload order."""
    millis = time.time_ns() // 1_000_000
    with _last_lock:
        if millis <= _last[0]:
            millis, rand = _last[0], _last[1] + 1
        else:
            rand = secrets.randbits(79)  # headroom so counting up never overflows 80 bits
        _last[0], _last[1] = millis, rand
    return f"{prefix}_{_encode((millis << 80) | rand, ID_LENGTH)}"


def is_valid_id(value: str, prefix: str) -> bool:
    head, sep, body = value.partition("_")
    return (
        sep == "_"
        and head == prefix
        and len(body) == ID_LENGTH
        and all(c in _ALPHABET for c in body)
    )
