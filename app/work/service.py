"""Work: lease the next task, submit an answer, release, and the worker's history."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, exists, func, select
from sqlalchemy.orm import Session

from app.annotations import AnnotationSpec, AnswerInvalid, validate_answer
from app.core.db import transaction
from app.core.errors import Unprocessable
from app.core.ids import new_id
from app.core.pagination import PageParams
from app.models import (
    Account,
    Assignment,
    AssignmentStatus,
    Batch,
    Image,
    Project,
    Task,
)
from app.projects import service as project_service
from app.quality import gold
from app.quality import service as quality_service
from app.work import queue
from app.work.errors import (
    AssignmentClosed,
    AssignmentNotFound,
    ImageNotAvailable,
    LeaseExpired,
    TooManyLeases,
)


@dataclass(frozen=True)
class Lease:
    assignment: Assignment
    task: Task
    image: Image
    project: Project


def lease_next(
    session: Session, worker: Account, project_id: str, *, now: datetime, max_live_leases: int = 10
) -> Lease | None:
    """An exclusive, expiring lease on the project's next task for this worker, or None."""
    with transaction(session):
        project = project_service.get_active(session, project_id)
        quality_service.check_not_banned(session, project.id, worker)
        _check_live_leases(session, worker, project.id, max_live_leases)
        pick = gold.choose(session, project, worker, now=now)
        if pick is not None:
            task, paying_batch_id = pick.task, pick.batch_id
        else:
            entry = queue.claim_slot(session, project.id, worker.id)
            if entry is None:
                return None
            task = session.get_one(Task, entry.task_id)
            paying_batch_id = task.batch_id
        batch = session.get_one(Batch, paying_batch_id)
        assignment = Assignment(
            id=new_id("asg"), task_id=task.id, worker_id=worker.id, project_id=project.id,
            batch_id=batch.id, status=AssignmentStatus.leased, reward_micros=batch.reward_micros or 0,
            leased_at=now, expires_at=now + timedelta(seconds=project.assignment_duration_s),
        )
        session.add(assignment)
        image = session.get_one(Image, task.image_id)
    return Lease(assignment, task, image, project)


def _check_live_leases(session: Session, worker: Account, project_id: str, limit: int) -> None:
    held = session.scalar(
        select(func.count()).where(
            Assignment.worker_id == worker.id,
            Assignment.status == AssignmentStatus.leased,
            Assignment.project_id == project_id,
        )
    )
    if held is not None and held >= limit:
        raise TooManyLeases(f"You hold {held} leases in this project; submit or release one first.")


def _own_assignment(session: Session, worker: Account, assignment_id: str) -> Assignment:
    assignment = session.scalar(
        select(Assignment)
        .where(Assignment.id == assignment_id, Assignment.worker_id == worker.id)
        .with_for_update(key_share=True)
    )
    if assignment is None:
        raise AssignmentNotFound(f"No assignment {assignment_id} among yours.")
    return assignment


def _check_open(assignment: Assignment) -> None:
    if assignment.status == AssignmentStatus.leased:
        return
    if assignment.status == AssignmentStatus.expired:
        raise LeaseExpired(f"The lease expired at {assignment.expires_at:%Y-%m-%dT%H:%M:%SZ}.")
    raise AssignmentClosed(f"Assignment {assignment.id} is {assignment.status}.")


