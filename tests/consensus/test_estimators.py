from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from consensus import (
    GLAD,
    Answers,
    Auto,
    DawidSkene,
    MajorityVote,
    OneCoinDawidSkene,
    PooledDawidSkene,
    WeightedMajorityVote,
)
from consensus._base import BaseClassifier

from .conftest import TOY_TRUTH, simulate

ALL = [
    MajorityVote,
    WeightedMajorityVote,
    DawidSkene,
    OneCoinDawidSkene,
    PooledDawidSkene,
    GLAD,
    Auto,
]
EM = [DawidSkene, OneCoinDawidSkene, PooledDawidSkene]


def _by_task(model: BaseClassifier) -> dict[str, str]:
    return dict(zip(model.task_names_.tolist(), model.labels_.tolist(), strict=True))


def _probas_by_task(model: BaseClassifier) -> np.ndarray:
    order = np.argsort(model.task_names_)
    return model.probas_[order]


@pytest.mark.parametrize("cls", ALL)
class TestEveryMethod:
    def test_toy_truth(self, cls: type[BaseClassifier], toy: Answers) -> None:
        assert _by_task(cls().fit(toy)) == TOY_TRUTH

    def test_fit_returns_self_and_shapes(self, cls: type[BaseClassifier], toy: Answers) -> None:
        m = cls()
        assert m.fit(toy) is m
        assert m.probas_.shape == (5, 2)
        np.testing.assert_allclose(m.probas_.sum(axis=1), 1.0)
        np.testing.assert_allclose(m.confidence_, m.probas_.max(axis=1))
        assert m.skills_.confusion.shape == (5, 2, 2)

    def test_renaming_workers_changes_nothing(self, cls: type[BaseClassifier]) -> None:
        a, _ = simulate(n_tasks=120, seed=1)
        # A random bijection, so the sorted order (and thus the codes) of workers changes.
        perm = np.random.default_rng(5).permutation(a.n_workers)
        new_names = np.array([f"x{p:03d}" for p in perm])
        renamed = Answers.from_records(
            a.task_names[a.task], new_names[a.worker], a.label_names[a.label]
        )
        np.testing.assert_allclose(
            _probas_by_task(cls().fit(a)), _probas_by_task(cls().fit(renamed)), atol=1e-8
        )

    def test_reordering_rows_changes_nothing(self, cls: type[BaseClassifier]) -> None:
        a, _ = simulate(n_tasks=120, seed=2)
        perm = np.random.default_rng(0).permutation(a.n_answers)
        shuffled = Answers.from_records(
            a.task_names[a.task][perm], a.worker_names[a.worker][perm], a.label_names[a.label][perm]
        )
        m1, m2 = cls().fit(a), cls().fit(shuffled)
        assert _by_task(m1) == _by_task(m2)
        np.testing.assert_allclose(_probas_by_task(m1), _probas_by_task(m2), atol=1e-8)

    def test_empty_input(self, cls: type[BaseClassifier]) -> None:
        m = cls().fit(Answers.from_records([], [], []))
        assert m.labels_.shape == (0,)
        assert m.probas_.shape[0] == 0

    def test_one_worker(self, cls: type[BaseClassifier]) -> None:
        a = Answers.from_records(["t1", "t2", "t3"], ["w", "w", "w"], ["a", "b", "a"])
        assert cls().fit_predict(a).tolist() == ["a", "b", "a"]

    def test_one_task_unanimous(self, cls: type[BaseClassifier]) -> None:
        a = Answers.from_records(["t"] * 3, ["w1", "w2", "w3"], ["x"] * 3)
        m = cls().fit(a)
        assert m.labels_.tolist() == ["x"]
        assert m.confidence_[0] == pytest.approx(1.0)  # only one label exists

    def test_tie_is_deterministic(self, cls: type[BaseClassifier]) -> None:
        a = Answers.from_records(["t", "t"], ["w1", "w2"], ["b", "a"])
        m = cls().fit(a)
        assert m.labels_.tolist() == ["a"]  # first label in sort order
        assert 0.5 <= m.confidence_[0] < 0.7

    def test_label_never_answered(self, cls: type[BaseClassifier]) -> None:
        a = Answers.from_records(
            ["t1", "t1", "t2"], ["w1", "w2", "w1"], ["a", "a", "b"], label_names=["a", "b", "c"]
        )
        m = cls().fit(a)
        assert m.probas_.shape == (2, 3)
        assert m.labels_.tolist() == ["a", "b"]
        assert np.all(m.probas_[:, 2] < 0.5)

    def test_gold_clamps_its_task(self, cls: type[BaseClassifier], toy: Answers) -> None:
        m = cls().fit(toy, gold={"t2": "no"})
        assert _by_task(m)["t2"] == "no"
        assert m.confidence_[list(m.task_names_).index("t2")] == 1.0


