"""IDs for payments' own rows (``pay_…``, ``ltx_…``).

Same layout as the app's IDs (a prefix, then 26 Crockford base32 characters of 48 bits of
millisecond time and 80 random bits), copied because payments imports nothing from ``app``.
"""

from __future__ import annotations

import secrets
import time

_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def new_id(prefix: str) -> str:
    value = ((time.time_ns() // 1_000_000) << 80) | secrets.randbits(80)
    chars = []
    for _ in range(26):
        value, rem = divmod(value, 32)
        chars.append(_ALPHABET[rem])
    return f"{prefix}_{''.join(reversed(chars))}"
