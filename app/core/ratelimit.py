"""The one rate limiter: hits per caller per fixed window, counted in the database.

A ``Limit`` allows ``limit`` hits per ``window_s`` seconds for each key (an account, a client
address, an email). Counters live in ``rate_counters``, one row per limit, key and window, and
are bumped by one ``INSERT … ON CONFLICT DO UPDATE … RETURNING``: atomic on both databases, so
every ``serve`` replica shares the counts and concurrent requests cannot both slip under a limit,
with no state in Python. Fixed windows: a caller can fit up to twice the limit across a window
boundary, an accepted looseness for limits meant to stop floods, not to meter.

Three ways to use it. ``take`` counts a request and refuses it when over (sign-up, assist
calls): it commits its own short transaction first, so the count holds whatever the request
does next and no row lock is kept across the use case. A ``Charge`` does the same inside the use
case's own transaction (lease, submit: one transaction per request, not two): ``charge`` counts
and refuses there, and when the use case then fails, ``record`` counts the request again in a
short transaction of its own (the failed one was rolled back with the use case), so every
request is counted either way, as with ``take``. ``retry_after`` + ``hit`` count only some
outcomes (failed sign-ins) inside the caller's transaction. Old windows are deleted by the
``ratelimits.prune`` reconciler (``prune``).
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select, text
from sqlalchemy.orm import Session

from app.core.config import Settings
from app.core.db import transaction
from app.core.errors import ProblemError, TooManyRequests
from app.models import RateCounter


class RateLimited(TooManyRequests):
    title = "Rate limit reached"


@dataclass(frozen=True)
class Limit:
    name: str
    limit: int
    window_s: int

    def bucket(self, key: str) -> str:
        return f"{self.name}:{key}"

    def window(self, now: datetime) -> tuple[int, int]:
        """The window ``now`` falls in, and the Unix second it ends."""
        index = math.floor(now.timestamp()) // self.window_s
        return index, (index + 1) * self.window_s

    def wait_s(self, now: datetime) -> int:
        """Seconds until the current window ends (at least 1: ``Retry-After`` is whole seconds)."""
        return max(1, math.ceil(self.window(now)[1] - now.timestamp()))


# One statement, the same on both databases (``window`` is a keyword in both: quoted). Text
# rather than a built insert(): building and compiling that costs more than running it.
_HIT = text(
    'INSERT INTO rate_counters (bucket, "window", hits, ends_at) VALUES (:bucket, :window, 1, :ends) '
    'ON CONFLICT (bucket, "window") DO UPDATE SET hits = rate_counters.hits + 1 RETURNING hits'
)


def hit(session: Session, limit: Limit, key: str, *, now: datetime) -> int:
    """Count one hit in the caller's transaction; returns the hits in this window so far."""
    index, ends_at = limit.window(now)
    params = {"bucket": limit.bucket(key), "window": index, "ends": ends_at}
    return int(session.execute(_HIT, params).scalar_one())


def retry_after(session: Session, limit: Limit, key: str, *, now: datetime) -> int:
    """Seconds until one more hit is allowed, 0 if it is allowed now (counts nothing)."""
    index, _ = limit.window(now)
    hits = session.scalar(
        select(RateCounter.hits).where(
            RateCounter.bucket == limit.bucket(key), RateCounter.window == index
        )
    )
    return limit.wait_s(now) if hits is not None and hits >= limit.limit else 0


def take(session: Session, limit: Limit, key: str, *, now: datetime, what: str) -> None:
    """Count this request and commit the count; raise TooManyRequests (429, ``Retry-After``)
    when it is over the limit. Call it before the use case opens its transaction (or give the
    use case a ``Charge``)."""
    try:
        if session.get_bind().dialect.name == "postgresql":
            # A count lost in a crash is harmless: do not wait for the WAL flush (the lease or
            # submit that follows waits for its own).
            session.execute(text("SET LOCAL synchronous_commit TO OFF"))
        hits = hit(session, limit, key, now=now)
        session.commit()
    except BaseException:
        session.rollback()
        raise
    if hits > limit.limit:
        raise refusal(limit, now=now, what=what)


