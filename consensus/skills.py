"""Worker skills: the state the service stores between submits, and the online posterior.

:class:`WorkerSkills` holds every worker's confusion matrix, the class prior and the calibration
parameter, serialises to plain JSON (``to_dict`` / ``from_dict``) for the database, and computes
the posterior of one task from its answers in microseconds (:meth:`WorkerSkills.posterior`),
with exactly the arithmetic the batch estimators use, so the two agree.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from consensus._utils import safe_log
from consensus.errors import InputError

__all__ = ["WorkerSkills", "posterior_for_task"]

FloatArray = NDArray[np.float64]

SCHEMA_VERSION = 1


@dataclass
class WorkerSkills:
    """Per-worker confusion matrices plus what is needed to score a new task.

    Attributes:
        label_names: The classes, in the order of every K axis below.
        worker_names: Worker identifiers, in the order of the first axis of ``confusion``.
        confusion: ``confusion[w, k, l]`` = P(worker w answers l | truth k), shape (W, K, K).
        class_prior: P(truth = k), shape (K,).
        n_answers: Answers each worker gave in the fit, shape (W,).
        expected_correct: Expected number of those answers that were right, shape (W,).
        default_confusion: Confusion matrix for a worker not seen in the fit (the
            answer-weighted population average), shape (K, K).
        rho: Calibration: correlation between answers on one task (see
            :func:`consensus.calibration.tempered_log_posterior`).
    """

    label_names: list[str]
    worker_names: list[str]
    confusion: FloatArray
    class_prior: FloatArray
    n_answers: FloatArray
    expected_correct: FloatArray
    default_confusion: FloatArray
    rho: float = 0.0
    _index: dict[str, int] = field(init=False, repr=False, compare=False)
    _label_index: dict[str, int] = field(init=False, repr=False, compare=False)
    _log_cm_t: FloatArray = field(init=False, repr=False, compare=False)
    _log_default_t: FloatArray = field(init=False, repr=False, compare=False)
    _log_prior: FloatArray = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        self._index = {w: i for i, w in enumerate(self.worker_names)}
        self._label_index = {lab: i for i, lab in enumerate(self.label_names)}
        # Transposed logs, so one answer's contribution is a contiguous row: log CM[w, :, l].
        self._log_cm_t = np.ascontiguousarray(safe_log(self.confusion).transpose(0, 2, 1))
        self._log_default_t = np.ascontiguousarray(safe_log(self.default_confusion).T)
        self._log_prior = safe_log(self.class_prior)

    @property
    def accuracy(self) -> FloatArray:
        """Posterior-mean accuracy of each worker: Beta(1 + correct, 1 + wrong)."""
        out: FloatArray = (self.expected_correct + 1.0) / (self.n_answers + 2.0)
        return out

    @property
    def accuracy_std(self) -> FloatArray:
        """Standard deviation of that Beta posterior: the accuracy's uncertainty."""
        a = self.expected_correct + 1.0
        b = self.n_answers - self.expected_correct + 1.0
        out: FloatArray = np.sqrt(a * b / ((a + b) ** 2 * (a + b + 1.0)))
        return out

    def posterior(
        self,
        labels: Sequence[str],
        workers: Sequence[str],
        *,
        correlated: int | None = None,
    ) -> FloatArray:
        """Calibrated posterior of one task over ``label_names`` from its answers so far.

        Unknown workers get ``default_confusion``; an unknown label raises ``InputError``.
        ``correlated``: how many of the answers the calibration's design effect counts
        (default: all). A model's answer is weighted by its own confusion matrix but left out
        of it: the tempering corrects for people agreeing on the same hard items, and counting
        a model with no evidence (a flat confusion) would only temper everyone else's answers.
        """
        loglik = np.zeros(len(self.label_names))
        for lab, wk in zip(labels, workers, strict=True):
            li = self._label_index.get(lab)
            if li is None:
                raise InputError(f"label {lab!r} is not one of {self.label_names}")
            wi = self._index.get(wk)
            loglik += self._log_default_t[li] if wi is None else self._log_cm_t[wi, li]
        # Same formula as calibration.tempered_log_posterior, inlined: this runs at every submit.
        n = len(labels) if correlated is None else correlated
        log_post = (self._log_prior + loglik) / (1.0 + max(n - 1, 0) * self.rho)
        p = np.exp(log_post - log_post.max())
        out: FloatArray = p / p.sum()
        return out

    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON form (lists and floats only) for storage in the database."""
        return {
            "version": SCHEMA_VERSION,
            "label_names": list(self.label_names),
            "class_prior": self.class_prior.tolist(),
            "default_confusion": self.default_confusion.tolist(),
            "rho": float(self.rho),
            "workers": {
                name: {
                    "confusion": self.confusion[i].tolist(),
                    "n_answers": float(self.n_answers[i]),
                    "expected_correct": float(self.expected_correct[i]),
                    "accuracy": float(self.accuracy[i]),
                    "accuracy_std": float(self.accuracy_std[i]),
                }
                for i, name in enumerate(self.worker_names)
            },
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> WorkerSkills:
        """Inverse of :meth:`to_dict`."""
        if data.get("version") != SCHEMA_VERSION:
            raise InputError(f"unsupported skills version {data.get('version')!r}")
        labels = [str(x) for x in data["label_names"]]
        workers = data["workers"]
        names = list(workers)
        k = len(labels)
        cm = np.array([workers[n]["confusion"] for n in names], dtype=np.float64).reshape(
            len(names), k, k
        )
        return cls(
            label_names=labels,
            worker_names=names,
            confusion=cm,
            class_prior=np.asarray(data["class_prior"], dtype=np.float64),
            n_answers=np.array([workers[n]["n_answers"] for n in names], dtype=np.float64),
            expected_correct=np.array(
                [workers[n]["expected_correct"] for n in names], dtype=np.float64
            ),
            default_confusion=np.asarray(data["default_confusion"], dtype=np.float64),
            rho=float(data.get("rho", 0.0)),
        )


def posterior_for_task(
    answers_labels: Sequence[str], answers_workers: Sequence[str], skills: WorkerSkills
) -> dict[str, float]:
    """Online step: the calibrated posterior of one task, as ``{label: probability}``.

    This is what the service calls at every submit; the label is the argmax and the confidence
    its probability.

    Examples:
        >>> import numpy as np
        >>> cm = np.array([[[0.9, 0.1], [0.1, 0.9]], [[0.5, 0.5], [0.5, 0.5]]])
        >>> s = WorkerSkills(["no", "yes"], ["good", "spam"], cm, np.array([0.5, 0.5]),
        ...                  np.array([10.0, 10.0]), np.array([9.0, 5.0]), cm.mean(axis=0))
        >>> p = posterior_for_task(["yes", "no"], ["good", "spam"], s)
        >>> round(p["yes"], 2)
        0.9
    """
    p = skills.posterior(answers_labels, answers_workers)
    return dict(zip(skills.label_names, p.tolist(), strict=True))
