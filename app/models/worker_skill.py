from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Float, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.core.models import Base, JSONType


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
    confusion: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    """Classification: ``{"gold": [...], "crowd": [...], "gold_upper": x}``, evidence counts
    ``[true label][answered label]`` flattened row by row in the spec's label order (gold: 1 in
    the gold label's row; a completed task: the other answers' posterior over its truth), and
    the credible bound of the accuracy on gold alone. Their Dirichlet posterior is the worker's
    confusion matrix at submit and drives its ban (app.quality.skills)."""
    qualified_at: Mapped[datetime | None]
    qualification_failed_at: Mapped[datetime | None]
    qualification_retry_at: Mapped[datetime | None]
    banned_at: Mapped[datetime | None]
    ban_reason: Mapped[str | None] = mapped_column(Text)
    banned_by: Mapped[str | None] = mapped_column(String(16))
    """``rule`` (the project's accuracy threshold) or ``operator``."""
    updated_at: Mapped[datetime]
