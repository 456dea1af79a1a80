"""Keypoints: match instances by OKS, align left/right swaps, fuse by weighted geometric median.

OKS follows COCO: ``exp(-d^2 / (2 s^2 k^2))`` with ``k = 2 sigma`` averaged over the keypoints the
reference labelled; ``s^2`` is the reference instance's area, taken here as the area of the box
around its labelled keypoints (answers carry no segment area).
"""

from __future__ import annotations

import math
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

COCO_KEYPOINTS = (
    "nose", "left_eye", "right_eye", "left_ear", "right_ear", "left_shoulder", "right_shoulder",
    "left_elbow", "right_elbow", "left_wrist", "right_wrist", "left_hip", "right_hip",
    "left_knee", "right_knee", "left_ankle", "right_ankle",
)  # fmt: skip
COCO_SIGMAS = (
    0.026, 0.025, 0.025, 0.035, 0.035, 0.079, 0.079, 0.072, 0.072, 0.062, 0.062,
    0.107, 0.107, 0.087, 0.087, 0.089, 0.089,
)  # fmt: skip
DEFAULT_SIGMA = 0.05
_RECENTRE_RADIUS = 2.5  # in sigmas: keeps ~96% of careful clicks, drops gross ones
_RECENTRE_POWER = 2.0  # weights enter the average squared: variance, not spread
OKS_THRESHOLD = 0.5
AGREEMENT_THRESHOLD = 0.7


def default_sigmas(names: Sequence[str] | None, n_keypoints: int) -> FloatArray:
    """COCO's sigma for every name COCO knows, ``DEFAULT_SIGMA`` for the others."""
    table = dict(zip(COCO_KEYPOINTS, COCO_SIGMAS, strict=True))
    if names is None:
        return np.full(n_keypoints, DEFAULT_SIGMA)
    return np.asarray([table.get(n, DEFAULT_SIGMA) for n in names], dtype=np.float64)


def flip_pairs_from_names(names: Sequence[str] | None) -> list[tuple[int, int]]:
    """Pairs ``(left_x, right_x)`` found by name (``left_``/``right_`` or ``l_``/``r_`` prefixes)."""
    if names is None:
        return []
    index = {n: i for i, n in enumerate(names)}
    pairs = []
    for n, i in index.items():
        for lp, rp in (("left_", "right_"), ("l_", "r_"), ("left", "right")):
            if n.startswith(lp) and n.replace(lp, rp, 1) in index:
                pairs.append((i, index[n.replace(lp, rp, 1)]))
                break
    return pairs


@dataclass(frozen=True)
class Poses:
    """One answer: an (n, K, 3) array of ``[x, y, v]`` per instance and keypoint, and labels."""

    kps: FloatArray
    labels: tuple[str, ...]

    @classmethod
    def from_answer(cls, answer: Mapping[str, Any], n_keypoints: int | None = None) -> Poses:
        """Parse ``{"objects": [{"label", "points": [[x, y, v], ...]}]}``."""
        objects = answer.get("objects")
        if not isinstance(objects, list):
            raise ValueError("keypoints answer needs an 'objects' list")
        rows, labels = [], []
        for k, obj in enumerate(objects):
            p = obj.get("points") if isinstance(obj, Mapping) else None
            arr = np.asarray(p if isinstance(p, list) else [], dtype=np.float64)
            if arr.ndim != 2 or arr.shape[1] != 3 or not np.isfinite(arr).all():
                raise ValueError(f"object {k}: 'points' must be [x, y, v] triples")
            if n_keypoints is not None and len(arr) != n_keypoints:
                raise ValueError(f"object {k}: expected {n_keypoints} keypoints, got {len(arr)}")
            rows.append(arr)
            labels.append(str(obj.get("label", "")))
        if len({len(r) for r in rows}) > 1:
            raise ValueError("every object needs the same number of keypoints")
        if not rows:
            return cls(np.zeros((0, n_keypoints or 0, 3)), ())
        return cls(np.asarray(rows, dtype=np.float64), tuple(labels))

    def to_answer(self) -> dict[str, Any]:
        return {
            "objects": [
                {
                    "label": lab,
                    "points": [
                        [round(float(x), 2), round(float(y), 2), int(v)] for x, y, v in inst
                    ],
                }
                for lab, inst in zip(self.labels, self.kps, strict=True)
            ]
        }

    def __len__(self) -> int:
        return len(self.labels)

    def key(self) -> tuple[Any, ...]:
        return tuple(
            sorted(
                (tuple(np.round(p, 2).ravel().tolist()), lab)
                for p, lab in zip(self.kps, self.labels, strict=True)
            )
        )


