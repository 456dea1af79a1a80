"""Numerical helpers shared by the estimators: log-space normalisation and safe logs."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

__all__ = ["log_normalize", "safe_log", "softmax_rows"]

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
    e = np.exp(log_p - m[:, None])
    s = e[:, 0].copy()
    for k in range(1, e.shape[1]):
        s += e[:, k]
    e /= s[:, None]
    return e, np.log(s) + m


def softmax_rows(log_p: FloatArray) -> FloatArray:
    """Row-wise softmax of log-probabilities."""
    return log_normalize(log_p)[0]
