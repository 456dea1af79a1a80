"""Reading a batch's work: results per task and answers for review."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Literal

from sqlalchemy import or_, select, tuple_
from sqlalchemy.orm import Session, sessionmaker

from app.annotations import AnnotationSpec
from app.annotators.starts import MEASURES, Start, starts_for
from app.core.pagination import PageParams
from app.exports import ExportItem
from app.exports.base import AnswerStart, PredictionFacts
from app.models import (
    Assignment,
    AssignmentStatus,
    Batch,
    Image,
    Prediction,
    Project,
    Task,
    TaskStatus,
)

ANSWERED = (AssignmentStatus.submitted, AssignmentStatus.accepted, AssignmentStatus.rejected)


CONFIDENCE_DIGITS = 6
"""Confidences are shown to a millionth: the posterior's float noise (0.7499999999999999) is not
information, and every export and the JSON results show the same rounded value."""
_HALF_STEP = 0.5 * 10**-CONFIDENCE_DIGITS


def shown_confidence(value: float | None) -> float | None:
    return None if value is None else round(value, CONFIDENCE_DIGITS)


@dataclass(frozen=True)
class ResultFilter:
    """Which tasks of a batch a results page shows (every condition must hold)."""

    min_confidence: float | None = None
    max_confidence: float | None = None
    status: str | None = None
    """The task's status: ``open``, ``completed``…"""
    worker_id: str | None = None
    """Only tasks this worker answered."""
    verdict: str | None = None
    """Only tasks with an answer in this state: ``submitted`` (awaiting review), ``accepted``,
    ``rejected``, or ``appealed`` (an appeal waiting for the requester)."""
    labeled_by: str | None = None
    """``model`` (completed by auto-labelling), ``crowd`` (completed by people) or ``audit``
    (drawn for auto-labelling's audit share, open or done)."""


def tasks_page(
    session: Session, batch: Batch, page: PageParams, where: ResultFilter | None = None
) -> Sequence[Task]:
    stmt = select(Task).where(Task.batch_id == batch.id)
    f = where or ResultFilter()
    # The bounds apply to the confidence as shown: "at least 0.75" keeps a task shown as 0.75.
    if f.min_confidence is not None:
        stmt = stmt.where(Task.confidence >= f.min_confidence - _HALF_STEP)
    if f.max_confidence is not None:
        stmt = stmt.where(Task.confidence < f.max_confidence + _HALF_STEP)
    if f.status is not None:
        stmt = stmt.where(Task.status == f.status)
    if f.labeled_by == "audit":
        stmt = stmt.where(Task.audit.is_(True))
    elif f.labeled_by is not None:
        by_model = Task.labeled_by == "model"
        stmt = stmt.where(
            Task.status == TaskStatus.completed,
            by_model if f.labeled_by == "model" else or_(Task.labeled_by.is_(None), ~by_model),
        )
    if f.worker_id is not None or f.verdict is not None:
        answered = select(Assignment.id).where(
            Assignment.task_id == Task.id, Assignment.batch_id == batch.id
        )
        if f.worker_id is not None:
            answered = answered.where(
                Assignment.worker_id == f.worker_id, Assignment.status.in_(ANSWERED)
            )
        if f.verdict == "appealed":
            answered = answered.where(
                Assignment.appealed_at.is_not(None), Assignment.appeal_outcome.is_(None)
            )
        elif f.verdict is not None:
            answered = answered.where(Assignment.status == f.verdict)
        stmt = stmt.where(answered.exists())
    if page.after:
        stmt = stmt.where(Task.id > page.after)
    return session.scalars(stmt.order_by(Task.id).limit(page.limit + 1)).all()


def images_by_id(session: Session, image_ids: Sequence[str]) -> dict[str, Image]:
    """The images of a page of tasks, for their links."""
    rows = session.scalars(select(Image).where(Image.id.in_(set(image_ids)))).all()
    return {image.id: image for image in rows}


def answers_by_task(session: Session, task_ids: Sequence[str]) -> dict[str, list[Assignment]]:
    rows = session.scalars(
        select(Assignment)
        .where(Assignment.task_id.in_(task_ids), Assignment.status.in_(ANSWERED))
        .order_by(Assignment.submitted_at, Assignment.id)
    ).all()
    grouped: dict[str, list[Assignment]] = defaultdict(list)
    for row in rows:
        grouped[row.task_id].append(row)
    return grouped


