from __future__ import annotations

import numpy as np

from consensus import MajorityVote
from consensus.multilabel import MultiLabelAggregator, MultiLabelAnswers


def test_toy_sets() -> None:
    a = MultiLabelAnswers.from_records(
        ["t1", "t1", "t1", "t2", "t2", "t2"],
        ["w1", "w2", "w3", "w1", "w2", "w3"],
        [["cat", "dog"], ["cat"], ["cat", "dog"], [], ["dog"], []],
    )
    m = MultiLabelAggregator(estimator=MajorityVote()).fit(a)
    assert m.labels_ == [frozenset({"cat", "dog"}), frozenset()]
    assert m.probas_.shape == (2, 2)


def test_worker_model_is_shared_across_labels() -> None:
    rng = np.random.default_rng(0)
    vocab = ["a", "b", "c", "d"]
    tasks, workers, sets, truth = [], [], [], {}
    for t in range(150):
        true = {x for x in vocab if rng.random() < 0.3}
        truth[f"t{t}"] = true
        for w in range(4):
            tasks.append(f"t{t}")
            workers.append(f"w{w}")
            if w == 0:  # ticks everything: caught on every label at once
                sets.append(list(vocab))
            else:
                sets.append([x for x in vocab if (x in true) != (rng.random() < 0.1)])
    m = MultiLabelAggregator().fit(MultiLabelAnswers.from_records(tasks, workers, sets))
    acc = np.mean([m.labels_[i] == truth[n] for i, n in enumerate(m.task_names_)])
    assert acc > 0.8  # ~0.89 is the ceiling: 3 honest workers, 4 labels, 10% flips
    assert m.estimator_.skills_.accuracy[0] < 0.75


def test_empty() -> None:
    m = MultiLabelAggregator().fit(MultiLabelAnswers.from_records([], [], []))
    assert m.labels_ == []
