"""Checking a Tessera webhook call on the receiving side.

Each call carries ``Tessera-Signature: t=<unix seconds>,v1=<hex>``, where ``v1`` is the
HMAC-SHA256, keyed with the webhook's secret, of ``"<t>." + body`` (the raw bytes received).
Verify before parsing the body, then dedupe on the event's ``id``: delivery is at least once.
"""

from __future__ import annotations

import hashlib
import hmac
import time

__all__ = ["SignatureError", "verify_signature"]


class SignatureError(ValueError):
    """The call is not from Tessera (no, malformed or wrong signature) or is too old."""


def verify_signature(
    payload: bytes | str,
    header: str | None,
    secret: str,
    tolerance: int = 300,
    *,
    now: float | None = None,
) -> None:
    """Return if ``header`` (the ``Tessera-Signature`` value) signs ``payload`` with ``secret``
    within ``tolerance`` seconds of ``now`` (default: the current time); else SignatureError.

    Several ``v1=`` values may be present (one per secret while a secret is being rotated):
    any one matching is enough."""
    body = payload.encode() if isinstance(payload, str) else payload
    if not header:
        raise SignatureError("no Tessera-Signature header")
    timestamp: int | None = None
    signatures: list[str] = []
    for part in header.split(","):
        key, _, value = part.strip().partition("=")
        if key == "t":
            try:
                timestamp = int(value)
            except ValueError:
                raise SignatureError("the signature's timestamp is not a number") from None
        elif key == "v1":
            signatures.append(value)
    if timestamp is None or not signatures:
        raise SignatureError("the signature header has no t= or no v1=")
    current = time.time() if now is None else now
    if tolerance > 0 and abs(current - timestamp) > tolerance:
        raise SignatureError(f"the signature is more than {tolerance} s old (or from the future)")
    expected = hmac.new(
        secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256
    ).hexdigest()
    if not any(hmac.compare_digest(expected, s) for s in signatures):
        raise SignatureError("the signature does not match: wrong secret or altered body")
