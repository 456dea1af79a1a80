"""Small numeric helpers shared by every geometry type (weights, medians, matching)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]
R = TypeVar("R")
Member = tuple[int, int]  # (worker position in the task, item index in that worker's answer)

# A weight maps to the probability that a worker's mark is right, for confidence only:
# weight 0 (a spammer) is a coin flip and moves nothing, weight 1 is right 95% of the time.
_P_MIN, _P_SPAN = 0.5, 0.45
_UNMATCHABLE = 1e6
UNKNOWN_WEIGHT = (0.7 - 0.3) / (1 - 0.3)  # GeometrySkills' defaults: prior 0.7, chance 0.3
# The one-coin posterior treats workers as independent coins; on the box replay in GEOMETRY.md
# it was underconfident (images at confidence 0.5-0.8 were right 70% of the time, at 0.8-0.9
# 96%), because the errors that matter (omissions of small objects, gross boxes) are rarer
# than a coin of the workers' overall agreement rate says. Its log-odds are tempered by this
# factor, chosen on that replay; an omission-discount alternative was tried and was worse.
CONFIDENCE_TEMPERATURE = 1.5


@dataclass(frozen=True)
class Agreement:
    """How well one worker's answer agrees with the consensus.

    ``score`` is what the service compares with ``threshold`` to accept or reject; ``quality``
    is a continuous version (IoU- or OKS-weighted) that feeds worker skills; ``reason`` says in
    words why a rejected answer was rejected (empty when accepted with nothing to report).
    """

    score: float
    threshold: float
    quality: float
    reason: str = ""
    details: dict[str, float] = field(default_factory=dict)

    @property
    def accepted(self) -> bool:
        return self.score >= self.threshold

    def __float__(self) -> float:
        return self.score


def as_weights(weights: Sequence[float] | FloatArray | None, n: int) -> FloatArray:
    """Validated weights in [0, 1].

    Missing weights mean workers we know nothing about: ``UNKNOWN_WEIGHT`` each, the weight
    ``GeometrySkills`` gives a new worker, so an unweighted call is not read as perfect
    workers. All-zero weights (only spammers answered) fall back to tiny equal weights: the
    task still gets a consensus, at coin-flip confidence, rather than none.
    """
    if weights is None:
        return np.full(n, UNKNOWN_WEIGHT)
    w = np.asarray(weights, dtype=np.float64).reshape(-1)
    if w.shape[0] != n:
        raise ValueError(f"expected {n} weights, got {w.shape[0]}")
    w = np.where(np.isfinite(w), np.clip(w, 0.0, 1.0), 0.0)
    return w if w.sum() > 0 else np.full(n, 1e-6)


def logit_of_weight(w: FloatArray) -> FloatArray:
    p = _P_MIN + _P_SPAN * np.clip(w, 0.0, 1.0)
    out: FloatArray = np.log(p / (1.0 - p))
    return out


def support_probability(weights: FloatArray, for_mask: NDArray[np.bool_]) -> float:
    """Tempered one-coin posterior that the workers in ``for_mask`` are right, the others wrong."""
    lo = CONFIDENCE_TEMPERATURE * logit_of_weight(weights)
    log_odds = float(lo[for_mask].sum() - lo[~for_mask].sum())
    return float(1.0 / (1.0 + np.exp(-np.clip(log_odds, -50.0, 50.0))))


def weighted_median(values: FloatArray, weights: FloatArray) -> FloatArray:
    """Column-wise weighted median of ``values`` (m, d); weights (m,) or one per cell (m, d).

    When the cumulative weight hits exactly one half the two middle values are averaged, so
    two equal-weight workers give their mean rather than whichever came first. A column whose
    weights are all zero comes out as 0.
    """
    values = np.asarray(values, dtype=np.float64)
    m, d = values.shape
    w = np.broadcast_to(np.asarray(weights, dtype=np.float64).reshape(m, -1), values.shape)
    if m == 1:  # the common case of a lone item: no sorting needed
        out1: FloatArray = np.where(w[0] > 0, values[0], 0.0)
        return out1
    order = np.argsort(values, axis=0, kind="stable")
    cols = np.arange(d)
    v = values[order, cols]
    cw = np.cumsum(w[order, cols], axis=0)
    total = cw[-1]
    half = total / 2.0
    tol = 1e-12 * total
    lo_idx = np.argmax(cw >= half - tol, axis=0)
    exact = (np.abs(cw[lo_idx, cols] - half) <= tol + 1e-15) & (half > 0)
    # On an exact half the upper middle is the next row that carries weight.
    nxt = np.argmax(cw > cw[lo_idx, cols] + tol, axis=0)
    hi_idx = np.where(exact, np.maximum(lo_idx, nxt), lo_idx)
    out: FloatArray = np.where(half > 0, 0.5 * (v[lo_idx, cols] + v[hi_idx, cols]), 0.0)
    return out


def weighted_label(
    labels: Sequence[str], weights: Sequence[float] | FloatArray
) -> tuple[str, float]:
    """Weighted vote; ties go to the alphabetically first label so results never depend on order."""
    totals: dict[str, float] = {}
    for lab, w in zip(labels, weights, strict=True):
        totals[lab] = totals.get(lab, 0.0) + float(w)
    best = min(totals, key=lambda k: (-totals[k], k))
    total = sum(totals.values())
    return best, (totals[best] / total if total > 0 else 1.0)


def label_probability(labels: Sequence[str], winner: str, presence: FloatArray) -> float:
    """Probability that the voted label is right: 1 when the members agree, else the one-coin
    posterior of the winner's voters against the rest.

    Unanimity counts as certain because the existence probability already prices in how much
    those same workers are trusted; only a split should lower the confidence further.
    """
    agree = np.asarray([lab == winner for lab in labels], dtype=bool)
    return 1.0 if agree.all() else support_probability(presence, agree)


def hungarian(sim: FloatArray, threshold: float) -> list[tuple[int, int]]:
    """Maximum-similarity one-to-one matching keeping only pairs at or above ``threshold``."""
    if sim.size == 0:
        return []
    # Imported here: scipy.optimize costs ~0.5 s to import, paid by every process that loads
    # the service, while only geometry consensus needs this one function.
    from scipy.optimize import linear_sum_assignment

    cost = np.where(sim >= threshold, 1.0 - sim, _UNMATCHABLE)
    rows, cols = linear_sum_assignment(cost)
    keep = sim[rows, cols] >= threshold
    return [(int(r), int(c)) for r, c in zip(rows[keep], cols[keep], strict=True)]


def cluster_items(
    n_items: Sequence[int],
    similarity: Callable[[int, list[R]], Any],
    fuse: Callable[[list[Member]], R],
    threshold: float,
    *,
    refit_seeds: bool = False,
    match: Callable[[Any, float], list[tuple[int, int]]] = hungarian,
) -> list[list[Member]]:
    """Group workers' items into objects, at most one item per worker per object.

    Workers are visited in the order given (callers put the most reliable first, ties broken by
    content so that names and row order never matter). Each worker's items are matched to the
    objects seeded so far (by their first, most reliable item) with Hungarian assignment;
    leftovers seed new objects. A second pass re-assigns every worker against the *fused*
    objects, which undoes most mistakes of the greedy first pass (e.g. a sloppy seed). Seeds
    are re-fused after every match only with ``refit_seeds``: for boxes that was most of the
    run time for no measured gain; keypoints use it (a seed may be one noisy click away).
    ``match`` is :func:`hungarian`, or its list version for the scalar path
    (:mod:`consensus.geometry._scalar`), with what ``similarity`` returns.
    """
    clusters: list[list[Member]] = []
    reps: list[R] = []
    for w, n in enumerate(n_items):
        matched = dict(match(similarity(w, reps), threshold)) if n and reps else {}
        for i in range(n):
            if i in matched:
                clusters[matched[i]].append((w, i))
                if refit_seeds:
                    reps[matched[i]] = fuse(clusters[matched[i]])
            else:
                clusters.append([(w, i)])
                reps.append(fuse(clusters[-1]))
    final: list[list[Member]] = [[] for _ in reps]
    for w, n in enumerate(n_items):
        matched = dict(match(similarity(w, reps), threshold)) if n and reps else {}
        for i in range(n):
            if i in matched:
                final[matched[i]].append((w, i))
            else:
                final.append([(w, i)])
    return [c for c in final if c]


@dataclass(frozen=True)
class Kept:
    """An object that passed the quorum: its members, P(real) and share of presence weight."""

    members: list[Member]
    probability: float
    support: float


def worker_order(keys: Sequence[Any], weights: FloatArray) -> list[int]:
    """Most reliable first; ties by answer content so names and row order never matter."""
    return sorted(range(len(keys)), key=lambda i: (-weights[i], keys[i]))


def quorum_filter(
    clusters: list[list[Member]],
    presence: FloatArray,
    quorum: float,
) -> tuple[list[Kept], float]:
    """Keep objects drawn by workers holding at least ``quorum`` of the presence weight.

    Also returns the image confidence: the one-coin probability that every kept object is
    real, every dropped one is not, and no object was missed by everyone. With no candidate
    objects at all it is the probability that the workers who all drew nothing are right.
    """
    total = float(presence.sum()) or 1.0
    kept: list[Kept] = []
    log_conf = 0.0
    for members in clusters:
        drew = np.zeros(len(presence), dtype=bool)
        drew[[k for k, _ in members]] = True
        p_real = support_probability(presence, drew)
        share = float(presence[drew].sum()) / total
        if share >= quorum - 1e-9:
            kept.append(Kept(members, p_real, share))
            log_conf += float(np.log(max(p_real, 1e-12)))
        else:
            log_conf += float(np.log(max(1.0 - p_real, 1e-12)))
    if not len(presence):
        return kept, 0.0
    if not clusters:  # everyone drew nothing: as sure as they are reliable
        return kept, support_probability(presence, np.ones(len(presence), dtype=bool))
    return kept, float(np.exp(log_conf)) * _none_missed_by_all(presence, len(kept))


def _none_missed_by_all(presence: FloatArray, n_objects: int) -> float:
    """Probability that no real object was missed by every worker so far.

    Such an object leaves no trace in the answers, yet it is the commonest way a two-answer
    consensus is wrong (small objects). Each of the ``n_objects`` seen suggests one more
    could hide with probability prod(1 - recall), recall being the worker's coin. On the box
    replay this moved dynamic overlap from 28% to 33% fewer answers within 0.5 F1 point.
    """
    p = _P_MIN + _P_SPAN * np.clip(presence, 0.0, 1.0)
    return float((1.0 - np.prod(1.0 - p)) ** max(n_objects, 1))
