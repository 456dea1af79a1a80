"""Reconcilers of the quality loop."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from app.quality import reestimate
from app.quality import service as quality_service


class Reestimate:
    """Projects with enough new answers get their worker model refitted by EM."""

    name = "quality.reestimate"
    interval_s = 60.0

    def run_once(self, session: Session, now: datetime) -> int:
        return reestimate.reestimate_due(session, now=now)


class GradeGold:
    """Mixed-in gold answers are judged against their known answer soon after the submit."""

    name = "quality.grade_gold"
    interval_s = 5.0

    def run_once(self, session: Session, now: datetime) -> int:
        return quality_service.grade_gold_due(session, now=now)
