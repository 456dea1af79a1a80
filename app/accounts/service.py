"""Accounts: requesters and workers sign up over HTTP; operators only from the command line."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import exists, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.auth.errors import EmailTaken
from app.auth.keys import new_key_row
from app.auth.passwords import hash_password
from app.auth.sessions import normalize_email
from app.core.db import transaction
from app.core.ids import new_id
from app.models import Account, Role


def create_account(
    session: Session,
    *,
    role: Role,
    name: str,
    now: datetime,
    email: str | None = None,
    password: str | None = None,
) -> tuple[Account, str]:
    """Create an account and return it with its API key, the only time the key is visible.

    With an email and a password the account can also sign in from the browser."""
    account = Account(id=new_id("acc"), role=role, name=name, created_at=now)
    if email is not None and password is not None:
        account.email = normalize_email(email)
        account.password_hash = hash_password(password)  # slow on purpose: outside the lock
    key, plaintext = new_key_row(account.id, "default", now=now)
    try:
        with transaction(session):
            if account.email and session.scalar(
                select(exists().where(Account.email == account.email))
            ):
                raise EmailTaken("An account with this email already exists; sign in instead.")
            session.add(account)
            session.flush()
            session.add(key)
    except IntegrityError:
        # Two sign-ups with one email at the same moment: the unique constraint decides.
        raise EmailTaken("An account with this email already exists; sign in instead.") from None
    return account, plaintext
