"""Resolve a credential to its account: an API key (``Authorization: Bearer``) or a session
cookie. Both are looked up by a public or hashed part and compared in constant time."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.core.security import hash_secret, secret_matches, split_api_key
from app.models import Account, ApiKey, WebSession


def authenticate(session: Session, api_key: str) -> Account | None:
    """The account of a live (not revoked) API key, or None."""
    parts = split_api_key(api_key)
    if parts is None:
        return None
    key_id, secret = parts
    row = session.execute(
        select(Account, ApiKey.key_hash)
        .join(ApiKey, ApiKey.account_id == Account.id)
        .where(ApiKey.key_id == key_id, ApiKey.revoked_at.is_(None))
    ).first()
    if row is None or not secret_matches(secret, row[1]):
        return None
    return row[0]


def authenticate_session(
    session: Session, token: str, *, now: datetime
) -> tuple[Account, WebSession] | None:
    """The account and session of a live session cookie, or None."""
    if not 20 <= len(token) <= 100:
        return None
    row = session.execute(
        select(Account, WebSession)
        .join(WebSession, WebSession.account_id == Account.id)
        .where(
            WebSession.token_hash == hash_secret(token),
            WebSession.revoked_at.is_(None),
            WebSession.expires_at > now,
        )
    ).first()
    return None if row is None else (row[0], row[1])
