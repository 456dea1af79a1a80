"""Resolve an API key to its account."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.core.security import secret_matches, split_api_key
from app.models import Account


def authenticate(session: Session, api_key: str) -> Account | None:
    parts = split_api_key(api_key)
    if parts is None:
        return None
    key_id, secret = parts
    account = session.scalar(select(Account).where(Account.key_id == key_id))
    if account is None or not secret_matches(secret, account.key_hash):
        return None
    return account
