"""Base class of the classification estimators: input handling, outputs and worker skills.

A subclass implements :meth:`BaseClassifier._fit_model`, which returns the fitted confusion
matrices and class prior; everything a user reads (labels, posteriors, skills) is derived here in
one way, so every method reports its results identically and the online step can reproduce them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Self

import numpy as np
from numpy.typing import NDArray

from consensus._data import Answers
from consensus._params import Estimator, check_is_fitted
from consensus._utils import log_normalize, row_argmax_max, safe_log
from consensus.calibration import tempered_log_posterior
from consensus.classification._em import Design, Gold, expected_counts, task_logliks
from consensus.skills import WorkerSkills

__all__ = ["BaseClassifier", "ModelFit"]

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.intp]

GoldLike = Mapping[str, str] | None


@dataclass
class ModelFit:
    """What a model's fit returns to the base class."""

    confusion: FloatArray  # (W, K, K)
    class_prior: FloatArray  # (K,)
    history: list[float] = field(default_factory=list)
    n_iter: int = 0
    rho: float = 0.0
    # Set when the model's posterior is not the confusion-matrix one (majority vote).
    probas: FloatArray | None = None
    # The EM's last posterior, when it is the confusion-matrix one of ``confusion`` and
    # ``class_prior`` (then, at rho = 0, it need not be recomputed: one E-step less per fit).
    posterior: FloatArray | None = None


class BaseClassifier(Estimator):
    """Shared ``fit`` / ``fit_predict`` / ``fit_predict_proba`` for every classification model.

    Fitted attributes (every subclass):
        labels_: Label name per task (``task_names_`` order).
        label_codes_: Label code per task.
        probas_: (n_tasks, n_labels) posterior; rows sum to 1.
        confidence_: Max of each posterior row.
        task_names_, worker_names_, label_names_: Decoders of the codes.
        skills_: :class:`~consensus.skills.WorkerSkills` (confusion, accuracy and its std).
        loss_history_: Log-likelihood (with priors) after each EM iteration; empty if not EM.
        n_iter_: EM iterations run.
    """

    labels_: NDArray[np.str_]
    label_codes_: IntArray
    probas_: FloatArray
    confidence_: FloatArray
    task_names_: NDArray[np.str_]
    worker_names_: NDArray[np.str_]
    label_names_: NDArray[np.str_]
    skills_: WorkerSkills
    loss_history_: list[float]
    n_iter_: int

    def _fit_model(self, design: Design, gold: Gold) -> ModelFit:
        raise NotImplementedError

    def fit(self, answers: Answers, gold: GoldLike = None) -> Self:
        """Fit the model to the answers.

        Args:
            answers: The crowd's answers.
            gold: Known true labels ``{task: label}`` (honeypots). They clamp their tasks'
                posteriors and inform the worker parameters.

        Returns:
            self.
        """
        # Kept for models that need the per-answer arrays (GLAD) or refit candidates (Auto).
        self._fit_answers = answers
        self._fit_gold: dict[str, str] = dict(gold) if gold else {}
        design = Design.from_answers(answers)
        g_t, g_l = answers.gold_codes(dict(gold) if gold else {})
        g = Gold(g_t, g_l)
        if answers.n_answers == 0:
            k = answers.n_labels
            fit = ModelFit(np.zeros((0, k, k)), np.full(k, 1.0 / max(k, 1)))
        else:
            fit = self._fit_model(design, g)
        self._set_results(answers, design, g, fit)
        return self

    def fit_predict(self, answers: Answers, gold: GoldLike = None) -> NDArray[np.str_]:
        """Fit, then return the label name of every task (``task_names_`` order)."""
        return self.fit(answers, gold).labels_

    def fit_predict_proba(self, answers: Answers, gold: GoldLike = None) -> FloatArray:
        """Fit, then return the (n_tasks, n_labels) posterior."""
        return self.fit(answers, gold).probas_

    def predict(self) -> NDArray[np.str_]:
        """Labels of the last fit."""
        check_is_fitted(self, "labels_")
        return self.labels_

    def _set_results(self, answers: Answers, design: Design, gold: Gold, fit: ModelFit) -> None:
        if fit.probas is not None:
            probas = fit.probas
        elif fit.posterior is not None and fit.rho == 0:
            probas = fit.posterior.copy()
        else:
            loglik = task_logliks(design, safe_log(fit.confusion))
            log_post = tempered_log_posterior(
                loglik, safe_log(fit.class_prior), design.answers_per_task, fit.rho
            )
            probas = log_normalize(log_post)[0]
        if gold.task.size:
            probas[gold.task] = 0.0
            probas[gold.task, gold.label] = 1.0
        self.probas_ = probas
        if probas.size:
            self.label_codes_, self.confidence_ = row_argmax_max(probas)
        else:
            self.label_codes_, self.confidence_ = np.zeros(0, np.intp), np.zeros(design.n_tasks)
        self.labels_ = (
            answers.label_names[self.label_codes_] if answers.n_labels else np.zeros(0, np.str_)
        )
        self.task_names_ = answers.task_names
        self.worker_names_ = answers.worker_names
        self.label_names_ = answers.label_names
        self.loss_history_ = fit.history
        self.n_iter_ = fit.n_iter
        self.skills_ = _skills(answers, design, probas, fit)


def _skills(answers: Answers, design: Design, probas: FloatArray, fit: ModelFit) -> WorkerSkills:
    """Worker skills from the final posterior (accuracy) and the model (confusion)."""
    k = design.n_labels
    counts = (
        expected_counts(design, probas) if design.n_tasks else np.zeros((design.n_workers, k, k))
    )
    correct = np.trace(counts, axis1=1, axis2=2) if k else np.zeros(design.n_workers)
    cm = fit.confusion
    if cm.shape[0] != design.n_workers:  # majority vote: confusion from the posterior counts
        cm = (counts + 1.0 / max(k, 1)) / (counts.sum(axis=2, keepdims=True) + 1.0)
    weights = design.answers_per_worker
    if weights.sum() > 0:
        default = np.tensordot(weights, cm, axes=1) / weights.sum()
    else:
        default = np.full((k, k), 1.0 / max(k, 1))
    return WorkerSkills(
        label_names=answers.label_names.tolist(),
        worker_names=answers.worker_names.tolist(),
        confusion=cm,
        class_prior=fit.class_prior,
        n_answers=design.answers_per_worker,
        expected_correct=correct,
        default_confusion=default,
        rho=fit.rho,
    )
