"""Signed outgoing HTTP requests, in Stripe's webhook scheme.

``Tessera-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>">``. The receiver
recomputes the HMAC over the timestamp, a dot and the exact body bytes with the shared secret,
compares in constant time, and refuses a timestamp outside its tolerance (a replay). Several
``v1=`` entries may appear while a secret is being rolled; any one matching is enough.

Used for calls to a project's ``http`` model (``app/annotators/calls.py``) and for webhook
deliveries (``app/webhooks/delivery.py``); ``tessera.client.verify_signature`` is the receiver's
side of both.
"""

from __future__ import annotations

import hashlib
import hmac

HEADER = "Tessera-Signature"
DEFAULT_TOLERANCE_S = 300


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """The hex HMAC-SHA256 of ``"<timestamp>.<body>"`` under ``secret``."""
    message = str(timestamp).encode() + b"." + body
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The value of the ``Tessera-Signature`` header for ``body`` sent at ``timestamp``."""
    return f"t={timestamp},v1={signature(secret, timestamp, body)}"


def verify(
    secret: str, header: str, body: bytes, *, now: float, tolerance_s: int = DEFAULT_TOLERANCE_S
) -> bool:
    """Whether ``header`` signs ``body`` with ``secret`` and its timestamp is within
    ``tolerance_s`` of ``now`` (unix seconds)."""
    timestamp: int | None = None
    candidates: list[str] = []
    for part in header.split(","):
        key, _, value = part.strip().partition("=")
        if key == "t" and value.isdigit():
            timestamp = int(value)
        elif key == "v1":
            candidates.append(value)
    if timestamp is None or not candidates or abs(now - timestamp) > tolerance_s:
        return False
    expected = signature(secret, timestamp, body)
    return any(hmac.compare_digest(expected, c) for c in candidates)
