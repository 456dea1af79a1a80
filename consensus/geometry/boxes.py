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

from consensus.geometry._common import (
    Agreement,
    FloatArray,
    Kept,
    Member,
    as_weights,
    cluster_items,
    hungarian,
    label_probability,
    quorum_filter,
    weighted_label,
    weighted_median,
    worker_order,
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


def aggregate_boxes(
    answers: Sequence[Boxes],
    weights: Sequence[float] | FloatArray | None = None,
    *,
    presence_weights: Sequence[float] | FloatArray | None = None,
    iou_threshold: float = IOU_THRESHOLD,
    quorum: float = 0.5,
) -> BoxConsensus:
    """Consensus boxes of one image from several workers' answers.

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
    w_all = as_weights(weights, len(answers))
    p_all = as_weights(presence_weights, len(answers)) if presence_weights is not None else w_all
    order = worker_order([a.key() for a in answers], w_all)
    ans = [answers[i] for i in order]
    w = w_all[order]
    xyxy = [xywh_to_xyxy(a.xywh) for a in ans]

    def fuse(members: list[Member]) -> FloatArray:
        vals = np.stack([xyxy[k][i] for k, i in members])
        return weighted_median(vals, as_weights(w[[k for k, _ in members]], len(members)))

    def similarity(k: int, reps: list[FloatArray]) -> FloatArray:
        if not reps:
            return np.zeros((len(ans[k]), 0))
        r = np.stack(reps)
        return iou_matrix(ans[k].xywh, np.concatenate([r[:, :2], r[:, 2:] - r[:, :2]], axis=1))

    clusters = cluster_items([len(a) for a in ans], similarity, fuse, iou_threshold)
    pres = p_all[order]
    kept, confidence = quorum_filter(clusters, pres, quorum)
    rows = []
    for obj in kept:
        box = fuse(obj.members)
        mw = as_weights(w[[k for k, _ in obj.members]], len(obj.members))
        votes = [ans[k].labels[i] for k, i in obj.members]
        label, _ = weighted_label(votes, mw)
        p_label = label_probability(votes, label, pres[[k for k, _ in obj.members]])
        obj = Kept(obj.members, obj.probability * p_label, obj.support)
        confidence *= p_label
        rows.append((box[1], box[0], label, np.r_[box[:2], box[2:] - box[:2]], obj))
    rows.sort(key=lambda r: (r[0], r[1], r[2]))
    return BoxConsensus(
        boxes=Boxes(
            np.asarray([r[3] for r in rows], dtype=np.float64).reshape(-1, 4),
            tuple(r[2] for r in rows),
        ),
        object_confidence=np.asarray([r[4].probability for r in rows], dtype=np.float64),
        support=np.asarray([r[4].support for r in rows], dtype=np.float64),
        confidence=confidence,
        n_candidates=len(clusters),
    )


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
    iou = iou_matrix(answer.xywh, consensus.xywh)
    return _object_agreement(
        iou, answer.labels, consensus.labels, "box", "IoU", iou_threshold, threshold
    )


def _object_agreement(
    sim: FloatArray,
    labels_a: Sequence[str],
    labels_c: Sequence[str],
    noun: str,
    metric: str,
    match_threshold: float,
    threshold: float,
) -> Agreement:
    """Shared F1-over-objects agreement for boxes, polygons and keypoint instances."""
    n_a, n_c = sim.shape
    if n_a == 0 and n_c == 0:
        return Agreement(1.0, threshold, 1.0, "", {"matched": 0.0})
    pairs = hungarian(sim, match_threshold)
    good = [(i, j) for i, j in pairs if labels_a[i] == labels_c[j]]
    f1 = 2.0 * len(good) / (n_a + n_c)
    quality = 2.0 * sum(float(sim[i, j]) for i, j in good) / (n_a + n_c)
    reasons: list[str] = []
    matched_a = {i for i, _ in pairs}
    matched_c = {j for _, j in pairs}
    for i, j in pairs:
        if labels_a[i] != labels_c[j]:
            reasons.append(
                f"{noun} {i} labelled '{labels_a[i]}' but consensus says '{labels_c[j]}'"
            )
    for i in range(n_a):
        if i not in matched_a:
            best = float(sim[i].max()) if n_c else 0.0
            reasons.append(
                f"{noun} {i} matched no consensus object (best {metric} {best:.2f} < {match_threshold:g})"
            )
    missed = [j for j in range(n_c) if j not in matched_c]
    if missed:
        reasons.append(
            f"missed {len(missed)} of {n_c} consensus objects ({', '.join(labels_c[j] for j in missed[:3])})"
        )
    mean_sim = float(np.mean([sim[i, j] for i, j in good])) if good else 0.0
    reason = "; ".join(reasons[:4]) if f1 < threshold or reasons else ""
    if f1 < threshold:
        reason = f"F1 {f1:.2f} < {threshold:g}: " + reason
    return Agreement(
        f1,
        threshold,
        quality,
        reason,
        {"matched": float(len(good)), f"mean_{metric.lower()}": mean_sim},
    )
