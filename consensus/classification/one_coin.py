"""One-coin Dawid–Skene: one accuracy per worker, errors spread evenly over the other labels."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from consensus._base import BaseClassifier, ModelFit
from consensus._utils import safe_log
from consensus.classification._em import Design, Gold, expected_counts, mv_posterior
from consensus.classification._loop import run_em

__all__ = ["OneCoinDawidSkene", "one_coin_confusion"]

FloatArray = NDArray[np.float64]


def one_coin_confusion(accuracy: FloatArray, k: int) -> FloatArray:
    """(W, K, K) matrices with ``accuracy`` on the diagonal and the rest spread evenly."""
    off = (1.0 - accuracy) / max(k - 1, 1)
    cm = np.repeat(off[:, None, None], k, axis=1).repeat(k, axis=2)
    idx = np.arange(k)
    cm[:, idx, idx] = accuracy[:, None]
    out: FloatArray = cm
    return out


class OneCoinDawidSkene(BaseClassifier):
    r"""One-coin Dawid–Skene: worker :math:`w` is right with probability :math:`p_w`.

    A wrong answer is uniform over the other :math:`K-1` labels. Fewer parameters than full
    Dawid–Skene (one per worker), so it suits sparse workers, but it cannot express a worker who
    confuses two particular classes. Each :math:`p_w` has a Beta prior of ``prior_strength``
    pseudo-answers centred on the crowd's pooled accuracy, which keeps it from collapsing when
    the start is poor (crowd-kit's version drops to 0.19 on trec_rel).

    Args:
        n_iter: Maximum EM iterations.
        tol: Stop when the objective gains less than this per answer.
        prior_strength: Pseudo-answers in each worker's Beta prior.
        class_prior_strength: Pseudo-tasks per class in the class prior.
        rho: Answer correlation used to calibrate the posterior.

    Examples:
        >>> from consensus import Answers, OneCoinDawidSkene
        >>> a = Answers.from_records(["t1", "t1", "t1"], ["w1", "w2", "w3"], ["a", "a", "b"])
        >>> OneCoinDawidSkene().fit_predict(a).tolist()
        ['a']
    """

    def __init__(
        self,
        n_iter: int = 100,
        tol: float = 1e-6,
        prior_strength: float = 2.0,
        class_prior_strength: float = 1.0,
        rho: float = 0.0,
    ) -> None:
        self.n_iter = n_iter
        self.tol = tol
        self.prior_strength = prior_strength
        self.class_prior_strength = class_prior_strength
        self.rho = rho

    def _fit_model(self, design: Design, gold: Gold) -> ModelFit:
        k = design.n_labels
        init = mv_posterior(design, gold)
        counts0 = expected_counts(design, init)
        pooled = (np.trace(counts0, axis1=1, axis2=2).sum() + 1.0) / (counts0.sum() + 2.0)
        a = self.prior_strength * pooled
        b = self.prior_strength * (1.0 - pooled)

        def m_step(counts: FloatArray) -> tuple[FloatArray, float]:
            correct = np.trace(counts, axis1=1, axis2=2)
            n = counts.sum(axis=(1, 2))
            acc = (correct + a) / (n + a + b)
            penalty = float((a * safe_log(acc) + b * safe_log(1.0 - acc)).sum())
            return one_coin_confusion(acc, k), penalty

        res = run_em(
            design,
            gold,
            m_step,
            n_iter=self.n_iter,
            tol=self.tol,
            class_prior_strength=self.class_prior_strength,
            init=init,
        )
        return ModelFit(res.confusion, res.class_prior, res.history, res.n_iter, self.rho)