@dataclass(frozen=True)
class KeypointConsensus:
    poses: Poses
    object_confidence: FloatArray
    support: FloatArray
    confidence: float
    n_candidates: int


def instance_area(kps: FloatArray) -> FloatArray:
    """Area of the box around each instance's labelled keypoints, (n,), at least 1 px^2."""
    vis = kps[..., 2] > 0
    big = np.where(vis[..., None], kps[..., :2], np.nan)
    with np.errstate(all="ignore"):
        span = np.nanmax(big, axis=1) - np.nanmin(big, axis=1)
    area = np.prod(np.nan_to_num(span, nan=0.0), axis=1)
    out: FloatArray = np.maximum(area, 1.0)
    return out


def oks_matrix(a: FloatArray, ref: FloatArray, sigmas: FloatArray) -> FloatArray:
    """OKS of instances ``a`` (n, K, 3) against references ``ref`` (m, K, 3): (n, m)."""
    if len(a) == 0 or len(ref) == 0:
        return np.zeros((len(a), len(ref)))
    d2 = ((a[:, None, :, :2] - ref[None, :, :, :2]) ** 2).sum(axis=3)
    s2 = instance_area(ref)[None, :, None]
    e = np.exp(-d2 / (2.0 * s2 * (2.0 * sigmas[None, None, :]) ** 2))
    ref_vis = (ref[..., 2] > 0)[None]
    e = np.where(ref_vis & (a[..., 2] > 0)[:, None], e, 0.0)
    n_ref = ref_vis.sum(axis=2)
    out: FloatArray = np.where(n_ref > 0, e.sum(axis=2) / np.maximum(n_ref, 1), 0.0)
    return out


def flip(kps: FloatArray, pairs: Sequence[tuple[int, int]]) -> FloatArray:
    """Swap the left and right keypoints of every pair (the mirror-labelling error)."""
    perm = np.arange(kps.shape[-2])
    for i, j in pairs:
        perm[i], perm[j] = j, i
    out: FloatArray = kps[..., perm, :]
    return out


def geometric_median(points: FloatArray, weights: FloatArray, n_iter: int = 50) -> FloatArray:
    """Weighted geometric median per keypoint, vectorised over keypoints (Weiszfeld).

    Args:
        points: (m, K, 2); weights: (m, K), zero where a worker did not label the keypoint.
    Starts from the coordinate-wise weighted median so that one far-off click cannot pull the
    start, and guards distances with an epsilon so an iterate sitting on a point stays finite.
    """
    m, k = weights.shape
    start = weighted_median(points.reshape(m, 2 * k), np.repeat(weights, 2, axis=1)).reshape(k, 2)
    y = start
    for _ in range(n_iter):
        diff = points - y[None]
        d = np.sqrt((diff * diff).sum(axis=2))
        inv = weights / np.maximum(d, 1e-6)
        denom = inv.sum(axis=0)
        new = np.where(
            denom[:, None] > 0,
            (inv[..., None] * points).sum(axis=0) / np.maximum(denom, 1e-300)[:, None],
            y,
        )
        if np.abs(new - y).max() < 1e-2:  # a hundredth of a pixel is plenty
            y = new
            break
        y = new
    out: FloatArray = np.asarray(y, dtype=np.float64)
    return out


