"""classification: one label per image, ``{"label": "cat"}``."""

from __future__ import annotations

from typing import Any

from app.annotations.fields import ANSWER, Context, read_label, read_object
from app.annotations.registry import AnnotationKind, SpecRules
from app.annotations.spec import AnnotationSpec
from app.exports.base import ExportItem
from app.exports.cvat import cvat_format
from app.exports.datumaro import datumaro_format
from app.exports.folders import FOLDERS
from app.exports.labelstudio import labelstudio_format
from app.exports.shapes import Shape, ShapeCodec
from app.exports.tabular import CsvCodec, csv_format, label_cell
from app.quality.engine import classification_engine

__all__ = ["KIND", "validate_classification"]


def validate_classification(ctx: Context, answer: object) -> dict[str, Any]:
    """``{"label": str}``, one of the project's labels."""
    body = read_object(answer, ANSWER, ctx.errors, required=("label",))
    if body is None:
        return {}
    label = read_label(body["label"], [*ANSWER, "label"], ctx.errors, ctx.labels)
    return {"label": label}


def _shapes(_spec: AnnotationSpec, item: ExportItem) -> list[Shape]:
    assert item.answer is not None
    return [Shape("tag", item.answer["label"], confidence=item.confidence)]


def _answer(_spec: AnnotationSpec, shapes: list[Shape], _size: tuple[int, int]) -> dict[str, Any]:
    labels = list(dict.fromkeys(s.label for s in shapes if s.kind == "tag"))
    if len(labels) != 1:
        raise ValueError(f"{len(labels)} labels for one image; a classification answer has one")
    return {"label": labels[0]}


SHAPES = ShapeCodec(shapes=_shapes, kinds=("tag",), answer=_answer)

KIND = AnnotationKind(
    name="classification",
    summary="Pick the one label that fits the image.",
    spec=SpecRules(),
    validate=validate_classification,
    engine=classification_engine,
    worker_model="confusion",
    formats={
        "csv": csv_format(CsvCodec(columns=lambda spec: ["label"], cells=label_cell)),
        "folders": FOLDERS,
        "cvat": cvat_format(SHAPES),
        "datumaro": datumaro_format(SHAPES),
        "labelstudio": labelstudio_format(SHAPES),
    },
    shapes=SHAPES,
    tool="classification",
    example_spec={"type": "classification", "labels": ["cat", "dog"]},
    example_answers=({"label": "cat"}, {"label": "cat"}, {"label": "dog"}),
)
