"""The market over a window: throughput, money and quality, in totals and per time bucket.

Rows are read for the window only and bucketed here rather than with each database's own date
arithmetic, so SQLite and PostgreSQL give the same figures; the window is capped (31 days) and
so is the number of buckets (500).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

import payments
from app.core.db import read_only
from app.models import Account, Assignment, AssignmentStatus, Batch, Project, Task, TaskQueueEntry

MAX_WINDOW_S = 31 * 86_400
MAX_BUCKETS = 500
ANSWERED = (AssignmentStatus.submitted, AssignmentStatus.accepted, AssignmentStatus.rejected)


@dataclass
class Bucket:
    start: datetime
    answers: int = 0
    leases: int = 0
    accepted: int = 0
    rejected: int = 0
    completed_tasks: int = 0
    confidence_sum: float = 0.0
    money: dict[str, int] = field(default_factory=lambda: dict.fromkeys(payments.FLOWS, 0))

    def figures(self, seconds: int) -> dict[str, Any]:
        decided = self.accepted + self.rejected
        minutes = seconds / 60
        return {
            "answers": self.answers,
            "leases": self.leases,
            "answers_per_minute": round(self.answers / minutes, 4),
            "leases_per_minute": round(self.leases / minutes, 4),
            "completed_tasks": self.completed_tasks,
            "average_confidence": (
                round(self.confidence_sum / self.completed_tasks, 4)
                if self.completed_tasks
                else None
            ),
            "decided": decided,
            "rejected": self.rejected,
            "rejection_rate": round(self.rejected / decided, 4) if decided else None,
            **self.money,
        }


def default_bucket(window_s: int) -> int:
    """About 48 buckets, on a round number of minutes."""
    return max(60, (window_s // 48) // 60 * 60)


def market(
    session: Session, *, until: datetime, window_s: int, bucket_s: int | None
) -> dict[str, Any]:
    bucket_s = bucket_s or default_bucket(window_s)
    n = -(-window_s // bucket_s)
    if n > MAX_BUCKETS:
        bucket_s = -(-window_s // MAX_BUCKETS)
        n = -(-window_s // bucket_s)
    since = until - timedelta(seconds=window_s)
    buckets = [Bucket(since + timedelta(seconds=i * bucket_s)) for i in range(n)]
    total = Bucket(since)

    def at(moment: datetime | None) -> Bucket:
        assert moment is not None  # the query keeps only rows inside the window
        return buckets[min(int((moment - since).total_seconds()) // bucket_s, n - 1)]

    def between(column: Any) -> Any:
        return (column >= since) & (column < until)

    with read_only(session):
        for (moment,) in session.execute(
            select(Assignment.leased_at).where(between(Assignment.leased_at))
        ):
            at(moment).leases += 1
            total.leases += 1
        for (submitted,) in session.execute(
            select(Assignment.submitted_at).where(
                between(Assignment.submitted_at), Assignment.status.in_(ANSWERED)
            )
        ):
            at(submitted).answers += 1
            total.answers += 1
        for decided, verdict in session.execute(
            select(Assignment.decided_at, Assignment.status).where(
                between(Assignment.decided_at),
                Assignment.status.in_((AssignmentStatus.accepted, AssignmentStatus.rejected)),
            )
        ):
            for b in (at(decided), total):
                if verdict == AssignmentStatus.rejected:
                    b.rejected += 1
                else:
                    b.accepted += 1
        for completed, confidence in session.execute(
            select(Task.completed_at, Task.confidence).where(
                between(Task.completed_at), Task.is_gold.is_(False)
            )
        ):
            for b in (at(completed), total):
                b.completed_tasks += 1
                b.confidence_sum += float(confidence or 0.0)
        for flow in payments.flows(session, since, until):
            at(flow.at).money[flow.flow] += flow.amount
            total.money[flow.flow] += flow.amount
    return {
        "window": {"since": since, "until": until, "window_s": window_s, "bucket_s": bucket_s},
        "totals": total.figures(window_s),
        "series": [{"start": b.start, **b.figures(bucket_s)} for b in buckets],
    }


def marketplace_counts(session: Session) -> dict[str, Any]:
    """What exists now, across the marketplace."""

    def grouped(column: Any) -> dict[str, int]:
        rows = session.execute(select(column, func.count()).group_by(column)).all()
        return {str(key): int(n) for key, n in rows}

    return {
        "accounts": grouped(Account.role),
        "projects": int(session.scalar(select(func.count()).select_from(Project)) or 0),
        "batches": grouped(Batch.status),
        "tasks": grouped(Task.status),
        "tasks_waiting": int(
            session.scalar(select(func.count()).where(TaskQueueEntry.open_slots > 0)) or 0
        ),
        "assignments": grouped(Assignment.status),
    }