def fuse_instances(
    insts: FloatArray, weights: FloatArray, pairs: Sequence[tuple[int, int]], sigmas: FloatArray
) -> FloatArray:
    """Fuse one object's instances (m, K, 3): align swaps, then a median per keypoint.

    Instances are aligned to the first (most reliable) one, then the whole set takes the
    orientation most of the weight drew as-is: the anchor itself may be the swapped one.
    """
    insts = insts.copy()
    if pairs:
        plain = oks_matrix(insts, insts[:1], sigmas)[:, 0]
        mirrored = oks_matrix(flip(insts, pairs), insts[:1], sigmas)[:, 0]
        swapped = mirrored > plain + 1e-9
        insts[swapped] = flip(insts[swapped], pairs)
        if weights[swapped].sum() > weights[~swapped].sum():
            insts = flip(insts, pairs)
    return _median_pose(insts, weights, sigmas)


def _median_pose(insts: FloatArray, weights: FloatArray, sigmas: FloatArray) -> FloatArray:
    labelled = insts[..., 2] > 0
    kw = weights[:, None] * labelled
    xy = _recentre(insts[..., :2], kw, geometric_median(insts[..., :2], kw), sigmas)
    on = kw.sum(axis=0) >= 0.5 * weights.sum() - 1e-9
    w2 = (weights[:, None] * (insts[..., 2] == 2)).sum(axis=0)
    w1 = (weights[:, None] * (insts[..., 2] == 1)).sum(axis=0)
    vis = np.where(on, np.where(w2 >= w1, 2.0, 1.0), 0.0)
    return np.concatenate([np.where(on[:, None], xy, 0.0), vis[:, None]], axis=1)


def _recentre(
    points: FloatArray, kw: FloatArray, med: FloatArray, sigmas: FloatArray
) -> FloatArray:
    """One re-centring step: the weighted mean of the clicks within 2.5 sigma of the median.

    The spatial median is robust but keeps only ~79% of the mean's efficiency on Gaussian click
    noise; averaging the clicks near it recovers that while far-off clicks (gross errors)
    still have no say. Weights are squared here because noise variance, not spread, is what
    an average should be weighted by.
    """
    labelled = kw > 0
    if labelled.sum() < 3:
        return med
    span = np.ptp(med[labelled.any(axis=0)], axis=0)
    radius = _RECENTRE_RADIUS * sigmas * np.sqrt(max(float(span[0] * span[1]), 1.0))
    d = np.sqrt(((points - med[None]) ** 2).sum(axis=2))
    near = kw**_RECENTRE_POWER * (d <= radius[None])
    tot = near.sum(axis=0)
    mean = (near[..., None] * points).sum(axis=0) / np.maximum(tot, 1e-12)[:, None]
    out: FloatArray = np.where(tot[:, None] > 0, mean, med)
    return out


