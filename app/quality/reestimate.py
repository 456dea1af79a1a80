"""Periodic re-estimation: EM over all of a project's answers and gold refreshes the worker
model, then the consensus of the project's unfinished tasks.

Due when a project whose type fits a worker model (``AnnotationKind.worker_model``) has graded
``REFIT_MIN_NEW`` more answers (or 10% more) since its last fit, or any new answer an hour after
it. A reconciler claims one project at a time (its model row under ``SKIP LOCKED``, then
``requested_at`` moved ahead for the fit's length), so any number of them share the work. It
reads, commits, fits holding no transaction, and writes only if nothing it read has changed
meanwhile, else the project stays due; one killed mid-fit leaves the old model in place and
the project due again once its claim runs out.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from itertools import chain
from typing import Any, NamedTuple

from sqlalchemy import case, func, or_, select
from sqlalchemy.orm import Session

from app.annotations import AnnotationSpec, annotation_kind, annotation_kinds
from app.core.db import insert_ignore, read_only, transaction
from app.models import (
    AnnotatorModel,
    Assignment,
    AssignmentStatus,
    Prediction,
    Project,
    ProjectModel,
    ProjectStatus,
    Task,
    TaskStatus,
)
from app.quality.engine import fit_geometry, fit_multilabel, gold_counts, rest_models_on_gold
from app.quality.service import EXCLUDED, refresh_task
from consensus import Answers, Auto

REFIT_MIN_NEW = 50
REFIT_AFTER = timedelta(hours=1)
CLAIM = timedelta(minutes=15)
"""How long a claimed project is left to its fitter (a fit of a million answers takes ~12 s)."""
ANSWERED = (AssignmentStatus.submitted, AssignmentStatus.accepted, AssignmentStatus.rejected)

log = logging.getLogger("tessera.quality")


class ModelSeen(NamedTuple):
    """The model row as the fitter found it: another fitter's write changes it."""

    answers_at_fit: int
    fitted_at: datetime | None


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
    """Refit up to ``limit`` due projects; returns how many got a new model.

    Each in three steps, none holding a transaction across the fit: claim the project (a short
    transaction), read its answers and gold and commit (``_read``), fit with no transaction and
    no connection, then write only if nothing it read has changed (``_write``); if something
    did, the project stays due and a later pass fits it again."""
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
        seen = _claim(session, project_id, graded, now)
        if seen is not None and refit(session, project_id, graded, seen, now=now):
            done += 1
    return done


def _claim(session: Session, project_id: str, graded: int, now: datetime) -> ModelSeen | None:
    """Take the project for one fit: its model row is locked only for this short transaction,
    and ``requested_at`` pushed ``CLAIM`` ahead keeps other reconcilers off it meanwhile (a
    fitter killed mid-fit leaves a claim that runs out)."""
    with transaction(session):
        model = session.scalar(
            select(ProjectModel)
            .where(ProjectModel.project_id == project_id, ProjectModel.requested_at <= now)
            .with_for_update(skip_locked=True)
        )
        if model is None or not _due(model, graded, now):
            return None
        model.requested_at = now + CLAIM
        return ModelSeen(model.answers_at_fit, model.fitted_at)