@pytest.mark.parametrize("cls", [*EM, GLAD])
def test_em_objective_never_decreases(cls: Any) -> None:  # subclasses take tol, n_iter
    a, _ = simulate(n_tasks=300, seed=3)
    h = np.asarray(cls(tol=0.0, n_iter=30).fit(a).loss_history_)
    assert h.size > 2
    assert np.all(np.diff(h) >= -1e-6 * np.abs(h[1:]))


@pytest.mark.parametrize("cls", [DawidSkene, OneCoinDawidSkene, WeightedMajorityVote, Auto])
def test_spammer_weight_goes_to_zero(
    cls: type[BaseClassifier], crowd: tuple[Answers, np.ndarray]
) -> None:
    a, _ = crowd
    sk = cls().fit(a).skills_
    # Vote weight of a one-coin-like worker: log-odds of right vs a given wrong answer.
    weight = np.log(
        np.einsum("wkk->w", sk.confusion)
        / (sk.confusion.sum(axis=(1, 2)) - np.einsum("wkk->w", sk.confusion))
        * 2
    )
    spammers = weight[:3]
    assert np.all(np.abs(spammers) < 0.45)
    assert np.median(weight[3:]) > 1.0


@pytest.mark.parametrize("cls", [DawidSkene, Auto, WeightedMajorityVote])
def test_beats_majority_on_a_crowd_with_spammers(cls: type[BaseClassifier]) -> None:
    a, truth = simulate(n_tasks=600, n_spammers=10, seed=4)
    acc = (cls().fit(a).label_codes_ == truth).mean()
    mv = (MajorityVote().fit(a).label_codes_ == truth).mean()
    assert acc > mv


def test_gold_informs_workers() -> None:
    # w_bad always says the opposite of the truth; with gold DS learns to invert it.
    tasks = [f"t{i}" for i in range(20)]
    truth = ["a" if i % 2 else "b" for i in range(20)]
    flip = {"a": "b", "b": "a"}
    a = Answers.from_records(tasks, ["w_bad"] * 20, [flip[x] for x in truth])
    gold = dict(zip(tasks[:10], truth[:10], strict=True))
    m = DawidSkene().fit(a, gold)
    assert _by_task(m) == dict(zip(tasks, truth, strict=True))


def test_skills_accuracy_has_uncertainty(crowd: tuple[Answers, np.ndarray]) -> None:
    a, _ = crowd
    sk = DawidSkene().fit(a).skills_
    assert np.all((sk.accuracy > 0) & (sk.accuracy < 1))
    assert np.all(sk.accuracy_std > 0)
    few = Answers.from_records(["t1", "t2"], ["w", "w"], ["a", "b"])
    assert DawidSkene().fit(few).skills_.accuracy_std[0] > sk.accuracy_std.max()


def test_auto_reports_its_choice(crowd: tuple[Answers, np.ndarray]) -> None:
    a, _ = crowd
    m = Auto().fit(a)
    assert set(m.scores_) == {"ds", "onecoin", "pooled"}
    assert m.model_ is not None
    assert m.rho_ >= 0


def test_reused_em_posterior_is_the_recomputed_one(
    crowd: tuple[Answers, np.ndarray], monkeypatch: pytest.MonkeyPatch
) -> None:
    """DS hands its last E-step to the base class; recomputing it gives the same numbers."""
    answers, _ = crowd
    gold = {str(answers.task_names[0]): str(answers.label_names[1])}
    fast = DawidSkene().fit(answers, gold)
    original = DawidSkene._fit_model

    def without_posterior(self: DawidSkene, design: Any, g: Any) -> Any:
        fit = original(self, design, g)
        fit.posterior = None
        return fit

    monkeypatch.setattr(DawidSkene, "_fit_model", without_posterior)
    slow = DawidSkene().fit(answers, gold)
    np.testing.assert_allclose(fast.probas_, slow.probas_, rtol=0, atol=1e-12)
    np.testing.assert_array_equal(fast.labels_, slow.labels_)
