"""The server's own secrets (the image-URL signing key).

``TESSERA_SECRET_KEY`` set: each secret is derived from it, so machines given the same value
agree without sharing anything else. Unset (the embedded default): a random secret is made on
first start and kept in the database, which every replica on that database then reads.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.core.clock import utc_now
from app.core.db import insert_ignore, transaction
from app.models import ServerSecret


def server_secret(session: Session, name: str, *, configured: str = "") -> bytes:
    if configured:
        return hmac.new(configured.encode(), name.encode(), hashlib.sha256).digest()
    with transaction(session):
        # Two replicas starting at once both insert; the first one wins and both read it.
        insert_ignore(
            session,
            ServerSecret,
            {"name": name, "value": secrets.token_hex(32), "created_at": utc_now()},
            conflict=["name"],
        )
        value = session.scalar(select(ServerSecret.value).where(ServerSecret.name == name))
    assert value is not None
    return bytes.fromhex(value)
