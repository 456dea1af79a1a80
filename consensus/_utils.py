"""Numerical helpers shared by the estimators: log-space normalisation and safe logs."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

__all__ = ["column_sums", "log_normalize", "row_argmax_max", "safe_log", "softmax_rows"]

FloatArray = NDArray[np.float64]

# Probabilities are floored before taking logs so that a worker who never used a label does not
# produce -inf, which would veto a class outright and make EM unable to recover from it.
_TINY = 1e-300


def safe_log(p: FloatArray) -> FloatArray:
    """Natural log with a floor, so zeros give a large negative number, not -inf."""
    return np.log(np.maximum(p, _TINY))


def log_normalize(log_p: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Normalise unnormalised log-probabilities row-wise.

    Works in logs and shifts each row so its max is 0 before exponentiating: sums of dozens of
    log-likelihoods underflow ``exp`` otherwise (crowd-kit does the same).

    Returns:
        ``(probabilities, log normaliser per row)``.
    """
    if log_p.shape[0] == 0:
        return np.zeros_like(log_p), np.zeros(0)
    # Column-wise max/sum: with a handful of classes, reducing along axis 1 row by row is
    # several times slower than K vectorised passes over columns.
    m = log_p[:, 0].copy()
    for k in range(1, log_p.shape[1]):
        np.maximum(m, log_p[:, k], out=m)
    e = np.subtract(log_p, m[:, None])
    np.exp(e, out=e)  # in place: one (n, K) temporary, not two
    s = e[:, 0].copy()
    for k in range(1, e.shape[1]):
        s += e[:, k]
    e /= s[:, None]
    np.log(s, out=s)
    s += m
    return e, s


def softmax_rows(log_p: FloatArray) -> FloatArray:
    """Row-wise softmax of log-probabilities."""
    return log_normalize(log_p)[0]


# Reductions over a (n, K) array with a handful of classes: numpy's axis reductions run an
# inner loop of length K per row (axis=1) or add row by row (axis=0), 5-10x slower than K
# passes over the columns, which matters at a million answers (benchmarks/consensus).


def column_sums(a: FloatArray) -> FloatArray:
    """``a.sum(axis=0)`` of a tall 2-D array, one pairwise sum per column."""
    return np.array([a[:, k].sum() for k in range(a.shape[1])], dtype=np.float64)


def row_argmax_max(a: FloatArray) -> tuple[NDArray[np.intp], FloatArray]:
    """``(a.argmax(axis=1), a.max(axis=1))`` of a tall 2-D array (first maximum on ties)."""
    best = a[:, 0].copy()
    arg = np.zeros(a.shape[0], dtype=np.intp)
    for k in range(1, a.shape[1]):
        better = a[:, k] > best
        arg[better] = k
        np.maximum(best, a[:, k], out=best)
    return arg, best
