"""Attaching models to a project, and reading and recording their predictions.

``POST/GET/DELETE /v1/projects/{id}/models`` call the first three functions; the reconcilers
(``workers/annotators.py``) record predictions with ``record_prediction``; anything that wants a
task's predictions (results, the consensus) reads them with ``predictions_for``.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import httpx
from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from app.annotations import AnnotationSpec
from app.annotators.errors import AnnotatorModelNotFound, ModelKindNotForProject, UnsafeModelURL
from app.annotators.schemas import ModelCreate
from app.core.db import insert_ignore, read_only, transaction
from app.core.ids import new_id
from app.core.pagination import PageParams
from app.images import ImageError, Resolver, UnsafeURL, check_url, default_resolver
from app.models import (
    Account,
    AnnotatorKind,
    AnnotatorModel,
    ModelCall,
    Prediction,
    Project,
    ProjectModel,
    Task,
)
from app.projects.service import get_own

BUILTIN_TYPES = frozenset({"classification", "multilabel"})
"""Annotation types the builtin classifier predicts."""
SECRET_PREFIX = "tms_"


def check_model_url(url: str, *, resolver: Resolver, private_hosts: bool) -> None:
    """The SSRF guard of image URLs, applied to a model's URL (at registration and before every
    call): http(s), a host, no credentials, and every address it resolves to public.
    ``private_hosts`` (``TESSERA_MODEL_PRIVATE_HOSTS``) lets a loopback or private address
    through, for a model server on the operator's own network (the form is still checked)."""
    try:
        if private_hosts:
            parsed = httpx.URL(url)
            if parsed.scheme not in ("http", "https") or not parsed.host or parsed.userinfo:
                raise UnsafeURL("an http(s) URL with a host and no credentials is needed")
        else:
            check_url(url, resolver=resolver)
    except (httpx.InvalidURL, ValueError):
        raise UnsafeModelURL("url: not a valid URL") from None
    except ImageError as exc:
        raise UnsafeModelURL(f"url: {exc.detail}") from None


def create(
    session: Session,
    requester: Account,
    project_id: str,
    body: ModelCreate,
    *,
    now: datetime,
    resolver: Resolver = default_resolver,
    private_hosts: bool = False,
) -> AnnotatorModel:
    """Attach a model to the requester's project. An ``http`` model gets a signing secret
    (returned once, in ``signing_secret``)."""
    if body.kind == AnnotatorKind.http:
        assert body.url is not None  # the schema requires it
        check_model_url(body.url, resolver=resolver, private_hosts=private_hosts)
    with transaction(session):
        project = get_own(session, requester, project_id, for_update=True)
        kind = AnnotatorModel(
            id=new_id("mdl"),
            project_id=project.id,
            kind=body.kind,
            name=body.name,
            url=body.url,
            signing_secret=SECRET_PREFIX + secrets.token_urlsafe(32)
            if body.kind == AnnotatorKind.http
            else None,
            timeout_s=body.timeout_s,
            trained_on=0,
            version=0,
            requested_at=now,
            created_at=now,
        )
        if body.kind == AnnotatorKind.builtin and project.annotation_type not in BUILTIN_TYPES:
            raise ModelKindNotForProject(
                f"The builtin model predicts {' and '.join(sorted(BUILTIN_TYPES))} projects, "
                f"not {project.annotation_type}; attach an http model instead."
            )
        session.add(kind)
        session.flush()
        return kind


@dataclass(frozen=True)
class Reliability:
    """A model's entry in the project's fitted worker model (``project_models.state``)."""

    measure: str  # "accuracy" (a confusion matrix: classes) or "skill" (shapes)
    value: float
    uncertainty: float | None
    answers: float
    measured_at: datetime | None


@dataclass(frozen=True)
class ModelRow:
    model: AnnotatorModel
    predictions: int
    failed_calls: int
    last_error: str | None
    reliability: Reliability | None = None


def list_models(
    session: Session, requester: Account, project_id: str, page: PageParams
) -> list[ModelRow]:
    """The project's live models, oldest first, with their prediction and failed-call counts
    and the latest call error (``page.limit + 1`` rows, for the next cursor)."""
    with read_only(session):
        get_own(session, requester, project_id)
        stmt = (
            select(AnnotatorModel)
            .where(AnnotatorModel.project_id == project_id, AnnotatorModel.deleted_at.is_(None))
            .order_by(AnnotatorModel.id)
            .limit(page.limit + 1)
        )
        if page.after:
            stmt = stmt.where(AnnotatorModel.id > page.after)
        models = list(session.scalars(stmt))
        ids = [m.id for m in models]
        predicted = _counts(
            session,
            select(Prediction.model_id, func.count())
            .where(Prediction.model_id.in_(ids))
            .group_by(Prediction.model_id),
        )
        failed = _counts(
            session,
            select(ModelCall.model_id, func.count())
            .where(ModelCall.model_id.in_(ids), ModelCall.status == "failed")
            .group_by(ModelCall.model_id),
        )
        return [
            ModelRow(
                m,
                predicted.get(m.id, 0),
                failed.get(m.id, 0),
                _last_error(session, m.id),
                _reliability(session, project_id, m.id),
            )
            for m in models
        ]


