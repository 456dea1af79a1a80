from __future__ import annotations

from datetime import datetime

from sqlalchemy import Float, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.core.models import Base


class WorkerSkill(Base):
    """What a project has learned of one worker: graded answers, their summed agreement with
    the consensus (0..1 each), and a ban when that evidence is confidently bad.

    The accuracy estimate is a Beta posterior over these counts (app.quality.skills), so three
    lucky answers do not make an expert and three unlucky ones do not ban anyone.
    """

    __tablename__ = "worker_skills"

    project_id: Mapped[str] = mapped_column(ForeignKey("projects.id"), primary_key=True)
    worker_id: Mapped[str] = mapped_column(ForeignKey("accounts.id"), primary_key=True, index=True)
    graded: Mapped[int] = mapped_column(Integer, default=0)
    agreement_sum: Mapped[float] = mapped_column(Float, default=0.0)
    fast_answers: Mapped[int] = mapped_column(Integer, default=0)
    """Answers submitted faster than the project's ``min_answer_s``."""
    gold_graded: Mapped[int] = mapped_column(Integer, default=0)
    gold_agreement_sum: Mapped[float] = mapped_column(Float, default=0.0)
    qualified_at: Mapped[datetime | None]
    qualification_failed_at: Mapped[datetime | None]
    qualification_retry_at: Mapped[datetime | None]
    banned_at: Mapped[datetime | None]
    ban_reason: Mapped[str | None] = mapped_column(Text)
    banned_by: Mapped[str | None] = mapped_column(String(16))
    """``rule`` (the project's accuracy threshold) or ``operator``."""
    updated_at: Mapped[datetime]
