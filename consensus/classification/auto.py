"""``Auto``: the default method. Picks the model that predicts held-out answers best, calibrates."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from consensus._base import BaseClassifier, ModelFit
from consensus._data import Answers
from consensus._params import clone
from consensus._utils import log_normalize, safe_log
from consensus.calibration import tempered_log_posterior
from consensus.classification._em import Design, Gold, expected_counts, task_logliks
from consensus.classification.dawid_skene import DawidSkene
from consensus.classification.one_coin import OneCoinDawidSkene
from consensus.classification.pooled import PooledDawidSkene

__all__ = ["DEFAULT_RHO", "Auto", "fit_rho", "heldout_score"]

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.intp]

# Answer correlation used when a job has too little gold to measure its own. One number for
# every crowd, chosen to minimise the mean calibration error over the seven public data sets
# (leave-one-set-out figures in benchmarks/consensus/README.md), not fitted to any one of them.
DEFAULT_RHO = 0.35
# Gold tasks needed before the job's own answer correlation replaces DEFAULT_RHO.
MIN_GOLD_FOR_CALIBRATION = 30
# Gold tasks at which the job's own measured rho and DEFAULT_RHO get equal weight.
GOLD_HALF_TRUST = 30
# Answers scored by the model check; a random subset keeps it cheap on a million answers.
MAX_CHECK_ANSWERS = 200_000


def heldout_score(answers: Answers, design: Design, model: BaseClassifier) -> float:
    """Mean log-probability of each answer predicted from the *other* answers on its task.

    For answer ``a`` by worker ``w`` on task ``t``: remove a's own term from t's log posterior,
    and remove a's own expected count from w's confusion matrix (both exact for the
    Dirichlet-count models used here), then score ``P(label_a) = sum_k p(k | rest) CM_w[k, label_a]``.
    A model that overfits (a full matrix for a worker with five answers) or that does not fit
    the crowd (one-coin on graded relevance) predicts held-out answers badly, so this is a fair,
    unsupervised check of which model describes the crowd best.
    """
    skills = model.skills_
    cm = skills.confusion
    rng = np.random.default_rng(0)
    idx = np.arange(answers.n_answers)
    if idx.size > MAX_CHECK_ANSWERS:
        idx = np.sort(rng.choice(idx, MAX_CHECK_ANSWERS, replace=False))
    t, w, lab = answers.task[idx], answers.worker[idx], answers.label[idx]
    joint = task_logliks(design, safe_log(cm)) + safe_log(skills.class_prior)
    own = safe_log(cm[w, :, lab])  # (m, K): this answer's term for every class
    p_rest = log_normalize(joint[t] - own)[0]
    loo_entry = _loo_entry(model, design, cm, w, lab, model.probas_[t])
    pred = (p_rest * loo_entry).sum(axis=1)
    return float(np.log(np.maximum(pred, 1e-300)).mean())


def _loo_entry(
    model: BaseClassifier,
    design: Design,
    cm: FloatArray,
    w: IntArray,
    lab: IntArray,
    p_own: FloatArray,
) -> FloatArray:
    """``CM_w[:, label]`` re-estimated without this answer's own soft count, shape (m, K)."""
    counts = expected_counts(design, model.probas_)
    if isinstance(model, DawidSkene):
        # CM = (c + alpha) / (N + A); remove p_own from c[k, label] and from N[k].
        mass = counts.sum(axis=2)[w] + model.prior_strength
        out = (cm[w, :, lab] * mass - p_own) / np.maximum(mass - p_own, 1e-9)
    elif isinstance(model, OneCoinDawidSkene):
        k = design.n_labels
        correct = np.trace(counts, axis1=1, axis2=2)[w] - p_own[np.arange(w.shape[0]), lab]
        n = counts.sum(axis=(1, 2))[w] - 1.0
        acc0 = cm[w, 0, 0] if k == 1 else np.trace(cm, axis1=1, axis2=2)[w] / k
        # Recover the Beta prior's mass from acc = (correct_all + a) / (n_all + s).
        s = model.prior_strength
        a_prior = acc0 * (n + 1.0 + s) - (correct + p_own[np.arange(w.shape[0]), lab])
        acc = (correct + a_prior) / (n + s)
        out = np.repeat(((1.0 - acc) / max(k - 1, 1))[:, None], k, axis=1)
        out[np.arange(w.shape[0]), lab] = acc
    else:  # a crowd-wide matrix: one answer's influence is negligible
        out = cm[w, :, lab]
    clipped: FloatArray = np.clip(out, 1e-9, 1.0)
    return clipped


def fit_rho(joint: FloatArray, n_answers: FloatArray, gold: Gold) -> float:
    """Answer correlation that minimises the gold labels' log loss under the tempered posterior."""
    j, n = joint[gold.task], np.maximum(n_answers[gold.task] - 1.0, 0.0)

    def nll(rho: float) -> float:
        logp = log_normalize(tempered_log_posterior(j, np.zeros(j.shape[1]), n + 1.0, rho))[0]
        return -float(safe_log(logp[np.arange(j.shape[0]), gold.label]).sum())

    from scipy.optimize import minimize_scalar  # only here: keeps scipy.optimize off start-up

    res = minimize_scalar(nll, bounds=(0.0, 3.0), method="bounded")
    return float(res.x)


