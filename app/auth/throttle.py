"""Sign-in throttling: at most ``limit`` failures per email and per client address per window.

Counted by the one rate limiter (``app.core.ratelimit``), in the database, so every ``serve``
replica counts the same failures. Only failures count, so the check and the record are apart:
``retry_after`` before the password is checked, ``record_failure`` after a wrong one.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from app.core import ratelimit
from app.core.ratelimit import Limit


class Throttle:
    def __init__(self, limit: int = 10, window_s: int = 15 * 60) -> None:
        self.by_email = Limit("sign-in:email", limit, window_s)
        self.by_address = Limit("sign-in:address", limit, window_s)

    def retry_after(self, session: Session, *, email: str, address: str, now: datetime) -> int:
        """Seconds until one more attempt is allowed, 0 if it is allowed now."""
        return max(
            ratelimit.retry_after(session, self.by_email, email, now=now),
            ratelimit.retry_after(session, self.by_address, address, now=now),
        )

    def record_failure(self, session: Session, *, email: str, address: str, now: datetime) -> None:
        ratelimit.hit(session, self.by_email, email, now=now)
        ratelimit.hit(session, self.by_address, address, now=now)

    def forget_email(self, session: Session, *, email: str) -> None:
        """After a successful sign-in the account's own count starts again (the address's
        does not: one known password must not reset an address guessing at other accounts)."""
        ratelimit.forget(session, self.by_email, email)


SIGN_IN = Throttle()
