"""Named API keys: a signed-in user makes keys for scripts and revokes them."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.auth.errors import ApiKeyNotFound
from app.core.db import transaction
from app.core.ids import new_id
from app.core.security import generate_api_key
from app.models import Account, ApiKey


def new_key_row(account_id: str, name: str, *, now: datetime) -> tuple[ApiKey, str]:
    """An API key row to add, and the plaintext key (shown once, never stored)."""
    key = generate_api_key()
    row = ApiKey(
        id=new_id("key"),
        account_id=account_id,
        name=name,
        key_id=key.key_id,
        key_hash=key.secret_hash,
        created_at=now,
    )
    return row, key.plaintext


def create_key(
    session: Session, account: Account, name: str, *, now: datetime
) -> tuple[ApiKey, str]:
    with transaction(session):
        row, plaintext = new_key_row(account.id, name, now=now)
        session.add(row)
    return row, plaintext


def list_keys(session: Session, account: Account) -> Sequence[ApiKey]:
    """The account's live keys, newest first."""
    with transaction(session):
        return session.scalars(
            select(ApiKey)
            .where(ApiKey.account_id == account.id, ApiKey.revoked_at.is_(None))
            .order_by(ApiKey.id.desc())
        ).all()


def revoke_key(session: Session, account: Account, key_id: str, *, now: datetime) -> None:
    with transaction(session):
        row = session.scalar(
            select(ApiKey).where(
                ApiKey.id == key_id, ApiKey.account_id == account.id, ApiKey.revoked_at.is_(None)
            )
        )
        if row is None:
            raise ApiKeyNotFound(f"No API key {key_id} among yours.")
        row.revoked_at = now
