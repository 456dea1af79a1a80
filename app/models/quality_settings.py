from __future__ import annotations

from datetime import datetime

from sqlalchemy import Float, Integer
from sqlalchemy.orm import Mapped, mapped_column

from app.core.models import Base

DEFAULT_BENEFIT_OF_DOUBT_BELOW = 0.6
DEFAULT_QUALIFICATION_RETRY_S = 86_400


class QualitySettings(Base):
    """Operator-tuned quality thresholds (one row, id 1; defaults apply while it is absent)."""

    __tablename__ = "quality_settings"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    benefit_of_doubt_below: Mapped[float] = mapped_column(Float)
    """A consensus less confident than this rejects no one: the worker gets the benefit of the doubt."""
    qualification_retry_s: Mapped[int] = mapped_column(Integer)
    """How long a worker who failed a project's qualification waits before trying again."""
    updated_at: Mapped[datetime]
