"""Work: lease the next task, submit an answer, release, and the worker's history."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, exists, func, select
from sqlalchemy.orm import Session

from app.annotations import AnnotationSpec, AnswerInvalid, validate_answer
from app.annotations.errors import AnswerRefused
from app.core.db import read_only, transaction
from app.core.ids import new_id
from app.core.pagination import PageParams
from app.models import (
    Account,
    Assignment,
    AssignmentStatus,
    Batch,
    BatchStatus,
    Image,
    Project,
    ProjectModel,
    ProjectStatus,
    QualitySettings,
    Task,
    WorkerSkill,
)
from app.projects.errors import ProjectNotFound
from app.quality import gold
from app.quality import service as quality_service
from app.quality import settings as quality_settings
from app.webhooks import events as webhook_events
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
        ctx = _lease_context(session, worker, project_id)
        quality_service.check_not_banned(worker, ctx.skill)
        if ctx.held >= max_live_leases:
            raise TooManyLeases(
                f"You hold {ctx.held} leases in this project; submit or release one first."
            )
        pick = gold.choose(session, ctx.project, worker, ctx.skill, has_gold=ctx.has_gold, now=now)
        if pick is not None:
            task_id, paying_batch_id = pick.task.id, pick.batch_id
        else:
            slot = queue.claim_slot(session, ctx.project.id, worker.id)
            if slot is None:
                return None
            task_id, paying_batch_id = slot
        task, image, reward = _leased_task(session, task_id, paying_batch_id)
        assignment = Assignment(
            id=new_id("asg"),
            task_id=task.id,
            worker_id=worker.id,
            project_id=ctx.project.id,
            batch_id=paying_batch_id,
            status=AssignmentStatus.leased,
            reward_micros=reward or 0,
            leased_at=now,
            expires_at=now + timedelta(seconds=ctx.project.assignment_duration_s),
        )
        session.add(assignment)
    return Lease(assignment, task, image, ctx.project)


@dataclass(frozen=True)
class _LeaseContext:
    project: Project
    skill: WorkerSkill | None
    held: int
    """The worker's live leases in this project."""
    has_gold: bool


def _lease_context(session: Session, worker: Account, project_id: str) -> _LeaseContext:
    """What a lease checks first, in one round trip: the open project, the worker's standing in
    it (ban, qualification), its live leases there, and whether the project has gold at all."""
    held = (
        select(func.count())
        .where(
            Assignment.worker_id == worker.id,
            Assignment.status == AssignmentStatus.leased,
            Assignment.project_id == Project.id,
        )
        .scalar_subquery()
    )
    has_gold = exists().where(
        Batch.project_id == Project.id, Batch.status == BatchStatus.gold, Batch.task_count > 0
    )
    row = session.execute(
        select(Project, WorkerSkill, held, has_gold)
        .outerjoin(
            WorkerSkill,
            and_(WorkerSkill.project_id == Project.id, WorkerSkill.worker_id == worker.id),
        )
        .where(Project.id == project_id, Project.status == ProjectStatus.active)
    ).first()
    if row is None:
        raise ProjectNotFound(f"No open project {project_id}.")
    return _LeaseContext(row[0], row[1], row[2] or 0, bool(row[3]))


def _leased_task(
    session: Session, task_id: str, paying_batch_id: str
) -> tuple[Task, Image, int | None]:
    """The task, its image and the paying batch's reward, in one round trip."""
    task, image, reward = session.execute(
        select(Task, Image, Batch.reward_micros)
        .join(Image, Image.id == Task.image_id)
        .join(Batch, Batch.id == paying_batch_id)
        .where(Task.id == task_id)
    ).one()
    return task, image, reward


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


