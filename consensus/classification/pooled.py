"""Pooled Dawid–Skene: one confusion matrix shared by the whole crowd (the robust fallback)."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from consensus._base import BaseClassifier, ModelFit
from consensus.classification._em import Design, Gold, expected_counts, mv_posterior
from consensus.classification._loop import run_em
from consensus.classification.dawid_skene import dirichlet_m_step, population_prior

__all__ = ["PooledDawidSkene"]

FloatArray = NDArray[np.float64]


class PooledDawidSkene(BaseClassifier):
    """Dawid–Skene with a single confusion matrix for all workers.

    K x K parameters in total, so it cannot overfit a sparse crowd, yet unlike majority vote it
    learns the class prior and which classes the crowd confuses (e.g. neighbouring relevance
    grades). :class:`~consensus.classification.auto.Auto` falls back to it when per-worker models
    predict held-out answers worse.

    Args:
        n_iter: Maximum EM iterations.
        tol: Stop when the objective gains less than this per answer.
        rho: Answer correlation used to calibrate the posterior.

    Examples:
        >>> from consensus import Answers
        >>> from consensus.classification import PooledDawidSkene
        >>> a = Answers.from_records(["t1", "t1", "t1"], ["w1", "w2", "w3"], ["a", "a", "b"])
        >>> PooledDawidSkene().fit_predict(a).tolist()
        ['a']
    """

    def __init__(self, n_iter: int = 100, tol: float = 1e-6, rho: float = 0.0) -> None:
        self.n_iter = n_iter
        self.tol = tol
        self.rho = rho

    def _fit_model(self, design: Design, gold: Gold) -> ModelFit:
        n_w = design.n_workers
        # A prior of 10 pseudo-answers per row shaped like the majority-vote start keeps a tiny
        # job from sliding into "everything is the majority class".
        init = mv_posterior(design, gold)
        alpha = population_prior(expected_counts(design, init), 10.0)[None]

        def m_step(counts: FloatArray) -> tuple[FloatArray, float]:
            cm, penalty = dirichlet_m_step(counts.sum(axis=0, keepdims=True), alpha)
            return np.repeat(cm, n_w, axis=0), penalty

        res = run_em(
            design,
            gold,
            m_step,
            n_iter=self.n_iter,
            tol=self.tol,
            class_prior_strength=1.0,
            init=init,
        )
        return ModelFit(res.confusion, res.class_prior, res.history, res.n_iter, self.rho)
