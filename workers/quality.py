"""Reconcilers of the quality loop."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from app.quality import reestimate


class Reestimate:
    """Projects with enough new answers get their worker model refitted by EM."""

    name = "quality.reestimate"
    interval_s = 60.0

    def run_once(self, session: Session, now: datetime) -> int:
        return reestimate.reestimate_due(session, now=now)