def submit(
    session: Session, worker: Account, assignment_id: str, answer: object, *, now: datetime
) -> Assignment:
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
            task, loaded = _lock_task(session, assignment.task_id)
            assignment.answer = _validated(loaded.project, loaded.image, answer)
            assignment.status, assignment.submitted_at = AssignmentStatus.submitted, now
            assignment.auto_accept_at = now + timedelta(seconds=loaded.project.auto_accept_s)
            task.answer_count += 1
            # Before on_answer: the task's completion, if this answer completes it, comes after.
            webhook_events.assignment_submitted(
                session, assignment, loaded.project.requester_id, now=now
            )
            # No flush: the assignment and the task are written once each, at commit.
            quality_service.on_answer(session, assignment, task, now=now, loaded=loaded)
    if expired:
        raise LeaseExpired(f"The lease expired at {assignment.expires_at:%Y-%m-%dT%H:%M:%SZ}.")
    return assignment


def _lock_task(session: Session, task_id: str) -> tuple[Task, quality_service.Loaded]:
    """Lock the task, and load with it in the same round trip what judging its answer reads:
    its project, image and batch (the consensus code then finds them in the session), the
    version of the project's fitted model and the operator's quality thresholds (both usually
    absent, so an outer join, not a statement each)."""
    task, project, image, _batch, version, thresholds = session.execute(
        select(Task, Project, Image, Batch, ProjectModel.version, QualitySettings)
        .join(Project, Project.id == Task.project_id)
        .join(Image, Image.id == Task.image_id)
        .join(Batch, Batch.id == Task.batch_id)
        .outerjoin(
            ProjectModel,
            and_(ProjectModel.project_id == Task.project_id, ProjectModel.state.is_not(None)),
        )
        .outerjoin(QualitySettings, QualitySettings.id == 1)
        .where(Task.id == task_id)
        .with_for_update(of=Task, key_share=True)
    ).one()
    return task, quality_service.Loaded(
        project, image, quality_settings.of_row(thresholds), version
    )


def _validated(project: Project, image: Image, answer: object) -> dict[str, object]:
    spec = AnnotationSpec.model_validate(project.annotation)
    try:
        return validate_answer(spec, answer, width=image.width, height=image.height)
    except AnswerInvalid as exc:
        raise AnswerRefused(exc, at=["body", "answer"]) from None


BROKEN_IMAGE = "reported by the worker: the image does not load or shows nothing"


def release(
    session: Session,
    worker: Account,
    assignment_id: str,
    *,
    now: datetime,
    broken_image: bool = False,
) -> Assignment:
    """Give the task back unpaid; it returns to the pool for other workers. A worker reporting
    a broken image says so in the assignment's reason, where the requester's review reads it."""
    with transaction(session):
        assignment = _own_assignment(session, worker, assignment_id)
        _check_open(assignment)
        assignment.status, assignment.decided_at = AssignmentStatus.released, now
        if broken_image:
            assignment.reason = BROKEN_IMAGE
        queue.return_leases(session, [assignment])
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
    queue.return_leases(session, assignments)


def history(session: Session, worker: Account, page: PageParams) -> Sequence[Assignment]:
    stmt = select(Assignment).where(Assignment.worker_id == worker.id)
    if page.after:
        stmt = stmt.where(Assignment.id < page.after)
    return session.scalars(stmt.order_by(Assignment.id.desc()).limit(page.limit + 1)).all()


def image_for(session: Session, viewer_id: str, image_id: str, *, now: datetime) -> Image:
    """The image, if the viewer owns it or holds a live lease on a task that shows it."""
    live_lease = exists().where(
        and_(
            Assignment.worker_id == viewer_id,
            Assignment.status == AssignmentStatus.leased,
            Assignment.expires_at > now,
            Task.id == Assignment.task_id,
            Task.image_id == Image.id,
        )
    )
    with read_only(session):
        image = session.scalar(
            select(Image).where(Image.id == image_id, (Image.owner_id == viewer_id) | live_lease)
        )
    if image is None:
        raise ImageNotAvailable(f"No image {image_id} that you can see.")
    return image
