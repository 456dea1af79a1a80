"""Boxes and polygons: geometry that must lie inside the image and enclose a positive area."""

from __future__ import annotations

import re
from typing import Any

import shapely
from shapely.geometry import Polygon

from app.annotations.errors import Loc
from app.annotations.fields import (
    Context,
    clamp,
    read_coordinate,
    read_list,
    read_number,
    read_objects,
)
from app.annotations.limits import (
    COORD_TOLERANCE,
    MAX_OBJECTS,
    MAX_POLYGON_POINTS,
    MAX_TOTAL_POINTS,
)

__all__ = ["validate_bbox", "validate_polygon"]


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
    coords = [_read_point(ctx, point, [*loc, i]) for i, point in enumerate(points)]
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


def _read_point(ctx: Context, value: object, loc: Loc) -> tuple[float, float] | None:
    errors = ctx.errors
    pair = read_list(value, loc, errors, what="numbers [x, y]", min_len=2, max_len=2)
    if pair is None:
        return None
    x = read_coordinate(pair[0], [*loc, 0], errors, limit=ctx.width)
    y = read_coordinate(pair[1], [*loc, 1], errors, limit=ctx.height)
    if x is None or y is None:
        return None
    return (x, y)


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
