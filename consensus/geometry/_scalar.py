"""Plain-float versions of the matching skeleton's helpers, for small inputs.

A submit aggregates one image's 2-5 answers of a few objects each. On arrays that small numpy's
per-call overhead is the whole cost (box consensus of 3 answers: ~900 Python-level calls, most
of them numpy creating, indexing and reducing 3-element arrays), so
:class:`~consensus.geometry._objects.ObjectAggregator` runs these list-and-float versions
instead when the input is small (``SCALAR_MAX_WORKERS``, ``SCALAR_MAX_ITEMS``).

They compute exactly what the numpy helpers of :mod:`consensus.geometry._common` compute, in
the same order of floating-point operations wherever that order is observable: sums run left
to right (numpy's pairwise summation is a plain loop below 8 elements, hence the worker limit),
the weighted median sorts stably and cuts at the same tolerances, and :func:`assignment` is the
shortest-augmenting-path algorithm that ``scipy.optimize.linear_sum_assignment`` runs (Crouse,
IEEE TAES 52(4), 2016), step for step, so that ties between equally good matchings go the same
way. ``tests/consensus/geometry/test_scalar_path.py`` checks both paths against each other on
random inputs.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from consensus.geometry._common import (
    _P_MIN,
    _P_SPAN,
    _UNMATCHABLE,
    CONFIDENCE_TEMPERATURE,
    UNKNOWN_WEIGHT,
    Kept,
    Member,
)

Row = tuple[Any, ...]
"""One item: a box's or a point's floats, a pose's (x, y, v) triples."""
Matrix = list[list[float]]

SCALAR_MAX_WORKERS = 7
"""Answers up to which a task takes the scalar path: numpy sums 8 or more values pairwise, which
a left-to-right loop would not reproduce to the last bit."""
SCALAR_MAX_ITEMS = 12
"""Objects per answer up to which the scalar path is taken (the matching is cubic in this)."""
SCALAR_MAX_AGREEMENT_ITEMS = 8
"""Objects per side up to which an agreement takes the scalar path: one matching, no seeds, so
numpy's overhead is paid once and the scalar path stops paying at fewer objects
(``benchmarks/geometry_scalar.py``: 1.2-2x faster at 8, 0.7x at 12 boxes)."""
SCALAR_MAX_KEYPOINTS = 17
"""Keypoints per instance up to which poses take the scalar path (COCO's 17)."""

_INF = math.inf


def as_weights(weights: Any, n: int) -> list[float] | None:
    """:func:`~consensus.geometry._common.as_weights` as a list; None when the input is not a
    flat sequence (the numpy path then gives the error or the broadcast)."""
    if weights is None:
        return [UNKNOWN_WEIGHT] * n
    if isinstance(weights, np.ndarray):
        if weights.ndim != 1:
            return None
        values = weights.tolist()
    elif isinstance(weights, Sequence) and not isinstance(weights, str | bytes):
        values = list(weights)
    else:
        return None
    if len(values) != n:
        raise ValueError(f"expected {n} weights, got {len(values)}")
    out = []
    total = 0.0
    for value in values:
        if isinstance(value, Sequence):
            return None
        x = float(value)
        x = (0.0 if x < 0.0 else 1.0 if x > 1.0 else x) if math.isfinite(x) else 0.0
        out.append(x)
        total += x
    return out if total > 0 else [1e-6] * n


def _logit(w: float) -> float:
    p = _P_MIN + _P_SPAN * (0.0 if w < 0.0 else 1.0 if w > 1.0 else w)
    return math.log(p / (1.0 - p))


def support_probability(weights: Sequence[float], for_mask: Sequence[bool]) -> float:
    """:func:`~consensus.geometry._common.support_probability` on lists."""
    yes = no = 0.0
    for w, drew in zip(weights, for_mask, strict=True):
        lo = CONFIDENCE_TEMPERATURE * _logit(w)
        if drew:
            yes += lo
        else:
            no += lo
    log_odds = yes - no
    log_odds = -50.0 if log_odds < -50.0 else 50.0 if log_odds > 50.0 else log_odds
    return 1.0 / (1.0 + math.exp(-log_odds))