@dataclass(frozen=True)
class Charge:
    """One request to count against ``limit`` for ``key``, inside the use case's transaction."""

    limit: Limit
    key: str
    what: str
    """For the 429's detail: "Too many <what>"."""


def charge(session: Session, c: Charge, *, now: datetime) -> None:
    """Count the request in the caller's (the use case's) transaction; raise the 429 when over
    the limit (the transaction then rolls back: the counter already stands at the limit, so
    the next request is refused as well)."""
    if hit(session, c.limit, c.key, now=now) > c.limit.limit:
        raise refusal(c.limit, now=now, what=c.what)


@contextmanager
def charged_transaction(session: Session, c: Charge | None, *, now: datetime) -> Iterator[Session]:
    """``transaction(session)`` whose last statement counts ``c`` (see ``charge``; over the
    limit, the use case's work is rolled back with it); when the
    use case fails with a refusal of its own (a 4xx problem), the request is counted again by
    ``record``, since its count was rolled back with the use case. ``c`` None: a plain
    transaction. Not for a use case nested in an outer transaction (``record`` commits)."""
    try:
        with transaction(session):
            yield session
            if c is not None:
                # Last, just before the commit: on SQLite the counter's upsert takes the write
                # lock, which then is held only as long as the use case's own writes hold it.
                charge(session, c, now=now)
    except RateLimited:
        raise
    except ProblemError as refused:
        if c is not None:
            # Counted as every request is; over the limit, the answer is the 429 (as when the
            # count came first), else the use case's own refusal.
            if record(session, c, now=now) > c.limit.limit:
                raise refusal(c.limit, now=now, what=c.what) from refused
        raise


def record(session: Session, c: Charge, *, now: datetime) -> int:
    """Count a request whose use case failed (its count was rolled back with it), in a short
    transaction of its own; returns the hits of the window so far."""
    try:
        hits = hit(session, c.limit, c.key, now=now)
        session.commit()
    except BaseException:
        session.rollback()
        raise
    return hits


def refusal(limit: Limit, *, now: datetime, what: str) -> RateLimited:
    """The 429 of a request over ``limit`` (also raised by the hot path, app/work/hotpath.py,
    which counts in its own database call)."""
    wait = limit.wait_s(now)
    return RateLimited(
        f"Too many {what}: at most {limit.limit} per {_per(limit.window_s)}; "
        f"try again in {wait} s.",
        retry_after_s=wait,
    )


def forget(session: Session, limit: Limit, key: str) -> None:
    """Start the key's count again (in the caller's transaction)."""
    session.execute(delete(RateCounter).where(RateCounter.bucket == limit.bucket(key)))


def prune(session: Session, *, now: datetime) -> int:
    """Delete the counters whose window has ended; returns how many. Commits."""
    result = session.execute(
        delete(RateCounter).where(RateCounter.ends_at <= math.floor(now.timestamp()))
    )
    session.commit()
    return int(getattr(result, "rowcount", 0) or 0)


# The service's limits, from the settings.


def signups(settings: Settings) -> Limit:
    return Limit("sign-up:address", settings.signups_per_address_per_hour, 3600)


def leases(settings: Settings) -> Limit:
    return Limit("lease:worker", settings.leases_per_worker_per_minute, 60)


def answers(settings: Settings) -> Limit:
    return Limit("answer:worker", settings.answers_per_worker_per_minute, 60)


def assists(settings: Settings) -> Limit:
    return Limit("assist:worker", settings.assists_per_worker_per_minute, 60)


def _per(window_s: int) -> str:
    for seconds, unit in ((86_400, "day"), (3600, "hour"), (60, "minute")):
        if window_s == seconds:
            return unit
        if window_s % seconds == 0:
            return f"{window_s // seconds} {unit}s"
    return f"{window_s} s"
