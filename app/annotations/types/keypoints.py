"""keypoints: named points per object, ``{"objects": [{"label", "points": [[x, y, v], ...]}]}``.

One COCO ``[x, y, v]`` triple per keypoint name of the spec, per object; an optional skeleton
joins them. COCO and YOLO exports carry the OKS sigmas and left/right flip pairs the consensus
uses (both chosen from the keypoint names, ``consensus.geometry.keypoints``).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from pydantic_core import PydanticCustomError

from app.annotations.errors import Loc
from app.annotations.fields import Context, read_coordinate, read_list, read_objects, type_name
from app.annotations.limits import MAX_OBJECTS
from app.annotations.registry import AnnotationKind, SpecRules
from app.annotations.spec import AnnotationSpec, Edge, require_unique
from app.exports.base import ExportItem, class_of, object_confidence, objects_of
from app.exports.coco import CocoCodec, coco_format, extent
from app.exports.cvat import cvat_format
from app.exports.datumaro import datumaro_format
from app.exports.labelstudio import labelstudio_format
from app.exports.shapes import Shape, ShapeCodec
from app.exports.yolo import YoloCodec, centre_box, fmt, one_line, yolo_format
from app.quality.engine import geometry_engine
from consensus.geometry import KindOptions, default_sigmas, flip_pairs_from_names, keypoint_kind

__all__ = ["DEFAULT_LABELS", "KIND", "VISIBILITIES", "flip_index", "sigmas", "validate_keypoints"]

DEFAULT_LABELS = ("object",)
"""Labels a keypoints project gets when it names none: every answer object carries a label
(API.md), so a project with several kinds of object ("face", "hand") names them, but the common
case of one kind should not have to."""

VISIBILITIES = (0, 1, 2)
"""COCO visibility flags: 0 not labelled, 1 labelled but occluded, 2 labelled and visible."""


def validate_keypoints(ctx: Context, answer: object) -> dict[str, Any]:
    """``{"objects": [{"label", "points": [[x, y, v], ...]}]}``, points in keypoint-name order.

    ``v`` must be the integer 0, 1 or 2. When ``v`` is 1 or 2, ``x`` and ``y`` must lie inside
    the image. When ``v`` is 0 the point is not labelled: ``x`` and ``y`` may be any number or
    null and are stored as 0, as COCO does, so clients need not invent coordinates.
    An object must label at least one keypoint: an object with none carries no information and
    has no defined keypoint similarity (OKS) for consensus.
    """
    return read_objects(
        ctx,
        answer,
        geometry="points",
        read_geometry=lambda value, loc: _read_skeleton_points(ctx, value, loc),
        max_objects=MAX_OBJECTS,
    )


def _read_skeleton_points(ctx: Context, value: object, loc: Loc) -> list[list[Any]] | None:
    names = ctx.spec.keypoints or []
    count = len(names)
    what = f"[x, y, v] triples (one per keypoint: {_names(names)})"
    points = read_list(value, loc, ctx.errors, what=what, min_len=count, max_len=count)
    if points is None:
        return None
    triples = [_read_triple(ctx, point, [*loc, i]) for i, point in enumerate(points)]
    if any(triple is None for triple in triples):
        return None
    if all(triple is not None and triple[2] == 0 for triple in triples):
        ctx.errors.add(loc, "the object labels no keypoint (every v is 0)")
        return None
    return [triple for triple in triples if triple is not None]


def _read_triple(ctx: Context, value: object, loc: Loc) -> list[Any] | None:
    errors = ctx.errors
    triple = read_list(value, loc, errors, what="values [x, y, v]", min_len=3, max_len=3)
    if triple is None:
        return None
    visibility = triple[2]
    if (
        isinstance(visibility, bool)
        or not isinstance(visibility, int)
        or visibility not in VISIBILITIES
    ):
        errors.add([*loc, 2], f"v must be the integer 0, 1 or 2, got {_show(visibility)}")
        return None
    if visibility == 0:
        for axis in (0, 1):
            coordinate = triple[axis]
            if coordinate is not None and (
                isinstance(coordinate, bool) or not isinstance(coordinate, int | float)
            ):
                errors.add([*loc, axis], f"expected a number or null, got {type_name(coordinate)}")
                return None
        return [0.0, 0.0, 0]
    x = read_coordinate(triple[0], [*loc, 0], errors, limit=ctx.width)
    y = read_coordinate(triple[1], [*loc, 1], errors, limit=ctx.height)
    if x is None or y is None:
        return None
    return [x, y, visibility]


def _names(names: list[str], shown: int = 5) -> str:
    head = ", ".join(names[:shown])
    return head + (f", … ({len(names)} in all)" if len(names) > shown else "")


def _show(value: object) -> str:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return repr(value)
    return type_name(value)


def _check_names(names: list[str] | None, _data: Mapping[str, Any]) -> list[str]:
    """Required: a non-empty list of unique keypoint names."""
    if not names:
        raise PydanticCustomError(
            "missing", "keypoints projects need a non-empty list of keypoint names"
        )
    require_unique(names, "keypoint name")
    return names


def _check_skeleton(edges: list[Edge] | None, data: Mapping[str, Any]) -> list[Edge]:
    """Optional edges ``[i, j]`` between keypoint indices, ``i != j``, no edge twice."""
    edges = edges or []
    names = data.get("keypoints")
    if not names:  # when the names were invalid the indices cannot be checked
        return edges
    count = len(names)
    seen: set[frozenset[int]] = set()
    for index, (i, j) in enumerate(edges):
        problem = None
        if not (0 <= i < count and 0 <= j < count):
            problem = f"indices must be in 0..{count - 1} ({count} keypoints)"
        elif i == j:
            problem = "an edge joins two different keypoints"
        elif frozenset((i, j)) in seen:
            problem = "duplicate edge"
        if problem:
            raise PydanticCustomError(
                "invalid_edge",
                "edge {index} [{i}, {j}]: {problem}",
                {"index": index, "i": i, "j": j, "problem": problem},
            )
        seen.add(frozenset((i, j)))
    return edges


def sigmas(spec: AnnotationSpec) -> list[float]:
    """The OKS sigma of each keypoint, as the consensus uses them (COCO's for COCO names)."""
    names = list(spec.keypoints or [])
    return [round(float(s), 6) for s in default_sigmas(names, len(names))]


def flip_index(spec: AnnotationSpec) -> list[int]:
    """Ultralytics ``flip_idx``: each keypoint's left/right mirror (itself when it has none)."""
    names = list(spec.keypoints or [])
    mirror = list(range(len(names)))
    for left, right in flip_pairs_from_names(names):
        mirror[left], mirror[right] = right, left
    return mirror


def _category_fields(spec: AnnotationSpec) -> dict[str, Any]:
    return {
        "keypoints": list(spec.keypoints or []),
        "skeleton": [[i + 1, j + 1] for i, j in spec.skeleton or []],
        "sigmas": sigmas(spec),
    }


def _coco(
    _spec: AnnotationSpec, labels: dict[str, int], item: ExportItem
) -> Iterator[dict[str, Any]]:
    """``keypoints`` ``[x, y, v, ...]``, ``num_keypoints``, ``bbox`` the extent of the labelled
    points and ``area`` its ``w * h`` (the OKS scale, as the consensus takes it)."""
    for index, obj in enumerate(objects_of(item)):
        triples = [(float(x), float(y), int(v)) for x, y, v in obj["points"]]
        labelled = [(x, y) for x, y, v in triples if v > 0]
        box = extent(labelled)
        yield {
            "category_id": class_of(labels, obj["label"], item.task_id) + 1,
            "iscrowd": 0,
            "keypoints": [c for triple in triples for c in triple],
            "num_keypoints": len(labelled),
            "bbox": box,
            "area": box[2] * box[3],
            "segmentation": [],
            "tessera_confidence": object_confidence(item, index),
        }


def _yolo_line(
    _spec: AnnotationSpec, labels: dict[str, int], item: ExportItem, obj: dict[str, Any]
) -> str:
    """``class cx cy w h px1 py1 v1 ...`` (Ultralytics pose; the box is the extent of the
    labelled points; an unlabelled point is ``0 0 0``)."""
    width, height = float(item.width), float(item.height)
    triples = [(float(x), float(y), int(v)) for x, y, v in obj["points"]]
    labelled = [(x, y) for x, y, v in triples if v > 0] or [(0.0, 0.0)]
    xs, ys = [p[0] for p in labelled], [p[1] for p in labelled]
    box = centre_box(min(xs), min(ys), max(xs) - min(xs), max(ys) - min(ys), width, height)
    points: list[str] = []
    for x, y, v in triples:
        points += [fmt(x / width), fmt(y / height), str(v)] if v else ["0", "0", "0"]
    cls = str(class_of(labels, obj["label"], item.task_id))
    return " ".join([cls, *map(fmt, box), *points])


def _yaml_lines(spec: AnnotationSpec) -> list[str]:
    names = ", ".join(one_line(name) for name in spec.keypoints or [])
    return [
        f"kpt_shape: [{len(spec.keypoints or [])}, 3]",
        f"flip_idx: {flip_index(spec)}",
        f"# keypoint order: {names}",
    ]


def _shapes(spec: AnnotationSpec, item: ExportItem) -> list[Shape]:
    names = list(spec.keypoints or [])
    return [
        Shape(
            "skeleton",
            obj["label"],
            [(float(x), float(y)) for x, y, _v in obj["points"]],
            visibility=[int(v) for _x, _y, v in obj["points"]],
            names=names,
            confidence=object_confidence(item, index),
        )
        for index, obj in enumerate(objects_of(item))
    ]


def _answer(spec: AnnotationSpec, shapes: list[Shape], _size: tuple[int, int]) -> dict[str, Any]:
    """Each skeleton's points in the spec's keypoint order: by name when the file names them
    (a name the spec lacks is an error), else in the file's order."""
    names = list(spec.keypoints or [])
    objects = []
    for s in shapes:
        triples = [
            [x, y, v] if v else [0, 0, 0]
            for (x, y), v in zip(s.points, s.visibility or [2] * len(s.points), strict=True)
        ]
        if s.names and s.names != names:
            unknown = sorted(set(s.names) - set(names))
            if unknown:
                raise ValueError(f"keypoints {unknown} are not the project's")
            by_name = dict(zip(s.names, triples, strict=True))
            triples = [by_name.get(name, [0, 0, 0]) for name in names]
        objects.append({"label": s.label, "points": triples})
    return {"objects": objects}


SHAPES = ShapeCodec(shapes=_shapes, kinds=("skeleton",), answer=_answer)

KIND = AnnotationKind(
    name="keypoints",
    summary="Place each named keypoint of every object (visible, occluded or not labelled).",
    spec=SpecRules(
        fields={"keypoints": _check_names, "skeleton": _check_skeleton},
        default_labels=DEFAULT_LABELS,
    ),
    validate=validate_keypoints,
    engine=geometry_engine(
        lambda spec, width, height: keypoint_kind(KindOptions(keypoint_names=spec.keypoints))
    ),
    worker_model="geometry",
    formats={
        "coco": coco_format(
            CocoCodec(annotations=_coco, category_fields=_category_fields, task="person_keypoints")
        ),
        "yolo": yolo_format(YoloCodec(line=_yolo_line, yaml_lines=_yaml_lines)),
        "cvat": cvat_format(SHAPES),
        "datumaro": datumaro_format(SHAPES),
        "labelstudio": labelstudio_format(SHAPES),
    },
    shapes=SHAPES,
    tool="keypoints",
    example_spec={
        "type": "keypoints",
        "keypoints": ["left_eye", "right_eye"],
        "skeleton": [[0, 1]],
    },
    example_answers=(
        {"objects": [{"label": "object", "points": [[30, 30, 2], [50, 50, 2]]}]},
        {"objects": [{"label": "object", "points": [[31, 30, 2], [50, 51, 2]]}]},
        {"objects": [{"label": "object", "points": [[80, 60, 2], [95, 75, 1]]}]},
    ),
)