def weighted_median(rows: Sequence[Row], weights: Sequence[float] | Sequence[Row]) -> list[float]:
    """:func:`~consensus.geometry._common.weighted_median` of ``rows`` (m, d); ``weights`` one per
    row, or one per cell (``weights[r][c]``)."""
    m, d = len(rows), len(rows[0])
    per_cell = bool(weights) and isinstance(weights[0], Sequence)

    def weight(r: int, c: int) -> float:
        return weights[r][c] if per_cell else weights[r]  # type: ignore[index,return-value]

    if m == 1:
        return [rows[0][c] if weight(0, c) > 0 else 0.0 for c in range(d)]
    out = []
    for c in range(d):
        order = sorted(range(m), key=lambda r: rows[r][c])  # stable, as argsort(kind="stable")
        cw = []
        acc = 0.0
        for r in order:
            acc += weight(r, c)
            cw.append(acc)
        total = cw[-1]
        half = total / 2.0
        tol = 1e-12 * total
        lo = next((k for k in range(m) if cw[k] >= half - tol), 0)
        exact = abs(cw[lo] - half) <= tol + 1e-15 and half > 0
        hi = lo
        if exact:
            nxt = next((k for k in range(m) if cw[k] > cw[lo] + tol), 0)
            hi = max(lo, nxt)
        out.append(0.5 * (rows[order[lo]][c] + rows[order[hi]][c]) if half > 0 else 0.0)
    return out


def assignment(cost: Matrix) -> list[tuple[int, int]]:
    """Minimum-cost one-to-one assignment of a non-empty rectangular cost matrix: ``(row, col)``
    pairs by row, ``min(n_rows, n_cols)`` of them; what ``linear_sum_assignment`` returns.

    Shortest augmenting paths from each row in turn with dual variables ``u``, ``v`` (a tall
    matrix is solved transposed). Scanning the free columns from the last one, and on equal path
    costs preferring a column that is still unassigned, is what makes ties come out as scipy's.
    """
    n_rows, n_cols = len(cost), len(cost[0])
    transposed = n_cols < n_rows
    if transposed:
        cost = [list(col) for col in zip(*cost, strict=True)]
        n_rows, n_cols = n_cols, n_rows
    u = [0.0] * n_rows
    v = [0.0] * n_cols
    path = [-1] * n_cols
    col_of = [-1] * n_rows
    row_of = [-1] * n_cols
    for start in range(n_rows):
        dist = [_INF] * n_cols
        seen_rows = [False] * n_rows
        seen_cols = [False] * n_cols
        free = list(range(n_cols - 1, -1, -1))
        reach = 0.0
        i, sink = start, -1
        while sink < 0:
            seen_rows[i] = True
            row, ui = cost[i], u[i]
            best, pick = _INF, -1
            for k, j in enumerate(free):
                r = reach + row[j] - ui - v[j]
                if r < dist[j]:
                    path[j] = i
                    dist[j] = r
                dj = dist[j]
                if dj < best or (dj == best and row_of[j] == -1):
                    best, pick = dj, k
            reach = best
            if reach == _INF:
                raise ValueError("cost matrix is infeasible")
            j = free[pick]
            if row_of[j] == -1:
                sink = j
            else:
                i = row_of[j]
            seen_cols[j] = True
            free[pick] = free[-1]
            free.pop()
        u[start] += reach
        for i in range(n_rows):
            if seen_rows[i] and i != start:
                u[i] += reach - dist[col_of[i]]
        for j in range(n_cols):
            if seen_cols[j]:
                v[j] -= reach - dist[j]
        j = sink
        while True:
            i = path[j]
            row_of[j] = i
            col_of[i], j = j, col_of[i]
            if i == start:
                break
    if transposed:
        return [(col_of[c], c) for c in sorted(range(n_rows), key=col_of.__getitem__)]
    return list(enumerate(col_of))


