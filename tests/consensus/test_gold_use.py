"""How ``Auto`` learns from gold beyond clamping (issue 13 item 3): gold weight, model choice."""

from __future__ import annotations

import numpy as np
import pytest

from consensus import Answers, Auto, DawidSkene
from consensus.classification.auto import MIN_GOLD_FOR_SELECTION

from .conftest import simulate


def _swapped_crowd(seed: int, n_tasks: int = 600) -> tuple[Answers, np.ndarray]:
    """Seven of ten workers read the instructions the wrong way round: they swap labels 0 and 1.

    Every worker is 85% right on their own reading. The crowd's majority then says 1 for a true
    0 and back, and no unsupervised model can tell which reading is the truth: swapping the two
    labels and every worker's confusion rows gives the same likelihood. Only gold can.
    """
    rng = np.random.default_rng(seed)
    k, n_workers, overlap = 3, 10, 5
    truth = rng.integers(0, k, n_tasks)
    task = np.repeat(np.arange(n_tasks), overlap)
    worker = np.concatenate([rng.choice(n_workers, overlap, replace=False) for _ in range(n_tasks)])
    t = truth[task]
    right = rng.random(task.size) < 0.85
    label = np.where(right, t, (t + rng.integers(1, k, task.size)) % k)
    swap = worker < 7
    label = np.where(swap & (label < 2), 1 - label, label)
    return Answers.from_codes(task, worker, label, n_labels=k), truth


def _gold(truth: np.ndarray, tasks: np.ndarray) -> dict[str, str]:
    return {str(t): str(truth[t]) for t in tasks}


def test_gold_weight_one_is_plain_dawid_skene() -> None:
    a, truth = simulate(n_tasks=300, seed=3)
    gold = _gold(truth, np.arange(0, 300, 10))
    np.testing.assert_array_equal(
        DawidSkene(gold_weight=1.0).fit(a, gold).probas_, DawidSkene().fit(a, gold).probas_
    )


def test_em_objective_never_decreases_with_weighted_gold() -> None:
    a, truth = _swapped_crowd(seed=1)
    gold = _gold(truth, np.arange(0, 600, 20))
    h = np.asarray(DawidSkene(gold_weight=10.0, tol=0.0, n_iter=30).fit(a, gold).loss_history_)
    assert h.size > 2
    assert np.all(np.diff(h) >= -1e-6 * np.abs(h[1:]))


def test_weighted_gold_learns_a_confusion_the_crowd_hides() -> None:
    a, truth = _swapped_crowd(seed=2)
    gold_tasks = np.arange(0, 600, 20)  # 30 gold tasks, 5%
    rest = np.setdiff1d(np.arange(600), gold_tasks)
    gold = _gold(truth, gold_tasks)
    plain = DawidSkene(prior_strength=8.0).fit(a, gold).label_codes_[rest]
    heavy = DawidSkene(prior_strength=8.0, gold_weight=10.0).fit(a, gold).label_codes_[rest]
    # 30 clamped tasks among 600 do not move the majority's reading; weighted ten times they do.
    assert (plain == truth[rest]).mean() < 0.5
    assert (heavy == truth[rest]).mean() > 0.9


@pytest.mark.parametrize("seed", [2, 3])
def test_auto_chooses_a_gold_weighted_variant_when_gold_shows_it(seed: int) -> None:
    a, truth = _swapped_crowd(seed=seed)
    gold_tasks = np.arange(0, 600, 20)
    rest = np.setdiff1d(np.arange(600), gold_tasks)
    gold = _gold(truth, gold_tasks)
    m = Auto().fit(a, gold)
    assert m.choice_ != "ds"
    assert m.gold_scores_[m.choice_] > m.gold_scores_["ds"] + 2.0
    without = Auto(use_gold=False).fit(a, gold)
    assert without.choice_ == "ds"
    assert not without.gold_scores_
    assert (without.label_codes_[rest] == truth[rest]).mean() < 0.5
    assert (m.label_codes_[rest] == truth[rest]).mean() > 0.9


def test_auto_keeps_its_choice_with_little_gold() -> None:
    a, truth = simulate(n_tasks=400, seed=5)
    few = Auto().fit(a, _gold(truth, np.arange(MIN_GOLD_FOR_SELECTION - 1)))
    assert few.choice_ in few.scores_
    assert not few.gold_scores_


def test_auto_keeps_the_default_on_a_crowd_it_already_models() -> None:
    # Independent one-coin workers: every variant knows the same, none is 2 nats better.
    a, truth = simulate(n_tasks=400, seed=6)
    m = Auto().fit(a, _gold(truth, np.arange(0, 400, 20)))
    assert m.choice_ == "ds"
    assert len(m.gold_scores_) > 1
