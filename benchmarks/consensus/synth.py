"""Synthetic crowd for the speed benchmarks: 200,000 tasks x 5 answers, 2,000 workers, 4 classes.

Workers are a realistic mix: most are decent (accuracy 0.55-0.95, errors spread unevenly over the
classes), 10% are spammers answering at random. Deterministic for a given seed.
"""

from __future__ import annotations

import argparse

import numpy as np


def make_crowd(
    n_tasks: int = 200_000, overlap: int = 5, n_workers: int = 2_000, k: int = 4, seed: int = 0
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Return (task, worker, label, truth) integer arrays."""
    rng = np.random.default_rng(seed)
    truth = rng.choice(k, n_tasks, p=np.linspace(1.0, 2.0, k) / np.linspace(1.0, 2.0, k).sum())
    acc = rng.uniform(0.55, 0.95, n_workers)
    spam = rng.random(n_workers) < 0.1
    acc[spam] = 1.0 / k
    # Row k of a worker's matrix: acc on the diagonal, the rest Dirichlet-spread.
    off = rng.dirichlet(np.ones(k - 1), size=(n_workers, k))
    cm = np.empty((n_workers, k, k))
    for c in range(k):
        others = [j for j in range(k) if j != c]
        cm[:, c, c] = acc
        cm[:, c, others] = (1.0 - acc)[:, None] * off[:, c, :]
    task = np.repeat(np.arange(n_tasks), overlap)
    # Distinct workers per task: sample with replacement and accept rare repeats (harmless).
    worker = rng.integers(0, n_workers, n_tasks * overlap)
    cum = cm[worker, truth[task]].cumsum(axis=1)
    label = (rng.random(task.shape[0])[:, None] > cum).sum(axis=1)
    return task, worker, np.minimum(label, k - 1), truth


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("answers_csv")
    ap.add_argument("truth_csv")
    ap.add_argument("--tasks", type=int, default=200_000)
    args = ap.parse_args()
    task, worker, label, truth = make_crowd(n_tasks=args.tasks)
    with open(args.answers_csv, "w") as fh:
        fh.write("task,worker,label\n")
        fh.write(
            "".join(
                f"t{t},w{w},{lab}\n"
                for t, w, lab in zip(task.tolist(), worker.tolist(), label.tolist(), strict=True)
            )
        )
    with open(args.truth_csv, "w") as fh:
        fh.write("task,true_label\n")
        fh.write("".join(f"t{t},{lab}\n" for t, lab in enumerate(truth.tolist())))


if __name__ == "__main__":
    main()
