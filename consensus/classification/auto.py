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
# With at least this many gold tasks, Auto also chooses how to learn from them (below).
MIN_GOLD_FOR_SELECTION = 10
# The Dawid–Skene variants it chooses among: prior strength (pseudo-answers per confusion row)
# and what one gold task counts for in its workers' counts.
GOLD_PRIOR_STRENGTHS = (2.0, 8.0, 32.0)
GOLD_WEIGHTS = (1.0, 3.0, 10.0, 30.0)
# The unsupervised choice stays unless a variant's cross-fitted gold log-likelihood is higher by
# more than this many nats (a likelihood ratio of e^2 = 7.4, "positive evidence" on the
# Kass-Raftery scale). Fixed before any measurement.
SELECTION_MARGIN = 2.0
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
    return _rho_and_log_loss(joint[gold.task], n_answers[gold.task], gold.label)[0]


def _rho_and_log_loss(
    joint: FloatArray, n_answers: FloatArray, labels: IntArray
) -> tuple[float, float]:
    """``fit_rho`` on gold rows already selected, with the minimised log loss (nats, summed)."""
    n = np.maximum(n_answers - 1.0, 0.0)

    def nll(rho: float) -> float:
        logp = log_normalize(tempered_log_posterior(joint, np.zeros(joint.shape[1]), n + 1.0, rho))[
            0
        ]
        return -float(safe_log(logp[np.arange(joint.shape[0]), labels]).sum())

    from scipy.optimize import minimize_scalar  # only here: keeps scipy.optimize off start-up

    res = minimize_scalar(nll, bounds=(0.0, 3.0), method="bounded")
    return float(res.x), float(res.fun)


