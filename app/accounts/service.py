"""Accounts: requesters and workers sign up over HTTP; operators only from the command line."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from app.core.db import transaction
from app.core.ids import new_id
from app.core.security import generate_api_key
from app.models import Account, Role


def create_account(
    session: Session, *, role: Role, name: str, now: datetime
) -> tuple[Account, str]:
    """Create an account and return it with its API key, the only time the key is visible."""
    key = generate_api_key()
    account = Account(
        id=new_id("acc"),
        role=role,
        name=name,
        key_id=key.key_id,
        key_hash=key.secret_hash,
        created_at=now,
    )
    with transaction(session):
        session.add(account)
    return account, key.plaintext