def hungarian(sim: Matrix, threshold: float) -> list[tuple[int, int]]:
    """:func:`~consensus.geometry._common.hungarian` on a list of rows.

    The common case needs no assignment at all: when every row and every column has at most
    one pair at or above ``threshold``, those pairs are the answer. (An unmatchable pair costs
    1e6 and a matchable one at most 1, so the optimum first has as many matchable pairs as
    possible; here that set is unique.)
    """
    if not sim or not sim[0]:
        return []
    pairs: list[tuple[int, int]] = []
    used: set[int] = set()
    for i, row in enumerate(sim):
        hits = [j for j, s in enumerate(row) if s >= threshold]
        if len(hits) > 1 or (hits and hits[0] in used):
            break
        if hits:
            used.add(hits[0])
            pairs.append((i, hits[0]))
    else:
        return pairs
    cost = [[1.0 - s if s >= threshold else _UNMATCHABLE for s in row] for row in sim]
    return [(r, c) for r, c in assignment(cost) if sim[r][c] >= threshold]


def quorum_filter(
    clusters: list[list[Member]], presence: Sequence[float], quorum: float
) -> tuple[list[Kept], float]:
    """:func:`~consensus.geometry._common.quorum_filter` on lists."""
    n = len(presence)
    total = 0.0
    for p in presence:
        total += p
    total = total or 1.0
    kept: list[Kept] = []
    log_conf = 0.0
    for members in clusters:
        drew = [False] * n
        for k, _ in members:
            drew[k] = True
        p_real = support_probability(presence, drew)
        share = 0.0
        for p, d in zip(presence, drew, strict=True):
            if d:
                share += p
        share /= total
        if share >= quorum - 1e-9:
            kept.append(Kept(members, p_real, share))
            log_conf += math.log(max(p_real, 1e-12))
        else:
            log_conf += math.log(max(1.0 - p_real, 1e-12))
    if not n:
        return kept, 0.0
    if not clusters:
        return kept, support_probability(presence, [True] * n)
    return kept, math.exp(log_conf) * _none_missed_by_all(presence, len(kept))


def _none_missed_by_all(presence: Sequence[float], n_objects: int) -> float:
    missed = 1.0
    for w in presence:
        missed *= 1.0 - (_P_MIN + _P_SPAN * (0.0 if w < 0.0 else 1.0 if w > 1.0 else w))
    return float((1.0 - missed) ** max(n_objects, 1))


def label_probability(labels: Sequence[str], winner: str, presence: Sequence[float]) -> float:
    """:func:`~consensus.geometry._common.label_probability` on lists."""
    agree = [lab == winner for lab in labels]
    return 1.0 if all(agree) else support_probability(presence, agree)


def round_like_numpy(x: float, decimals: int) -> float:
    """``np.round(x, decimals)`` for a finite float: scale, round half to even, unscale."""
    scale = 10.0**decimals
    return round(x * scale) / scale


def pairwise_sum(xs: Sequence[float]) -> float:
    """``np.sum`` of a short contiguous run, bit for bit: left to right below 8 values, numpy's
    eight interleaved partial sums from 8 (up to its 128-value block)."""
    n = len(xs)
    if n < 8:
        acc = 0.0
        for x in xs:
            acc += x
        return acc
    r = list(xs[:8])
    i = 8
    while i < n - n % 8:
        for k in range(8):
            r[k] += xs[i + k]
        i += 8
    acc = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]))
    for j in range(i, n):
        acc += xs[j]
    return acc


def all_finite(rows: Sequence[Sequence[float]]) -> bool:
    """Every value finite: NaN and inf keep to the numpy path, whose ``maximum`` and ``where``
    propagate them in ways that ``max`` and comparisons of floats do not."""
    return all(math.isfinite(v) for row in rows for v in row)
