"""Multi-label: one yes/no question per (task, label), one worker model shared by all labels."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Self

import numpy as np
from numpy.typing import NDArray

from consensus._base import BaseClassifier
from consensus._data import Answers, encode
from consensus._params import Estimator, clone
from consensus.classification.auto import Auto
from consensus.errors import InputError
from consensus.skills import WorkerSkills

__all__ = ["MultiLabelAggregator", "MultiLabelAnswers"]

FloatArray = NDArray[np.float64]

NO, YES = "no", "yes"
"""The two labels of the stacked yes/no problem ("did the worker tick this label?")."""


@dataclass(frozen=True)
class MultiLabelAnswers:
    """Each answer is a set of labels (possibly empty) a worker chose for a task."""

    tasks: list[str]
    workers: list[str]
    label_sets: list[frozenset[str]]

    @classmethod
    def from_records(
        cls, tasks: Sequence[str], workers: Sequence[str], label_sets: Sequence[Sequence[str]]
    ) -> MultiLabelAnswers:
        if not len(tasks) == len(workers) == len(label_sets):
            raise InputError("tasks, workers and label_sets must have the same length")
        return cls(list(tasks), list(workers), [frozenset(s) for s in label_sets])


class MultiLabelAggregator(Estimator):
    """Binary relevance with a shared worker model.

    Every answer becomes one yes/no answer per label in the vocabulary ("did the worker tick
    label L on this task?"), all stacked into one binary problem whose pseudo-tasks are
    (task, label) pairs. The binary estimator (``Auto`` by default) therefore learns one
    sensitivity/specificity per worker from all labels at once: a worker who ticks everything
    is caught on every label, and a label that is rarely used still gets reliable worker weights.

    Gold (``fit(answers, gold={task: labels})``) becomes gold for every (task, label) pair of
    its task: the label applies or it does not. It clamps those pairs and informs every worker's
    sensitivity and specificity, as gold does for a single-label estimator.

    Args:
        estimator: Binary estimator to clone and fit (default :class:`Auto`).
        threshold: A label is predicted when its posterior is at least this.

    Fitted attributes:
        task_names_, label_names_: Row and column names of ``probas_``.
        probas_: (n_tasks, n_labels) P(label applies).
        labels_: Predicted label set per task.
        estimator_: The fitted binary estimator (its ``skills_`` are the shared worker model).
        skills_: That worker model, over the labels ``["no", "yes"]``: ``confusion[w]`` is
            worker w's 2x2 matrix (row "yes": sensitivity on the diagonal; row "no":
            specificity), the class prior the share of (task, label) pairs that apply.
        label_prior_: (n_labels,) how often each label applies (the fit's posteriors averaged
            over the tasks, with one pseudo-task each way): a rare label is not called as
            readily as a common one by the online posterior.

    Examples:
        >>> from consensus.multilabel import MultiLabelAggregator, MultiLabelAnswers
        >>> a = MultiLabelAnswers.from_records(
        ...     ["t1", "t1", "t1"], ["w1", "w2", "w3"], [["cat", "dog"], ["cat"], ["cat", "dog"]])
        >>> sorted(MultiLabelAggregator().fit(a).labels_[0])
        ['cat', 'dog']
    """

    task_names_: NDArray[np.str_]
    label_names_: NDArray[np.str_]
    probas_: FloatArray
    labels_: list[frozenset[str]]
    estimator_: BaseClassifier
    skills_: WorkerSkills
    label_prior_: FloatArray

    def __init__(self, estimator: BaseClassifier | None = None, threshold: float = 0.5) -> None:
        self.estimator = estimator
        self.threshold = threshold

    def fit(
        self,
        answers: MultiLabelAnswers,
        gold: Mapping[str, Iterable[str]] | None = None,
        *,
        labels: Sequence[str] | None = None,
    ) -> Self:
        """Fit on ``answers``; ``gold``: the true label set of some tasks; ``labels``: the
        vocabulary (default: every label some answer or gold set holds; a label of ``labels``
        no one ticked is a column of "no" answers, and a label outside it is ignored)."""
        task, task_names = encode(np.asarray(answers.tasks, dtype=np.str_))
        worker, worker_names = encode(np.asarray(answers.workers, dtype=np.str_))
        gold = {t: frozenset(s) for t, s in (gold or {}).items()}
        if labels is not None:
            vocab = list(dict.fromkeys(labels))
        else:
            vocab = sorted(set().union(*answers.label_sets, *gold.values()))
        n_l = len(vocab)
        # One row per (answer, label): label code 1 if ticked. Sets are small, so the Python
        # comprehension over labels is not the bottleneck; the EM below is vectorised.
        ticked = np.array([[lab in s for lab in vocab] for s in answers.label_sets], dtype=np.intp)
        ticked = ticked.reshape(len(answers.label_sets), n_l)
        pseudo_task = (task[:, None] * n_l + np.arange(n_l)[None, :]).ravel()
        stacked = Answers(
            task=pseudo_task.astype(np.intp),
            worker=np.repeat(worker, n_l),
            label=ticked.ravel(),
            task_names=np.arange(task_names.shape[0] * n_l).astype(np.str_),
            worker_names=worker_names,
            label_names=np.array([NO, YES]),
        )
        row = {name: i for i, name in enumerate(task_names.tolist())}
        stacked_gold = {
            str(row[t] * n_l + j): YES if lab in truth else NO
            for t, truth in gold.items()
            if t in row
            for j, lab in enumerate(vocab)
        }
        est = clone(self.estimator) if self.estimator is not None else Auto()
        est.fit(stacked, stacked_gold or None)
        self.estimator_ = est
        self.skills_ = est.skills_
        self.task_names_ = task_names
        self.label_names_ = np.asarray(vocab, dtype=np.str_)
        self.probas_ = (
            est.probas_[:, 1].reshape(task_names.shape[0], n_l)
            if n_l
            else np.zeros((task_names.shape[0], 0))
        )
        n_t = task_names.shape[0]
        self.label_prior_ = (self.probas_.sum(axis=0) + 1.0) / (n_t + 2.0)
        chosen = self.probas_ >= self.threshold
        self.labels_ = [frozenset(self.label_names_[row].tolist()) for row in chosen]
        return self
