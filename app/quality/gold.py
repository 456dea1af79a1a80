"""Gold tasks: known answers mixed into a worker's stream, and the qualification they gate.

A gold task is a task row with ``is_gold`` and its known answer, held by the project's hidden
batch of status ``gold``. To a worker it is an ordinary task in every field and URL. Its answers
are paid like any other, from the escrow of the open batch that served it (``Batch.gold_left``
is that escrow's allowance, set at launch), so the requester's books stay exact.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from app.core.errors import Forbidden
from app.core.ids import new_id
from app.models import (
    Account,
    Batch,
    BatchStatus,
    Project,
    Task,
    TaskStatus,
    WorkerSkill,
)
from app.models.assignment import ONE, untouched_by
from app.models.task import completed_in

QUALIFICATION_SEATS = 20
"""Each batch's escrow pays for this many workers to take the qualification, besides the gold
mixed in at the project's gold rate; what is not used is refunded with the batch."""


class NotQualified(Forbidden):
    type, title = "not-qualified", "Not qualified for this project"


@dataclass(frozen=True)
class GoldPick:
    task: Task
    batch_id: str
    """The open batch whose escrow pays for this answer."""


def allowance(task_count: int, overlap_max: int, gold_rate: float, qualification_tasks: int) -> int:
    """Gold answers a batch's escrow covers: its share at the gold rate plus the qualification seats."""
    mixed = (
        math.ceil(task_count * overlap_max * gold_rate / (1 - gold_rate)) if gold_rate > 0 else 0
    )
    return mixed + QUALIFICATION_SEATS * qualification_tasks


def gold_batch(session: Session, project: Project, *, now: datetime) -> Batch:
    batch = session.scalar(
        select(Batch).where(Batch.project_id == project.id, Batch.status == BatchStatus.gold)
    )
    if batch is None:
        batch = Batch(
            id=new_id("bat"),
            project_id=project.id,
            requester_id=project.requester_id,
            status=BatchStatus.gold,
            task_count=0,
            upload_report={},
            created_at=now,
        )
        session.add(batch)
        session.flush()
    return batch


def choose(
    session: Session,
    project: Project,
    worker: Account,
    skill: WorkerSkill | None,
    *,
    has_gold: bool,
    now: datetime,
) -> GoldPick | None:
    """A gold task for this lease, or None for an ordinary one. A worker still qualifying gets
    only gold (and is refused with the reason once it has failed, until its retry time).
    ``skill`` is the worker's row for the project, ``has_gold`` whether the project holds any
    gold task (the caller reads both with its other checks): without gold there is nothing to
    look up."""
    if qualifying(project, skill):
        _check_retry(skill, now)
        pick = _unseen_gold(session, project, worker) if has_gold else None
        if pick is None:
            raise NotQualified(
                "This project has no qualification task for you at the moment; try later."
            )
        return pick
    if has_gold and project.gold_rate > 0 and random.random() < project.gold_rate:
        return _unseen_gold(session, project, worker)
    return None


def qualifying(project: Project, skill: WorkerSkill | None) -> bool:
    """Whether the worker is still taking the project's qualification (every lease is gold)."""
    return project.qualification_gold_tasks > 0 and (skill is None or skill.qualified_at is None)


def _check_retry(skill: WorkerSkill | None, now: datetime) -> None:
    if skill is None or skill.qualification_failed_at is None:
        return
    if skill.qualification_retry_at is not None and now < skill.qualification_retry_at:
        accuracy = skill.gold_agreement_sum / max(skill.gold_graded, 1)
        raise NotQualified(
            f"You did not qualify: accuracy {accuracy:.2f} on {skill.gold_graded} gold tasks. "
            f"You may try again after {skill.qualification_retry_at:%Y-%m-%dT%H:%M:%SZ}."
        )
    # A new attempt: the earlier gold answers no longer count towards qualification.
    skill.gold_graded, skill.gold_agreement_sum, skill.qualification_failed_at = 0, 0.0, None


def _unseen_gold(session: Session, project: Project, worker: Account) -> GoldPick | None:
    task = session.scalar(
        select(Task)
        .where(
            Task.project_id == project.id,
            Task.is_gold.is_(True),
            Task.status == TaskStatus.open,
            untouched_by(Task.id, worker.id),
        )
        .order_by(func.random())
        .limit(ONE)
    )
    if task is None:
        return None
    batch_id = _take_allowance(session, project)
    return GoldPick(task, batch_id) if batch_id is not None else None


def _take_allowance(session: Session, project: Project) -> str | None:
    candidate = session.scalar(
        select(Batch.id)
        .where(
            Batch.project_id == project.id,
            Batch.status == BatchStatus.open,
            Batch.gold_left > 0,
            completed_in(Batch.id) < Batch.task_count,
        )
        .order_by(Batch.id)
        .limit(1)
        .with_for_update(skip_locked=True)
    )
    if candidate is None:
        return None
    session.execute(
        update(Batch).where(Batch.id == candidate).values(gold_left=Batch.gold_left - 1)
    )
    return candidate


def return_allowance(session: Session, batch_ids: list[str]) -> None:
    for batch_id in batch_ids:
        session.execute(
            update(Batch).where(Batch.id == batch_id).values(gold_left=Batch.gold_left + 1)
        )


def record_gold(
    skill: WorkerSkill, project: Project, score: float, *, now: datetime, retry: timedelta
) -> str | None:
    """Count a graded gold answer; decide qualification once enough are in. Returns the outcome
    in words when it was decided now."""
    skill.gold_graded += 1
    skill.gold_agreement_sum += max(0.0, min(1.0, score))
    if (
        project.qualification_gold_tasks == 0
        or skill.qualified_at is not None
        or skill.gold_graded < project.qualification_gold_tasks
    ):
        return None  # no test to decide (mixed-in gold only grades), or not yet
    accuracy = skill.gold_agreement_sum / skill.gold_graded
    if accuracy >= project.qualification_min_accuracy:
        skill.qualified_at = now
        return f"qualified with accuracy {accuracy:.2f}"
    skill.qualification_failed_at, skill.qualification_retry_at = now, now + retry
    return f"not qualified: accuracy {accuracy:.2f} < {project.qualification_min_accuracy:g}"


def add(
    session: Session,
    project: Project,
    *,
    name: str,
    image_id: str,
    answer: dict[str, Any],
    pre_annotation: dict[str, Any] | None = None,
    now: datetime,
) -> Task:
    """Store a gold task (the image row exists already); open at once, never completed."""
    holder = gold_batch(session, project, now=now)
    task = Task(
        id=new_id("tsk"),
        batch_id=holder.id,
        project_id=project.id,
        image_id=image_id,
        image_name=name,
        status=TaskStatus.open,
        is_gold=True,
        gold_answer=answer,
        pre_annotation=pre_annotation,
        answer_count=0,
        created_at=now,
    )
    session.add(task)
    holder.task_count += 1
    return task
