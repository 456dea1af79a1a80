"""The EM loop shared by Dawid–Skene and one-coin Dawid–Skene (MAP-EM with Dirichlet priors)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from consensus._utils import column_sums, safe_log
from consensus.classification._em import Design, Gold, e_step, expected_counts, mv_posterior

__all__ = ["EMResult", "MStep", "class_prior_map", "gold_weighted", "run_em"]

FloatArray = NDArray[np.float64]

# An M-step maps expected counts (W, K, K) to (confusion, log-density of the parameter prior).
MStep = Callable[[FloatArray], tuple[FloatArray, float]]


@dataclass
class EMResult:
    confusion: FloatArray
    class_prior: FloatArray
    posterior: FloatArray
    history: list[float]
    n_iter: int


def class_prior_map(post: FloatArray, strength: float) -> tuple[FloatArray, float]:
    """MAP class prior under a symmetric Dirichlet(1 + strength) and its log-density."""
    counts = column_sums(post) + strength
    prior = counts / counts.sum()
    return prior, float(strength * safe_log(prior).sum())


def gold_weighted(post: FloatArray, gold: Gold, weight: float) -> FloatArray:
    """The posterior with gold tasks' rows scaled by ``weight`` (for the workers' counts)."""
    if weight == 1.0 or not gold.task.size:
        return post
    out = post.copy()
    out[gold.task] *= weight
    return out


def run_em(
    design: Design,
    gold: Gold,
    m_step: MStep,
    *,
    n_iter: int,
    tol: float,
    class_prior_strength: float,
    init: FloatArray | None = None,
    gold_weight: float = 1.0,
) -> EMResult:
    """MAP-EM from a majority-vote start until the objective gains less than ``tol`` per answer.

    The objective is the log-likelihood of the answers (and gold) plus the log prior density of
    the parameters; with fixed priors each EM iteration cannot decrease it, which the tests check.
    The tolerance is per answer so the stopping point does not depend on the data size.
    ``gold_weight`` is what a gold task counts for in the workers' expected counts (an ordinary
    task counts 1, spread over its posterior): a known label is firmer evidence of a worker's
    confusion than an inferred one. The objective then counts the gold tasks' answer terms
    ``gold_weight`` times (the class prior's terms once), which keeps each iteration monotone.
    """
    post = mv_posterior(design, gold) if init is None else init
    history: list[float] = []
    n_answers = max(float(design.answers_per_task.sum()), 1.0)
    cm = np.zeros((design.n_workers, design.n_labels, design.n_labels))
    prior = np.full(design.n_labels, 1.0 / design.n_labels)
    extra = gold_weight != 1.0 and gold.task.size > 0
    if extra:
        onehot = np.zeros((design.n_tasks, design.n_labels))
        onehot[gold.task, gold.label] = 1.0
        gold_counts = expected_counts(design, onehot)
    for _ in range(n_iter):
        cm, cm_penalty = m_step(expected_counts(design, gold_weighted(post, gold, gold_weight)))
        prior, prior_penalty = class_prior_map(post, class_prior_strength)
        post, loglik = e_step(design, safe_log(cm), safe_log(prior), gold)
        if extra:
            loglik += (gold_weight - 1.0) * float((gold_counts * safe_log(cm)).sum())
        history.append(loglik + cm_penalty + prior_penalty)
        if len(history) > 1 and history[-1] - history[-2] < tol * n_answers:
            break
    return EMResult(cm, prior, post, history, len(history))