def _due(model: ProjectModel, graded: int, now: datetime) -> bool:
    """Enough new answers (``REFIT_MIN_NEW``, or 10% more), or any new answer once the model is
    ``REFIT_AFTER`` old: a slow project still gets its skills refreshed."""
    new = graded - model.answers_at_fit
    if new >= max(REFIT_MIN_NEW, model.answers_at_fit // 10):
        return True
    return new > 0 and model.fitted_at is not None and now - model.fitted_at >= REFIT_AFTER


def refit(
    session: Session, project_id: str, graded: int, seen: ModelSeen, *, now: datetime
) -> bool:
    """Fit the project's worker model on every answer and gold, then refresh open tasks.

    Returns whether the new model was written: False when the project's type fits no model,
    it has no answers yet, or its inputs changed during the fit (it is then due again)."""
    with read_only(session):
        project = session.get_one(Project, project_id)
        spec = AnnotationSpec.model_validate(project.annotation)
        model_kind = annotation_kind(spec.type).worker_model
        fit: Callable[[], dict[str, Any]] | None = None
        if model_kind is not None:
            read = {
                "confusion": _read_labels,
                "multilabel": _read_label_sets,
                "geometry": _read_shapes,
            }[model_kind]
            fit = read(session, project, spec, now)
        inputs = _inputs(session, project_id, now)
    # Nothing held from here on: on SQLite a transaction holds the process's one writer
    # connection, so a fit inside one would stop every request for its whole length.
    state = fit() if fit is not None else None
    return _write(session, project_id, graded, seen, inputs, state, now=now)


def _write(
    session: Session,
    project_id: str,
    graded: int,
    seen: ModelSeen,
    inputs: tuple[int, ...],
    state: dict[str, Any] | None,
    *,
    now: datetime,
) -> bool:
    with transaction(session):
        model = session.scalar(
            select(ProjectModel)
            .where(ProjectModel.project_id == project_id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
        assert model is not None  # rows of project_models are never deleted
        changed = (
            ModelSeen(model.answers_at_fit, model.fitted_at) != seen
            or _inputs(session, project_id, now) != inputs
        )
        model.requested_at = now  # the claim ends; due again by the usual rule
        if state is None:
            return False
        if changed:
            log.info("re-estimation of %s skipped: its answers changed during the fit", project_id)
            return False
        model.state, model.answers_at_fit, model.fitted_at = state, graded, now
        model.version = (model.version or 0) + 1
        session.flush()
        project = session.get_one(Project, project_id)
        # With auto-labelling, a task only models have answered may now be sure enough: the
        # fit may have found them more reliable than it knew.
        answered = (
            or_(
                Task.answer_count > 0,
                Task.id.in_(select(Prediction.task_id).where(Prediction.project_id == project_id)),
            )
            if project.auto_label
            else Task.answer_count > 0
        )
        open_tasks = session.scalars(
            select(Task)
            .where(
                Task.project_id == project_id,
                Task.status == TaskStatus.open,
                Task.is_gold.is_(False),
                answered,
            )
            .with_for_update(skip_locked=True)
        ).all()
        for task in open_tasks:
            refresh_task(session, task, now=now)
    return True


def _inputs(session: Session, project_id: str, now: datetime) -> tuple[int, ...]:
    """What a fit read, in numbers that change when it does: the answers submitted by ``now``
    (the fit reads no later ones), those of them excluded (a ban), and the gold tasks.
    Answers themselves never change once submitted."""
    answered = (
        Assignment.project_id == project_id,
        Assignment.status.in_(ANSWERED),
        Assignment.submitted_at <= now,
    )
    n_answers, n_excluded = session.execute(
        select(
            func.count(),
            func.coalesce(func.sum(case((Assignment.reason == EXCLUDED, 1), else_=0)), 0),
        ).where(*answered)
    ).one()
    n_gold = session.scalar(
        select(func.count()).where(Task.project_id == project_id, Task.is_gold.is_(True))
    )
    n_predictions, last_prediction = session.execute(
        select(func.count(), func.max(Prediction.updated_at))
        .select_from(Prediction)
        .join(AnnotatorModel, AnnotatorModel.id == Prediction.model_id)
        .where(
            Prediction.project_id == project_id,
            AnnotatorModel.deleted_at.is_(None),
            Prediction.updated_at <= now,
        )
    ).one()
    stamp = int(last_prediction.timestamp() * 1e6) if last_prediction is not None else 0
    return int(n_answers), int(n_excluded), int(n_gold or 0), int(n_predictions), stamp


def _predictions(
    session: Session, project_id: str, now: datetime, *, label: bool
) -> list[tuple[str, str, Any]]:
    """The live models' predictions as answers ``(task, model id, answer or its label)``: the
    model is one more worker of the fit, its skills learnt from gold and agreement like anyone's
    (a useless model's confusion comes out flat, and its votes weigh nothing)."""
    answer = Prediction.answer["label"].as_string() if label else Prediction.answer
    rows = session.execute(
        select(Prediction.task_id, Prediction.model_id, answer)
        .join(AnnotatorModel, AnnotatorModel.id == Prediction.model_id)
        .where(
            Prediction.project_id == project_id,
            AnnotatorModel.deleted_at.is_(None),
            Prediction.updated_at <= now,
        )
    ).all()
    return [(t, m, a) for t, m, a in rows]


def _answers_predictions_gold(
    session: Session, project: Project, now: datetime
) -> tuple[list[Any], list[tuple[str, str, Any]], list[Any]] | None:
    """A project's graded answers (excluded ones left out), its live models' predictions and
    its gold tasks' answers, as ``(task, worker, answer)`` rows; None: no answer yet."""
    rows = session.execute(
        select(Assignment.task_id, Assignment.worker_id, Assignment.answer).where(
            Assignment.project_id == project.id,
            Assignment.status.in_(ANSWERED),
            Assignment.submitted_at <= now,
            or_(Assignment.reason.is_(None), Assignment.reason != EXCLUDED),
        )
    ).all()
    if not rows:
        return None
    predicted = _predictions(session, project.id, now, label=False)
    gold_rows = session.execute(
        select(Task.id, Task.gold_answer).where(
            Task.project_id == project.id, Task.is_gold.is_(True)
        )
    ).all()
    return list(rows), predicted, list(gold_rows)


def _read_shapes(
    session: Session, project: Project, spec: AnnotationSpec, now: datetime
) -> Callable[[], dict[str, Any]] | None:
    read = _answers_predictions_gold(session, project, now)
    if read is None:
        return None
    rows, predicted, gold_rows = read
    records = [{"task": t, "worker": w, "answer": a} for t, w, a in chain(rows, predicted)]
    gold = {row[0]: row[1] for row in gold_rows if row[1]}
    return lambda: fit_geometry(spec, records, gold)


def _read_label_sets(
    session: Session, project: Project, spec: AnnotationSpec, now: datetime
) -> Callable[[], dict[str, Any]] | None:
    """A multi-label project's answers (a banned worker's left out, as at submit), its live
    models' predictions and its gold, as label sets for ``fit_multilabel``."""
    read = _answers_predictions_gold(session, project, now)
    if read is None:
        return None
    rows, predicted, gold_rows = read
    records = [(t, w, list((a or {}).get("labels") or [])) for t, w, a in chain(rows, predicted)]
    gold = {t: list(a.get("labels") or []) for t, a in gold_rows if a}
    models = {m for _, m, _ in predicted}
    return lambda: fit_multilabel(spec, records, gold, models=models)


def _read_labels(
    session: Session, project: Project, spec: AnnotationSpec, now: datetime
) -> Callable[[], dict[str, Any]] | None:
    # The label is pulled out of the JSON by the database: decoding a million JSON documents in
    # Python would cost more than the fit itself.
    rows = session.execute(
        select(
            Assignment.task_id, Assignment.worker_id, Assignment.answer["label"].as_string()
        ).where(
            Assignment.project_id == project.id,
            Assignment.status.in_(ANSWERED),
            Assignment.submitted_at <= now,
        )
    ).all()
    if not rows:
        return None
    predicted = _predictions(session, project.id, now, label=True)
    gold_rows = session.execute(
        select(Task.id, Task.gold_answer["label"].as_string()).where(
            Task.project_id == project.id, Task.is_gold.is_(True)
        )
    ).all()
    gold = {row[0]: row[1] for row in gold_rows}

    def fit() -> dict[str, Any]:
        tasks, workers, given = zip(*chain(rows, predicted), strict=True)
        answers = Answers.from_records(tasks, workers, given, label_names=list(spec.labels))
        skills = Auto().fit(answers, gold=gold or None).skills_
        models = {m for _, m, _ in predicted}
        on_gold = gold_counts(list(spec.labels), predicted, gold, models)
        return rest_models_on_gold(skills, on_gold).to_dict()

    return fit
