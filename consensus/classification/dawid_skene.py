"""Dawid–Skene with full confusion matrices, MAP-EM in log space, Dirichlet priors, gold-aware."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from consensus._base import BaseClassifier, ModelFit
from consensus._utils import safe_log
from consensus.classification._em import Design, Gold, expected_counts, mv_posterior
from consensus.classification._loop import gold_weighted, run_em

__all__ = ["DawidSkene", "population_prior"]

FloatArray = NDArray[np.float64]


def population_prior(counts: FloatArray, strength: float) -> FloatArray:
    """Dirichlet pseudo-counts: ``strength`` answers per row, shaped like the pooled crowd.

    The pooled confusion matrix (all workers' counts summed) is what we believe of a worker we
    know nothing about; a worker with few answers is shrunk towards it instead of getting a
    degenerate matrix of zeros and ones (empirical Bayes, as in hierarchical Dawid–Skene).
    A little uniform mass keeps every entry positive.
    """
    k = counts.shape[-1]
    pooled = counts.sum(axis=0) + 1.0 / k
    pooled /= pooled.sum(axis=1, keepdims=True)
    out: FloatArray = strength * pooled
    return out


def dirichlet_m_step(counts: FloatArray, alpha: FloatArray) -> tuple[FloatArray, float]:
    """MAP confusion matrices under Dirichlet(alpha + 1) and the prior's log-density."""
    # The tiny floor gives an unseen row (a class a worker never met) a uniform row, not 0/0.
    cm = counts + alpha + 1e-9
    cm /= cm.sum(axis=2, keepdims=True)
    penalty = float((alpha * safe_log(cm)).sum())
    return cm, penalty


class DawidSkene(BaseClassifier):
    r"""Dawid–Skene: one confusion matrix per worker, true labels latent, fitted by EM.

    Each worker :math:`w` answers :math:`l` for a task whose truth is :math:`k` with probability
    :math:`\pi^w_{kl}`, independently of other workers given the truth. EM alternates the
    posterior over true labels (E-step, in logs, since a task's likelihood is a product of many
    small numbers) and the confusion matrices (M-step, expected counts). Each row of each matrix
    has a Dirichlet prior of ``prior_strength`` pseudo-answers shaped like the pooled crowd, so a
    worker with three answers is not declared perfect (or perfectly wrong), and the class prior has
    ``class_prior_strength`` pseudo-tasks per class. Gold tasks are clamped to their label and
    thereby calibrate the workers who answered them.

    A. P. Dawid and A. M. Skene. Maximum Likelihood Estimation of Observer Error-Rates Using the
    EM Algorithm. Journal of the Royal Statistical Society C, 28(1):20–28, 1979.

    Args:
        n_iter: Maximum EM iterations.
        tol: Stop when the objective gains less than this per answer.
        prior_strength: Pseudo-answers per confusion-matrix row (0 = plain maximum likelihood).
        class_prior_strength: Pseudo-tasks per class in the class prior.
        rho: Answer correlation used to calibrate the posterior (see
            :mod:`consensus.calibration`); 0 is the raw model posterior.
        gold_weight: What one gold task counts for in its workers' confusion counts (an
            ordinary task counts 1, spread over its posterior). ``Auto`` chooses it on the
            job's gold by cross-fitting.

    Examples:
        >>> from consensus import Answers, DawidSkene
        >>> a = Answers.from_records(
        ...     ["t1", "t1", "t1", "t2", "t2", "t2"],
        ...     ["w1", "w2", "w3", "w1", "w2", "w3"],
        ...     ["cat", "cat", "dog", "dog", "dog", "dog"])
        >>> DawidSkene().fit_predict(a).tolist()
        ['cat', 'dog']
    """

    def __init__(
        self,
        n_iter: int = 100,
        tol: float = 1e-6,
        prior_strength: float = 2.0,
        class_prior_strength: float = 1.0,
        rho: float = 0.0,
        gold_weight: float = 1.0,
    ) -> None:
        self.n_iter = n_iter
        self.tol = tol
        self.prior_strength = prior_strength
        self.class_prior_strength = class_prior_strength
        self.rho = rho
        self.gold_weight = gold_weight

    def _fit_model(self, design: Design, gold: Gold) -> ModelFit:
        init = mv_posterior(design, gold)
        counts0 = expected_counts(design, gold_weighted(init, gold, self.gold_weight))
        alpha = population_prior(counts0, self.prior_strength)
        res = run_em(
            design,
            gold,
            lambda counts: dirichlet_m_step(counts, alpha),
            n_iter=self.n_iter,
            tol=self.tol,
            class_prior_strength=self.class_prior_strength,
            init=init,
            gold_weight=self.gold_weight,
        )
        return ModelFit(
            res.confusion,
            res.class_prior,
            res.history,
            res.n_iter,
            self.rho,
            posterior=res.posterior,
        )