class Auto(BaseClassifier):
    """The default: robust across crowds, never collapses, calibrated.

    Design (no per-data-set switches; every choice is made from the job's own answers):

    1. **Candidates that cannot degenerate.** Full Dawid–Skene, one-coin Dawid–Skene and a
       pooled model (one confusion matrix shared by the whole crowd: naive Bayes with crowd-wide
       error rates, the safe fallback that behaves like a smarter majority vote). Every
       parameter has a Dirichlet/Beta prior of a few pseudo-answers shaped like the pooled crowd,
       so a worker with few answers is shrunk towards the crowd instead of getting a 0/1 matrix,
       and all models start from majority vote.
    2. **Model check.** Each candidate predicts every answer from the *other* answers on the task
       with the answer's own count removed from its worker's matrix (:func:`heldout_score`).
       The candidate that predicts held-out answers best wins. A model that does not fit the
       crowd (one-coin on graded relevance, where crowd-kit's OneCoinDS falls to 0.19) or that
       overfits sparse workers (full matrices from five answers) loses to the pooled fallback.
    3. **Calibration.** Workers' errors are correlated (an ambiguous image fools many of them),
       so n answers are worth ``n / (1 + (n-1) rho)`` independent ones; the final log posterior
       is divided by that design effect (:mod:`consensus.calibration`), which keeps every label
       and only changes the confidence. With at least 30 gold tasks, ``rho`` is measured on
       the job's own gold (log loss of gold tasks scored by a model fitted on the other half of
       the gold: two-fold cross-fitting) and shrunk towards :data:`DEFAULT_RHO` in proportion to
       how little gold there is; without gold it is :data:`DEFAULT_RHO`, one value for all
       crowds. No unsupervised signal can replace gold here: a crowd that is unanimously wrong
       on ambiguous items looks exactly like one that is unanimously right. The online step
       applies the same formula.
    4. **Gold** clamps its tasks and informs the workers in every candidate.

    Fitted attributes, besides the common ones: ``model_`` (the chosen fitted estimator),
    ``scores_`` (held-out score per candidate name), ``rho_``.

    Args:
        prior_strength: Pseudo-answers per confusion row in the candidates' priors.
        rho: Answer correlation; ``None`` measures it on gold or uses :data:`DEFAULT_RHO`.

    Examples:
        >>> from consensus import Answers, Auto
        >>> a = Answers.from_records(
        ...     ["t1", "t1", "t1", "t2", "t2", "t2"],
        ...     ["w1", "w2", "w3", "w1", "w2", "w3"],
        ...     ["cat", "cat", "dog", "dog", "dog", "dog"])
        >>> Auto().fit_predict(a).tolist()
        ['cat', 'dog']
    """

    model_: BaseClassifier
    scores_: dict[str, float]
    rho_: float

    def __init__(self, prior_strength: float = 8.0, rho: float | None = None) -> None:
        self.prior_strength = prior_strength
        self.rho = rho

    def _candidates(self) -> dict[str, BaseClassifier]:
        s = self.prior_strength
        return {
            "ds": DawidSkene(prior_strength=s),
            "onecoin": OneCoinDawidSkene(prior_strength=s),
            "pooled": PooledDawidSkene(),
        }

    def _rho_from_gold(self, a: Answers, design: Design, gold: Gold) -> float:
        """Answer correlation measured on gold by two-fold cross-fitting.

        A gold task is clamped in the final fit, so its own posterior says nothing about
        calibration. Each half of the gold is instead scored by the chosen model refitted with
        only the *other* half clamped: exactly the position of an ordinary task in the final
        fit (its workers informed by gold, the task itself not), so the measured rho transfers.
        """
        fold = np.random.default_rng(0).permutation(gold.task.size) % 2
        joints, labels, n = [], [], []
        names, label_names = a.task_names, a.label_names
        for f in (0, 1):
            train = fold != f
            known = dict(
                zip(
                    names[gold.task[train]].tolist(),
                    label_names[gold.label[train]].tolist(),
                    strict=True,
                )
            )
            sk = clone(self.model_).fit(a, known).skills_
            joint = task_logliks(design, safe_log(sk.confusion)) + safe_log(sk.class_prior)
            test = gold.task[~train]
            joints.append(joint[test])
            labels.append(gold.label[~train])
            n.append(design.answers_per_task[test])
        held = Gold(np.arange(sum(len(x) for x in labels)), np.concatenate(labels))
        measured = fit_rho(np.concatenate(joints), np.concatenate(n), held)
        # A few dozen gold tasks measure rho noisily: shrink towards the cross-crowd default,
        # trusting the job's own estimate half-way at GOLD_HALF_TRUST gold tasks.
        w = gold.task.size / (gold.task.size + GOLD_HALF_TRUST)
        return w * measured + (1.0 - w) * DEFAULT_RHO

    def _fit_model(self, design: Design, gold: Gold) -> ModelFit:
        a = self._fit_answers
        fitted = {name: m.fit(a, self._fit_gold) for name, m in self._candidates().items()}
        self.scores_ = {name: heldout_score(a, design, m) for name, m in fitted.items()}
        best = max(self.scores_, key=lambda name: self.scores_[name])
        self.model_ = fitted[best]
        sk = self.model_.skills_
        if self.rho is not None:
            self.rho_ = float(self.rho)
        elif gold.task.size >= MIN_GOLD_FOR_CALIBRATION:
            self.rho_ = self._rho_from_gold(a, design, gold)
        else:
            self.rho_ = DEFAULT_RHO
        return ModelFit(
            sk.confusion, sk.class_prior, self.model_.loss_history_, self.model_.n_iter_, self.rho_
        )
