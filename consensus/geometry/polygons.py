"""Polygons / instance segmentation: match instances by mask IoU, fuse the outlines in vector space.

Each polygon is rasterised once into a crop; instances are matched across workers by mask IoU
(Hungarian, at most one per worker per object; the matching passes fuse their seeds by a cheap
per-pixel vote) and kept by the same weight quorum as boxes. A kept object's outline is the
robust weighted mean of its workers' signed distance fields (``consensus.geometry.contours``):
subpixel vertices, no staircase, simplified at the workers' own disagreement, and identical
outlines come back unchanged. Its mask crop is that outline rasterised.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import ndimage

from consensus.geometry._common import (
    Agreement,
    FloatArray,
    Kept,
    Member,
    as_weights,
    cluster_items,
    label_probability,
    quorum_filter,
    weighted_label,
    worker_order,
)
from consensus.geometry.boxes import _object_agreement
from consensus.geometry.contours import fuse_outlines
from consensus.geometry.raster import MaskCrop, crop_iou, paste, rasterize_polygon

IOU_THRESHOLD = 0.5
AGREEMENT_THRESHOLD = 0.7


@dataclass(frozen=True)
class Polygons:
    """One answer: polygons (each an (n, 2) array of ``[x, y]``), labels, and their rasters."""

    points: tuple[FloatArray, ...]
    labels: tuple[str, ...]
    masks: tuple[MaskCrop, ...]

    @classmethod
    def from_points(
        cls,
        points: Sequence[FloatArray | Sequence[Sequence[float]]],
        labels: Sequence[str],
        image_size: tuple[int, int] | None = None,
    ) -> Polygons:
        pts = tuple(np.asarray(p, dtype=np.float64).reshape(-1, 2) for p in points)
        masks = tuple(rasterize_polygon(p, image_size) for p in pts)
        return cls(pts, tuple(labels), masks)

    @classmethod
    def from_answer(
        cls, answer: Mapping[str, Any], image_size: tuple[int, int] | None = None
    ) -> Polygons:
        """Parse the API shape ``{"objects": [{"label", "points": [[x, y], ...]}]}``."""
        objects = answer.get("objects")
        if not isinstance(objects, list):
            raise ValueError("polygon answer needs an 'objects' list")
        pts, labels = [], []
        for k, obj in enumerate(objects):
            p = obj.get("points") if isinstance(obj, Mapping) else None
            arr = np.asarray(p if isinstance(p, list) else [], dtype=np.float64)
            if arr.ndim != 2 or arr.shape[1] != 2 or len(arr) < 3 or not np.isfinite(arr).all():
                raise ValueError(f"object {k}: 'points' must be at least 3 [x, y] pairs")
            pts.append(arr)
            labels.append(str(obj.get("label", "")))
        return cls.from_points(pts, labels, image_size)

    def to_answer(self) -> dict[str, Any]:
        return {
            "objects": [
                {"label": lab, "points": [[round(float(x), 6), round(float(y), 6)] for x, y in p]}
                for lab, p in zip(self.labels, self.points, strict=True)
            ]
        }

    def __len__(self) -> int:
        return len(self.labels)

    def key(self) -> tuple[Any, ...]:
        return tuple(
            sorted(
                (tuple(np.round(p, 2).ravel().tolist()), lab)
                for p, lab in zip(self.points, self.labels, strict=True)
            )
        )


@dataclass(frozen=True)
class PolygonConsensus:
    polygons: Polygons
    object_confidence: FloatArray
    support: FloatArray
    confidence: float
    n_candidates: int


def mask_iou_matrix(a: Sequence[MaskCrop], b: Sequence[MaskCrop]) -> FloatArray:
    out = np.zeros((len(a), len(b)))
    for i, ma in enumerate(a):
        for j, mb in enumerate(b):
            out[i, j] = crop_iou(ma, mb)
    return out


def fuse_masks(crops: Sequence[MaskCrop], weights: FloatArray) -> MaskCrop:
    """Per-pixel weighted vote; exact ties go to the 3x3 neighbourhood's vote.

    With two workers the tie band is their disagreement ring; the neighbourhood vote puts each
    tied pixel on the side its surroundings favour instead of always taking union or intersection.
    """
    stack, y0, x0 = paste(list(crops))
    w = as_weights(weights, len(crops))
    frac = np.tensordot(w / w.sum(), stack.astype(np.float64), axes=1)
    tie = np.abs(frac - 0.5) < 1e-9
    fused = frac > 0.5 + 1e-9
    if tie.any():
        fused |= tie & (ndimage.uniform_filter(frac, size=3, mode="constant") > 0.5 + 1e-9)
    return MaskCrop(fused, y0, x0)


def aggregate_polygons(
    answers: Sequence[Polygons],
    weights: Sequence[float] | FloatArray | None = None,
    *,
    presence_weights: Sequence[float] | FloatArray | None = None,
    iou_threshold: float = IOU_THRESHOLD,
    quorum: float = 0.5,
) -> PolygonConsensus:
    """Consensus instances of one image (see module docstring).

    Args:
        answers: one ``Polygons`` per worker.
        weights: worker localisation weights in [0, 1] (the pixel vote, the label vote).
        presence_weights: worker detection weights (quorum, confidence); default ``weights``.
        iou_threshold: two instances are the same object at mask IoU >= this.
        quorum: share of the task's weight that must have drawn an object to keep it.
    """
    w_all = as_weights(weights, len(answers))
    p_all = as_weights(presence_weights, len(answers)) if presence_weights is not None else w_all
    order = worker_order([a.key() for a in answers], w_all)
    ans = [answers[i] for i in order]
    w = w_all[order]

    def fuse(members: list[Member]) -> MaskCrop:
        if len(members) == 1:
            return ans[members[0][0]].masks[members[0][1]]
        return fuse_masks([ans[k].masks[i] for k, i in members], w[[k for k, _ in members]])

    def similarity(k: int, reps: list[MaskCrop]) -> FloatArray:
        return mask_iou_matrix(ans[k].masks, reps)

    clusters = cluster_items([len(a) for a in ans], similarity, fuse, iou_threshold)
    pres = p_all[order]
    clusters = _merge_fragments(clusters, pres, quorum, fuse)
    kept_objs, confidence = quorum_filter(clusters, pres, quorum)
    kept: list[tuple[FloatArray, str, MaskCrop, Kept]] = []
    for obj in kept_objs:
        mw = as_weights(w[[k for k, _ in obj.members]], len(obj.members))
        poly = fuse_outlines([ans[k].points[i] for k, i in obj.members], mw).points
        if len(poly) < 3:
            continue  # the fused outline holds nothing: no polygon to give
        crop = rasterize_polygon(poly)
        votes = [ans[k].labels[i] for k, i in obj.members]
        label, _ = weighted_label(votes, mw)
        p_label = label_probability(votes, label, pres[[k for k, _ in obj.members]])
        obj = Kept(obj.members, obj.probability * p_label, obj.support)
        confidence *= p_label
        kept.append((poly, label, crop, obj))
    kept.sort(key=lambda t: (t[2].y0, t[2].x0, t[1]))
    return PolygonConsensus(
        polygons=Polygons(
            tuple(t[0] for t in kept), tuple(t[1] for t in kept), tuple(t[2] for t in kept)
        ),
        object_confidence=np.asarray([t[3].probability for t in kept], dtype=np.float64),
        support=np.asarray([t[3].support for t in kept], dtype=np.float64),
        confidence=confidence,
        n_candidates=len(clusters),
    )


MERGE_IOU = 0.3


def _merge_fragments(
    clusters: list[list[Member]],
    presence: FloatArray,
    quorum: float,
    fuse: Callable[[list[Member]], MaskCrop],
) -> list[list[Member]]:
    """Join object fragments that no quorum would keep on their own.

    A small object traced by five careful workers can fall apart at IoU 0.5 (a pixel of
    boundary error is a large share of its area) into clusters none of which holds the quorum,
    and the object would be lost. Two clusters drawn by disjoint workers whose fused masks
    overlap at IoU >= ``MERGE_IOU``, one of them short of the quorum, are the same object.
    """
    total = float(presence.sum()) or 1.0

    def short(c: list[Member]) -> bool:
        return float(presence[[k for k, _ in c]].sum()) / total < quorum - 1e-9

    clusters = [list(c) for c in clusters]
    while True:
        masks = [fuse(c) for c in clusters]
        best, pair = MERGE_IOU, None
        for i in range(len(clusters)):
            wi = {k for k, _ in clusters[i]}
            for j in range(i + 1, len(clusters)):
                if not (short(clusters[i]) or short(clusters[j])):
                    continue
                if wi & {k for k, _ in clusters[j]}:
                    continue
                iou = crop_iou(masks[i], masks[j])
                if iou >= best:
                    best, pair = iou, (i, j)
        if pair is None:
            return clusters
        i, j = pair
        clusters[i] = sorted(clusters[i] + clusters[j])
        del clusters[j]


def polygon_agreement(
    answer: Polygons,
    consensus: Polygons,
    *,
    iou_threshold: float = IOU_THRESHOLD,
    threshold: float = AGREEMENT_THRESHOLD,
) -> Agreement:
    """F1 over instances at mask IoU ``iou_threshold``; ``quality`` is IoU-weighted F1."""
    iou = mask_iou_matrix(answer.masks, consensus.masks)
    return _object_agreement(
        iou, answer.labels, consensus.labels, "polygon", "IoU", iou_threshold, threshold
    )
