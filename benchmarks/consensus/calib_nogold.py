"""Issue 13 item 4 without gold: can a crowd's own answers choose its answer correlation rho?

For each set, ``auto`` is fitted without gold; its posterior is tempered by the design effect
``1 + (n - 1) rho`` (consensus/calibration.py) and scored on all gold tasks (ECE, 10 bins).
Printed per set: ECE at the default rho, the rho (and ECE) each gold-free rule picks, and the
hindsight rho that minimises ECE (not a method: the oracle bound of a one-parameter tempering).

Gold-free rules tried:

- ``loo``: rho maximising the leave-one-answer-out predictive log-likelihood: each answer is
  predicted from the tempered posterior of the *other* answers on its task (n - 1 of them)
  through its worker's confusion row.
- ``icc``: the ANOVA estimator of the intra-class correlation of "answer = the task's
  consensus label" across tasks (Kish's rho for clustered binary data).

.venv/bin/python benchmarks/consensus/calib_nogold.py
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
from consensus import Auto, read_csv, read_gold_csv  # noqa: E402
from consensus._utils import log_normalize, safe_log  # noqa: E402
from consensus.calibration import (  # noqa: E402
    expected_calibration_error,
    tempered_log_posterior,
)
from consensus.classification._em import Design, task_logliks  # noqa: E402

F = NDArray[np.float64]
GRID = np.round(np.arange(0.0, 1.001, 0.025), 3)


def tempered(joint: F, n: F, rho: float) -> F:
    return log_normalize(tempered_log_posterior(joint, np.zeros(joint.shape[1]), n, rho))[0]


def loo_loglik(
    joint: F,
    log_cm: F,
    a_task: NDArray[np.intp],
    a_w: NDArray[np.intp],
    a_l: NDArray[np.intp],
    n: F,
    rho: float,
) -> float:
    own = log_cm[a_w, :, a_l]  # (m, K)
    rest = joint[a_task] - own
    p = tempered(rest, n[a_task] - 1.0, rho)
    pred = (p * np.exp(own)).sum(1)
    return float(np.log(np.maximum(pred, 1e-300)).mean())


def icc(a_task: NDArray[np.intp], y: F, n_tasks: int) -> float:
    n_t = np.bincount(a_task, minlength=n_tasks).astype(float)
    keep = n_t > 0
    s = np.bincount(a_task, weights=y, minlength=n_tasks)
    big_n, t = n_t.sum(), keep.sum()
    ybar_t = np.where(keep, s / np.maximum(n_t, 1), 0.0)
    ybar = y.mean()
    msb = float((n_t * (ybar_t - ybar) ** 2).sum() / (t - 1))
    msw = float(((y - ybar_t[a_task]) ** 2).sum() / (big_n - t))
    n0 = (big_n - (n_t**2).sum() / big_n) / (t - 1)
    return max(0.0, (msb - msw) / (msb + (n0 - 1) * msw))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sets-dir", type=Path, default=Path("/work/shared/datasets/classification"))
    args = ap.parse_args()
    print(
        "| set | ECE rho 0.35 | loo: rho / ECE | icc: rho / ECE | hindsight: rho / ECE | unanimous & wrong |"
    )
    print("|---|---:|---:|---:|---:|---:|")
    grids: dict[str, F] = {}
    n_labels: dict[str, int] = {}
    for d in sorted(p for p in args.sets_dir.iterdir() if (p / "answers.csv").exists()):
        a = read_csv(d / "answers.csv")
        gt, gl = a.gold_codes(read_gold_csv(d / "gold.csv"))
        m = Auto(rho=0.0).fit(a)
        design = Design.from_answers(a)
        sk = m.model_.skills_
        log_cm = safe_log(sk.confusion)
        joint = task_logliks(design, log_cm) + safe_log(sk.class_prior)
        n = design.answers_per_task

        def ece_at(rho: float, jg: F = joint[gt], ng: F = n[gt], gl: F = gl) -> float:
            p = tempered(jg, ng, rho)
            return expected_calibration_error(p.max(1), p.argmax(1) == gl)

        eces = np.array([ece_at(r) for r in GRID])
        grids[d.name], n_labels[d.name] = eces, a.n_labels
        ll = np.array([loo_loglik(joint, log_cm, a.task, a.worker, a.label, n, r) for r in GRID])
        r_loo = float(GRID[ll.argmax()])
        y = (a.label == m.label_codes_[a.task]).astype(float)
        r_icc = icc(a.task, y, a.n_tasks)
        votes = design.votes[gt]
        unan = float(((votes.max(1) == votes.sum(1)) & (votes.argmax(1) != gl)).mean())
        acc_w = float(
            (sk.accuracy * design.answers_per_worker).sum() / design.answers_per_worker.sum()
        )
        agree_all = float((design.votes.max(1) == design.votes.sum(1)).mean())
        print(
            f"| {d.name} | {ece_at(0.35):.3f} | {r_loo:.3f} / {ece_at(r_loo):.3f} | "
            f"{r_icc:.3f} / {ece_at(r_icc):.3f} | {GRID[eces.argmin()]:.3f} / {eces.min():.3f} | {unan:.3f} | "
            f"K={a.n_labels} n={n.mean():.1f} acc={acc_w:.3f} unanimous={agree_all:.3f} |",
            flush=True,
        )
        print(
            "   ECE by rho:",
            " ".join(f"{r:g}:{e:.3f}" for r, e in zip(GRID[::4], eces[::4], strict=True)),
        )
    loso(grids, n_labels)


def loso(grids: dict[str, F], n_labels: dict[str, int]) -> None:
    """Leave-one-set-out: rho chosen on the other sets (all of them, or those with as many labels)."""
    print()
    print(
        "| set | K | one rho for all (LOSO): rho / ECE | rho per number of labels (LOSO): rho / ECE |"
    )
    print("|---|---:|---:|---:|")
    one, per_k = [], []
    for name, eces in grids.items():
        others = [g for n, g in grids.items() if n != name]
        same = [g for n, g in grids.items() if n != name and n_labels[n] == n_labels[name]]
        r1 = int(np.mean(others, axis=0).argmin())
        r2 = int(np.mean(same, axis=0).argmin()) if same else r1
        one.append(eces[r1])
        per_k.append(eces[r2])
        print(
            f"| {name} | {n_labels[name]} | {GRID[r1]:g} / {eces[r1]:.3f} | {GRID[r2]:g} / {eces[r2]:.3f} |"
        )
    print(
        f"| **max / median** | | {max(one):.3f} / {np.median(one):.3f} | "
        f"{max(per_k):.3f} / {np.median(per_k):.3f} |"
    )


if __name__ == "__main__":
    main()
