"""bbox: labelled boxes, ``{"objects": [{"label": "car", "box": [x, y, w, h]}]}`` in pixels.

Boxes are COCO order (top-left corner, width, height), inside the image, with positive area.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from app.annotations.errors import Loc
from app.annotations.fields import Context, clamp, read_list, read_number, read_objects
from app.annotations.limits import COORD_TOLERANCE, MAX_OBJECTS
from app.annotations.registry import AnnotationKind, SpecRules
from app.annotations.spec import AnnotationSpec
from app.exports.base import ExportItem, class_of, object_confidence, objects_of
from app.exports.coco import CocoCodec, coco_format
from app.exports.cvat import cvat_format
from app.exports.datumaro import datumaro_format
from app.exports.labelstudio import labelstudio_format
from app.exports.shapes import Shape, ShapeCodec
from app.exports.voc import VocCodec, voc_format
from app.exports.yolo import YoloCodec, centre_box, fmt, yolo_format
from app.quality.engine import geometry_engine
from consensus.geometry import KindOptions, box_kind

__all__ = ["KIND", "validate_bbox"]


def validate_bbox(ctx: Context, answer: object) -> dict[str, Any]:
    """``{"objects": [{"label", "box": [x, y, w, h]}]}`` in pixels, COCO order."""
    return read_objects(
        ctx,
        answer,
        geometry="box",
        read_geometry=lambda value, loc: _read_box(ctx, value, loc),
        max_objects=MAX_OBJECTS,
    )


def _read_box(ctx: Context, value: object, loc: Loc) -> list[float] | None:
    errors = ctx.errors
    box = read_list(value, loc, errors, what="numbers [x, y, w, h]", min_len=4, max_len=4)
    if box is None:
        return None
    numbers = [read_number(item, [*loc, i], errors) for i, item in enumerate(box)]
    if any(number is None for number in numbers):
        return None
    x, y, w, h = (float(number) for number in numbers if number is not None)
    if w <= 0 or h <= 0:
        errors.add(loc, f"box has no area: width and height must be positive, got {w:g} x {h:g}")
        return None
    inside = True
    for axis, start, size, limit in (("x", x, w, ctx.width), ("y", y, h, ctx.height)):
        if start < -COORD_TOLERANCE or start + size > limit + COORD_TOLERANCE:
            errors.add(
                loc,
                f"box is outside the image: {axis} spans {start:g}..{start + size:g}, "
                f"the image 0..{limit}",
            )
            inside = False
    if not inside:
        return None
    # Clamp what the tolerance let through, so stored boxes are exactly inside the image.
    x, y = clamp(x, ctx.width), clamp(y, ctx.height)
    w, h = min(w, ctx.width - x), min(h, ctx.height - y)
    if w <= 0 or h <= 0:
        errors.add(loc, "box has no area inside the image")
        return None
    return [x, y, w, h]


def _coco(
    _spec: AnnotationSpec, labels: dict[str, int], item: ExportItem
) -> Iterator[dict[str, Any]]:
    """``bbox`` as given, ``area`` its ``w * h``, ``segmentation`` empty."""
    for index, obj in enumerate(objects_of(item)):
        x, y, w, h = (float(v) for v in obj["box"])
        yield {
            "category_id": class_of(labels, obj["label"], item.task_id) + 1,
            "iscrowd": 0,
            "bbox": [x, y, w, h],
            "area": w * h,
            "segmentation": [],
            "tessera_confidence": object_confidence(item, index),
        }


def _yolo_line(
    _spec: AnnotationSpec, labels: dict[str, int], item: ExportItem, obj: dict[str, Any]
) -> str:
    """``class cx cy w h`` (Ultralytics detection)."""
    x, y, w, h = (float(v) for v in obj["box"])
    cls = str(class_of(labels, obj["label"], item.task_id))
    return " ".join([cls, *map(fmt, centre_box(x, y, w, h, item.width, item.height))])


def _shapes(_spec: AnnotationSpec, item: ExportItem) -> list[Shape]:
    shapes = []
    for index, obj in enumerate(objects_of(item)):
        x, y, w, h = (float(v) for v in obj["box"])
        confidence = object_confidence(item, index)
        shapes.append(Shape("box", obj["label"], [(x, y), (x + w, y + h)], confidence=confidence))
    return shapes


def _answer(_spec: AnnotationSpec, shapes: list[Shape], _size: tuple[int, int]) -> dict[str, Any]:
    boxes = [(s.label, s.points) for s in shapes if s.kind == "box"]
    return {
        "objects": [
            {"label": label, "box": [x0, y0, x1 - x0, y1 - y0]}
            for label, ((x0, y0), (x1, y1)) in boxes
        ]
    }


SHAPES = ShapeCodec(shapes=_shapes, kinds=("box",), answer=_answer)

KIND = AnnotationKind(
    name="bbox",
    summary="Draw a labelled box around every object.",
    spec=SpecRules(),
    validate=validate_bbox,
    engine=geometry_engine(lambda spec, width, height: box_kind(KindOptions())),
    worker_model="geometry",
    formats={
        "coco": coco_format(CocoCodec(annotations=_coco)),
        "yolo": yolo_format(YoloCodec(line=_yolo_line)),
        "voc": voc_format(VocCodec(box=lambda obj: obj["box"])),
        "cvat": cvat_format(SHAPES),
        "datumaro": datumaro_format(SHAPES),
        "labelstudio": labelstudio_format(SHAPES),
    },
    shapes=SHAPES,
    tool="bbox",
    example_spec={"type": "bbox", "labels": ["car", "person"]},
    example_answers=(
        {"objects": [{"label": "car", "box": [10, 10, 30, 20]}]},
        {"objects": [{"label": "car", "box": [11, 10, 30, 21]}]},
        {"objects": [{"label": "person", "box": [60, 40, 20, 30]}]},
    ),
)
