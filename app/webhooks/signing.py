"""The signature of a webhook call: the Stripe scheme.

``Tessera-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>``: the
timestamp is signed with the body, so a captured call cannot be replayed later than the
receiver's tolerance. ``tessera.client.verify_signature`` is the receiver's side.
"""

from __future__ import annotations

import hashlib
import hmac

HEADER = "Tessera-Signature"


def sign(body: bytes, secret: str, timestamp: int) -> str:
    """The ``Tessera-Signature`` value for ``body`` sent at ``timestamp``."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"
