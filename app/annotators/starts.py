"""Did an answer start from a model's prediction, and how much did the worker change it?

Computed when results are read, from what the tables hold: the task's pre-annotation was a
model's prediction (``tasks.pre_annotation_model_id``) and that prediction existed when the
worker leased the task (``created_at <= leased_at``). The change is the project type's own
agreement measure between the answer and the prediction: label kept (1 or 0) for
classification, label-set overlap (Jaccard) for multi-label, and for geometry the consensus
library's continuous agreement — matched IoU (boxes), mask IoU (polygons, masks), OKS
(keypoints), summed over matched objects and divided by the mean object count, so a missing or
extra object counts as 0.

Known approximation: a builtin model's refit rewrites its prediction in place, so for a task
leased before a refit the answer is compared with the current prediction, not the one shown.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, tuple_
from sqlalchemy.orm import Session

from app.annotations import AnnotationSpec
from app.models import Assignment, Image, Prediction, Task
from app.quality.engine import Consensus, Engine, GeometryEngine, engine_for

MEASURES = {
    "classification": "label kept",
    "multilabel": "label overlap",
    "bbox": "IoU",
    "polygon": "mask IoU",
    "segmentation": "mask IoU",
    "keypoints": "OKS",
}


def _kept(engine: Engine, answer: dict[str, Any], prediction: dict[str, Any]) -> float:
    if isinstance(engine, GeometryEngine):
        # The continuous measure (matched IoU / OKS over the mean object count), not the
        # accept-or-reject F1: moving a box a little must show as a little change.
        kind = engine.kind
        return float(kind.agree(kind.parse(answer), kind.parse(prediction)).quality)
    return float(engine.judge(answer, Consensus(prediction, 1.0)).score)


@dataclass(frozen=True)
class Start:
    model_id: str
    model_score: float
    agreement: float
    """The answer's agreement with the prediction, 0..1: 1 = kept as it was."""
    unchanged: bool
    measure: str


def starts_for(
    session: Session,
    spec: AnnotationSpec,
    tasks: Sequence[Task],
    answers: Mapping[str, Sequence[Assignment]],
    images: Mapping[str, Image],
) -> dict[str, Start]:
    """``assignment id -> Start`` for the answers (of ``tasks``) that started from a prediction."""
    shown = [(t.id, t.pre_annotation_model_id) for t in tasks if t.pre_annotation_model_id]
    if not shown:
        return {}
    predictions = {
        (p.task_id, p.model_id): p
        for p in session.scalars(
            select(Prediction).where(tuple_(Prediction.task_id, Prediction.model_id).in_(shown))
        )
    }
    out: dict[str, Start] = {}
    for task in tasks:
        prediction = predictions.get((task.id, task.pre_annotation_model_id or ""))
        if prediction is None:
            continue
        image = images[task.image_id]
        engine = engine_for(spec, width=image.width, height=image.height)
        for answer in answers.get(task.id, []):
            if answer.answer is None or prediction.created_at > answer.leased_at:
                continue
            out[answer.id] = Start(
                model_id=prediction.model_id,
                model_score=prediction.score,
                agreement=round(_kept(engine, answer.answer, prediction.answer), 4),
                unchanged=answer.answer == prediction.answer,
                measure=MEASURES.get(spec.type, "agreement"),
            )
    return out