class KeypointAggregator(ObjectAggregator[Poses, FloatArray, FloatArray, KeypointConsensus]):
    """Consensus poses of one image: OKS matching (either orientation), swap alignment,
    a robust weighted median per keypoint, weight quorum.

    Args:
        sigmas: per-keypoint sigmas (``default_sigmas(names, K)``); 0.05 each if omitted.
        flip_pairs: (left, right) index pairs to align (``flip_pairs_from_names(names)``).
        oks_threshold: two instances are the same object at OKS >= this (either orientation).
        quorum: share of the task's weight that must have drawn an object to keep it.

    Fitted attributes (besides :class:`~consensus.geometry._objects.ObjectAggregator`'s):
        poses_: the consensus ``Poses``; ``consensus_`` is the ``KeypointConsensus``.
        n_keypoints_: keypoints per instance (K).
    """

    refit_seeds = True
    poses_: Poses
    n_keypoints_: int

    def __init__(
        self,
        sigmas: Sequence[float] | FloatArray | None = None,
        flip_pairs: Sequence[tuple[int, int]] = (),
        oks_threshold: float = OKS_THRESHOLD,
        quorum: float = 0.5,
    ) -> None:
        self.sigmas = sigmas
        self.flip_pairs = flip_pairs
        self.oks_threshold = oks_threshold
        self.quorum = quorum

    def _match_threshold(self) -> float:
        return self.oks_threshold

    def _prepare(self, answers: Sequence[Poses]) -> None:
        sizes = {a.kps.shape[1] for a in answers if len(a)}
        if len(sizes) > 1:
            raise ValueError(f"answers disagree on the number of keypoints: {sorted(sizes)}")
        self.n_keypoints_ = max(sizes or {a.kps.shape[1] for a in answers} or {0})
        self._sig = self._sigmas(self.n_keypoints_)
        self._pairs = list(self.flip_pairs)

    def _sigmas(self, k_pts: int) -> FloatArray:
        sig = self.sigmas if self.sigmas is not None else np.full(k_pts, DEFAULT_SIGMA)
        return np.asarray(sig, dtype=np.float64)

    def _seed(
        self, answers: Sequence[Poses], members: list[Member], weights: FloatArray
    ) -> FloatArray:
        insts = np.stack([answers[k].kps[i] for k, i in members])
        return fuse_instances(insts, weights, self._pairs, self._sig)

    def _similarity(self, answer: Poses, seeds: list[FloatArray]) -> FloatArray:
        if not seeds:
            return np.zeros((len(answer), 0))
        ref = np.stack(seeds)
        sim = oks_matrix(answer.kps, ref, self._sig)
        if not self._pairs:
            return sim
        return np.maximum(sim, oks_matrix(flip(answer.kps, self._pairs), ref, self._sig))

    def _fuse(
        self, answers: Sequence[Poses], members: list[Member], weights: FloatArray
    ) -> FloatArray:
        return self._seed(answers, members, weights)

    def _position(self, geometry: FloatArray) -> tuple[float, float]:
        return _top_left(geometry)

    # The scalar path: an item is a tuple of K (x, y, v), a seed a list of K [x, y, v].
    def _scalar_prepare(self, answers: Sequence[Poses]) -> None:
        self._prepare(answers)
        self._sig_list: list[float] = self._sig.tolist()
        # _similarity's denominators 2 s^2 (2 sigma)^2 without the area: (2 sigma)^2 per keypoint
        self._sig4 = [(2.0 * s) * (2.0 * s) for s in self._sig_list]

    def _scalar_items(self, answer: Poses) -> list[_scalar.Row] | None:
        k_pts = answer.kps.shape[1]
        if k_pts > _scalar.SCALAR_MAX_KEYPOINTS or (
            self.sigmas is not None
            and (
                np.ndim(self.sigmas) != 1
                or len(self.sigmas) != k_pts
                or not min(self.sigmas, default=1.0) > 0
            )
        ):
            return None  # the numpy path (and its errors and warnings)
        insts = answer.kps.tolist()
        if not all(_scalar.all_finite(inst) for inst in insts):
            return None
        return [tuple(map(tuple, inst)) for inst in insts]

    def _scalar_key(self, answer: Poses, items: list[_scalar.Row]) -> tuple[Any, ...]:
        r = _scalar.round_like_numpy
        return tuple(
            sorted(
                (tuple(r(c, 2) for p in inst for c in p), lab)
                for inst, lab in zip(items, answer.labels, strict=True)
            )
        )

    def _scalar_similarity(self, items: list[_scalar.Row], seeds: list[Any]) -> _scalar.Matrix:
        refs = [(ref, _s_area(ref)) for ref in seeds]
        sim = [[_s_oks(a, ref, area, self._sig4) for ref, area in refs] for a in items]
        if not self._pairs:
            return sim
        for row, a in zip(sim, items, strict=True):
            fa = _s_flip(a, self._pairs)
            for j, (ref, area) in enumerate(refs):
                m = _s_oks(fa, ref, area, self._sig4)
                if m > row[j]:  # np.maximum
                    row[j] = m
        return sim

    def _scalar_seed(self, rows: list[_scalar.Row], weights: list[float]) -> list[list[float]]:
        """:func:`fuse_instances` on tuples."""
        insts = list(rows)
        if self._pairs:
            anchor = insts[0]
            area = _s_area(anchor)
            swapped = []
            for k, inst in enumerate(insts):
                plain = _s_oks(inst, anchor, area, self._sig4)
                mirrored = _s_oks(_s_flip(inst, self._pairs), anchor, area, self._sig4)
                swapped.append(mirrored > plain + 1e-9)
                if swapped[-1]:
                    insts[k] = _s_flip(inst, self._pairs)
            w_swapped = w_plain = 0.0
            for w, s in zip(weights, swapped, strict=True):
                if s:
                    w_swapped += w
                else:
                    w_plain += w
            if w_swapped > w_plain:
                insts = [_s_flip(inst, self._pairs) for inst in insts]
        return _s_median_pose(insts, weights, self._sig_list)

    def _scalar_fuse(self, rows: list[_scalar.Row], weights: list[float]) -> FloatArray:
        return np.array(self._scalar_seed(rows, weights), dtype=np.float64)

    def _result(
        self, objects: list[FusedObject[FloatArray]], confidence: float, n_candidates: int
    ) -> KeypointConsensus:
        self.poses_ = Poses(
            np.stack([o.geometry for o in objects])
            if objects
            else np.zeros((0, self.n_keypoints_, 3)),
            tuple(o.label for o in objects),
        )
        object_confidence, support = object_probabilities(objects)
        return KeypointConsensus(self.poses_, object_confidence, support, confidence, n_candidates)

    def agreement(self, answer: Poses, *, threshold: float = AGREEMENT_THRESHOLD) -> Agreement:
        """How one answer agrees with the fitted consensus (:func:`keypoint_agreement`)."""
        self._check_fitted()
        return keypoint_agreement(
            answer,
            self.poses_,
            sigmas=self.sigmas,
            flip_pairs=self.flip_pairs,
            oks_threshold=self.oks_threshold,
            threshold=threshold,
        )


