from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from app.work import service as work_service


class LeaseExpiry:
    """Leases past ``expires_at`` become ``expired`` and their tasks return to the pool."""

    name = "leases.expire"
    interval_s = 2.0

    def run_once(self, session: Session, now: datetime) -> int:
        return work_service.expire_due(session, now=now)
