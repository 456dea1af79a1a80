"""The lease queue: which task a worker gets next, and giving slots back.

Exclusivity comes from the database. On PostgreSQL the candidate row is locked with
``FOR UPDATE SKIP LOCKED``, so concurrent leases each take a different row instead of queueing
behind one; on SQLite the clause compiles to nothing and ``BEGIN IMMEDIATE`` serialises writers.
``UNIQUE(task_id, worker_id)`` on assignments is the backstop for "never the same task twice".
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence

from sqlalchemy import Update, delete, select, update
from sqlalchemy.orm import Session, aliased

from app.models import Assignment, Task, TaskQueueEntry
from app.models.assignment import ONE, untouched_by
from app.quality import gold


def claim_statement(project_id: str, worker_id: str) -> Update:
    """The claim: take a slot of the oldest task of the project with one free that this worker
    has not touched, returning ``(task_id, batch_id)``. One statement: the candidate is locked by
    the sub-select (``SKIP LOCKED``) and updated by the same round trip; ``LIMIT 1`` is literal
    and the history probe fenced (``untouched_by``), so its plan and cost do not depend on the
    worker's history (benchmarks/claim_history.py)."""
    free = aliased(TaskQueueEntry)  # the sub-select's own table, not correlated to the UPDATE's
    candidate = (
        select(free.task_id)
        .where(
            free.project_id == project_id,
            free.open_slots > 0,
            untouched_by(free.task_id, worker_id),
        )
        .order_by(free.task_id)
        .limit(ONE)
        .with_for_update(skip_locked=True)
        .scalar_subquery()
    )
    return (
        update(TaskQueueEntry)
        .where(TaskQueueEntry.task_id == candidate)
        .values(open_slots=TaskQueueEntry.open_slots - 1)
        .returning(TaskQueueEntry.task_id, TaskQueueEntry.batch_id)
        .execution_options(synchronize_session=False)
    )


def claim_slot(session: Session, project_id: str, worker_id: str) -> tuple[str, str] | None:
    """Take a slot (``claim_statement``); its ``(task_id, batch_id)``, or None."""
    row = session.execute(claim_statement(project_id, worker_id)).first()
    return (row.task_id, row.batch_id) if row is not None else None


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


def return_leases(session: Session, assignments: Sequence[Assignment]) -> None:
    """Ended leases give back what they held: a queue slot, or a gold task's paid allowance."""
    if not assignments:
        return
    gold_tasks = set(
        session.scalars(
            select(Task.id).where(
                Task.id.in_({a.task_id for a in assignments}), Task.is_gold.is_(True)
            )
        )
    )
    return_slots(session, [a.task_id for a in assignments if a.task_id not in gold_tasks])
    gold.return_allowance(session, [a.batch_id for a in assignments if a.task_id in gold_tasks])