def aggregate_keypoints(
    answers: Sequence[Poses],
    weights: Sequence[float] | FloatArray | None = None,
    *,
    presence_weights: Sequence[float] | FloatArray | None = None,
    sigmas: Sequence[float] | FloatArray | None = None,
    flip_pairs: Sequence[tuple[int, int]] = (),
    oks_threshold: float = OKS_THRESHOLD,
    quorum: float = 0.5,
) -> KeypointConsensus:
    """Consensus poses of one image (:class:`KeypointAggregator`).

    Args:
        answers: one ``Poses`` per worker, all with the same K keypoints.
        weights: worker localisation weights in [0, 1] (the medians, the votes).
        presence_weights: worker detection weights (quorum, confidence); default ``weights``.
        sigmas: per-keypoint sigmas (``default_sigmas(names, K)``); 0.05 each if omitted.
        flip_pairs: (left, right) index pairs to align (``flip_pairs_from_names(names)``).
        oks_threshold: two instances are the same object at OKS >= this (either orientation).
        quorum: share of the task's weight that must have drawn an object to keep it.
    """
    est = KeypointAggregator(sigmas, flip_pairs, oks_threshold, quorum)
    return est.fit(answers, weights, presence_weights=presence_weights).consensus_


# The scalar path's versions of the functions above, on tuples of (x, y, v); each performs
# the floating-point operations of its numpy original in the same order.


def _s_flip(inst: _scalar.Row, pairs: Sequence[tuple[int, int]]) -> _scalar.Row:
    perm = list(range(len(inst)))
    for i, j in pairs:
        perm[i], perm[j] = j, i
    return tuple(inst[p] for p in perm)


def _s_area(ref: Sequence[Sequence[float]]) -> float:
    """:func:`instance_area` of one instance."""
    xs = [p[0] for p in ref if p[2] > 0]
    if not xs:
        return 1.0
    ys = [p[1] for p in ref if p[2] > 0]
    area = (max(xs) - min(xs)) * (max(ys) - min(ys))
    return area if area > 1.0 else 1.0


