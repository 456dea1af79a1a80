from __future__ import annotations

import numpy as np
import pytest

from consensus import Answers, Auto, DawidSkene
from consensus.calibration import expected_calibration_error, tempered_log_posterior

from .conftest import simulate


class TestExpectedCalibrationError:
    def test_perfect(self) -> None:
        conf = np.array([0.95] * 20 + [0.55] * 20)
        correct = np.array([True] * 19 + [False] + [True] * 11 + [False] * 9)
        assert expected_calibration_error(conf, correct) == pytest.approx(0.0)

    def test_overconfident(self) -> None:
        assert expected_calibration_error(
            np.full(10, 0.99), np.zeros(10, dtype=bool)
        ) == pytest.approx(0.99)

    def test_empty(self) -> None:
        assert expected_calibration_error(np.zeros(0), np.zeros(0, dtype=bool)) == 0.0


def test_tempering_keeps_the_label_and_lowers_confidence() -> None:
    loglik = np.array([[-1.0, -4.0, -3.0]])
    prior = np.log(np.array([0.2, 0.5, 0.3]))
    raw = tempered_log_posterior(loglik, prior, np.array([5.0]), 0.0)
    soft = tempered_log_posterior(loglik, prior, np.array([5.0]), 0.5)
    assert raw.argmax() == soft.argmax()
    p_raw, p_soft = (np.exp(x - x.max()) / np.exp(x - x.max()).sum() for x in (raw, soft))
    assert p_soft.max() < p_raw.max()


def test_one_answer_is_not_tempered() -> None:
    x = tempered_log_posterior(np.array([[0.0, -2.0]]), np.zeros(2), np.array([1.0]), 0.9)
    np.testing.assert_allclose(x, [[0.0, -2.0]])


def test_independent_crowd_is_calibrated_without_tempering() -> None:
    # Workers err independently here, which is DS's own assumption: its posterior should be
    # calibrated as it is, and Auto measuring rho on gold should find little correlation.
    a, truth = simulate(n_tasks=3000, overlap=3, n_workers=40, n_spammers=0, seed=11)
    m = DawidSkene().fit(a)
    ece = expected_calibration_error(m.confidence_, m.label_codes_ == truth)
    assert ece < 0.04
    gold = {str(t): str(truth[t]) for t in range(0, 3000, 10)}
    auto = Auto().fit(a, gold)
    assert auto.rho_ < 0.2


def test_gold_measures_correlation_of_a_correlated_crowd() -> None:
    # Duplicate every answer three times: the same evidence counted thrice is overconfident,
    # and the rho fitted on gold must pull the confidence back.
    a, truth = simulate(n_tasks=1500, overlap=3, n_workers=30, n_spammers=0, seed=12)
    tripled = Answers.from_codes(
        np.repeat(a.task, 3), np.repeat(a.worker, 3), np.repeat(a.label, 3), n_labels=a.n_labels
    )
    gold = {str(t): str(truth[t]) for t in range(0, 1500, 5)}
    auto = Auto().fit(tripled, gold)
    # Three copies of three independent answers: design effect 3 = 1 + 8 rho, rho = 0.25.
    assert 0.15 < auto.rho_ < 0.4
    rest = np.setdiff1d(np.arange(1500), np.arange(0, 1500, 5))
    ece = expected_calibration_error(auto.confidence_[rest], auto.label_codes_[rest] == truth[rest])
    assert ece < 0.06
