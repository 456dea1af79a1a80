"""The lease queue: which task a worker gets next, and giving slots back.

Exclusivity comes from the database. On PostgreSQL the candidate row is locked with
``FOR UPDATE SKIP LOCKED``, so concurrent leases each take a different row instead of queueing
behind one; on SQLite the clause compiles to nothing and ``BEGIN IMMEDIATE`` serialises writers.
``UNIQUE(task_id, worker_id)`` on assignments is the backstop for "never the same task twice".
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

from sqlalchemy import and_, delete, exists, select, update
from sqlalchemy.orm import Session

from app.models import Assignment, TaskQueueEntry


def claim_slot(session: Session, project_id: str, worker_id: str) -> TaskQueueEntry | None:
    """Lock the oldest task of the project with a free slot that this worker has not touched."""
    touched = exists().where(
        and_(Assignment.task_id == TaskQueueEntry.task_id, Assignment.worker_id == worker_id)
    )
    stmt = (
        select(TaskQueueEntry)
        .where(TaskQueueEntry.project_id == project_id, TaskQueueEntry.open_slots > 0, ~touched)
        .order_by(TaskQueueEntry.task_id)
        .limit(1)
        .with_for_update(skip_locked=True)
    )
    entry = session.scalar(stmt)
    if entry is not None:
        entry.open_slots -= 1
    return entry


def return_slots(session: Session, task_ids: Iterable[str]) -> None:
    """Give the slots of ended leases back (a cancelled or completed task has no row: no-op)."""
    for task_id, n in sorted(Counter(task_ids).items()):
        session.execute(
            update(TaskQueueEntry)
            .where(TaskQueueEntry.task_id == task_id)
            .values(open_slots=TaskQueueEntry.open_slots + n)
        )


def remove(session: Session, task_id: str) -> None:
    session.execute(delete(TaskQueueEntry).where(TaskQueueEntry.task_id == task_id))
