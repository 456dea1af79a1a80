"""Periodic re-estimation: EM over all of a project's answers and gold refreshes the worker
model, then the consensus of the project's unfinished tasks.

Due when a project whose type fits a worker model (``AnnotationKind.worker_model``) has graded ``REFIT_MIN_NEW`` more answers (or 10% more)
since its last fit, or any new answer an hour after it. One project per claim, locked with ``SKIP LOCKED`` on its model row, so any
number of reconcilers share the work; a reconciler killed mid-fit leaves the old model in place
and the project still due.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from app.annotations import AnnotationSpec, annotation_kind, annotation_kinds
from app.core.db import insert_ignore, transaction
from app.models import (
    Assignment,
    AssignmentStatus,
    Project,
    ProjectModel,
    ProjectStatus,
    Task,
    TaskStatus,
)
from app.quality.engine import fit_geometry
from app.quality.service import EXCLUDED, refresh_task
from consensus import Answers, Auto

REFIT_MIN_NEW = 50
REFIT_AFTER = timedelta(hours=1)
ANSWERED = (AssignmentStatus.submitted, AssignmentStatus.accepted, AssignmentStatus.rejected)


def graded_counts(session: Session) -> dict[str, int]:
    """Graded answers per active project whose type fits a worker model (``worker_model``)."""
    fitted_types = [kind.name for kind in annotation_kinds() if kind.worker_model is not None]
    rows = session.execute(
        select(Assignment.project_id, func.count())
        .join(Project, Project.id == Assignment.project_id)
        .where(
            Assignment.agreement.is_not(None),
            Project.annotation_type.in_(fitted_types),
            Project.status == ProjectStatus.active,
        )
        .group_by(Assignment.project_id)
    ).all()
    return {project_id: int(n) for project_id, n in rows}


def reestimate_due(session: Session, *, now: datetime, limit: int = 1) -> int:
    counts = graded_counts(session)
    session.commit()
    done = 0
    for project_id, graded in counts.items():
        if done >= limit:
            break
        insert_ignore(
            session,
            ProjectModel,
            {"project_id": project_id, "answers_at_fit": 0, "requested_at": now},
            conflict=["project_id"],
        )
        session.commit()
        with transaction(session):
            model = session.scalar(
                select(ProjectModel)
                .where(ProjectModel.project_id == project_id)
                .with_for_update(skip_locked=True)
            )
            if model is None or not _due(model, graded, now):
                continue
            refit(session, model, graded, now=now)
            done += 1
    return done


def _due(model: ProjectModel, graded: int, now: datetime) -> bool:
    """Enough new answers (``REFIT_MIN_NEW``, or 10% more), or any new answer once the model is
    ``REFIT_AFTER`` old: a slow project still gets its skills refreshed."""
    new = graded - model.answers_at_fit
    if new >= max(REFIT_MIN_NEW, model.answers_at_fit // 10):
        return True
    return new > 0 and model.fitted_at is not None and now - model.fitted_at >= REFIT_AFTER


def refit(session: Session, model: ProjectModel, graded: int, *, now: datetime) -> None:
    """Fit the project's worker model on every answer and gold, then refresh open tasks."""
    project = session.get_one(Project, model.project_id)
    spec = AnnotationSpec.model_validate(project.annotation)
    model_kind = annotation_kind(spec.type).worker_model
    if model_kind is None:
        return
    state = (
        _fit_labels(session, project, spec)
        if model_kind == "confusion"
        else _fit_shapes(session, project, spec)
    )
    if state is None:
        return
    model.state, model.answers_at_fit, model.fitted_at = state, graded, now
    model.version = (model.version or 0) + 1
    session.flush()
    open_tasks = session.scalars(
        select(Task)
        .where(
            Task.project_id == project.id,
            Task.status == TaskStatus.open,
            Task.is_gold.is_(False),
            Task.answer_count > 0,
        )
        .with_for_update(skip_locked=True)
    ).all()
    for task in open_tasks:
        refresh_task(session, task, now=now)


def _fit_shapes(session: Session, project: Project, spec: AnnotationSpec) -> dict[str, Any] | None:
    rows = session.execute(
        select(Assignment.task_id, Assignment.worker_id, Assignment.answer).where(
            Assignment.project_id == project.id,
            Assignment.status.in_(ANSWERED),
            or_(Assignment.reason.is_(None), Assignment.reason != EXCLUDED),
        )
    ).all()
    if not rows:
        return None
    gold_rows = session.execute(
        select(Task.id, Task.gold_answer).where(
            Task.project_id == project.id, Task.is_gold.is_(True)
        )
    ).all()
    records = [{"task": t, "worker": w, "answer": a} for t, w, a in rows]
    return fit_geometry(spec, records, {row[0]: row[1] for row in gold_rows if row[1]})


def _fit_labels(session: Session, project: Project, spec: AnnotationSpec) -> dict[str, Any] | None:
    # The label is pulled out of the JSON by the database: decoding a million JSON documents in
    # Python would cost more than the fit itself.
    rows = session.execute(
        select(
            Assignment.task_id, Assignment.worker_id, Assignment.answer["label"].as_string()
        ).where(Assignment.project_id == project.id, Assignment.status.in_(ANSWERED))
    ).all()
    if not rows:
        return None
    tasks, workers, given = zip(*rows, strict=True)
    answers = Answers.from_records(tasks, workers, given, label_names=list(spec.labels))
    gold_rows = session.execute(
        select(Task.id, Task.gold_answer["label"].as_string()).where(
            Task.project_id == project.id, Task.is_gold.is_(True)
        )
    ).all()
    gold = {row[0]: row[1] for row in gold_rows}
    return Auto().fit(answers, gold=gold or None).skills_.to_dict()
