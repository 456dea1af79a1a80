"""Signing in and out of the browser: email + password, a session cookie, a CSRF token."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.auth.errors import SignInThrottled, WrongCredentials
from app.auth.passwords import password_matches
from app.auth.throttle import SIGN_IN
from app.core.db import transaction
from app.core.ids import new_id
from app.core.security import hash_secret
from app.models import Account, WebSession

SESSION_LIFETIME = timedelta(days=14)


@dataclass(frozen=True)
class SignedIn:
    account: Account
    web_session: WebSession
    token: str
    """The cookie value; only its hash is stored."""


def normalize_email(email: str) -> str:
    return email.strip().lower()


def sign_in(
    session: Session, *, email: str, password: str, address: str, now: datetime
) -> SignedIn:
    """A new session for the right email and password; one message for either being wrong.

    A failure is committed before the 401 is raised: the count must survive the error."""
    email = normalize_email(email)
    with transaction(session):
        wait = SIGN_IN.retry_after(session, email=email, address=address, now=now)
        if wait:
            raise SignInThrottled(
                f"Too many failed sign-ins; try again in {_minutes(wait)}.", retry_after_s=wait
            )
        account = session.scalar(select(Account).where(Account.email == email))
        signed_in = None
        if account is None or not password_matches(password, account.password_hash):
            SIGN_IN.record_failure(session, email=email, address=address, now=now)
        else:
            SIGN_IN.forget_email(session, email=email)
            signed_in = _new_session(session, account, now=now)
    if signed_in is None:
        raise WrongCredentials("The email or the password is wrong.")
    return signed_in


def _new_session(session: Session, account: Account, *, now: datetime) -> SignedIn:
    token = secrets.token_urlsafe(32)
    web_session = WebSession(
        id=new_id("ses"),
        account_id=account.id,
        token_hash=hash_secret(token),
        csrf_token=secrets.token_urlsafe(32),
        created_at=now,
        expires_at=now + SESSION_LIFETIME,
    )
    session.add(web_session)
    return SignedIn(account, web_session, token)


def sign_out(session: Session, web_session: WebSession, *, now: datetime) -> None:
    """Revoke the session server-side: the cookie is worthless from now on."""
    with transaction(session):
        row = session.get(WebSession, web_session.id)
        if row is not None and row.revoked_at is None:
            row.revoked_at = now


def _minutes(seconds: int) -> str:
    minutes = max(1, round(seconds / 60))
    return f"{minutes} minute{'s' if minutes != 1 else ''}"
