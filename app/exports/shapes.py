"""Shapes: one neutral form of a consensus answer for the formats that hold every kind of
annotation (CVAT for images 1.1, Datumaro, Label Studio). Each type says how its answer reads as
shapes (``ShapeCodec``, in its module under app/annotations/types/); those formats only write
shapes, so adding a type never touches them.

Kinds: ``box`` (``points`` = ``[(x0, y0), (x1, y1)]``, corners in pixels), ``polygon`` (its
points), ``point`` (one point), ``skeleton`` (one point per keypoint name, with ``visibility``
0/1/2 as COCO), ``mask`` (``mask``: a boolean array of the image's size) and ``tag`` (a label for
the whole image).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from app.exports.base import ExportItem

if TYPE_CHECKING:
    from app.annotations import AnnotationSpec

__all__ = ["Shape", "ShapeCodec", "ShapeKind", "rle_string"]

ShapeKind = Literal["box", "polygon", "point", "skeleton", "mask", "tag"]


@dataclass(frozen=True)
class Shape:
    kind: ShapeKind
    label: str
    points: list[tuple[float, float]] = field(default_factory=list)
    visibility: list[int] | None = None
    names: list[str] = field(default_factory=list)
    """A skeleton's keypoint names, one per point."""
    mask: np.ndarray | None = None
    confidence: float | None = None


@dataclass(frozen=True)
class ShapeCodec:
    """How one annotation type's answer reads as shapes."""

    shapes: Callable[[AnnotationSpec, ExportItem], list[Shape]]
    """The shapes of one item with a consensus (in answer order)."""
    kinds: tuple[ShapeKind, ...]
    """The kinds this type gives (declared labels' types in CVAT's meta)."""
    answer: Callable[[AnnotationSpec, list[Shape], tuple[int, int]], dict[str, Any]] | None = None
    """The other way, for imported labels (``app.imports``): the shapes of ``kinds[0]`` found
    for one image of ``(width, height)`` as an answer, validated afterwards like any answer (a
    ``ValueError`` is reported as the image's problem); ``None``: labels are not imported."""


def rle_string(binary: np.ndarray) -> str:
    """COCO's compressed RLE counts of a 2-D boolean mask (``pycocotools.mask.encode``'s
    ``counts``): column-major runs, zeros first, each run after the first two written as the
    difference from the run two before, in 5-bit groups offset by 48 (``rleToString``)."""
    flat = np.asarray(binary, dtype=bool).ravel(order="F")
    if flat.size == 0:
        runs: list[int] = []
    else:
        edges = np.flatnonzero(flat[1:] != flat[:-1]) + 1
        runs = np.diff(np.concatenate(([0], edges, [flat.size]))).tolist()
        if flat[0]:
            runs = [0, *runs]
    out = []
    for index, run in enumerate(runs):
        value = run - runs[index - 2] if index > 2 else run
        more = True
        while more:
            chunk = value & 0x1F
            value >>= 5
            more = not ((value == 0 and not chunk & 0x10) or (value == -1 and chunk & 0x10))
            if more:
                chunk |= 0x20
            out.append(chr(chunk + 48))
    return "".join(out)
