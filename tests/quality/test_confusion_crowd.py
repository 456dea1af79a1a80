"""Issue 13 item 2: the submit-time worker model sees class confusion.

The unit tests check the model on counts a worker of each habit leaves; the ``crowd`` tests run
the issue's two crowds through the HTTP API over 20 seeds (tests/quality/confusion_crowd.py;
``pytest -m crowd tests/quality/test_confusion_crowd.py``, ~4-8 min per backend; the seeds table
is benchmarks/consensus/quality_seeds.py)."""

from __future__ import annotations

import os

import numpy as np
import pytest
from fastapi.testclient import TestClient

from app.quality.engine import ClassificationEngine, TaskAnswer
from app.quality.skills import (
    ConfusionSkill,
    confusion_ban_reason,
    confusion_mean,
    upper_bound,
)
from tests.quality import confusion_crowd as cc

LABELS = ["cat", "dog", "bird"]
K = len(LABELS)


def counts(habit: str, per_row: int) -> np.ndarray:
    """Exactly what a worker of ``habit`` answers, ``per_row`` times per true label."""
    c = np.zeros((K, K))
    for t in range(K):
        for i in range(per_row):
            if habit == "constant":
                c[t, 0] += 1
            elif habit == "two_labels":  # cat or dog, alternately, whatever the truth
                c[t, i % 2] += 1
            elif habit == "spammer":
                c[t, i % K] += 1
            else:  # good: right 9 times in 10
                c[t, t if i % 10 else (t + 1) % K] += 1
    return c


@pytest.mark.parametrize("habit", ["constant", "two_labels", "spammer"])
def test_uninformative_workers_weigh_nothing_and_are_banned(habit: str) -> None:
    skill = ConfusionSkill(counts(habit, 10), np.zeros((K, K)))
    # One coin would credit the constant answerer with a third of its answers right, and weight
    # it like any one-third worker; its confusion rows are all alike: its vote moves nothing.
    engine = ClassificationEngine(LABELS)
    good = confusion_mean(counts("good", 10))
    gives = {"constant": ["cat"], "two_labels": ["cat", "dog"], "spammer": LABELS}[habit]
    for label in gives:  # what the worker actually answers
        alone = engine.consensus([TaskAnswer("g", {"label": "dog"}, confusion=good)])
        both = engine.consensus(
            [
                TaskAnswer("g", {"label": "dog"}, confusion=good),
                TaskAnswer("x", {"label": label}, confusion=skill.matrix),
            ]
        )
        assert both.answer == {"label": "dog"}
        assert abs(both.confidence - alone.confidence) < 0.05, (label, both, alone)
    assert skill.accuracy < 0.4
    reason = confusion_ban_reason(skill, 0.6)
    assert reason is not None
    assert "per label" in reason


def test_good_worker_is_not_banned_and_carries_weight() -> None:
    skill = ConfusionSkill(counts("good", 10), np.zeros((K, K)))
    assert skill.accuracy > 0.8
    assert confusion_ban_reason(skill, 0.6) is None
    engine = ClassificationEngine(LABELS)
    vote = engine.consensus([TaskAnswer("g", {"label": "bird"}, confusion=skill.matrix)])
    assert vote.answer == {"label": "bird"}
    assert vote.confidence > 0.8


def test_crowd_record_contradicted_by_gold_is_set_aside() -> None:
    # A copier looks perfect against a consensus its partner tilts; on gold it is random.
    record = ConfusionSkill(np.ones((K, K)) * 2, counts("good", 10))
    honest = ConfusionSkill(np.eye(K) * 2, counts("good", 10))
    record = ConfusionSkill(record.gold, record.crowd, upper_bound(record.gold))
    honest = ConfusionSkill(honest.gold, honest.crowd, upper_bound(honest.gold))
    assert not record.crowd_trusted
    assert record.accuracy < 0.5
    assert honest.crowd_trusted
    assert honest.accuracy > 0.8


SEEDS = int(os.environ.get("TESSERA_CROWD_SEEDS", "20"))


@pytest.mark.crowd
def test_crowd_a_over_seeds(client: TestClient) -> None:
    """5 good (90%), 1 sloppy (65%), 1 random spammer, 1 always "cat"."""
    outcomes = [cc.run(client, cc.CROWD_A, seed) for seed in range(SEEDS)]
    report = [cc.describe(o) for o in outcomes]
    for o in outcomes:
        assert all(w.stopped != "banned" for w in o.workers if w.kind in cc.GOOD), report
    for kind in ("constant", "spammer"):
        stopped = sum(all(s is not None for s in o.stopped(kind)) for o in outcomes)
        assert stopped >= SEEDS - SEEDS // 20, (kind, stopped, report)
        # Stopped by the quality loop, not only by the qualification: whoever qualified is
        # banned by the rule.
        survived = sum(s is None for o in outcomes for s in o.stopped(kind))
        assert survived <= SEEDS // 20, (kind, survived, report)
    assert min(o.accuracy for o in outcomes) >= 0.95, report
    assert np.mean([o.answers_per_task for o in outcomes]) <= 4.0, report


@pytest.mark.crowd
def test_crowd_b_over_seeds(client: TestClient) -> None:
    """3 good (85%), 2 colluders copying each other's (random) label, 1 random spammer."""
    outcomes = [cc.run(client, cc.CROWD_B, seed) for seed in range(SEEDS)]
    report = [cc.describe(o) for o in outcomes]
    for o in outcomes:
        assert all(w.stopped != "banned" for w in o.workers if w.kind in cc.GOOD), report
    stopped = sum(all(s is not None for s in o.stopped("spammer")) for o in outcomes)
    assert stopped >= SEEDS - SEEDS // 20, (stopped, report)
    # Three 85% workers are the only informative ones: even an oracle that knew who they are
    # is right on ~0.95 of the tasks in expectation (see benchmarks/consensus/README.md), so
    # "≥ 0.95 in every seed" cannot hold; the mean is held to what the data allow.
    assert np.mean([o.accuracy for o in outcomes]) >= 0.92, report
    assert np.mean([o.answers_per_task for o in outcomes]) <= 4.0, report
