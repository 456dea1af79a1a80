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


def test_gold_clamps_its_pairs_and_informs_the_workers() -> None:
    """Two of three workers tick the opposite of the truth on every label: agreement alone
    follows them; gold on a fifth of the tasks shows who is right, everywhere."""
    rng = np.random.default_rng(1)
    vocab = ["a", "b", "c"]
    tasks, workers, sets, truth = [], [], [], {}
    for t in range(100):
        true = {x for x in vocab if rng.random() < 0.4}
        truth[f"t{t}"] = true
        for w in range(3):
            tasks.append(f"t{t}")
            workers.append(f"w{w}")
            sets.append(sorted(true) if w == 0 else [x for x in vocab if x not in true])
    answers = MultiLabelAnswers.from_records(tasks, workers, sets)
    gold = {f"t{t}": sorted(truth[f"t{t}"]) for t in range(20)}

    def accuracy(m: MultiLabelAggregator) -> float:
        return float(np.mean([m.labels_[i] == truth[n] for i, n in enumerate(m.task_names_)]))

    assert accuracy(MultiLabelAggregator().fit(answers)) < 0.2
    with_gold = MultiLabelAggregator().fit(answers, gold, labels=vocab)
    assert accuracy(with_gold) > 0.95
    honest = with_gold.skills_.worker_names.index("w0")
    assert with_gold.skills_.accuracy[honest] > 0.9
    assert with_gold.label_prior_.shape == (3,)


def test_the_vocabulary_may_hold_labels_no_one_ticked() -> None:
    a = MultiLabelAnswers.from_records(["t1", "t1"], ["w1", "w2"], [["cat"], ["cat"]])
    m = MultiLabelAggregator().fit(a, labels=["cat", "dog"])
    assert m.label_names_.tolist() == ["cat", "dog"]
    assert m.labels_ == [frozenset({"cat"})]
