"""Sign-in throttling: at most ``limit`` failures per email and per client address per window.

Kept in the database (``sign_in_failures``) so that every ``serve`` replica counts the same
failures. Small on purpose, with one entry point for the check and one for the record, so a
general rate limiter can take its place without touching the sign-in service.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, or_, select
from sqlalchemy.orm import Session

from app.models import SignInFailure


@dataclass(frozen=True)
class Throttle:
    limit: int = 10
    window: timedelta = timedelta(minutes=15)

    def retry_after(self, session: Session, *, email: str, address: str, now: datetime) -> int:
        """Seconds until one more attempt is allowed, 0 if it is allowed now."""
        waits = [0]
        for column, value in ((SignInFailure.email, email), (SignInFailure.address, address)):
            # One more attempt is allowed once the limit-th newest failure leaves the window.
            blocking = session.scalar(
                select(SignInFailure.failed_at)
                .where(column == value, SignInFailure.failed_at > now - self.window)
                .order_by(SignInFailure.failed_at.desc())
                .offset(self.limit - 1)
                .limit(1)
            )
            if blocking is not None:
                waits.append(max(1, math.ceil((blocking + self.window - now).total_seconds())))
        return max(waits)

    def record_failure(self, session: Session, *, email: str, address: str, now: datetime) -> None:
        # Forget what no window can count any more, for these keys: the table stays small.
        session.execute(
            delete(SignInFailure).where(
                or_(SignInFailure.email == email, SignInFailure.address == address),
                SignInFailure.failed_at <= now - self.window,
            )
        )
        session.add(SignInFailure(email=email, address=address, failed_at=now))

    def forget_email(self, session: Session, *, email: str) -> None:
        """After a successful sign-in the account's own count starts again (the address's
        does not: one known password must not reset an address guessing at other accounts)."""
        session.execute(delete(SignInFailure).where(SignInFailure.email == email))


SIGN_IN = Throttle()
