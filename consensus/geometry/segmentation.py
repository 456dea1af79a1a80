"""Semantic segmentation: per-pixel weighted multi-class vote and per-class IoU.

A mask is a 2-D uint8 array, value ``k`` = label ``k - 1``, ``0`` = none (API.md).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Self

import numpy as np
from numpy.typing import NDArray
from scipy import ndimage

from consensus._params import Estimator, check_is_fitted
from consensus.geometry._common import Agreement, FloatArray, as_weights, logit_of_weight

Mask = NDArray[np.uint8]
AGREEMENT_THRESHOLD = 0.6  # mean IoU over the classes either mask uses


@dataclass(frozen=True)
class SemanticConsensus:
    """Fused mask, per-pixel posterior of the chosen value, and one confidence for the image.

    ``confidence`` is the mean pixel posterior over the pixels any worker labelled (a mostly
    empty image would otherwise look certain because of its background).
    """

    mask: Mask
    pixel_confidence: FloatArray
    confidence: float


def _check_masks(masks: Sequence[Mask]) -> NDArray[np.uint8]:
    if not masks:
        raise ValueError("no masks to aggregate")
    shapes = {np.shape(m) for m in masks}
    if len(shapes) != 1 or len(next(iter(shapes))) != 2:
        raise ValueError(f"masks must be 2-D and of one size, got {sorted(shapes)}")
    return np.stack([np.asarray(m, dtype=np.uint8) for m in masks])


class MaskAggregator(Estimator):
    """Semantic segmentation consensus: a per-pixel reliability-weighted vote over every value
    any worker used (the per-pixel majority when the weights are equal).

    Each worker votes with the square root of its weight (``weight_power``): the weights come
    from a handful of leave-one-out grades per worker (``GeometrySkills``), so their spread is
    mostly estimation noise, and with linear weights one worker at 0.49 outvoted two careful
    ones at 0.23 and 0.24 who had drawn the object it omitted (an image at mIoU 0 against 0.89
    for the majority; benchmarks/consensus/mask_sweep.py). Under the square root one worker
    outvotes two only when both have less than a quarter of its weight, i.e. look like
    spammers, and spammers (weight ~0) still count for nothing. Equal weights give the plain
    per-pixel majority for any power.

    Exact ties (e.g. two equal workers) go to the tied value that wins the 3x3 neighbourhood's
    summed vote, which keeps boundaries smooth instead of favouring the lower label id. The
    weights come with each image (``GeometrySkills.weights``).

    Args:
        weight_power: exponent applied to the weights in the vote (1 = linear weights, 0 =
            plain majority); the pixel posterior uses the weights as given.

    Fitted attributes:
        mask_: the fused mask (uint8, value ``k`` = label ``k - 1``, 0 = none).
        pixel_confidence_: one-coin posterior of the chosen value per pixel.
        confidence_: mean pixel posterior over the pixels any worker labelled.
        consensus_: all of it as a ``SemanticConsensus``.

    Examples:
        >>> a = np.array([[0, 1], [1, 1]], dtype=np.uint8)
        >>> MaskAggregator().fit([a, a, np.zeros((2, 2), np.uint8)]).mask_.tolist()
        [[0, 1], [1, 1]]
    """

    mask_: Mask
    pixel_confidence_: FloatArray
    confidence_: float
    consensus_: SemanticConsensus

    def __init__(self, weight_power: float = 0.5) -> None:
        self.weight_power = weight_power

    def fit(
        self, masks: Sequence[Mask], weights: Sequence[float] | FloatArray | None = None
    ) -> Self:
        """Fuse one image's masks; returns self."""
        stack = _check_masks(masks)
        w = as_weights(weights, len(stack))
        vote_w = w**self.weight_power
        values = np.unique(stack)
        votes = np.stack(
            [np.tensordot(vote_w, (stack == v).astype(np.float64), axes=1) for v in values]
        )
        top = votes.max(axis=0)
        tied = votes >= top[None] - 1e-9 * vote_w.sum()
        choice = np.argmax(votes, axis=0)
        contested = tied.sum(axis=0) > 1
        if contested.any():
            smooth = np.stack([ndimage.uniform_filter(v, size=3, mode="nearest") for v in votes])
            choice = np.where(contested, np.argmax(np.where(tied, smooth, -np.inf), axis=0), choice)
        fused = values[choice].astype(np.uint8)
        post = _pixel_posterior(stack, fused, w)
        labelled = (stack > 0).any(axis=0)
        conf = float(post[labelled].mean()) if labelled.any() else float(post.mean())
        self.mask_, self.pixel_confidence_, self.confidence_ = fused, post, conf
        self.consensus_ = SemanticConsensus(fused, post, conf)
        return self

    def agreement(self, mask: Mask, *, threshold: float = AGREEMENT_THRESHOLD) -> Agreement:
        """How one worker's mask agrees with the fitted consensus (:func:`semantic_agreement`)."""
        check_is_fitted(self, "mask_")
        return semantic_agreement(mask, self.mask_, threshold=threshold)


def aggregate_semantic(
    masks: Sequence[Mask], weights: Sequence[float] | FloatArray | None = None
) -> SemanticConsensus:
    """Per-pixel reliability-weighted vote over every value any worker used
    (:class:`MaskAggregator` with its default square-root vote weights).

    Examples:
        >>> a = np.array([[0, 1], [1, 1]], dtype=np.uint8)
        >>> aggregate_semantic([a, a, np.zeros((2, 2), np.uint8)]).mask.tolist()
        [[0, 1], [1, 1]]
    """
    return MaskAggregator().fit(masks, weights).consensus_


def _pixel_posterior(stack: NDArray[np.uint8], fused: Mask, w: FloatArray) -> FloatArray:
    """One-coin posterior that the fused value is right: agreeing vs disagreeing log-odds."""
    lo = logit_of_weight(w)
    agree = stack == fused[None]
    log_odds = np.tensordot(lo, np.where(agree, 1.0, -1.0), axes=1)
    out: FloatArray = 1.0 / (1.0 + np.exp(-np.clip(log_odds, -50.0, 50.0)))
    return out


def per_class_iou(pred: Mask, ref: Mask, classes: Sequence[int] | None = None) -> dict[int, float]:
    """IoU per mask value (default: every non-zero value present in either mask).

    A class absent from both masks is left out rather than scored 1 or 0.
    """
    p, r = np.asarray(pred), np.asarray(ref)
    if p.shape != r.shape:
        raise ValueError(f"mask sizes differ: {p.shape} vs {r.shape}")
    if classes is None:
        classes = [int(v) for v in np.union1d(np.unique(p), np.unique(r)) if v != 0]
    out: dict[int, float] = {}
    for k in classes:
        a, b = p == k, r == k
        union = int(np.count_nonzero(a | b))
        if union:
            out[int(k)] = int(np.count_nonzero(a & b)) / union
    return out


def semantic_agreement(
    mask: Mask, consensus: Mask, *, threshold: float = AGREEMENT_THRESHOLD
) -> Agreement:
    """Mean per-class IoU of a worker's mask against the consensus, with the worst class named."""
    ious = per_class_iou(mask, consensus)
    if not ious:
        return Agreement(1.0, threshold, 1.0, "", {"classes": 0.0})
    score = float(np.mean(list(ious.values())))
    worst = min(ious, key=lambda k: (ious[k], k))
    reason = ""
    if score < threshold:
        reason = (
            f"mean class IoU {score:.2f} < {threshold:g}; worst is label value {worst} "
            f"(IoU {ious[worst]:.2f})"
        )
    return Agreement(score, threshold, score, reason, {"classes": float(len(ious))})
