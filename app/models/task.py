from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    ColumnExpressionArgument,
    Float,
    ForeignKey,
    Index,
    Integer,
    ScalarSelect,
    String,
    func,
    select,
)
from sqlalchemy.orm import Mapped, mapped_column

from app.core.models import Base, JSONType, id_column


class TaskStatus(StrEnum):
    draft = "draft"
    open = "open"
    completed = "completed"
    cancelled = "cancelled"


class Task(Base):
    """One image of a batch: one microtask."""

    __tablename__ = "tasks"

    id: Mapped[str] = id_column()
    batch_id: Mapped[str] = mapped_column(ForeignKey("batches.id"), index=True)
    project_id: Mapped[str] = mapped_column(ForeignKey("projects.id"), index=True)
    image_id: Mapped[str] = mapped_column(ForeignKey("images.id"), index=True)
    image_name: Mapped[str] = mapped_column(String(255))
    status: Mapped[str] = mapped_column(String(16), default=TaskStatus.draft)
    pre_annotation: Mapped[dict[str, Any] | None]
    pre_annotation_model_id: Mapped[str | None] = mapped_column(String(32))
    """Set when ``pre_annotation`` is a model's prediction (``annotator_models.id``); null when
    it is the requester's own (or there is none)."""
    is_gold: Mapped[bool] = mapped_column(default=False)
    gold_answer: Mapped[dict[str, Any] | None]
    """The known answer of a gold task; never shown to workers."""
    answer_count: Mapped[int] = mapped_column(Integer, default=0)
    consensus: Mapped[dict[str, Any] | None]
    confidence: Mapped[float | None] = mapped_column(Float)
    object_confidences: Mapped[list[float] | None] = mapped_column(JSONType)
    created_at: Mapped[datetime]
    completed_at: Mapped[datetime | None]
    labeled_by: Mapped[str | None] = mapped_column(String(16))
    """``"model"``: completed by auto-labelling, from model predictions alone (no human answer);
    null otherwise (completed by people, or not completed)."""
    audit: Mapped[bool | None]
    """Auto-labelling's draw for this task, made once when its models were first sure enough:
    True sends it to people anyway (the audit share); null: never drawn. Never shown to workers."""


def completed_in(batch_id: ColumnExpressionArgument[str] | str) -> ScalarSelect[int]:
    """How many of the batch's tasks are completed: counted, not stored on the batch, where a
    counter would be a row every completing submit of the batch queues on (migration 0011)."""
    return (
        select(func.count())
        .where(Task.batch_id == batch_id, Task.status == TaskStatus.completed)
        .scalar_subquery()
    )


class TaskQueueEntry(Base):
    """The lease queue: one narrow row per open task with the answers it can still take.

    Kept apart from ``tasks`` so the hot update (``open_slots`` on every lease, release and
    expiry) touches a small row whose only index, ``(project_id, task_id)``, never changes: on
    PostgreSQL the update is HOT (the table has fillfactor and aggressive per-table autovacuum,
    see the migration), so dead rows do not pile up in the index the lease query walks. A row
    leaves the queue when its task completes or its batch is cancelled.
    """

    __tablename__ = "task_queue"
    __table_args__ = (Index("ix_task_queue_project_id_task_id", "project_id", "task_id"),)

    task_id: Mapped[str] = mapped_column(
        ForeignKey("tasks.id", ondelete="CASCADE"), primary_key=True
    )
    project_id: Mapped[str] = mapped_column(String(32))
    batch_id: Mapped[str] = mapped_column(String(32), index=True)
    open_slots: Mapped[int] = mapped_column(Integer)
    """Answers still wanted minus live leases; the lease path only takes rows above zero."""
