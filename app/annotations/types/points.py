"""points: labelled points without a skeleton, ``{"objects": [{"label": "cell", "point": [x, y]}]}``.

One click per object, for counting and locating (cells, trees, people in a crowd). Consensus
matches clicks within a distance gate (2% of the image diagonal, ``consensus.geometry.points``)
and a worker is judged on the F1 of matched points, so the verdict says how many were missed
or added.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from typing import Any

from app.annotations.fields import Context, read_objects, read_point
from app.annotations.limits import MAX_OBJECTS
from app.annotations.registry import AnnotationKind, SpecRules
from app.annotations.spec import AnnotationSpec
from app.exports.base import ExportItem, class_of, object_confidence, objects_of
from app.exports.coco import CocoCodec, coco_format
from app.exports.cvat import cvat_format
from app.exports.datumaro import datumaro_format
from app.exports.labelstudio import labelstudio_format
from app.exports.shapes import Shape, ShapeCodec
from app.exports.tabular import CsvCodec, csv_format, multilabel_columns
from app.quality.engine import geometry_engine
from consensus.geometry import KindOptions, match_radius, point_kind

__all__ = ["COCO_SIGMA", "KIND", "validate_points"]

COCO_SIGMA = round(math.sqrt(1 / (32 * math.log(2))), 6)
"""The OKS sigma written to COCO: with the box a square of twice the gate, a click one gate
away from the truth scores OKS 0.5, the usual keypoint match threshold."""


def validate_points(ctx: Context, answer: object) -> dict[str, Any]:
    """``{"objects": [{"label", "point": [x, y]}]}``: points inside the image; may be empty."""

    def read(value: object, loc: list[str | int]) -> list[float] | None:
        xy = read_point(ctx, value, loc)
        return None if xy is None else [xy[0], xy[1]]

    return read_objects(ctx, answer, geometry="point", read_geometry=read, max_objects=MAX_OBJECTS)


def _coco(
    _spec: AnnotationSpec, labels: dict[str, int], item: ExportItem
) -> Iterator[dict[str, Any]]:
    """Each point a one-keypoint COCO object: ``keypoints`` ``[x, y, 2]``, ``bbox`` the square of
    twice the matching gate around it (its ``area`` is the OKS scale)."""
    radius = match_radius((item.height, item.width))
    for index, obj in enumerate(objects_of(item)):
        x, y = (float(v) for v in obj["point"])
        yield {
            "category_id": class_of(labels, obj["label"], item.task_id) + 1,
            "iscrowd": 0,
            "keypoints": [x, y, 2],
            "num_keypoints": 1,
            "bbox": [x - radius, y - radius, 2 * radius, 2 * radius],
            "area": (2 * radius) ** 2,
            "segmentation": [],
            "tessera_confidence": object_confidence(item, index),
        }


def _category_fields(_spec: AnnotationSpec) -> dict[str, Any]:
    return {"keypoints": ["point"], "skeleton": [], "sigmas": [COCO_SIGMA]}


def _csv_columns(spec: AnnotationSpec) -> list[str]:
    return [*(f"count:{column}" for column in multilabel_columns(spec)), "points"]


def _csv_cells(labels: dict[str, int], item: ExportItem) -> list[str]:
    """The count of each label, then the points as JSON ``[[label, x, y], ...]``."""
    if item.answer is None:
        return [""] * (len(labels) + 1)
    counts = [0] * len(labels)
    points = []
    for obj in objects_of(item):
        counts[class_of(labels, obj["label"], item.task_id)] += 1
        points.append([obj["label"], *obj["point"]])
    return [*map(str, counts), json.dumps(points, ensure_ascii=False)]


def _shapes(_spec: AnnotationSpec, item: ExportItem) -> list[Shape]:
    return [
        Shape(
            "point",
            obj["label"],
            [(float(obj["point"][0]), float(obj["point"][1]))],
            confidence=object_confidence(item, index),
        )
        for index, obj in enumerate(objects_of(item))
    ]


def _answer(_spec: AnnotationSpec, shapes: list[Shape], _size: tuple[int, int]) -> dict[str, Any]:
    return {
        "objects": [
            {"label": s.label, "point": list(s.points[0])} for s in shapes if s.kind == "point"
        ]
    }


SHAPES = ShapeCodec(shapes=_shapes, kinds=("point",), answer=_answer)

KIND = AnnotationKind(
    name="points",
    summary="Click once on every object, with its label (counting, locating).",
    spec=SpecRules(),
    validate=validate_points,
    engine=geometry_engine(
        lambda spec, width, height: point_kind(KindOptions(image_size=(height, width)))
    ),
    worker_model="geometry",
    formats={
        "coco": coco_format(
            CocoCodec(annotations=_coco, category_fields=_category_fields, task="person_keypoints")
        ),
        "csv": csv_format(CsvCodec(columns=_csv_columns, cells=_csv_cells)),
        "cvat": cvat_format(SHAPES),
        "datumaro": datumaro_format(SHAPES),
        "labelstudio": labelstudio_format(SHAPES),
    },
    shapes=SHAPES,
    tool="points",
    example_spec={"type": "points", "labels": ["cell", "debris"]},
    example_answers=(
        {"objects": [{"label": "cell", "point": [20, 20]}, {"label": "cell", "point": [60, 40]}]},
        {"objects": [{"label": "cell", "point": [21, 20]}, {"label": "cell", "point": [60, 41]}]},
        {"objects": [{"label": "debris", "point": [90, 10]}]},
    ),
)
