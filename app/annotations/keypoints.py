"""Keypoint answers: one COCO ``[x, y, v]`` triple per named keypoint, per object."""

from __future__ import annotations

from typing import Any

from app.annotations.errors import Loc
from app.annotations.fields import (
    Context,
    read_coordinate,
    read_list,
    read_objects,
    type_name,
)
from app.annotations.limits import MAX_OBJECTS

__all__ = ["VISIBILITIES", "validate_keypoints"]

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
