"""polygon: labelled simple polygons, ``{"objects": [{"label": "tree", "points": [[x, y], ...]}]}``.

At least 3 distinct points, inside the image, edges that neither cross nor touch, positive area.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import shapely
from shapely.geometry import Polygon

from app.annotations.errors import Loc
from app.annotations.fields import Context, read_list, read_objects, read_point
from app.annotations.limits import MAX_OBJECTS, MAX_POLYGON_POINTS, MAX_TOTAL_POINTS
from app.annotations.registry import AnnotationKind, SpecRules
from app.annotations.spec import AnnotationSpec
from app.exports.base import ExportItem, class_of, object_confidence, objects_of
from app.exports.coco import CocoCodec, coco_format, extent, polygon_area
from app.exports.cvat import cvat_format
from app.exports.datumaro import datumaro_format
from app.exports.labelstudio import labelstudio_format
from app.exports.shapes import Shape, ShapeCodec
from app.exports.voc import VocCodec, voc_format
from app.exports.yolo import YoloCodec, fmt, yolo_format
from app.quality.engine import geometry_engine
from consensus.geometry import KindOptions, polygon_kind

__all__ = ["KIND", "validate_polygon"]


def validate_polygon(ctx: Context, answer: object) -> dict[str, Any]:
    """``{"objects": [{"label", "points": [[x, y], ...]}]}``: simple polygons inside the image."""
    budget = [MAX_TOTAL_POINTS]  # points left for the whole answer, shared by every object

    def read(value: object, loc: Loc) -> list[list[float]] | None:
        return _read_polygon(ctx, value, loc, budget)

    return read_objects(ctx, answer, geometry="points", read_geometry=read, max_objects=MAX_OBJECTS)


def _read_polygon(
    ctx: Context, value: object, loc: Loc, budget: list[int]
) -> list[list[float]] | None:
    errors = ctx.errors
    points = read_list(
        value, loc, errors, what="points [x, y]", min_len=3, max_len=MAX_POLYGON_POINTS
    )
    if points is None:
        return None
    budget[0] -= len(points)
    if budget[0] < 0:
        errors.add(loc, f"the answer has more than {MAX_TOTAL_POINTS} polygon points in total")
        return None
    coords = [read_point(ctx, point, [*loc, i]) for i, point in enumerate(points)]
    if any(xy is None for xy in coords):
        return None
    ring = _drop_repeats([xy for xy in coords if xy is not None])
    if len(ring) < 3:
        errors.add(loc, f"a polygon needs at least 3 distinct points, got {len(ring)}")
        return None
    problem = _polygon_problem(ring)
    if problem:
        errors.add(loc, problem)
        return None
    return [list(xy) for xy in ring]


def _drop_repeats(ring: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """Drop consecutive duplicates and a closing point equal to the first.

    Clients differ on whether a ring is closed and double clicks add a point twice; neither
    changes the shape, and removing them gives one stored form per polygon.
    """
    kept = [point for i, point in enumerate(ring) if i == 0 or point != ring[i - 1]]
    while len(kept) > 1 and kept[-1] == kept[0]:
        kept.pop()
    return kept


_REASON = re.compile(r"^(?P<what>[^\[]*)\[(?P<x>\S+) (?P<y>\S+)\]$")


def _polygon_problem(ring: list[tuple[float, float]]) -> str | None:
    """Why ``ring`` is not a simple polygon with positive area, or ``None`` if it is."""
    polygon = Polygon(ring)
    # The hull, not the polygon: a bow-tie's signed halves cancel to zero area too, and it
    # deserves the "edges cross" message.
    if not polygon.convex_hull.area > 0:
        return "polygon has zero area (its points are collinear)"
    if polygon.is_valid and polygon.area > 0:
        return None
    # GEOS says e.g. "Self-intersection[2.5 2.5]" or "Ring Self-intersection[1 0]".
    reason = str(shapely.is_valid_reason(polygon))
    match = _REASON.match(reason)
    if match is None:
        return f"polygon is not simple: {reason}"
    where = f"({float(match['x']):g}, {float(match['y']):g})"
    return f"polygon is not simple: its edges cross or touch near {where}"


def _coco(
    _spec: AnnotationSpec, labels: dict[str, int], item: ExportItem
) -> Iterator[dict[str, Any]]:
    """``segmentation`` ``[[x1, y1, x2, y2, ...]]``, ``area`` the polygon's, ``bbox`` its extent."""
    for index, obj in enumerate(objects_of(item)):
        points = [(float(x), float(y)) for x, y in obj["points"]]
        yield {
            "category_id": class_of(labels, obj["label"], item.task_id) + 1,
            "iscrowd": 0,
            "segmentation": [[c for point in points for c in point]],
            "area": polygon_area(points),
            "bbox": extent(points),
            "tessera_confidence": object_confidence(item, index),
        }


def _yolo_line(
    _spec: AnnotationSpec, labels: dict[str, int], item: ExportItem, obj: dict[str, Any]
) -> str:
    """``class x1 y1 x2 y2 ...`` (Ultralytics segmentation)."""
    width, height = float(item.width), float(item.height)
    coords = [fmt(c) for x, y in obj["points"] for c in (x / width, y / height)]
    return " ".join([str(class_of(labels, obj["label"], item.task_id)), *coords])


def _voc_box(obj: dict[str, Any]) -> list[float]:
    return extent([(float(x), float(y)) for x, y in obj["points"]])


def _shapes(_spec: AnnotationSpec, item: ExportItem) -> list[Shape]:
    return [
        Shape(
            "polygon",
            obj["label"],
            [(float(x), float(y)) for x, y in obj["points"]],
            confidence=object_confidence(item, index),
        )
        for index, obj in enumerate(objects_of(item))
    ]


def _answer(_spec: AnnotationSpec, shapes: list[Shape], _size: tuple[int, int]) -> dict[str, Any]:
    return {
        "objects": [
            {"label": s.label, "points": [list(p) for p in s.points]}
            for s in shapes
            if s.kind == "polygon"
        ]
    }


SHAPES = ShapeCodec(shapes=_shapes, kinds=("polygon",), answer=_answer)

KIND = AnnotationKind(
    name="polygon",
    summary="Outline every object with a labelled polygon.",
    spec=SpecRules(),
    validate=validate_polygon,
    engine=geometry_engine(
        lambda spec, width, height: polygon_kind(KindOptions(image_size=(height, width)))
    ),
    worker_model="geometry",
    formats={
        "coco": coco_format(CocoCodec(annotations=_coco)),
        "yolo": yolo_format(YoloCodec(line=_yolo_line)),
        "voc": voc_format(VocCodec(box=_voc_box)),
        "cvat": cvat_format(SHAPES),
        "datumaro": datumaro_format(SHAPES),
        "labelstudio": labelstudio_format(SHAPES),
    },
    shapes=SHAPES,
    tool="polygon",
    example_spec={"type": "polygon", "labels": ["tree", "house"]},
    example_answers=(
        {"objects": [{"label": "tree", "points": [[10, 10], [40, 10], [40, 40], [10, 40]]}]},
        {"objects": [{"label": "tree", "points": [[11, 10], [40, 11], [40, 40], [10, 39]]}]},
        {"objects": [{"label": "house", "points": [[60, 50], [90, 50], [75, 75]]}]},
    ),
)
