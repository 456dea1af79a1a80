from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import BigInteger, Float, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.core.models import Base, id_column


class ProjectStatus(StrEnum):
    active = "active"
    paused = "paused"
    archived = "archived"


class Project(Base):
    __tablename__ = "projects"

    id: Mapped[str] = id_column()
    requester_id: Mapped[str] = mapped_column(ForeignKey("accounts.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    instructions: Mapped[str] = mapped_column(Text, default="")
    annotation_type: Mapped[str] = mapped_column(String(32))
    annotation: Mapped[dict[str, Any]]
    """The full annotation spec (type, labels, keypoints, skeleton) as the requester gave it."""
    reward_micros: Mapped[int] = mapped_column(BigInteger)
    """Reward per accepted answer, in micro-dollars."""
    overlap_min: Mapped[int] = mapped_column(Integer)
    overlap_max: Mapped[int] = mapped_column(Integer)
    confidence: Mapped[float] = mapped_column(Float)
    gold_rate: Mapped[float] = mapped_column(Float)
    qualification_gold_tasks: Mapped[int] = mapped_column(Integer)
    qualification_min_accuracy: Mapped[float] = mapped_column(Float)
    ban_below_accuracy: Mapped[float] = mapped_column(Float)
    assignment_duration_s: Mapped[int] = mapped_column(Integer)
    min_answer_s: Mapped[int] = mapped_column(Integer, default=0)
    """Answers quicker than this (seconds from lease to submit) count as too fast; 0 = no floor."""
    fast_answers_to_ban: Mapped[int] = mapped_column(Integer, default=5)
    """That many too-fast answers ban the worker from the project."""
    auto_accept_s: Mapped[int] = mapped_column(Integer)
    auto_label: Mapped[bool] = mapped_column(default=False)
    """Auto-labelling: a task its models are sure enough of (the consensus of their predictions
    alone reaches the batch's confidence target) completes with no human answer, but for the
    audit share."""
    auto_label_audit: Mapped[float] = mapped_column(Float, default=0.1)
    """The share of would-be auto-labelled tasks drawn at random to go to people anyway."""
    status: Mapped[str] = mapped_column(String(16), default=ProjectStatus.active)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
