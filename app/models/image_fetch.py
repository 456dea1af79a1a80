from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.core.models import Base, id_column


class ImageFetch(Base):
    """An image a batch names by URL, downloaded by the fetch reconciler rather than inside the
    upload request: ``pending`` until it becomes a task of its (still draft) batch (``done``) or
    is given up with the reason (``failed``)."""

    __tablename__ = "image_fetches"
    __table_args__ = (
        Index("ix_image_fetches_status_next_attempt_at", "status", "next_attempt_at"),
    )

    id: Mapped[str] = id_column()
    batch_id: Mapped[str] = mapped_column(ForeignKey("batches.id"), index=True)
    url: Mapped[str] = mapped_column(Text)
    name: Mapped[str] = mapped_column(String(255))
    pre_annotation: Mapped[dict[str, Any] | None]
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime]
    """When it is due; a claim pushes it ahead, so a fetcher killed mid-download is retried."""
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]
