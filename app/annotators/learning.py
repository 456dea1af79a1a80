"""The builtin model's loop: refit on the project's consensus as it grows, predict open tasks.

Two level-triggered steps, run by the ``models.builtin`` reconciler:

* ``fit_due``: a live builtin model whose project has enough new consensus answers since its
  last fit (``REFIT_MIN_NEW``, or 10% more) is claimed (SKIP LOCKED; ``requested_at`` pushed
  ``CLAIM`` ahead, so a fitter killed mid-fit leaves a claim that runs out), its examples read,
  features computed and the classifier fitted *outside* any transaction (on SQLite a transaction
  holds the one writer connection), and the JSON state written with ``version`` + 1.
* ``predict_due``: open tasks of the project without a prediction of the model's current
  version get one (``service.record_prediction``), a batch at a time, the task row locked with
  SKIP LOCKED (a task being answered right now is simply predicted on a later pass).

Examples are the completed, non-gold tasks' consensus answers and the gold tasks' known
answers, newest first, at most ``MAX_EXAMPLES``. The gold tasks themselves are predicted by a
second fit on the non-gold examples alone (``_fit``): never from their own gold answer.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import numpy as np
from sqlalchemy import and_, exists, func, or_, select
from sqlalchemy.orm import Session

from app.annotators import classifier
from app.annotators.service import record_prediction
from app.core.db import read_only, transaction
from app.images import ImageStore
from app.models import (
    AnnotatorKind,
    AnnotatorModel,
    Image,
    Prediction,
    Project,
    Task,
    TaskStatus,
)

log = logging.getLogger("tessera.models")

REFIT_MIN_NEW = 5
MAX_EXAMPLES = 5000
CLAIM = timedelta(minutes=10)
RETRY_UNFITTABLE = timedelta(minutes=1)
PREDICT_BATCH = 32


def _examples_filter(project_id: str) -> Any:
    return and_(
        Task.project_id == project_id,
        or_(
            and_(
                Task.is_gold.is_(False),
                Task.status == TaskStatus.completed,
                Task.consensus.is_not(None),
                # Not the tasks auto-labelling completed: the model would learn its own labels.
                Task.labeled_by.is_(None),
            ),
            and_(Task.is_gold.is_(True), Task.gold_answer.is_not(None)),
        ),
    )


def example_count(session: Session, project_id: str) -> int:
    return int(
        session.scalar(select(func.count()).select_from(Task).where(_examples_filter(project_id)))
        or 0
    )


def _due(model: AnnotatorModel, examples: int) -> bool:
    if model.fitted_at is None or not classifier.usable(model.state):
        return examples >= classifier.MIN_EXAMPLES and examples > model.trained_on
    return examples - model.trained_on >= max(REFIT_MIN_NEW, model.trained_on // 10)


@dataclass(frozen=True)
class Claimed:
    model_id: str
    project_id: str
    version: int
    labels: list[str]
    multilabel: bool


def fit_due(session: Session, store: ImageStore, *, now: datetime, limit: int = 1) -> int:
    """Refit up to ``limit`` builtin models that are due; how many were fitted."""
    fitted = 0
    for claimed in _claim(session, now=now, limit=limit):
        with read_only(session):
            rows = session.execute(
                select(Task.consensus, Task.gold_answer, Task.is_gold, Image.sha256)
                .join(Image, Image.id == Task.image_id)
                .where(_examples_filter(claimed.project_id))
                .order_by(Task.id.desc())
                .limit(MAX_EXAMPLES)
            ).all()
        xs, targets, gold = [], [], []
        for consensus, gold_answer, is_gold, sha256 in rows:
            answer = gold_answer if is_gold else consensus
            target = answer.get("labels") if claimed.multilabel else answer.get("label")
            if target is None:
                continue
            try:
                xs.append(classifier.features_of(sha256, store.get))
            except Exception:  # an image the store lost or Pillow cannot read: one example less
                log.warning("builtin model %s: no features for image %s", claimed.model_id, sha256)
                continue
            targets.append(target)
            gold.append(bool(is_gold))
        state = _fit(xs, targets, gold, claimed)
        if _write(session, claimed, state, len(rows), now=now):
            fitted += 1
    return fitted


def _fit(
    xs: list[classifier.Vector], targets: list[Any], gold: list[bool], claimed: Claimed
) -> dict[str, Any] | None:
    """The state fitted on every example, and under ``"holdout"`` one fitted on the non-gold
    examples alone, which is what predicts the gold tasks: a prediction of a gold task by a fit
    that learnt that very task's gold answer would show workers the gold answer as a
    pre-annotation, and would flatter the model where the re-estimation measures it on gold
    (``app.quality.engine.rest_models_on_gold``). No holdout (too few non-gold examples, one
    class): the gold tasks get no prediction from this fit."""
    if not xs:
        return None
    state = classifier.fit(np.vstack(xs), targets, claimed.labels, multilabel=claimed.multilabel)
    if state is None:
        return None
    kept = [i for i, g in enumerate(gold) if not g]
    holdout = (
        classifier.fit(
            np.vstack([xs[i] for i in kept]),
            [targets[i] for i in kept],
            claimed.labels,
            multilabel=claimed.multilabel,
        )
        if kept
        else None
    )
    return {**state, "holdout": holdout} if holdout is not None else state


def _claim(session: Session, *, now: datetime, limit: int) -> list[Claimed]:
    with transaction(session):
        models = session.scalars(
            select(AnnotatorModel)
            .where(
                AnnotatorModel.kind == AnnotatorKind.builtin,
                AnnotatorModel.deleted_at.is_(None),
                AnnotatorModel.requested_at <= now,
            )
            .order_by(AnnotatorModel.requested_at)
            .with_for_update(skip_locked=True)
        ).all()
        claimed: list[Claimed] = []
        for model in models:
            if len(claimed) >= limit:
                break
            if not _due(model, example_count(session, model.project_id)):
                continue
            project = session.get_one(Project, model.project_id)
            model.requested_at = now + CLAIM
            claimed.append(
                Claimed(
                    model.id,
                    project.id,
                    model.version,
                    list(project.annotation.get("labels", [])),
                    project.annotation_type == "multilabel",
                )
            )
        return claimed


def _write(
    session: Session,
    claimed: Claimed,
    state: dict[str, Any] | None,
    examples: int,
    *,
    now: datetime,
) -> bool:
    with transaction(session):
        model = session.scalars(
            select(AnnotatorModel)
            .where(AnnotatorModel.id == claimed.model_id)
            .with_for_update()
            .execution_options(populate_existing=True)
        ).one()
        if model.deleted_at is not None or model.version != claimed.version:
            return False
        if state is None:  # one class so far, or unreadable images: look again a bit later
            model.requested_at = now + RETRY_UNFITTABLE
            return False
        model.state, model.trained_on, model.fitted_at = state, examples, now
        model.version += 1
        model.requested_at = now
        return True


def predict_due(
    session: Session, store: ImageStore, *, now: datetime, limit: int = PREDICT_BATCH
) -> int:
    """Predict up to ``limit`` open tasks that lack a prediction of their builtin model's
    current fit; how many were predicted."""
    with read_only(session):
        current = exists().where(
            Prediction.task_id == Task.id,
            Prediction.model_id == AnnotatorModel.id,
            Prediction.model_version == AnnotatorModel.version,
        )
        rows = session.execute(
            select(Task.id, AnnotatorModel.id, AnnotatorModel.version, Image.sha256, Task.is_gold)
            .join(AnnotatorModel, AnnotatorModel.project_id == Task.project_id)
            .join(Image, Image.id == Task.image_id)
            .where(
                AnnotatorModel.kind == AnnotatorKind.builtin,
                AnnotatorModel.deleted_at.is_(None),
                AnnotatorModel.version > 0,
                Task.status == TaskStatus.open,
                # A gold task only from a fit that left the gold out (``_fit``).
                or_(
                    Task.is_gold.is_(False),
                    AnnotatorModel.state["holdout"].as_string().is_not(None),
                ),
                ~current,
            )
            .order_by(Task.id)
            .limit(limit)
        ).all()
        states = {
            m.id: m.state
            for m in session.scalars(
                select(AnnotatorModel).where(AnnotatorModel.id.in_({r[1] for r in rows}))
            )
        }
    done = 0
    for task_id, model_id, version, sha256, is_gold in rows:
        state = states.get(model_id)
        if state is not None and is_gold:
            state = state.get("holdout")
        if state is None or not classifier.usable(state):
            continue
        try:
            answer, score = classifier.predict(state, classifier.features_of(sha256, store.get))
        except Exception:
            log.warning("builtin model %s: no features for image %s", model_id, sha256)
            continue
        with transaction(session):
            task = session.scalar(
                select(Task).where(Task.id == task_id).with_for_update(skip_locked=True)
            )
            model = session.get_one(AnnotatorModel, model_id)
            if task is None or model.version != version or model.deleted_at is not None:
                continue
            record_prediction(session, model, task, answer, score, now=now)
            done += 1
    return done
