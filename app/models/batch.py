from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import BigInteger, Float, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from app.core.models import Base, id_column


class BatchStatus(StrEnum):
    draft = "draft"
    open = "open"
    completed = "completed"
    cancelled = "cancelled"
    gold = "gold"
    """The project's hidden holder of gold tasks; never launched, listed or settled."""


class Batch(Base):
    __tablename__ = "batches"

    id: Mapped[str] = id_column()
    project_id: Mapped[str] = mapped_column(ForeignKey("projects.id"), index=True)
    requester_id: Mapped[str] = mapped_column(ForeignKey("accounts.id"), index=True)
    status: Mapped[str] = mapped_column(String(16), default=BatchStatus.draft)
    task_count: Mapped[int] = mapped_column(Integer)
    # The project's terms, fixed when the batch launches: a later PATCH of the project applies
    # to later launches, never to work already promised (and escrowed) at the old terms.
    gold_left: Mapped[int] = mapped_column(Integer, default=0)
    """Gold answers this batch's escrow can still pay for (set at launch, taken per gold lease)."""
    reward_micros: Mapped[int | None] = mapped_column(BigInteger)
    """Reward per accepted answer in micro-dollars, fixed at launch."""
    overlap_min: Mapped[int | None] = mapped_column(Integer)
    overlap_max: Mapped[int | None] = mapped_column(Integer)
    confidence: Mapped[float | None] = mapped_column(Float)
    upload_report: Mapped[dict[str, Any]]
    """What the upload skipped or merged: ``{"skipped": [...], "duplicates": [...]}``."""
    created_at: Mapped[datetime]
    launched_at: Mapped[datetime | None]
    completed_at: Mapped[datetime | None]
    cancelled_at: Mapped[datetime | None]
    settled_at: Mapped[datetime | None]
    """When the unspent escrow went back to the requester: the batch's books are closed."""
