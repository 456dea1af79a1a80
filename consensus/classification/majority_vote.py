"""Majority vote and reliability-weighted majority vote."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from consensus._base import BaseClassifier, ModelFit
from consensus._utils import safe_log
from consensus.classification._em import Design, Gold, e_step, expected_counts, mv_posterior
from consensus.classification.one_coin import one_coin_confusion

__all__ = ["MajorityVote", "WeightedMajorityVote"]

FloatArray = NDArray[np.float64]


class MajorityVote(BaseClassifier):
    """Majority vote: the most frequent answer wins; the posterior is the vote share.

    Ties go to the label that sorts first, so the result does not depend on row order. Gold tasks
    are clamped. Worker skills are measured against the majority.

    Examples:
        >>> from consensus import Answers, MajorityVote
        >>> a = Answers.from_records(["t1", "t1", "t1"], ["w1", "w2", "w3"], ["b", "a", "b"])
        >>> MajorityVote().fit_predict(a).tolist()
        ['b']
    """

    def _fit_model(self, design: Design, gold: Gold) -> ModelFit:
        post = mv_posterior(design, gold)
        prior = (post.sum(axis=0) + 1.0) / (post.sum() + design.n_labels)
        return ModelFit(np.zeros((0, design.n_labels, design.n_labels)), prior, probas=post)


class WeightedMajorityVote(BaseClassifier):
    r"""Weighted majority vote with weights learned from agreement (a one-coin hard EM).

    Each worker's accuracy :math:`a_w` is measured against the current consensus with a
    Beta prior (``prior_strength`` pseudo-answers at the crowd's mean agreement), and the vote
    weight is the log-odds :math:`\log\frac{(K-1)a_w}{1-a_w}`, the optimal weight for a one-coin
    worker (Nitzan & Paroush, 1982). A worker no better than chance gets weight 0, never a
    negative weight, so a spammer is ignored rather than inverted. ``n_iter`` rounds refine the
    consensus; the posterior is the softmax of the weighted votes.

    Args:
        n_iter: Rounds of re-weighting.
        prior_strength: Pseudo-answers in each worker's accuracy prior.
        rho: Answer correlation used to calibrate the posterior.

    Examples:
        >>> from consensus import Answers, WeightedMajorityVote
        >>> a = Answers.from_records(["t1", "t1", "t1"], ["w1", "w2", "w3"], ["b", "a", "b"])
        >>> WeightedMajorityVote().fit_predict(a).tolist()
        ['b']
    """

    def __init__(self, n_iter: int = 5, prior_strength: float = 2.0, rho: float = 0.0) -> None:
        self.n_iter = n_iter
        self.prior_strength = prior_strength
        self.rho = rho

    def _fit_model(self, design: Design, gold: Gold) -> ModelFit:
        k = design.n_labels
        post = mv_posterior(design, gold)
        flat = np.full(k, 1.0 / k)
        cm = one_coin_confusion(np.full(design.n_workers, 1.0 / k), k)
        for _ in range(max(self.n_iter, 1)):
            # Hard consensus: weights come from agreement with the current winner.
            hard = np.zeros_like(post)
            hard[np.arange(post.shape[0]), post.argmax(axis=1)] = 1.0
            counts = expected_counts(design, hard)
            correct = np.trace(counts, axis1=1, axis2=2)
            n = counts.sum(axis=(1, 2))
            mean = (correct.sum() + 1.0) / (n.sum() + 2.0)
            acc = (correct + self.prior_strength * mean) / (n + self.prior_strength)
            # Floor at chance: below-chance workers get weight 0, not a negative one.
            cm = one_coin_confusion(np.maximum(acc, 1.0 / k), k)
            post, _ = e_step(design, safe_log(cm), safe_log(flat), gold)
        return ModelFit(cm, flat, n_iter=self.n_iter, rho=self.rho)