def cross_fitted_joint(
    design: Design, gold: Gold, model: BaseClassifier, fold: IntArray
) -> FloatArray:
    """Each gold task's joint log p(answers, k) from ``model`` fitted with the *other* folds' gold.

    That is exactly an ordinary task's position in the final fit (its workers informed by gold,
    the task itself not clamped), so a score on it measures how the final fit does elsewhere.
    Returns the (n_gold, K) joints in ``gold`` order.
    """
    out = np.zeros((gold.task.size, design.n_labels))
    for f in np.unique(fold):
        train, test = fold != f, fold == f
        fit = clone(model)._fit_model(design, Gold(gold.task[train], gold.label[train]))
        joint = task_logliks(design, safe_log(fit.confusion)) + safe_log(fit.class_prior)
        out[test] = joint[gold.task[test]]
    return out


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
    4. **Gold** clamps its tasks and informs the workers in every candidate. With at least
       :data:`MIN_GOLD_FOR_SELECTION` gold tasks, ``Auto`` also chooses *how* to learn from
       them: among Dawid–Skene variants with other prior strengths (:data:`GOLD_PRIOR_STRENGTHS`)
       and gold weights (:data:`GOLD_WEIGHTS`: what one gold task counts for in its workers'
       confusion counts, against 1 for an inferred one), by the gold's cross-fitted log-likelihood
       (two folds, each scored by the variant fitted with the other fold clamped). The
       unsupervised choice stays unless a variant beats it by :data:`SELECTION_MARGIN` nats, so
       a handful of gold tasks changes nothing; a crowd whose majority misreads the
       instructions (labels swapped) is put right by a heavy gold weight, which no
       unsupervised model can do.

    Fitted attributes, besides the common ones: ``model_`` (the chosen fitted estimator),
    ``scores_`` (held-out score per candidate name), ``choice_`` (the chosen candidate's name),
    ``gold_scores_`` (cross-fitted gold log-likelihood per variant; empty without enough gold),
    ``rho_``.

    Args:
        prior_strength: Pseudo-answers per confusion row in the candidates' priors.
        rho: Answer correlation; ``None`` measures it on gold or uses :data:`DEFAULT_RHO`.
        use_gold: Choose the variant on gold (above); ``False`` only clamps gold tasks and
            counts them once, as before.

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
    gold_scores_: dict[str, float]
    choice_: str
    rho_: float

    def __init__(
        self, prior_strength: float = 8.0, rho: float | None = None, use_gold: bool = True
    ) -> None:
        self.prior_strength = prior_strength
        self.rho = rho
        self.use_gold = use_gold

    def _candidates(self) -> dict[str, BaseClassifier]:
        s = self.prior_strength
        return {
            "ds": DawidSkene(prior_strength=s),
            "onecoin": OneCoinDawidSkene(prior_strength=s),
            "pooled": PooledDawidSkene(),
        }

    def _gold_candidates(self, default: str) -> dict[str, BaseClassifier]:
        """The unsupervised choice plus Dawid–Skene variants that use gold differently."""
        out = {default: self._candidates()[default]}
        for s in GOLD_PRIOR_STRENGTHS:
            for g in GOLD_WEIGHTS:
                name = f"ds s={s:g} gold_weight={g:g}"
                if default == "ds" and s == self.prior_strength and g == 1.0:
                    continue  # the default itself
                out[name] = DawidSkene(prior_strength=s, gold_weight=g)
        return out

    def _choose_with_gold(
        self, design: Design, gold: Gold, default: str
    ) -> tuple[str, BaseClassifier, float]:
        """The candidate with the lowest cross-fitted gold log loss, and its measured rho.

        Two folds; each candidate's held-out gold joints are tempered by the rho that fits them
        best, so the comparison is of what the candidates know, not of their calibration. The
        default (the unsupervised choice) is kept unless another candidate does better by
        :data:`SELECTION_MARGIN` nats: with a handful of gold tasks, nothing moves.
        """
        fold = np.random.default_rng(0).permutation(gold.task.size) % 2
        n = design.answers_per_task[gold.task]
        self.gold_scores_ = {}
        rhos: dict[str, float] = {}
        candidates = self._gold_candidates(default)
        for name, model in candidates.items():
            joint = cross_fitted_joint(design, gold, model, fold)
            rhos[name], loss = _rho_and_log_loss(joint, n, gold.label)
            self.gold_scores_[name] = -loss
        best = max(self.gold_scores_, key=lambda name: self.gold_scores_[name])
        if self.gold_scores_[best] <= self.gold_scores_[default] + SELECTION_MARGIN:
            best = default
        return best, candidates[best], rhos[best]

    def _fit_model(self, design: Design, gold: Gold) -> ModelFit:
        a = self._fit_answers
        fitted = {name: m.fit(a, self._fit_gold) for name, m in self._candidates().items()}
        self.scores_ = {name: heldout_score(a, design, m) for name, m in fitted.items()}
        best = max(self.scores_, key=lambda name: self.scores_[name])
        self.model_ = fitted[best]
        self.choice_ = best
        self.gold_scores_ = {}
        measured: float | None = None
        if self.use_gold and gold.task.size >= MIN_GOLD_FOR_SELECTION:
            self.choice_, model, measured = self._choose_with_gold(design, gold, best)
            if self.choice_ != best:
                self.model_ = model.fit(a, self._fit_gold)
        sk = self.model_.skills_
        if self.rho is not None:
            self.rho_ = float(self.rho)
        elif gold.task.size >= MIN_GOLD_FOR_CALIBRATION:
            if measured is None:
                fold = np.random.default_rng(0).permutation(gold.task.size) % 2
                joint = cross_fitted_joint(design, gold, fitted[best], fold)
                measured = _rho_and_log_loss(joint, design.answers_per_task[gold.task], gold.label)[
                    0
                ]
            # A few dozen gold tasks measure rho noisily: shrink towards the cross-crowd default,
            # trusting the job's own estimate half-way at GOLD_HALF_TRUST gold tasks.
            w = gold.task.size / (gold.task.size + GOLD_HALF_TRUST)
            self.rho_ = w * measured + (1.0 - w) * DEFAULT_RHO
        else:
            self.rho_ = DEFAULT_RHO
        return ModelFit(
            sk.confusion, sk.class_prior, self.model_.loss_history_, self.model_.n_iter_, self.rho_
        )
