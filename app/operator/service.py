"""What operators see across the marketplace."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.core.pagination import PageParams
from app.models import (
    Account,
    Assignment,
    AssignmentStatus,
    Batch,
    Project,
    Role,
    Task,
    TaskQueueEntry,
)

ANSWERED = (AssignmentStatus.submitted, AssignmentStatus.accepted, AssignmentStatus.rejected)


def workers(session: Session, page: PageParams) -> Sequence[tuple[Account, int, int]]:
    """Workers, newest first, with answers given and answers accepted."""
    answers = (
        select(
            Assignment.worker_id,
            func.count().filter(Assignment.status.in_(ANSWERED)).label("answers"),
            func.count().filter(Assignment.status == AssignmentStatus.accepted).label("accepted"),
        )
        .group_by(Assignment.worker_id)
        .subquery()
    )
    stmt = (
        select(Account, func.coalesce(answers.c.answers, 0), func.coalesce(answers.c.accepted, 0))
        .outerjoin(answers, answers.c.worker_id == Account.id)
        .where(Account.role == Role.worker)
    )
    if page.after:
        stmt = stmt.where(Account.id < page.after)
    rows = session.execute(stmt.order_by(Account.id.desc()).limit(page.limit + 1)).all()
    return [(a, int(n), int(k)) for a, n, k in rows]


def stats(session: Session) -> dict[str, Any]:
    def count(stmt: Any) -> int:
        return int(session.scalar(stmt) or 0)

    by_status = dict(session.execute(select(Assignment.status, func.count()).group_by(Assignment.status)).all())
    return {
        "accounts": dict(session.execute(select(Account.role, func.count()).group_by(Account.role)).all()),
        "projects": count(select(func.count()).select_from(Project)),
        "batches": dict(session.execute(select(Batch.status, func.count()).group_by(Batch.status)).all()),
        "tasks": dict(session.execute(select(Task.status, func.count()).group_by(Task.status)).all()),
        "tasks_waiting": count(select(func.count()).where(TaskQueueEntry.open_slots > 0)),
        "assignments": by_status,
    }
