"""Calibration of posteriors: correlated answers are worth fewer independent ones.

Dawid–Skene-type models assume workers err independently given the truth. Real crowds do not:
on an ambiguous image most workers make the *same* mistake, so n agreeing answers carry much less
evidence than n independent ones and the raw posterior is overconfident (crowd-kit's DS puts 95%
of face tasks at p >= 0.9 with 66% of them right).

The classical correction for n correlated observations with intra-class correlation rho is the
design effect: they are worth ``n_eff = n / (1 + (n - 1) * rho)`` independent ones (Kish). We apply
it to the whole log posterior (prior included, so the label never changes, only the
confidence)::

    log p(k | answers) = (log prior_k + loglik_k) / (1 + (n - 1) * rho) + const

``rho = 0`` is the plain model. It is one number with a meaning (how alike two answers on the
same task are beyond the truth), it is worker-count aware by construction, and the online step
applies the same formula, so batch and online posteriors agree.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

__all__ = ["expected_calibration_error", "tempered_log_posterior"]

FloatArray = NDArray[np.float64]


def tempered_log_posterior(
    loglik: FloatArray, log_prior: FloatArray, n_answers: FloatArray, rho: float
) -> FloatArray:
    """Unnormalised log posterior divided by the design effect (argmax unchanged).

    Args:
        loglik: (T, K) sum of the answers' log-likelihoods per class.
        log_prior: (K,) log class prior.
        n_answers: (T,) answers per task.
        rho: Answer correlation in [0, 1); 0 leaves the model's posterior unchanged.
    """
    design_effect = 1.0 + np.maximum(n_answers - 1.0, 0.0) * rho
    out: FloatArray = (log_prior + loglik) / design_effect[:, None]
    return out


def expected_calibration_error(
    confidence: FloatArray, correct: NDArray[np.bool_], n_bins: int = 10
) -> float:
    """ECE with equal-width bins over [0, 1]: sum over bins of |accuracy - confidence| x share."""
    if confidence.size == 0:
        return 0.0
    bins = np.minimum((confidence * n_bins).astype(np.intp), n_bins - 1)
    conf_sum = np.bincount(bins, weights=confidence, minlength=n_bins)
    acc_sum = np.bincount(bins, weights=correct.astype(np.float64), minlength=n_bins)
    # |sum of accuracy - sum of confidence| per bin / N  ==  sum over bins of share x |acc - conf|.
    return float(np.abs(acc_sum - conf_sum).sum() / confidence.size)
