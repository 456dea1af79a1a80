"""multilabel: every label that applies, ``{"labels": ["cat", "outdoor"]}``."""

from __future__ import annotations

from typing import Any

from app.annotations.fields import ANSWER, Context, read_label, read_list, read_object
from app.annotations.limits import MAX_LABELS
from app.annotations.registry import AnnotationKind, SpecRules
from app.annotations.spec import AnnotationSpec
from app.exports.base import ExportItem
from app.exports.cvat import cvat_format
from app.exports.datumaro import datumaro_format
from app.exports.labelstudio import labelstudio_format
from app.exports.shapes import Shape, ShapeCodec
from app.exports.tabular import CsvCodec, csv_format, label_flags, multilabel_columns
from app.quality.engine import multilabel_engine

__all__ = ["KIND", "validate_multilabel"]


def validate_multilabel(ctx: Context, answer: object) -> dict[str, Any]:
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


def _shapes(_spec: AnnotationSpec, item: ExportItem) -> list[Shape]:
    assert item.answer is not None
    return [Shape("tag", label, confidence=item.confidence) for label in item.answer["labels"]]


def _answer(_spec: AnnotationSpec, shapes: list[Shape], _size: tuple[int, int]) -> dict[str, Any]:
    return {"labels": list(dict.fromkeys(s.label for s in shapes if s.kind == "tag"))}


SHAPES = ShapeCodec(shapes=_shapes, kinds=("tag",), answer=_answer)

KIND = AnnotationKind(
    name="multilabel",
    summary="Tick every label that applies to the image (possibly none).",
    spec=SpecRules(),
    validate=validate_multilabel,
    engine=multilabel_engine,
    worker_model="multilabel",
    formats={
        "csv": csv_format(CsvCodec(columns=multilabel_columns, cells=label_flags)),
        "cvat": cvat_format(SHAPES),
        "datumaro": datumaro_format(SHAPES),
        "labelstudio": labelstudio_format(SHAPES),
    },
    shapes=SHAPES,
    tool="multilabel",
    example_spec={"type": "multilabel", "labels": ["cat", "outdoor"]},
    example_answers=({"labels": ["cat"]}, {"labels": ["cat"]}, {"labels": ["outdoor"]}),
)
