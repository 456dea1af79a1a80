from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Integer
from sqlalchemy.orm import Mapped, mapped_column

from app.core.models import Base


class ProjectModel(Base):
    """The project's worker model from its last full re-estimation (EM over every answer and
    gold): for classification the consensus library's ``WorkerSkills`` as JSON (confusion
    matrices, class prior, calibration), which the submit path then uses instead of the
    one-coin estimate."""

    __tablename__ = "project_models"

    project_id: Mapped[str] = mapped_column(ForeignKey("projects.id"), primary_key=True)
    state: Mapped[dict[str, Any] | None]
    version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    """Incremented by every refit: what a process's cache of parsed models is keyed by."""
    answers_at_fit: Mapped[int] = mapped_column(Integer, default=0)
    """How many graded answers the project had when this model was fitted."""
    fitted_at: Mapped[datetime | None]
    requested_at: Mapped[datetime]
    """Not looked at before then: a fitter's claim pushes it ahead for the length of a fit
    (``app.quality.reestimate.CLAIM``), and its write (or its skip) brings it back."""
