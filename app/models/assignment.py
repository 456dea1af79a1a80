from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    ColumnExpressionArgument,
    Float,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
    and_,
    literal_column,
    select,
)
from sqlalchemy.orm import Mapped, mapped_column

from app.core.models import Base, id_column


class AssignmentStatus(StrEnum):
    leased = "leased"
    submitted = "submitted"
    accepted = "accepted"
    rejected = "rejected"
    expired = "expired"
    released = "released"


class Assignment(Base):
    """A worker's lease on a task and, once submitted, its answer.

    ``UNIQUE(task_id, worker_id)`` is the database's promise that a worker never holds or answers
    one task twice; a task the worker released or let expire is not offered to it again.
    """

    __tablename__ = "assignments"
    __table_args__ = (
        UniqueConstraint("task_id", "worker_id"),
        Index("ix_assignments_status_expires_at", "status", "expires_at"),
        Index("ix_assignments_worker_id_id", "worker_id", "id"),
        Index("ix_assignments_worker_id_status", "worker_id", "status"),
        Index("ix_assignments_batch_id_id", "batch_id", "id"),
        Index("ix_assignments_status_auto_accept_at", "status", "auto_accept_at"),
    )

    id: Mapped[str] = id_column()
    task_id: Mapped[str] = mapped_column(ForeignKey("tasks.id"))
    """Looked up through ``UNIQUE(task_id, worker_id)`` (its leading column; migration 0018)."""
    worker_id: Mapped[str] = mapped_column(ForeignKey("accounts.id"))
    project_id: Mapped[str] = mapped_column(String(32), index=True)
    batch_id: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16), default=AssignmentStatus.leased)
    reward_micros: Mapped[int] = mapped_column(BigInteger)
    """The reward this answer earns if accepted, fixed at lease time, in micro-dollars."""
    leased_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    submitted_at: Mapped[datetime | None]
    auto_accept_at: Mapped[datetime | None]
    """When a submitted answer with no verdict yet is accepted on its own (the requester's
    review window, ``auto_accept_s`` after submission)."""
    answer: Mapped[dict[str, Any] | None]
    reason: Mapped[str | None] = mapped_column(Text)
    """Why the verdict (or, while submitted, the proposed verdict) is what it is."""
    agreement: Mapped[float | None] = mapped_column(Float)
    """Agreement with the task's final consensus, 0..1, once the task completed."""
    proposed_verdict: Mapped[str | None] = mapped_column(String(16))
    """``accepted`` or ``rejected`` by the consensus; final when the review window ends unless
    the requester decides otherwise first."""
    decided_at: Mapped[datetime | None]
    appeal_until: Mapped[datetime | None]
    """A rejected answer may be appealed, once, until then (its project's review window)."""
    appeal_message: Mapped[str | None] = mapped_column(Text)
    appealed_at: Mapped[datetime | None]
    appeal_due_at: Mapped[datetime | None]
    """The requester answers the appeal by then, or it is granted."""
    appeal_outcome: Mapped[str | None] = mapped_column(String(16))
    """``granted`` or ``denied``; NULL while open (or never appealed)."""


ONE: ColumnElement[int] = literal_column("1")
"""A literal ``LIMIT 1``: a bound limit makes PostgreSQL re-plan the statement on every call."""


def untouched_by(task_id: ColumnExpressionArgument[str], worker_id: str) -> ColumnElement[bool]:
    """``NOT EXISTS (SELECT 1 FROM assignments WHERE task_id = … AND worker_id = … OFFSET 0)``.

    The ``OFFSET 0`` fences the sub-select: without it PostgreSQL turns the ``NOT EXISTS`` into an
    anti-join that reads the worker's whole history through the ``(task_id, worker_id)`` index
    (8,929 buffers and 26 ms with 4.7k past assignments); fenced, it is one index probe per
    candidate row, whatever the history (benchmarks/README.md, "claim vs history")."""
    seen = (
        select(ONE)
        .where(and_(Assignment.task_id == task_id, Assignment.worker_id == worker_id))
        .offset(literal_column("0"))
    )
    return ~seen.exists()