def _reliability(session: Session, project_id: str, model_id: str) -> Reliability | None:
    """The model's entry in the project's fitted worker model, read by JSON path (the whole
    state holds every worker's skills: no need to load it for a few models). Both shapes of
    state are read: ``WorkerSkills`` (``accuracy``, ``n_answers``) and ``GeometrySkills``
    (``skill``, ``n``); a model the fit has not seen has no entry."""
    row = session.execute(
        select(ProjectModel.state[("workers", model_id)], ProjectModel.fitted_at).where(
            ProjectModel.project_id == project_id
        )
    ).first()
    if row is None or not isinstance(row[0], dict):
        return None
    entry, fitted_at = row[0], row[1]
    if isinstance(entry.get("accuracy"), int | float):
        std = entry.get("accuracy_std")
        return Reliability(
            "accuracy",
            _unit(entry["accuracy"]),
            float(std) if isinstance(std, int | float) else None,
            float(entry.get("n_answers") or 0),
            fitted_at,
        )
    if isinstance(entry.get("skill"), int | float):
        return Reliability(
            "skill", _unit(entry["skill"]), None, float(entry.get("n") or 0), fitted_at
        )
    return None


def _unit(value: float) -> float:
    return min(max(float(value), 0.0), 1.0)


def _last_error(session: Session, model_id: str) -> str | None:
    return session.scalar(
        select(ModelCall.error)
        .where(ModelCall.model_id == model_id, ModelCall.error.is_not(None))
        .order_by(ModelCall.updated_at.desc())
        .limit(1)
    )


def _counts(session: Session, stmt: Select[str, int]) -> dict[str, int]:
    out: dict[str, int] = {}
    for key, n in session.execute(stmt):
        out[key] = int(n)
    return out


def delete(
    session: Session, requester: Account, project_id: str, model_id: str, *, now: datetime
) -> None:
    """Detach a model: it is called no more and its predictions are read no more (the row and
    its predictions stay, so answers that started from one still say so)."""
    with transaction(session):
        get_own(session, requester, project_id)
        model = session.scalar(
            select(AnnotatorModel)
            .where(
                AnnotatorModel.id == model_id,
                AnnotatorModel.project_id == project_id,
                AnnotatorModel.deleted_at.is_(None),
            )
            .with_for_update()
        )
        if model is None:
            raise AnnotatorModelNotFound(f"No model {model_id} in project {project_id}.")
        model.deleted_at = now


def live_models(session: Session, project_id: str) -> list[AnnotatorModel]:
    return list(
        session.scalars(
            select(AnnotatorModel)
            .where(AnnotatorModel.project_id == project_id, AnnotatorModel.deleted_at.is_(None))
            .order_by(AnnotatorModel.id)
        )
    )


def predictions_for(session: Session, task_ids: Iterable[str]) -> dict[str, list[Prediction]]:
    """Each task's predictions by live models (a deleted model's are left out), by model id.

    Read-only, joins the caller's transaction: the one way to read predictions."""
    ids = list(task_ids)
    out: dict[str, list[Prediction]] = {task_id: [] for task_id in ids}
    if not ids:
        return out
    rows = session.scalars(
        select(Prediction)
        .join(AnnotatorModel, AnnotatorModel.id == Prediction.model_id)
        .where(Prediction.task_id.in_(ids), AnnotatorModel.deleted_at.is_(None))
        .order_by(Prediction.task_id, Prediction.model_id)
    )
    for row in rows:
        out[row.task_id].append(row)
    return out


def record_prediction(
    session: Session,
    model: AnnotatorModel,
    task: Task,
    answer: dict[str, Any],
    score: float,
    *,
    now: datetime,
) -> Prediction:
    """Store (or, for a refit, replace) ``model``'s prediction for ``task`` — ``answer`` already
    validated against the project's answer shape — and make it the task's pre-annotation when
    the task has none of the requester's and no better-scored prediction is shown.

    Call inside the caller's transaction, with the task row locked (``FOR UPDATE``)."""
    insert_ignore(
        session,
        Prediction,
        {
            "id": new_id("prd"),
            "task_id": task.id,
            "model_id": model.id,
            "project_id": task.project_id,
            "answer": answer,
            "score": score,
            "model_version": model.version,
            "created_at": now,
            "updated_at": now,
        },
        conflict=["task_id", "model_id"],
    )
    prediction = session.scalars(
        select(Prediction)
        .where(Prediction.task_id == task.id, Prediction.model_id == model.id)
        .execution_options(populate_existing=True)
    ).one()
    prediction.answer, prediction.score = answer, score
    prediction.model_version, prediction.updated_at = model.version, now
    _show(session, task, prediction)
    # The model is one more answerer of the task's consensus (issue 15, item 3): recomputed
    # now, which may complete the task (auto-labelling, or people the model now agrees with).
    from app.quality import service as quality_service  # it imports this module's callers

    session.flush()  # the prediction is read back with the task's others
    quality_service.on_prediction(session, task, now=now)
    return prediction


def _show(session: Session, task: Task, prediction: Prediction) -> None:
    if task.pre_annotation is not None and task.pre_annotation_model_id is None:
        return  # the requester's own pre-annotation wins
    if task.pre_annotation_model_id not in (None, prediction.model_id):
        shown = session.scalar(
            select(Prediction.score).where(
                Prediction.task_id == task.id,
                Prediction.model_id == task.pre_annotation_model_id,
            )
        )
        if shown is not None and shown >= prediction.score:
            return
    task.pre_annotation = prediction.answer
    task.pre_annotation_model_id = prediction.model_id


def project_of(session: Session, project_id: str) -> tuple[Project, AnnotationSpec]:
    project = session.get_one(Project, project_id)
    return project, AnnotationSpec.model_validate(project.annotation)