def _s_oks(
    a: Sequence[Sequence[float]], ref: Sequence[Sequence[float]], area: float, sig4: list[float]
) -> float:
    """:func:`oks_matrix` of one instance against one reference of box area ``area``."""
    e = []
    n_ref = 0
    s2 = 2.0 * area
    for (ax, ay, av), (rx, ry, rv), k4 in zip(a, ref, sig4, strict=True):
        if rv > 0:
            n_ref += 1
            if av > 0:
                dx, dy = ax - rx, ay - ry
                e.append(math.exp(-(dx * dx + dy * dy) / (s2 * k4)))
                continue
        e.append(0.0)
    return _scalar.pairwise_sum(e) / n_ref if n_ref > 0 else 0.0


def _s_median_pose(
    insts: list[_scalar.Row], weights: list[float], sigmas: list[float]
) -> list[list[float]]:
    """:func:`_median_pose` on tuples."""
    m, k_pts = len(insts), len(insts[0])
    kw = [
        [w * (1.0 if p[2] > 0 else 0.0) for p in inst]
        for inst, w in zip(insts, weights, strict=True)
    ]
    pts = [[(p[0], p[1]) for p in inst] for inst in insts]
    med = _s_geometric_median(pts, kw)
    xy = _s_recentre(pts, kw, med, sigmas)
    total = _scalar.pairwise_sum(weights)
    out = []
    for k in range(k_pts):
        on_w = w2 = w1 = 0.0
        for r in range(m):
            on_w += kw[r][k]
            v = insts[r][k][2]
            w2 += weights[r] * (1.0 if v == 2 else 0.0)
            w1 += weights[r] * (1.0 if v == 1 else 0.0)
        if on_w >= 0.5 * total - 1e-9:
            out.append([xy[k][0], xy[k][1], 2.0 if w2 >= w1 else 1.0])
        else:
            out.append([0.0, 0.0, 0.0])
    return out


def _s_geometric_median(
    pts: list[list[tuple[float, float]]], kw: list[list[float]], n_iter: int = 50
) -> list[tuple[float, float]]:
    """:func:`geometric_median` (Weiszfeld, from the weighted median) on lists."""
    m, k_pts = len(pts), len(pts[0])
    y = []
    for k in range(k_pts):
        col_w = [kw[r][k] for r in range(m)]
        sx, sy = _scalar.weighted_median([(pts[r][k][0], pts[r][k][1]) for r in range(m)], col_w)
        y.append((sx, sy))
    for _ in range(n_iter):
        new = []
        moved = 0.0
        for k in range(k_pts):
            yx, yy = y[k]
            denom = nx = ny = 0.0
            for r in range(m):
                px, py = pts[r][k]
                dx, dy = px - yx, py - yy
                d = math.sqrt(dx * dx + dy * dy)
                inv = kw[r][k] / (d if d > 1e-6 else 1e-6)
                denom += inv
                nx += inv * px
                ny += inv * py
            if denom > 0:
                scale = denom if denom > 1e-300 else 1e-300
                nk = (nx / scale, ny / scale)
            else:
                nk = (yx, yy)
            moved = max(moved, abs(nk[0] - yx), abs(nk[1] - yy))
            new.append(nk)
        y = new
        if moved < 1e-2:
            break
    return y


def _s_recentre(
    pts: list[list[tuple[float, float]]],
    kw: list[list[float]],
    med: list[tuple[float, float]],
    sigmas: list[float],
) -> list[tuple[float, float]]:
    """:func:`_recentre` on lists."""
    m, k_pts = len(pts), len(pts[0])
    if sum(1 for row in kw for w in row if w > 0) < 3:
        return med
    used = [k for k in range(k_pts) if any(kw[r][k] > 0 for r in range(m))]
    xs, ys = [med[k][0] for k in used], [med[k][1] for k in used]
    area = (max(xs) - min(xs)) * (max(ys) - min(ys))
    root = math.sqrt(area if area > 1.0 else 1.0)
    out = []
    for k in range(k_pts):
        radius = _RECENTRE_RADIUS * sigmas[k] * root
        mx, my = med[k]
        tot = sx = sy = 0.0
        for r in range(m):
            px, py = pts[r][k]
            dx, dy = px - mx, py - my
            w = kw[r][k]
            near = w * w * (1.0 if math.sqrt(dx * dx + dy * dy) <= radius else 0.0)
            tot += near
            sx += near * px
            sy += near * py
        if tot > 0:
            scale = tot if tot > 1e-12 else 1e-12
            out.append((sx / scale, sy / scale))
        else:
            out.append(med[k])
    return out