def submit(session: Session, worker: Account, assignment_id: str, answer: object, *, now: datetime) -> Assignment:
    """Validate and store the answer; complete the task when it has all its answers."""
    expired = False
    with transaction(session):
        assignment = _own_assignment(session, worker, assignment_id)
        _check_open(assignment)
        if assignment.expires_at <= now:
            # The reconciler has not got to it yet: expire it here, keep that, then refuse.
            _expire(session, [assignment])
            expired = True
        else:
            # Lock the task: answers to one task are counted and judged one at a time. FOR NO KEY
            # UPDATE, not FOR UPDATE: a concurrent lease inserting an assignment takes KEY SHARE
            # on this row for its foreign key, and FOR UPDATE would deadlock with it.
            task = session.get_one(Task, assignment.task_id, with_for_update={"key_share": True})
            assignment.answer = _validated(session, task, answer)
            assignment.status, assignment.submitted_at = AssignmentStatus.submitted, now
            project = session.get_one(Project, task.project_id)
            assignment.auto_accept_at = now + timedelta(seconds=project.auto_accept_s)
            task.answer_count += 1
            session.flush()
            quality_service.on_answer(session, assignment, task, now=now)
    if expired:
        raise LeaseExpired(f"The lease expired at {assignment.expires_at:%Y-%m-%dT%H:%M:%SZ}.")
    return assignment


def _validated(session: Session, task: Task, answer: object) -> dict[str, object]:
    project = session.get_one(Project, task.project_id)
    image = session.get_one(Image, task.image_id)
    spec = AnnotationSpec.model_validate(project.annotation)
    try:
        return validate_answer(spec, answer, width=image.width, height=image.height)
    except AnswerInvalid as exc:
        raise Unprocessable(exc.detail, errors=[{"loc": ["body", *e["loc"]], "msg": e["msg"]} for e in exc.errors]) from None


def release(session: Session, worker: Account, assignment_id: str, *, now: datetime) -> Assignment:
    """Give the task back unpaid; it returns to the pool for other workers."""
    with transaction(session):
        assignment = _own_assignment(session, worker, assignment_id)
        _check_open(assignment)
        assignment.status, assignment.decided_at = AssignmentStatus.released, now
        return_leases(session, [assignment])
    return assignment


def expire_due(session: Session, *, now: datetime, limit: int = 500) -> int:
    """Expire leases past their deadline and return their slots; safe under concurrency."""
    with transaction(session):
        due = session.scalars(
            select(Assignment)
            .where(Assignment.status == AssignmentStatus.leased, Assignment.expires_at <= now)
            .order_by(Assignment.expires_at)
            .limit(limit)
            .with_for_update(skip_locked=True)
        ).all()
        _expire(session, due)
    return len(due)


def _expire(session: Session, assignments: Sequence[Assignment]) -> None:
    for assignment in assignments:
        assignment.status = AssignmentStatus.expired
    return_leases(session, assignments)


def return_leases(session: Session, assignments: Sequence[Assignment]) -> None:
    """Ended leases give back what they held: a queue slot, or a gold task's paid allowance."""
    if not assignments:
        return
    gold_tasks = set(session.scalars(
        select(Task.id).where(Task.id.in_({a.task_id for a in assignments}), Task.is_gold.is_(True))
    ))
    queue.return_slots(session, [a.task_id for a in assignments if a.task_id not in gold_tasks])
    gold.return_allowance(session, [a.batch_id for a in assignments if a.task_id in gold_tasks])


def history(session: Session, worker: Account, page: PageParams) -> Sequence[Assignment]:
    stmt = select(Assignment).where(Assignment.worker_id == worker.id)
    if page.after:
        stmt = stmt.where(Assignment.id < page.after)
    return session.scalars(stmt.order_by(Assignment.id.desc()).limit(page.limit + 1)).all()


def image_for(session: Session, account: Account, image_id: str, *, now: datetime) -> Image:
    """The image, if the caller owns it or holds a live lease on a task that shows it."""
    live_lease = exists().where(
        and_(
            Assignment.worker_id == account.id,
            Assignment.status == AssignmentStatus.leased,
            Assignment.expires_at > now,
            Task.id == Assignment.task_id,
            Task.image_id == Image.id,
        )
    )
    image = session.scalar(
        select(Image).where(Image.id == image_id, (Image.owner_id == account.id) | live_lease)
    )
    session.commit()
    if image is None:
        raise ImageNotAvailable(f"No image {image_id} that you can see.")
    return image
