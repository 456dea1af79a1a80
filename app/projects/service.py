"""Projects: a requester's annotation job definition."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import exists, func, select
from sqlalchemy.orm import Session

from app.core.db import transaction
from app.core.ids import new_id
from app.core.pagination import PageParams
from app.models import Account, Batch, Project, ProjectStatus, TaskQueueEntry
from app.projects.errors import AnnotationLocked, ProjectNotFound
from app.projects.schemas import ProjectCreate, ProjectUpdate


def create(session: Session, requester: Account, body: ProjectCreate, *, now: datetime) -> Project:
    project = Project(id=new_id("prj"), requester_id=requester.id, created_at=now, updated_at=now)
    _apply(project, body.model_dump(exclude_unset=False))
    with transaction(session):
        session.add(project)
    return project


def get_own(
    session: Session, requester: Account, project_id: str, *, for_update: bool = False
) -> Project:
    """The requester's own project; someone else's is indistinguishable from a missing one."""
    stmt = select(Project).where(Project.id == project_id, Project.requester_id == requester.id)
    project = session.scalar(stmt.with_for_update(key_share=True) if for_update else stmt)
    if project is None:
        raise ProjectNotFound(f"No project {project_id} among yours.")
    return project


def get_active(session: Session, project_id: str) -> Project:
    """A project open to workers."""
    project = session.scalar(
        select(Project).where(Project.id == project_id, Project.status == ProjectStatus.active)
    )
    if project is None:
        raise ProjectNotFound(f"No open project {project_id}.")
    return project


def update(
    session: Session, requester: Account, project_id: str, body: ProjectUpdate, *, now: datetime
) -> Project:
    with transaction(session):
        project = get_own(session, requester, project_id, for_update=True)
        # The fields the request set, each whole: a nested object given as {} takes its defaults
        # (model_dump(exclude_unset=True) would drop them, and half a qualification is a 500).
        full = body.model_dump()
        changes = {name: full[name] for name in body.model_fields_set}
        if changes.get("annotation") is not None and session.scalar(
            select(exists().where(Batch.project_id == project.id))
        ):
            raise AnnotationLocked(
                "The project has batches; their answers follow the current spec."
            )
        _apply(project, {k: v for k, v in changes.items() if v is not None})
        project.updated_at = now
    return project


def list_own(session: Session, requester: Account, page: PageParams) -> Sequence[Project]:
    stmt = select(Project).where(Project.requester_id == requester.id)
    if page.after:
        stmt = stmt.where(Project.id < page.after)
    return session.scalars(stmt.order_by(Project.id.desc()).limit(page.limit + 1)).all()


def list_open(session: Session, page: PageParams) -> list[tuple[Project, int]]:
    """Active projects with tasks waiting for answers, newest first, with how many."""
    available = (
        select(TaskQueueEntry.project_id, func.count().label("n"))
        .where(TaskQueueEntry.open_slots > 0)
        .group_by(TaskQueueEntry.project_id)
        .subquery()
    )
    stmt = select(Project, available.c.n).join(available, available.c.project_id == Project.id)
    stmt = stmt.where(Project.status == ProjectStatus.active)
    if page.after:
        stmt = stmt.where(Project.id < page.after)
    rows = session.execute(stmt.order_by(Project.id.desc()).limit(page.limit + 1)).all()
    return [(project, int(n)) for project, n in rows]


def _apply(project: Project, values: dict[str, object]) -> None:
    simple = (
        "name",
        "instructions",
        "confidence",
        "gold_rate",
        "ban_below_accuracy",
        "assignment_duration_s",
        "auto_accept_s",
        "min_answer_s",
        "fast_answers_to_ban",
        "auto_label",
        "auto_label_audit",
        "status",
    )
    for field in simple:
        if field in values:
            setattr(project, field, values[field])
    if "reward" in values:
        project.reward_micros = values["reward"]  # type: ignore[assignment]
    if "annotation" in values:
        spec = values["annotation"]
        assert isinstance(spec, dict)
        project.annotation = spec
        project.annotation_type = spec["type"]
    if "overlap" in values:
        overlap = values["overlap"]
        assert isinstance(overlap, dict)
        project.overlap_min, project.overlap_max = overlap["min"], overlap["max"]
    if "qualification" in values:
        qualification = values["qualification"]
        assert isinstance(qualification, dict)
        project.qualification_gold_tasks = qualification["gold_tasks"]
        project.qualification_min_accuracy = qualification["min_accuracy"]


def available_tasks(session: Session, project_id: str) -> int:
    stmt = select(func.count()).where(
        TaskQueueEntry.project_id == project_id, TaskQueueEntry.open_slots > 0
    )
    return int(session.scalar(stmt) or 0)
