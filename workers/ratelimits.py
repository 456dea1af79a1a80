from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from app.core import ratelimit


class PruneRateCounters:
    """Rate-limit counters whose window has ended are deleted: the table holds only live ones."""

    name = "ratelimits.prune"
    interval_s = 60.0

    def run_once(self, session: Session, now: datetime) -> int:
        return ratelimit.prune(session, now=now)
