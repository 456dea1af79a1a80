"""``validate_answer``: check a worker's (or a gold) answer against the project's spec."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from app.annotations.errors import ErrorList
from app.annotations.fields import ANSWER, Context, read_label, read_list, read_object
from app.annotations.keypoints import validate_keypoints
from app.annotations.limits import MAX_LABELS
from app.annotations.masks import validate_segmentation
from app.annotations.shapes import validate_bbox, validate_polygon
from app.annotations.spec import AnnotationSpec, AnnotationType

__all__ = ["validate_answer"]


def validate_answer(
    spec: AnnotationSpec, answer: object, *, width: int, height: int
) -> dict[str, Any]:
    """Validate ``answer`` (parsed JSON) for a ``width`` x ``height`` image; return it normalised.

    The result has the API shape of the spec's type and is JSON-serialisable: coordinates are
    floats clamped into the image, keypoint ``v`` an int, labels exactly as in the spec,
    multilabel labels in spec order, polygons without repeated points, masks re-encoded as a
    grayscale PNG. See the per-type validators for the rules.

    Raises:
        AnswerInvalid: with every problem found (up to ``MAX_ERRORS``), each at a location
            starting with ``"answer"``. Nothing else is raised for any JSON value of ``answer``.
        ValueError: ``width`` or ``height`` is not a positive integer (a caller bug).
    """
    for name, size in (("width", width), ("height", height)):
        if isinstance(size, bool) or not isinstance(size, int) or size <= 0:
            raise ValueError(f"{name} must be a positive integer, got {size!r}")
    ctx = Context(spec=spec, width=width, height=height, errors=ErrorList())
    normalised = _VALIDATORS[spec.type](ctx, answer)
    ctx.errors.raise_if_any()
    return normalised


def _validate_classification(ctx: Context, answer: object) -> dict[str, Any]:
    """``{"label": str}``, one of the project's labels."""
    body = read_object(answer, ANSWER, ctx.errors, required=("label",))
    if body is None:
        return {}
    label = read_label(body["label"], [*ANSWER, "label"], ctx.errors, ctx.labels)
    return {"label": label}


def _validate_multilabel(ctx: Context, answer: object) -> dict[str, Any]:
    """``{"labels": [str, ...]}``: distinct project labels; returned in the spec's order.

    An empty list is valid: it says "none of the labels applies", which is an answer, not a
    missing one (a worker who skips a task releases it instead).
    """
    body = read_object(answer, ANSWER, ctx.errors, required=("labels",))
    if body is None:
        return {}
    loc = [*ANSWER, "labels"]
    items = read_list(body["labels"], loc, ctx.errors, what="labels", max_len=MAX_LABELS)
    if items is None:
        return {}
    allowed = ctx.labels
    chosen: set[str] = set()
    for index, item in enumerate(items):
        label = read_label(item, [*loc, index], ctx.errors, allowed)
        if label is None:
            continue
        if label in chosen:
            ctx.errors.add([*loc, index], f"duplicate label {label!r}")
        chosen.add(label)
    return {"labels": [label for label in ctx.spec.labels if label in chosen]}


_VALIDATORS: dict[AnnotationType, Callable[[Context, object], dict[str, Any]]] = {
    AnnotationType.CLASSIFICATION: _validate_classification,
    AnnotationType.MULTILABEL: _validate_multilabel,
    AnnotationType.BBOX: validate_bbox,
    AnnotationType.POLYGON: validate_polygon,
    AnnotationType.SEGMENTATION: validate_segmentation,
    AnnotationType.KEYPOINTS: validate_keypoints,
}