def _top_left(inst: FloatArray) -> tuple[float, float]:
    """Sort key for output order: top-most, then left-most labelled keypoint."""
    on = inst[:, 2] > 0
    return (float(inst[on, 1].min()), float(inst[on, 0].min())) if on.any() else (0.0, 0.0)


def keypoint_agreement(
    answer: Poses,
    consensus: Poses,
    *,
    sigmas: Sequence[float] | FloatArray | None = None,
    flip_pairs: Sequence[tuple[int, int]] = (),
    oks_threshold: float = OKS_THRESHOLD,
    threshold: float = AGREEMENT_THRESHOLD,
) -> Agreement:
    """F1 over instances at OKS ``oks_threshold``; ``quality`` is the OKS-weighted F1.

    A mirrored instance (left/right swapped) is scored as drawn, not as flipped: the requester
    wants the labels the right way round, so a swap costs the worker.
    """
    k_pts = consensus.kps.shape[1] if len(consensus) else answer.kps.shape[1]
    sig = np.asarray(
        sigmas if sigmas is not None else np.full(k_pts, DEFAULT_SIGMA), dtype=np.float64
    )
    if (
        max(len(answer), len(consensus)) <= _scalar.SCALAR_MAX_AGREEMENT_ITEMS
        and k_pts <= _scalar.SCALAR_MAX_KEYPOINTS
        and sig.shape == (k_pts,)
        and bool((sig > 0).all())
        and bool(np.isfinite(answer.kps).all() and np.isfinite(consensus.kps).all())
        and answer.kps.shape[1:] == consensus.kps.shape[1:] == (k_pts, 3)
    ):
        return _s_keypoint_agreement(
            answer, consensus, sig.tolist(), flip_pairs, oks_threshold, threshold
        )
    sim = oks_matrix(answer.kps, consensus.kps, sig)
    result = object_agreement(
        sim, answer.labels, consensus.labels, "instance", "OKS", oks_threshold, threshold
    )
    if flip_pairs and len(answer) and len(consensus):
        mirrored = oks_matrix(flip(answer.kps, flip_pairs), consensus.kps, sig)
        swapped = int(
            (
                (mirrored.max(axis=1) > sim.max(axis=1) + 0.1)
                & (mirrored.max(axis=1) >= oks_threshold)
            ).sum()
        )
        if swapped:
            note = f"{swapped} instance(s) look left/right swapped"
            reason = f"{result.reason}; {note}" if result.reason else note
            return Agreement(result.score, result.threshold, result.quality, reason, result.details)
    return result


def _s_keypoint_agreement(
    answer: Poses,
    consensus: Poses,
    sigmas: list[float],
    flip_pairs: Sequence[tuple[int, int]],
    oks_threshold: float,
    threshold: float,
) -> Agreement:
    """:func:`keypoint_agreement` on tuples (the scalar path)."""
    sig4 = [(2.0 * s) * (2.0 * s) for s in sigmas]
    ans = answer.kps.tolist()
    refs = [(ref, _s_area(ref)) for ref in consensus.kps.tolist()]
    sim = [[_s_oks(a, ref, area, sig4) for ref, area in refs] for a in ans]
    result = object_agreement(
        sim, answer.labels, consensus.labels, "instance", "OKS", oks_threshold, threshold
    )
    if flip_pairs and ans and refs:
        swapped = 0
        for a, row in zip(ans, sim, strict=True):
            fa = _s_flip(tuple(a), flip_pairs)
            best_m = max(_s_oks(fa, ref, area, sig4) for ref, area in refs)
            if best_m > max(row) + 0.1 and best_m >= oks_threshold:
                swapped += 1
        if swapped:
            note = f"{swapped} instance(s) look left/right swapped"
            reason = f"{result.reason}; {note}" if result.reason else note
            return Agreement(result.score, result.threshold, result.quality, reason, result.details)
    return result
