"""Issue 13 items 3/4, an experiment that did not reach the goal: a gold-fitted correction on
top of ``auto`` (not in the library).

Same protocol as gold5.py (5% of the tasks given as gold, at most half the known gold; three
draws; scored on the other gold tasks; crowd-kit DS in .venv-crowdkit). On top of ``auto``
fitted with the given gold, two post-hoc corrections are fitted on that gold alone, by
two-fold cross-fitting (each half scored by the chosen model refitted with the other half
clamped, the position of an ordinary task in the final fit):

- ``bias``: class log-offsets b and the answer correlation rho (tempering),
  ``softmax(tempered(log prior + loglik, rho) + b)``;
- ``stack``: ``softmax(a * log posterior + c * log vote shares + b)``, a multinomial logistic
  stacking of the model's posterior and the raw vote.

Both minimise the gold log loss plus ``lam`` x (squared distance from "no correction"); lam = 1
was fixed before the run (a unit-variance Gaussian prior on each offset), not tuned.

.venv/bin/python benchmarks/consensus/gold_correction.py [--lam 1.0] [--draws 3]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
from consensus import Auto, read_csv, read_gold_csv  # noqa: E402
from consensus._base import BaseClassifier  # noqa: E402
from consensus._params import clone  # noqa: E402
from consensus._utils import log_normalize, safe_log  # noqa: E402
from consensus.calibration import tempered_log_posterior  # noqa: E402
from consensus.classification._em import Design, task_logliks  # noqa: E402

CK = str(ROOT / ".venv-crowdkit" / "bin" / "python")
HERE = Path(__file__).resolve().parent
F = NDArray[np.float64]


def ece(conf: F, ok: NDArray[np.bool_], n_bins: int = 10) -> float:
    bins = np.minimum((conf * n_bins).astype(int), n_bins - 1)
    return float(
        sum(
            (bins == b).mean() * abs(conf[bins == b].mean() - ok[bins == b].mean())
            for b in range(n_bins)
            if (bins == b).any()
        )
    )


def joint_of(design: Design, model: BaseClassifier) -> F:
    sk = model.skills_
    out: F = task_logliks(design, safe_log(sk.confusion)) + safe_log(sk.class_prior)
    return out


def log_softmax(x: F) -> F:
    out: F = np.log(np.maximum(log_normalize(x)[0], 1e-300))
    return out


def bias_logits(x: F, j: F, v: F, n: F) -> F:  # noqa: ARG001 (one signature for both)
    k = j.shape[1]
    out: F = tempered_log_posterior(j, np.zeros(k), n, x[0]) + np.concatenate([[0.0], x[1:]])
    return out


def stack_logits(x: F, j: F, v: F, n: F) -> F:  # noqa: ARG001
    out: F = x[0] * log_softmax(j) + x[1] * v + np.concatenate([[0.0], x[2:]])
    return out


def fit(kind: str, j: F, v: F, n: F, y: NDArray[np.intp], lam: float) -> F:
    from scipy.optimize import minimize

    k = j.shape[1]
    logits = bias_logits if kind == "bias" else stack_logits
    x0 = np.zeros(k + (0 if kind == "bias" else 1))
    x0[0] = 0.35 if kind == "bias" else 1.0
    ref = x0.copy()
    if kind == "bias":
        ref[0] = 0.0  # rho is not penalised
    bounds = (
        [(0.0, 3.0)] + [(-5.0, 5.0)] * (k - 1)
        if kind == "bias"
        else ([(0.01, 3.0), (-5.0, 5.0)] + [(-5.0, 5.0)] * (k - 1))
    )

    def loss(x: F) -> float:
        pen = (x - ref) ** 2
        if kind == "bias":
            pen[0] = 0.0
        return float(-log_softmax(logits(x, j, v, n))[np.arange(y.size), y].sum() + lam * pen.sum())

    res = minimize(loss, x0, method="L-BFGS-B", bounds=bounds)
    out: F = res.x
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sets", type=Path, default=Path("/work/shared/datasets/classification"))
    ap.add_argument("--draws", type=int, default=3)
    ap.add_argument("--lam", type=float, default=1.0)
    args = ap.parse_args()
    print(
        "| set | gold given | crowd-kit DS | auto + gold | + bias | + stack | ECE auto | ECE bias | ECE stack |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    rows = []
    for d in sorted(p for p in args.sets.iterdir() if (p / "answers.csv").exists()):
        a, gold = read_csv(d / "answers.csv"), read_gold_csv(d / "gold.csv")
        ck = json.loads(
            subprocess.run(
                [CK, str(HERE / "crowdkit_runner.py"), "labels-ds", str(d / "answers.csv")],
                check=True,
                capture_output=True,
                text=True,
            ).stdout
        )["labels"]
        design = Design.from_answers(a)
        idx = {t: i for i, t in enumerate(a.task_names.tolist())}
        lab = {name: i for i, name in enumerate(a.label_names.tolist())}
        votes = np.log((design.votes + 0.5) / (design.votes + 0.5).sum(1, keepdims=True))
        gold_tasks = sorted(t for t in gold if t in idx)
        n_give = max(1, min(round(0.05 * a.n_tasks), len(gold_tasks) // 2))
        res: dict[str, list[float]] = {
            k: [] for k in ("ds", "auto", "bias", "stack", "e_auto", "e_bias", "e_stack")
        }
        for draw in range(args.draws):
            given = sorted(
                np.random.default_rng(draw).choice(gold_tasks, size=n_give, replace=False).tolist()
            )
            scored = [t for t in gold_tasks if t not in set(given)]
            si = np.array([idx[t] for t in scored])
            truth = np.array([lab.get(gold[t], -1) for t in scored])
            model = Auto().fit(a, {t: gold[t] for t in given})
            ok = model.label_codes_[si] == truth
            res["ds"].append(float(np.mean([str(ck[t]) == gold[t] for t in scored])))
            res["auto"].append(float(ok.mean()))
            res["e_auto"].append(ece(model.confidence_[si], ok))
            fold = np.random.default_rng(0).permutation(len(given)) % 2
            js, vs, ns, ys = [], [], [], []
            for f in (0, 1):
                train = [t for t, fo in zip(given, fold, strict=True) if fo != f]
                test = np.array([idx[t] for t, fo in zip(given, fold, strict=True) if fo == f])
                refit = clone(model.model_).fit(a, {t: gold[t] for t in train})
                js.append(joint_of(design, refit)[test])
                vs.append(votes[test])
                ns.append(design.answers_per_task[test])
                ys.append(np.array([lab[gold[a.task_names[i]]] for i in test]))
            j_all = joint_of(design, model.model_)
            for kind, logits in (("bias", bias_logits), ("stack", stack_logits)):
                x = fit(
                    kind,
                    np.concatenate(js),
                    np.concatenate(vs),
                    np.concatenate(ns),
                    np.concatenate(ys),
                    args.lam,
                )
                p = log_normalize(logits(x, j_all, votes, design.answers_per_task))[0][si]
                okc = p.argmax(1) == truth
                res[kind].append(float(okc.mean()))
                res[f"e_{kind}"].append(ece(p.max(1), okc))
        m = {k: float(np.mean(v)) for k, v in res.items()}
        rows.append(m)
        print(
            f"| {d.name} | {n_give} | {m['ds']:.4f} | {m['auto']:.4f} | {m['bias']:.4f} | {m['stack']:.4f} | "
            f"{m['e_auto']:.3f} | {m['e_bias']:.3f} | {m['e_stack']:.3f} |",
            flush=True,
        )
    mean = {k: float(np.mean([r[k] for r in rows])) for k in rows[0]}
    print(
        f"| **mean** | | {mean['ds']:.4f} | {mean['auto']:.4f} ({100 * (mean['auto'] - mean['ds']):+.2f}) | "
        f"{mean['bias']:.4f} ({100 * (mean['bias'] - mean['ds']):+.2f}) | "
        f"{mean['stack']:.4f} ({100 * (mean['stack'] - mean['ds']):+.2f}) | "
        f"{mean['e_auto']:.3f} | {mean['e_bias']:.3f} | {mean['e_stack']:.3f} |"
    )


if __name__ == "__main__":
    main()
