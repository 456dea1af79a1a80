"""Readers for the pieces of an answer: objects, lists, labels, numbers, coordinates.

Answers arrive as parsed JSON of any shape, so every reader checks the type before using a
value and reports a problem to the ``ErrorList`` instead of raising; it returns ``None`` when the
value is unusable, and the caller skips whatever depended on it.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from app.annotations.errors import ErrorList, Loc
from app.annotations.limits import COORD_TOLERANCE

if TYPE_CHECKING:
    from app.annotations.spec import AnnotationSpec

ANSWER: Loc = ["answer"]


@dataclass(frozen=True)
class Context:
    """What every reader needs: the spec, the image size and where to put errors."""

    spec: AnnotationSpec
    width: int
    height: int
    errors: ErrorList

    @property
    def labels(self) -> frozenset[str]:
        return frozenset(self.spec.labels)


def type_name(value: object) -> str:
    """The JSON name of a value's type, for messages ("got a string")."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list | tuple):
        return "an array"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


def read_object(
    value: object, loc: Loc, errors: ErrorList, *, required: Sequence[str]
) -> dict[str, Any] | None:
    """Check ``value`` is an object with exactly the ``required`` keys; unknown keys are errors.

    Returns the object when every required key is present (even if unknown ones were reported).
    """
    if not isinstance(value, dict):
        errors.add(loc, f"expected an object, got {type_name(value)}")
        return None
    complete = True
    for key in required:
        if key not in value:
            errors.add([*loc, key], "field required")
            complete = False
    for key in value:
        if key not in required:
            # str() because a Python caller may use non-string keys; loc must stay JSON.
            errors.add([*loc, key if isinstance(key, str) else str(key)], "unknown field")
    # Unknown keys are reported but do not stop the walk, so one response lists every problem.
    return value if complete else None


def read_list(
    value: object,
    loc: Loc,
    errors: ErrorList,
    *,
    what: str,
    min_len: int = 0,
    max_len: int,
) -> Sequence[Any] | None:
    """Check ``value`` is an array of ``min_len..max_len`` items (tuples allowed for callers)."""
    if not isinstance(value, list | tuple):
        errors.add(loc, f"expected an array of {what}, got {type_name(value)}")
        return None
    if min_len == max_len != len(value):
        errors.add(loc, f"expected exactly {min_len} {what}, got {len(value)}")
        return None
    if len(value) < min_len:
        errors.add(loc, f"expected at least {min_len} {what}, got {len(value)}")
        return None
    if len(value) > max_len:
        errors.add(loc, f"expected at most {max_len} {what}, got {len(value)}")
        return None
    return value


def read_label(value: object, loc: Loc, errors: ErrorList, labels: Collection[str]) -> str | None:
    """Check ``value`` is exactly one of the project's labels (no case folding, no stripping)."""
    if not isinstance(value, str):
        errors.add(loc, f"expected a label (a string), got {type_name(value)}")
        return None
    if value not in labels:
        errors.add(loc, f"unknown label {_short(value)!r}; not one of the project's labels")
        return None
    return value


def read_number(value: object, loc: Loc, errors: ErrorList) -> float | None:
    """Check ``value`` is a finite JSON number (booleans are not numbers) and return it as float."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        errors.add(loc, f"expected a number, got {type_name(value)}")
        return None
    try:
        number = float(value)
    except OverflowError:  # an int beyond float range, e.g. 10**400
        number = math.inf
    if not math.isfinite(number):
        errors.add(loc, "expected a finite number")
        return None
    return number


def read_coordinate(value: object, loc: Loc, errors: ErrorList, *, limit: int) -> float | None:
    """Read an x (``limit`` = width) or y (``limit`` = height) that must lie within the image.

    Values up to ``COORD_TOLERANCE`` outside are accepted and clamped, since clients that scale
    display coordinates back to pixels land a hair outside on the edges.
    """
    number = read_number(value, loc, errors)
    if number is None:
        return None
    if not -COORD_TOLERANCE <= number <= limit + COORD_TOLERANCE:
        errors.add(loc, f"{number:g} is outside the image (0..{limit})")
        return None
    return clamp(number, limit)


def read_point(ctx: Context, value: object, loc: Loc) -> tuple[float, float] | None:
    """Read an ``[x, y]`` pair inside the image (clamped within ``COORD_TOLERANCE``)."""
    errors = ctx.errors
    pair = read_list(value, loc, errors, what="numbers [x, y]", min_len=2, max_len=2)
    if pair is None:
        return None
    x = read_coordinate(pair[0], [*loc, 0], errors, limit=ctx.width)
    y = read_coordinate(pair[1], [*loc, 1], errors, limit=ctx.height)
    if x is None or y is None:
        return None
    return (x, y)


def read_objects(
    ctx: Context,
    answer: object,
    *,
    geometry: str,
    read_geometry: Callable[[object, Loc], Any],
    max_objects: int,
) -> dict[str, Any]:
    """Read ``{"objects": [{"label": ..., <geometry>: ...}, ...]}``, the shape of every answer
    made of labelled objects; ``read_geometry(value, loc)`` checks one object's geometry.

    An empty list is a valid answer: the worker saw nothing to annotate.
    """
    body = read_object(answer, ANSWER, ctx.errors, required=("objects",))
    if body is None:
        return {}
    loc: Loc = [*ANSWER, "objects"]
    items = read_list(body["objects"], loc, ctx.errors, what="objects", max_len=max_objects)
    if items is None:
        return {}
    labels = ctx.labels
    objects = []
    for index, item in enumerate(items):
        item_loc: Loc = [*loc, index]
        fields = read_object(item, item_loc, ctx.errors, required=("label", geometry))
        if fields is None:
            continue
        label = read_label(fields["label"], [*item_loc, "label"], ctx.errors, labels)
        shape = read_geometry(fields[geometry], [*item_loc, geometry])
        if label is not None and shape is not None:
            objects.append({"label": label, geometry: shape})
    return {"objects": objects}


def clamp(number: float, limit: float) -> float:
    """``number`` moved into ``0..limit``."""
    return min(max(number, 0.0), float(limit))


def _short(text: str, size: int = 50) -> str:
    return text if len(text) <= size else text[:size] + "…"