def prediction_starts(
    session: Session,
    batch: Batch,
    tasks: Sequence[Task],
    answers: dict[str, list[Assignment]],
    images: dict[str, Image],
) -> dict[str, Start]:
    """For each answer that started from a model's prediction, how much it changed it."""
    if not answers:
        return {}
    project = session.get_one(Project, batch.project_id)
    spec = AnnotationSpec.model_validate(project.annotation)
    return starts_for(session, spec, tasks, answers, images)


def review_page(
    session: Session, batch: Batch, page: PageParams, status: str | None
) -> Sequence[Assignment]:
    statuses = (status,) if status else ANSWERED
    stmt = select(Assignment).where(
        Assignment.batch_id == batch.id, Assignment.status.in_(statuses)
    )
    if page.after:
        stmt = stmt.where(Assignment.id > page.after)
    return session.scalars(stmt.order_by(Assignment.id).limit(page.limit + 1)).all()


def labeled_by(task: Task) -> Literal["crowd", "model"] | None:
    """Who completed the task: ``model`` (auto-labelled) or ``crowd``; None while it is open."""
    if task.status != TaskStatus.completed:
        return None
    return "model" if task.labeled_by == "model" else "crowd"


def prediction_facts(
    session: Session, spec: AnnotationSpec, tasks: Sequence[Task]
) -> dict[str, PredictionFacts]:
    """Per task whose pre-annotation was a model's prediction: that prediction's model and
    score, and each answer that started from it with how much it kept (``starts_for``)."""
    shown = [t for t in tasks if t.pre_annotation_model_id]
    if not shown:
        return {}
    keys = [(t.id, t.pre_annotation_model_id) for t in shown]
    predictions = {
        p.task_id: p
        for p in session.scalars(
            select(Prediction).where(tuple_(Prediction.task_id, Prediction.model_id).in_(keys))
        )
    }
    answers = answers_by_task(session, [t.id for t in shown])
    images = images_by_id(session, [t.image_id for t in shown])
    starts = starts_for(session, spec, shown, answers, images)
    measure = MEASURES.get(spec.type, "agreement")
    out = {}
    for task in shown:
        prediction = predictions.get(task.id)
        if prediction is None or prediction.model_id != task.pre_annotation_model_id:
            continue
        started = tuple(
            AnswerStart(a.id, a.worker_id, starts[a.id].agreement, starts[a.id].unchanged)
            for a in answers.get(task.id, [])
            if a.id in starts
        )
        out[task.id] = PredictionFacts(
            prediction.model_id, float(prediction.score), measure, started
        )
    return out


def export_items(
    make_session: sessionmaker[Session], batch_id: str, page_size: int = 1000
) -> Iterator[ExportItem]:
    """Every task of the batch as an export item, read page by page in its own session: the
    download streams after the request's session is gone, and a large batch never sits in memory."""
    after = ""
    spec: AnnotationSpec | None = None
    while True:
        with make_session() as session:
            rows = session.execute(
                select(Task, Image.width, Image.height, Image.sha256)
                .join(Image, Image.id == Task.image_id)
                .where(Task.batch_id == batch_id, Task.id > after)
                .order_by(Task.id)
                .limit(page_size)
            ).all()
            if rows and spec is None:
                project_id = session.get_one(Batch, batch_id).project_id
                spec = AnnotationSpec.model_validate(
                    session.get_one(Project, project_id).annotation
                )
            facts = prediction_facts(session, spec, [r[0] for r in rows]) if spec else {}
        if not rows:
            return
        for task, width, height, sha256 in rows:
            yield ExportItem(
                task.id,
                task.image_name,
                width,
                height,
                task.consensus,
                shown_confidence(task.confidence),
                task.answer_count,
                None
                if task.object_confidences is None
                else [round(c, CONFIDENCE_DIGITS) for c in task.object_confidences],
                sha256,
                labeled_by(task),
                facts.get(task.id),
            )
        after = rows[-1][0].id
