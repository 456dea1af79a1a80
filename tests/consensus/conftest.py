"""Toy crowds with hand-checked answers (crowd-kit's ``toy_answers_df`` idea) and a simulator."""

from __future__ import annotations

import numpy as np
import pytest

from consensus import Answers

# Five tasks, five workers; w5 is always wrong on purpose. Majority: t1=yes, t2=yes, t3=no,
# t4=yes, t5=no (hand-counted below each task).
TOY = [
    ("t1", "w1", "yes"),
    ("t1", "w2", "yes"),
    ("t1", "w3", "no"),
    ("t1", "w5", "no"),
    ("t1", "w4", "yes"),  # 3 yes
    ("t2", "w1", "yes"),
    ("t2", "w2", "yes"),
    ("t2", "w5", "no"),  # 2 yes
    ("t3", "w1", "no"),
    ("t3", "w3", "no"),
    ("t3", "w4", "no"),
    ("t3", "w5", "yes"),  # 3 no
    ("t4", "w2", "yes"),
    ("t4", "w3", "yes"),
    ("t4", "w4", "yes"),
    ("t4", "w5", "no"),  # 3 yes
    ("t5", "w1", "no"),
    ("t5", "w2", "no"),
    ("t5", "w5", "yes"),  # 2 no
]
TOY_TRUTH = {"t1": "yes", "t2": "yes", "t3": "no", "t4": "yes", "t5": "no"}


@pytest.fixture
def toy() -> Answers:
    t, w, lab = zip(*TOY, strict=True)
    return Answers.from_records(list(t), list(w), list(lab))


def simulate(
    n_tasks: int = 400,
    overlap: int = 5,
    n_workers: int = 30,
    k: int = 3,
    n_spammers: int = 3,
    seed: int = 0,
) -> tuple[Answers, np.ndarray]:
    """Independent one-coin workers (accuracy 0.6-0.9) plus uniform spammers; returns truth codes."""
    rng = np.random.default_rng(seed)
    truth = rng.integers(0, k, n_tasks)
    acc = rng.uniform(0.6, 0.9, n_workers)
    acc[:n_spammers] = 1.0 / k
    task = np.repeat(np.arange(n_tasks), overlap)
    worker = np.concatenate([rng.choice(n_workers, overlap, replace=False) for _ in range(n_tasks)])
    right = rng.random(task.size) < acc[worker]
    wrong = (truth[task] + rng.integers(1, k, task.size)) % k
    label = np.where(right, truth[task], wrong)
    return Answers.from_codes(task, worker, label, n_labels=k), truth


@pytest.fixture
def crowd() -> tuple[Answers, np.ndarray]:
    return simulate()
