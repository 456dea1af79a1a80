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

from consensus.geometry._common import Agreement, FloatArray, Member, as_weights
from consensus.geometry._objects import (
    FusedObject,
    ObjectAggregator,
    object_agreement,
    object_probabilities,
)
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


PolygonObject = tuple[FloatArray, MaskCrop]  # a fused outline and its raster


class PolygonAggregator(ObjectAggregator[Polygons, PolygonObject, MaskCrop, PolygonConsensus]):
    """Consensus instances of one image (see the module docstring).

    Matching compares mask crops (IoU) against seeds fused by a cheap per-pixel vote; a kept
    object's outline is the robust fusion of its workers' outlines
    (:func:`consensus.geometry.contours.fuse_outlines`), rasterised for its crop.

    Args:
        iou_threshold: two instances are the same object at mask IoU >= this.
        quorum: share of the task's weight that must have drawn an object to keep it.

    Fitted attributes (besides :class:`~consensus.geometry._objects.ObjectAggregator`'s):
        polygons_: the consensus ``Polygons``; ``consensus_`` is the ``PolygonConsensus``.
    """

    polygons_: Polygons

    def __init__(self, iou_threshold: float = IOU_THRESHOLD, quorum: float = 0.5) -> None:
        self.iou_threshold = iou_threshold
        self.quorum = quorum

    def _match_threshold(self) -> float:
        return self.iou_threshold

    def _seed(
        self, answers: Sequence[Polygons], members: list[Member], weights: FloatArray
    ) -> MaskCrop:
        if len(members) == 1:
            return answers[members[0][0]].masks[members[0][1]]
        return fuse_masks([answers[k].masks[i] for k, i in members], weights)

    def _similarity(self, answer: Polygons, seeds: list[MaskCrop]) -> FloatArray:
        return mask_iou_matrix(answer.masks, seeds)

    def _repair(
        self,
        clusters: list[list[Member]],
        presence: FloatArray,
        seed: Callable[[list[Member]], MaskCrop],
    ) -> list[list[Member]]:
        return _merge_fragments(clusters, presence, self.quorum, seed)

    def _fuse(
        self, answers: Sequence[Polygons], members: list[Member], weights: FloatArray
    ) -> PolygonObject | None:
        poly = fuse_outlines([answers[k].points[i] for k, i in members], weights).points
        if len(poly) < 3:
            return None  # the fused outline holds nothing: no polygon to give
        return poly, rasterize_polygon(poly)

    def _position(self, geometry: PolygonObject) -> tuple[float, float]:
        return float(geometry[1].y0), float(geometry[1].x0)

    def _result(
        self, objects: list[FusedObject[PolygonObject]], confidence: float, n_candidates: int
    ) -> PolygonConsensus:
        self.polygons_ = Polygons(
            tuple(o.geometry[0] for o in objects),
            tuple(o.label for o in objects),
            tuple(o.geometry[1] for o in objects),
        )
        object_confidence, support = object_probabilities(objects)
        return PolygonConsensus(
            self.polygons_, object_confidence, support, confidence, n_candidates
        )

    def agreement(self, answer: Polygons, *, threshold: float = AGREEMENT_THRESHOLD) -> Agreement:
        """How one answer agrees with the fitted consensus (:func:`polygon_agreement`)."""
        self._check_fitted()
        return polygon_agreement(
            answer, self.polygons_, iou_threshold=self.iou_threshold, threshold=threshold
        )


def aggregate_polygons(
    answers: Sequence[Polygons],
    weights: Sequence[float] | FloatArray | None = None,
    *,
    presence_weights: Sequence[float] | FloatArray | None = None,
    iou_threshold: float = IOU_THRESHOLD,
    quorum: float = 0.5,
) -> PolygonConsensus:
    """Consensus instances of one image (:class:`PolygonAggregator`).

    Args:
        answers: one ``Polygons`` per worker.
        weights: worker localisation weights in [0, 1] (the outline fusion, the label vote).
        presence_weights: worker detection weights (quorum, confidence); default ``weights``.
        iou_threshold: two instances are the same object at mask IoU >= this.
        quorum: share of the task's weight that must have drawn an object to keep it.
    """
    est = PolygonAggregator(iou_threshold, quorum)
    return est.fit(answers, weights, presence_weights=presence_weights).consensus_


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
    return object_agreement(
        iou, answer.labels, consensus.labels, "polygon", "IoU", iou_threshold, threshold
    )
