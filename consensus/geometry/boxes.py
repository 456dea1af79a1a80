"""Bounding boxes: match workers' boxes into objects, fuse with a weighted median, keep by quorum.

The mean box gets *worse* with more workers on real data (one gross error drags every edge), so
each edge is a reliability-weighted median. An object survives only if workers holding at least
``quorum`` of the task's weight drew it: without that, WBF and NMS keep every spam box.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from consensus.geometry import _scalar
from consensus.geometry._common import Agreement, FloatArray, Member, weighted_median
from consensus.geometry._objects import (
    FusedObject,
    ObjectAggregator,
    object_agreement,
    object_probabilities,
)

IOU_THRESHOLD = 0.5
AGREEMENT_THRESHOLD = 0.7  # F1 over objects at IoU 0.5


@dataclass(frozen=True)
class Boxes:
    """One answer: boxes as an (n, 4) array of ``[x, y, w, h]`` pixels and their labels."""

    xywh: FloatArray
    labels: tuple[str, ...]

    @classmethod
    def from_answer(cls, answer: Mapping[str, Any]) -> Boxes:
        """Parse the API shape ``{"objects": [{"label", "box": [x, y, w, h]}]}``."""
        objects = answer.get("objects")
        if not isinstance(objects, list):
            raise ValueError("bbox answer needs an 'objects' list")
        rows, labels = [], []
        for k, obj in enumerate(objects):
            box = obj.get("box") if isinstance(obj, Mapping) else None
            if not isinstance(box, list | tuple) or len(box) != 4:
                raise ValueError(f"object {k}: 'box' must be [x, y, w, h]")
            rows.append([float(v) for v in box])
            labels.append(str(obj.get("label", "")))
        arr = np.asarray(rows, dtype=np.float64).reshape(-1, 4)
        if not np.isfinite(arr).all() or (arr[:, 2:] < 0).any():
            raise ValueError("box coordinates must be finite with non-negative w, h")
        return cls(arr, tuple(labels))

    def to_answer(self) -> dict[str, Any]:
        return {
            "objects": [
                {"label": lab, "box": [round(float(v), 2) for v in row]}
                for lab, row in zip(self.labels, self.xywh, strict=True)
            ]
        }

    def __len__(self) -> int:
        return len(self.labels)

    def key(self) -> tuple[Any, ...]:
        """Content key used to order workers deterministically (never by name)."""
        return tuple(
            sorted(zip(map(tuple, np.round(self.xywh, 3).tolist()), self.labels, strict=True))
        )


@dataclass(frozen=True)
class BoxConsensus:
    """Fused boxes with per-object confidence and support (share of weight that drew it)."""

    boxes: Boxes
    object_confidence: FloatArray
    support: FloatArray
    confidence: float
    n_candidates: int


def xywh_to_xyxy(b: FloatArray) -> FloatArray:
    out: FloatArray = np.concatenate([b[:, :2], b[:, :2] + b[:, 2:]], axis=1)
    return out


def iou_matrix(a: FloatArray, b: FloatArray) -> FloatArray:
    """Pairwise IoU of boxes in ``[x, y, w, h]``: (n, m)."""
    if len(a) == 0 or len(b) == 0:
        return np.zeros((len(a), len(b)))
    xa, xb = xywh_to_xyxy(a), xywh_to_xyxy(b)
    lt = np.maximum(xa[:, None, :2], xb[None, :, :2])
    rb = np.minimum(xa[:, None, 2:], xb[None, :, 2:])
    inter = np.prod(np.clip(rb - lt, 0.0, None), axis=2)
    union = (a[:, 2] * a[:, 3])[:, None] + (b[:, 2] * b[:, 3])[None, :] - inter
    out: FloatArray = np.where(union > 0, inter / np.where(union > 0, union, 1.0), 0.0)
    return out


def _iou(a: _scalar.Row, b: tuple[float, float, float, float, float]) -> float:
    """IoU of item ``a`` (x, y, w, h, x1, y1) and reference ``b`` (x0, y0, x1, y1, area), with
    the operations of :func:`iou_matrix` in its order."""
    iw = min(a[4], b[2]) - max(a[0], b[0])
    ih = min(a[5], b[3]) - max(a[1], b[1])
    inter = (iw if iw > 0.0 else 0.0) * (ih if ih > 0.0 else 0.0)
    union = a[2] * a[3] + b[4] - inter
    return inter / union if union > 0 else 0.0


class BoxAggregator(ObjectAggregator[Boxes, FloatArray, FloatArray, BoxConsensus]):
    """Consensus boxes of one image: IoU matching, weighted-median edges, weight quorum.

    Args:
        iou_threshold: boxes of two workers are the same object at IoU >= this.
        quorum: keep an object drawn by workers holding at least this share of the weight.

    Fitted attributes (besides :class:`~consensus.geometry._objects.ObjectAggregator`'s):
        boxes_: the consensus ``Boxes``; ``consensus_`` is the full ``BoxConsensus``.

    Examples:
        >>> a = Boxes(np.array([[10., 10, 50, 50]]), ("car",))
        >>> b = Boxes(np.array([[12., 10, 50, 48]]), ("car",))
        >>> BoxAggregator().fit([a, b, a]).boxes_.xywh.tolist()
        [[10.0, 10.0, 50.0, 50.0]]
    """

    boxes_: Boxes

    def __init__(self, iou_threshold: float = IOU_THRESHOLD, quorum: float = 0.5) -> None:
        self.iou_threshold = iou_threshold
        self.quorum = quorum

    def _match_threshold(self) -> float:
        return self.iou_threshold

    def _prepare(self, answers: Sequence[Boxes]) -> None:
        self._xyxy = [xywh_to_xyxy(a.xywh) for a in answers]

    def _seed(
        self, answers: Sequence[Boxes], members: list[Member], weights: FloatArray
    ) -> FloatArray:
        """Edge-wise weighted median, as ``[x0, y0, x1, y1]``."""
        return weighted_median(np.stack([self._xyxy[k][i] for k, i in members]), weights)

    def _similarity(self, answer: Boxes, seeds: list[FloatArray]) -> FloatArray:
        if not seeds:
            return np.zeros((len(answer), 0))
        r = np.stack(seeds)
        return iou_matrix(answer.xywh, np.concatenate([r[:, :2], r[:, 2:] - r[:, :2]], axis=1))

    def _fuse(
        self, answers: Sequence[Boxes], members: list[Member], weights: FloatArray
    ) -> FloatArray:
        box = self._seed(answers, members, weights)
        out: FloatArray = np.r_[box[:2], box[2:] - box[:2]]
        return out

    def _position(self, geometry: FloatArray) -> tuple[float, float]:
        return float(geometry[1]), float(geometry[0])

    # The scalar path: an item is (x, y, w, h, x + w, y + h), a seed [x0, y0, x1, y1].
    def _scalar_prepare(self, answers: Sequence[Boxes]) -> None:
        pass  # the items carry their corners

    def _scalar_items(self, answer: Boxes) -> list[_scalar.Row] | None:
        rows = answer.xywh.tolist()
        if not _scalar.all_finite(rows):
            return None
        return [(x, y, w, h, x + w, y + h) for x, y, w, h in rows]

    def _scalar_key(self, answer: Boxes, items: list[_scalar.Row]) -> tuple[Any, ...]:
        r = _scalar.round_like_numpy
        return tuple(
            sorted(
                zip(
                    [(r(b[0], 3), r(b[1], 3), r(b[2], 3), r(b[3], 3)) for b in items],
                    answer.labels,
                    strict=True,
                )
            )
        )

    def _scalar_seed(self, rows: list[_scalar.Row], weights: list[float]) -> list[float]:
        return _scalar.weighted_median([(b[0], b[1], b[4], b[5]) for b in rows], weights)

    def _scalar_similarity(
        self, items: list[_scalar.Row], seeds: list[list[float]]
    ) -> _scalar.Matrix:
        # As _similarity: the seed goes to [x, y, w, h] and back, for the same roundings.
        ref = []
        for x0, y0, x1, y1 in seeds:
            w, h = x1 - x0, y1 - y0
            ref.append((x0, y0, x0 + w, y0 + h, w * h))
        return [[_iou(a, b) for b in ref] for a in items]

    def _scalar_fuse(self, rows: list[_scalar.Row], weights: list[float]) -> FloatArray:
        x0, y0, x1, y1 = self._scalar_seed(rows, weights)
        return np.array([x0, y0, x1 - x0, y1 - y0])

    def _result(
        self, objects: list[FusedObject[FloatArray]], confidence: float, n_candidates: int
    ) -> BoxConsensus:
        self.boxes_ = Boxes(
            np.asarray([o.geometry for o in objects], dtype=np.float64).reshape(-1, 4),
            tuple(o.label for o in objects),
        )
        object_confidence, support = object_probabilities(objects)
        return BoxConsensus(self.boxes_, object_confidence, support, confidence, n_candidates)

    def agreement(self, answer: Boxes, *, threshold: float = AGREEMENT_THRESHOLD) -> Agreement:
        """How one answer agrees with the fitted consensus (:func:`box_agreement`)."""
        self._check_fitted()
        return box_agreement(
            answer, self.boxes_, iou_threshold=self.iou_threshold, threshold=threshold
        )


def aggregate_boxes(
    answers: Sequence[Boxes],
    weights: Sequence[float] | FloatArray | None = None,
    *,
    presence_weights: Sequence[float] | FloatArray | None = None,
    iou_threshold: float = IOU_THRESHOLD,
    quorum: float = 0.5,
) -> BoxConsensus:
    """Consensus boxes of one image from several workers' answers (:class:`BoxAggregator`).

    Args:
        answers: one ``Boxes`` per worker (an empty one means "nothing to box here").
        weights: each worker's localisation weight in [0, 1] (``GeometrySkills.weights``); it
            weights the coordinate median and the label vote.
        presence_weights: each worker's detection weight (``GeometrySkills.presence_weights``);
            it decides the quorum and the confidence. Defaults to ``weights``.
        iou_threshold: boxes of two workers are the same object at IoU >= this.
        quorum: keep an object drawn by workers holding at least this share of the weight.

    Returns:
        ``BoxConsensus``; ``confidence`` is the probability that every kept object is real and
        every dropped one is not, under a one-coin model of the workers (what dynamic overlap
        acts on).

    Examples:
        >>> a = Boxes(np.array([[10., 10, 50, 50]]), ("car",))
        >>> b = Boxes(np.array([[12., 10, 50, 48]]), ("car",))
        >>> aggregate_boxes([a, b, a]).boxes.xywh.tolist()
        [[10.0, 10.0, 50.0, 50.0]]
    """
    est = BoxAggregator(iou_threshold, quorum)
    return est.fit(answers, weights, presence_weights=presence_weights).consensus_


def box_agreement(
    answer: Boxes,
    consensus: Boxes,
    *,
    iou_threshold: float = IOU_THRESHOLD,
    threshold: float = AGREEMENT_THRESHOLD,
) -> Agreement:
    """F1 of ``answer`` against ``consensus`` at IoU ``iou_threshold`` (labels must agree).

    ``quality`` is the IoU-weighted F1 (sum of matched IoUs over the mean object count), so a
    worker whose boxes are all matched but loose scores below a tight one.
    """
    iou: FloatArray | _scalar.Matrix
    rows_a, rows_c = answer.xywh.tolist(), consensus.xywh.tolist()
    if (
        max(len(rows_a), len(rows_c)) <= _scalar.SCALAR_MAX_AGREEMENT_ITEMS
        and _scalar.all_finite(rows_a)
        and _scalar.all_finite(rows_c)
    ):
        ref = [(x, y, x + w, y + h, w * h) for x, y, w, h in rows_c]
        iou = [[_iou((x, y, w, h, x + w, y + h), b) for b in ref] for x, y, w, h in rows_a]
    else:
        iou = iou_matrix(answer.xywh, consensus.xywh)
    return object_agreement(
        iou, answer.labels, consensus.labels, "box", "IoU", iou_threshold, threshold
    )
