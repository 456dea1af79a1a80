"""Labelled points (counting objects): match within a distance gate, fuse by weighted median.

Each worker clicks once per object. Clicks of different workers are the same object when they
lie within ``radius`` pixels of each other (one-to-one, Hungarian on closeness ``1 - d/radius``);
the object's position is the reliability-weighted median of its clicks and its label the
weighted vote; it survives only if workers holding at least ``quorum`` of the presence weight
clicked it, as for boxes. Agreement is the F1 over points matched within the gate with the same
label, so a worker who misses or adds objects (a miscount) is rejected with the count in words.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from consensus.geometry import _scalar
from consensus.geometry._common import Agreement, FloatArray, Member, hungarian, weighted_median
from consensus.geometry._objects import FusedObject, ObjectAggregator, object_probabilities

__all__ = [
    "AGREEMENT_THRESHOLD",
    "PointAggregator",
    "PointConsensus",
    "Points",
    "aggregate_points",
    "closeness",
    "match_radius",
    "point_agreement",
]

RADIUS_FRACTION = 0.02
"""The gate is this share of the image diagonal: two clicks on one small object land a few
pixels apart, two neighbouring objects rarely closer than 2% of the picture."""
MIN_RADIUS = 4.0
DEFAULT_RADIUS = 10.0
"""Gate in pixels when the image size is unknown (the CLI without sizes)."""
AGREEMENT_THRESHOLD = 0.7
_IN_GATE = 1e-9  # closeness > 0 means "closer than the radius"


def match_radius(image_size: tuple[int, int] | None) -> float:
    """The distance gate in pixels for a ``(height, width)`` image."""
    if image_size is None:
        return DEFAULT_RADIUS
    height, width = image_size
    return max(MIN_RADIUS, RADIUS_FRACTION * float(np.hypot(height, width)))


@dataclass(frozen=True)
class Points:
    """One answer: an (n, 2) array of ``[x, y]`` pixels and their labels."""

    xy: FloatArray
    labels: tuple[str, ...]

    @classmethod
    def from_answer(cls, answer: Mapping[str, Any]) -> Points:
        """Parse the API shape ``{"objects": [{"label", "point": [x, y]}]}``."""
        objects = answer.get("objects")
        if not isinstance(objects, list):
            raise ValueError("points answer needs an 'objects' list")
        rows, labels = [], []
        for k, obj in enumerate(objects):
            point = obj.get("point") if isinstance(obj, Mapping) else None
            if not isinstance(point, list | tuple) or len(point) != 2:
                raise ValueError(f"object {k}: 'point' must be [x, y]")
            rows.append([float(v) for v in point])
            labels.append(str(obj.get("label", "")))
        arr = np.asarray(rows, dtype=np.float64).reshape(-1, 2)
        if not np.isfinite(arr).all():
            raise ValueError("point coordinates must be finite")
        return cls(arr, tuple(labels))

    def to_answer(self) -> dict[str, Any]:
        return {
            "objects": [
                {"label": lab, "point": [round(float(v), 2) for v in row]}
                for lab, row in zip(self.labels, self.xy, strict=True)
            ]
        }

    def __len__(self) -> int:
        return len(self.labels)

    def key(self) -> tuple[Any, ...]:
        """Content key used to order workers deterministically (never by name)."""
        return tuple(
            sorted(zip(map(tuple, np.round(self.xy, 3).tolist()), self.labels, strict=True))
        )


@dataclass(frozen=True)
class PointConsensus:
    """Fused points with per-object confidence and support (share of weight that clicked it)."""

    points: Points
    object_confidence: FloatArray
    support: FloatArray
    confidence: float
    n_candidates: int


def closeness(a: FloatArray, b: FloatArray, radius: float) -> FloatArray:
    """``1 - distance / radius`` for every pair, 0 at or beyond the gate: (n, m)."""
    if len(a) == 0 or len(b) == 0:
        return np.zeros((len(a), len(b)))
    d = np.hypot(a[:, None, 0] - b[None, :, 0], a[:, None, 1] - b[None, :, 1])
    out: FloatArray = np.clip(1.0 - d / radius, 0.0, 1.0)
    return out


def _closeness_lists(
    a: Sequence[Sequence[float]], b: Sequence[Sequence[float]], radius: float
) -> _scalar.Matrix:
    """:func:`closeness` on lists of (x, y)."""
    out = []
    for ax, ay in a:
        row = []
        for bx, by in b:
            c = 1.0 - math.hypot(ax - bx, ay - by) / radius
            row.append(0.0 if c < 0.0 else 1.0 if c > 1.0 else c)
        out.append(row)
    return out


class PointAggregator(ObjectAggregator[Points, FloatArray, FloatArray, PointConsensus]):
    """Consensus points of one image: distance-gated matching, weighted medians, quorum.

    Args:
        radius: clicks closer than this many pixels may be the same object.
        quorum: keep an object clicked by workers holding at least this share of the weight.

    Fitted attributes (besides :class:`~consensus.geometry._objects.ObjectAggregator`'s):
        points_: the consensus ``Points``; ``consensus_`` is the ``PointConsensus``.

    Examples:
        >>> a = Points(np.array([[10., 10], [50, 50]]), ("cell", "cell"))
        >>> b = Points(np.array([[12., 11]]), ("cell",))
        >>> PointAggregator().fit([a, b, a]).points_.xy.tolist()
        [[10.0, 10.0], [50.0, 50.0]]
    """

    points_: Points

    def __init__(self, radius: float = DEFAULT_RADIUS, quorum: float = 0.5) -> None:
        self.radius = radius
        self.quorum = quorum

    def _match_threshold(self) -> float:
        return _IN_GATE

    def _seed(
        self, answers: Sequence[Points], members: list[Member], weights: FloatArray
    ) -> FloatArray:
        return weighted_median(np.stack([answers[k].xy[i] for k, i in members]), weights)

    def _similarity(self, answer: Points, seeds: list[FloatArray]) -> FloatArray:
        if not seeds:
            return np.zeros((len(answer), 0))
        return closeness(answer.xy, np.stack(seeds), self.radius)

    def _fuse(
        self, answers: Sequence[Points], members: list[Member], weights: FloatArray
    ) -> FloatArray:
        return self._seed(answers, members, weights)

    def _position(self, geometry: FloatArray) -> tuple[float, float]:
        return float(geometry[1]), float(geometry[0])

    # The scalar path: an item is (x, y), a seed [x, y].
    def _scalar_items(self, answer: Points) -> list[_scalar.Row] | None:
        rows = answer.xy.tolist()
        if not self.radius > 0 or not _scalar.all_finite(rows):
            return None  # the numpy path (and its warnings)
        return [(x, y) for x, y in rows]

    def _scalar_key(self, answer: Points, items: list[_scalar.Row]) -> tuple[Any, ...]:
        r = _scalar.round_like_numpy
        return tuple(
            sorted(zip([(r(x, 3), r(y, 3)) for x, y in items], answer.labels, strict=True))
        )

    def _scalar_seed(self, rows: list[_scalar.Row], weights: list[float]) -> list[float]:
        return _scalar.weighted_median(rows, weights)

    def _scalar_similarity(
        self, items: list[_scalar.Row], seeds: list[list[float]]
    ) -> _scalar.Matrix:
        return _closeness_lists(items, seeds, self.radius)

    def _scalar_fuse(self, rows: list[_scalar.Row], weights: list[float]) -> FloatArray:
        return np.array(_scalar.weighted_median(rows, weights))

    def _result(
        self, objects: list[FusedObject[FloatArray]], confidence: float, n_candidates: int
    ) -> PointConsensus:
        self.points_ = Points(
            np.asarray([o.geometry for o in objects], dtype=np.float64).reshape(-1, 2),
            tuple(o.label for o in objects),
        )
        object_confidence, support = object_probabilities(objects)
        return PointConsensus(self.points_, object_confidence, support, confidence, n_candidates)

    def agreement(self, answer: Points, *, threshold: float = AGREEMENT_THRESHOLD) -> Agreement:
        """How one answer agrees with the fitted consensus (:func:`point_agreement`)."""
        self._check_fitted()
        return point_agreement(answer, self.points_, radius=self.radius, threshold=threshold)


def aggregate_points(
    answers: Sequence[Points],
    weights: Sequence[float] | FloatArray | None = None,
    *,
    presence_weights: Sequence[float] | FloatArray | None = None,
    radius: float = DEFAULT_RADIUS,
    quorum: float = 0.5,
) -> PointConsensus:
    """Consensus points of one image from several workers' answers (:class:`PointAggregator`).

    Args:
        answers: one ``Points`` per worker (an empty one means "nothing to count here").
        weights: localisation weights in [0, 1]; they weight the median and the label vote.
        presence_weights: detection weights; they decide the quorum and the confidence.
            Default to ``weights``.
        radius: clicks closer than this many pixels may be the same object.
        quorum: keep an object clicked by workers holding at least this share of the weight.

    Examples:
        >>> a = Points(np.array([[10., 10], [50, 50]]), ("cell", "cell"))
        >>> b = Points(np.array([[12., 11]]), ("cell",))
        >>> aggregate_points([a, b, a]).points.xy.tolist()
        [[10.0, 10.0], [50.0, 50.0]]
    """
    est = PointAggregator(radius, quorum)
    return est.fit(answers, weights, presence_weights=presence_weights).consensus_


def point_agreement(
    answer: Points,
    consensus: Points,
    *,
    radius: float = DEFAULT_RADIUS,
    threshold: float = AGREEMENT_THRESHOLD,
) -> Agreement:
    """F1 of ``answer`` against ``consensus``: points matched within ``radius`` with the same label.

    ``quality`` is the closeness-weighted F1, so a worker who clicks every object but off
    centre scores below one who clicks on target. The reason counts what was missed or added.
    """
    n_a, n_c = len(answer), len(consensus)
    if n_a == 0 and n_c == 0:
        return Agreement(1.0, threshold, 1.0, "", {"matched": 0.0})
    sim: FloatArray | _scalar.Matrix
    rows_a, rows_c = answer.xy.tolist(), consensus.xy.tolist()
    if (
        max(n_a, n_c) <= _scalar.SCALAR_MAX_AGREEMENT_ITEMS
        and radius > 0
        and _scalar.all_finite(rows_a)
        and _scalar.all_finite(rows_c)
    ):
        sim = _closeness_lists(rows_a, rows_c, radius)
        pairs = _scalar.hungarian(sim, _IN_GATE)
    else:
        sim = closeness(answer.xy, consensus.xy, radius)
        pairs = hungarian(sim, _IN_GATE)
    good = [(i, j) for i, j in pairs if answer.labels[i] == consensus.labels[j]]
    f1 = 2.0 * len(good) / (n_a + n_c)
    quality = 2.0 * sum(float(sim[i][j]) for i, j in good) / (n_a + n_c)
    reasons = [
        f"point {i} labelled '{answer.labels[i]}' but consensus says '{consensus.labels[j]}'"
        for i, j in pairs
        if answer.labels[i] != consensus.labels[j]
    ]
    extra = n_a - len(pairs)
    if extra:
        reasons.append(f"{extra} point(s) more than {radius:.0f} px from any consensus point")
    matched_c = {j for _, j in pairs}
    missed = [consensus.labels[j] for j in range(n_c) if j not in matched_c]
    if missed:
        reasons.append(f"missed {len(missed)} of {n_c} consensus points ({', '.join(missed[:3])})")
    reason = "; ".join(reasons)
    if f1 < threshold:
        reason = f"counted {n_a}, consensus {n_c}; F1 {f1:.2f} < {threshold:g}: " + reason
    return Agreement(f1, threshold, quality, reason, {"matched": float(len(good))})
