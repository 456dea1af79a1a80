"""Operator-tuned quality thresholds, read where they decide something."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from app.models import QualitySettings
from app.models.quality_settings import (
    DEFAULT_BENEFIT_OF_DOUBT_BELOW,
    DEFAULT_QUALIFICATION_RETRY_S,
)


@dataclass(frozen=True)
class Thresholds:
    benefit_of_doubt_below: float = DEFAULT_BENEFIT_OF_DOUBT_BELOW
    qualification_retry_s: int = DEFAULT_QUALIFICATION_RETRY_S


def current(session: Session) -> Thresholds:
    return of_row(session.get(QualitySettings, 1))


def of_row(row: QualitySettings | None) -> Thresholds:
    """The thresholds of the settings row, the defaults while there is none."""
    return (
        Thresholds(row.benefit_of_doubt_below, row.qualification_retry_s) if row else Thresholds()
    )


def update(
    session: Session,
    *,
    now: datetime,
    benefit_of_doubt_below: float | None,
    qualification_retry_s: int | None,
) -> Thresholds:
    """Only flushes; the caller owns the transaction."""
    row = session.get(QualitySettings, 1, with_for_update={"key_share": True})
    if row is None:
        defaults = Thresholds()
        row = QualitySettings(
            id=1,
            benefit_of_doubt_below=defaults.benefit_of_doubt_below,
            qualification_retry_s=defaults.qualification_retry_s,
            updated_at=now,
        )
        session.add(row)
    if benefit_of_doubt_below is not None:
        row.benefit_of_doubt_below = benefit_of_doubt_below
    if qualification_retry_s is not None:
        row.qualification_retry_s = qualification_retry_s
    row.updated_at = now
    session.flush()
    return Thresholds(row.benefit_of_doubt_below, row.qualification_retry_s)
