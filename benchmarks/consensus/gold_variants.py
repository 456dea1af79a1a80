"""Issue 13 item 3: which use of 5% gold helps, per set, and an oracle bound.

gold5.py's protocol: per set, ``--draws`` random subsets of the gold tasks (5% of the tasks, at
most half of the known gold) are given; everything is scored on the *other* gold tasks. For each
variant of the Dawid–Skene family (prior strength, weight of a gold answer in the workers'
counts, class prior learnt from gold, pooled / one-coin models) this prints:

- its accuracy on the scored tasks (never used to choose anything);
- its cross-fitted log loss on the *given* gold (two folds: each half scored by the variant
  refitted with the other half clamped, rho tempering refitted on those held-out scores),
  which is what a selection rule may use.

Then two selection rules fixed before the run and the oracle (best variant per set with
hindsight), and the share of scored tasks whose answers are unanimous and wrong.

.venv/bin/python benchmarks/consensus/gold_variants.py [--draws 3] [--sets a,b]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
from consensus import read_csv, read_gold_csv  # noqa: E402
from consensus._utils import log_normalize, safe_log  # noqa: E402
from consensus.calibration import (  # noqa: E402
    expected_calibration_error,
    tempered_log_posterior,
)
from consensus.classification._em import (  # noqa: E402
    Design,
    Gold,
    e_step,
    expected_counts,
    mv_posterior,
    task_logliks,
)
from consensus.classification._loop import class_prior_map  # noqa: E402
from consensus.classification.dawid_skene import dirichlet_m_step, population_prior  # noqa: E402
from consensus.classification.one_coin import one_coin_confusion  # noqa: E402

F = NDArray[np.float64]
I = NDArray[np.intp]  # noqa: E741

# crowd-kit DS 1.4.2 on gold5's scored subsets (README, gold5 table; same draws).
CK_DS = {
    "adult2": 0.7665,
    "bluebirds": 0.8835,
    "dog": 0.8405,
    "face": 0.6444,
    "rte": 0.9263,
    "temp": 0.9400,
    "trec_rel": 0.6188,
}


@dataclass(frozen=True)
class Variant:
    model: str = "ds"  # ds | pooled | onecoin
    s: float = 8.0  # pseudo-answers per confusion row
    g: float = 1.0  # weight of a gold task in the workers' counts
    cp: str = "em"  # class prior: em | gold (gold frequencies only) | w (gold tasks weighted g)
    sup: bool = False  # population prior shaped by the gold tasks' answers only

    @property
    def name(self) -> str:
        out = f"{self.model} s{self.s:g} g{self.g:g}"
        if self.cp != "em":
            out += f" cp-{self.cp}"
        if self.sup:
            out += " sup"
        return out


def weighted(post: F, gold: Gold, g: float) -> F:
    if g == 1.0 or not gold.task.size:
        return post
    out = post.copy()
    out[gold.task] *= g
    return out


def fit(design: Design, gold: Gold, v: Variant, n_iter: int = 100, tol: float = 1e-6) -> F:
    """The variant's joint log p(answers, k) per task (untempered)."""
    k, n_w = design.n_labels, design.n_workers
    post = mv_posterior(design, gold)
    counts0 = expected_counts(design, weighted(post, gold, v.g))
    if v.sup and gold.task.size:
        gpost = np.zeros_like(post)
        gpost[gold.task, gold.label] = 1.0
        counts0 = expected_counts(design, gpost)
    gold_freq = np.bincount(gold.label, minlength=k) + 1.0
    gold_prior = gold_freq / gold_freq.sum()
    n_ans = max(float(design.answers_per_task.sum()), 1.0)
    if v.model == "onecoin":
        pooled = (np.trace(counts0, axis1=1, axis2=2).sum() + 1.0) / (counts0.sum() + 2.0)
        a_, b_ = v.s * pooled, v.s * (1 - pooled)
    else:
        alpha = population_prior(counts0, v.s if v.model == "ds" else 10.0)
    last = -np.inf
    log_cm = np.zeros((n_w, k, k))
    log_prior = np.zeros(k)
    for _ in range(n_iter):
        counts = expected_counts(design, weighted(post, gold, v.g))
        if v.model == "ds":
            cm, pen = dirichlet_m_step(counts, alpha)
        elif v.model == "pooled":
            cm1, pen = dirichlet_m_step(counts.sum(axis=0, keepdims=True), alpha[None])
            cm = np.repeat(cm1, n_w, axis=0)
        else:
            correct = np.trace(counts, axis1=1, axis2=2)
            n = counts.sum(axis=(1, 2))
            acc = (correct + a_) / (n + a_ + b_)
            pen = float((a_ * safe_log(acc) + b_ * safe_log(1.0 - acc)).sum())
            cm = one_coin_confusion(acc, k)
        if v.cp == "gold" and gold.task.size:
            prior, ppen = gold_prior, 0.0
        elif v.cp == "w":
            prior, ppen = class_prior_map(weighted(post, gold, v.g), 1.0)
        else:
            prior, ppen = class_prior_map(post, 1.0)
        log_cm, log_prior = safe_log(cm), safe_log(prior)
        post, ll = e_step(design, log_cm, log_prior, gold)
        obj = ll + pen + ppen
        if obj - last < tol * n_ans:
            break
        last = obj
    out: F = task_logliks(design, log_cm) + log_prior
    return out


def fit_rho_nll(j: F, n: F, y: I) -> tuple[float, float]:
    from scipy.optimize import minimize_scalar

    def nll(rho: float) -> float:
        lp = log_normalize(tempered_log_posterior(j, np.zeros(j.shape[1]), n, rho))[0]
        return -float(safe_log(lp[np.arange(y.size), y]).sum())

    r = minimize_scalar(nll, bounds=(0.0, 3.0), method="bounded")
    return float(r.x), float(r.fun)


def variants() -> list[Variant]:
    out = []
    for s in (2.0, 8.0, 32.0):
        for g in (1.0, 3.0, 10.0, 30.0):
            out.append(Variant("ds", s, g))
    out += [Variant("ds", 8.0, 10.0, "gold")]
    out += [Variant("ds", s, g, "w") for s in (2.0, 8.0, 32.0) for g in (3.0, 10.0, 30.0)]
    out += [Variant("ds", 8.0, 1.0, "gold"), Variant("ds", 8.0, 3.0, "gold")]
    out += [Variant("ds", 8.0, 1.0, sup=True), Variant("ds", 8.0, 3.0, sup=True)]
    out += [Variant("ds", 32.0, 1.0, sup=True), Variant("ds", 32.0, 3.0, sup=True)]
    out += [Variant("pooled", 10.0, 1.0), Variant("pooled", 10.0, 10.0)]
    out += [Variant("onecoin", 8.0, 1.0), Variant("onecoin", 8.0, 10.0)]
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sets-dir", type=Path, default=Path("/work/shared/datasets/classification"))
    ap.add_argument("--sets", default="")
    ap.add_argument("--draws", type=int, default=3)
    ap.add_argument("--json", type=Path, default=Path("/tmp/gold_variants.json"))
    args = ap.parse_args()
    names = sorted(p.name for p in args.sets_dir.iterdir() if (p / "answers.csv").exists())
    if args.sets:
        names = [n for n in names if n in args.sets.split(",")]
    vs = variants()
    result: dict[str, dict[str, object]] = {}
    for name in names:
        t0 = time.process_time()
        a = read_csv(args.sets_dir / name / "answers.csv")
        gold = read_gold_csv(args.sets_dir / name / "gold.csv")
        design = Design.from_answers(a)
        idx = {t: i for i, t in enumerate(a.task_names.tolist())}
        lab = {x: i for i, x in enumerate(a.label_names.tolist())}
        gold_tasks = sorted(t for t in gold if t in idx and gold[t] in lab)
        n_give = max(1, min(round(0.05 * a.n_tasks), len(gold_tasks) // 2))
        acc = np.zeros((args.draws, len(vs)))
        nll = np.zeros((args.draws, len(vs)))
        ece = np.zeros((args.draws, len(vs)))
        floor = np.zeros((args.draws, len(vs)))
        unanimous_wrong = []
        for draw in range(args.draws):
            given = sorted(
                np.random.default_rng(draw).choice(gold_tasks, size=n_give, replace=False).tolist()
            )
            gs = set(given)
            scored = [t for t in gold_tasks if t not in gs]
            si = np.array([idx[t] for t in scored])
            truth = np.array([lab[gold[t]] for t in scored])
            gt = np.array([idx[t] for t in given])
            gl = np.array([lab[gold[t]] for t in given])
            votes = design.votes[si]
            unan = (votes.max(1) == votes.sum(1)) & (votes.argmax(1) != truth)
            unanimous_wrong.append(float(unan.mean()))
            fold = np.random.default_rng(0).permutation(gt.size) % 2
            for j, v in enumerate(vs):
                full = fit(design, Gold(gt, gl), v)
                acc[draw, j] = float((full[si].argmax(1) == truth).mean())
                js, ys, ns = [], [], []
                for f in (0, 1):
                    tr = fold != f
                    jj = fit(design, Gold(gt[tr], gl[tr]), v)
                    js.append(jj[gt[~tr]])
                    ys.append(gl[~tr])
                    ns.append(design.answers_per_task[gt[~tr]])
                rho, nll[draw, j] = fit_rho_nll(
                    np.concatenate(js), np.concatenate(ns), np.concatenate(ys)
                )
                # Auto's rule: the measured rho shrunk towards 0.35 with weight n / (n + 30).
                w = gt.size / (gt.size + 30.0) if gt.size >= 30 else 0.0
                rho = w * rho + (1 - w) * 0.35
                p = log_normalize(
                    tempered_log_posterior(
                        full[si], np.zeros(full.shape[1]), design.answers_per_task[si], rho
                    )
                )[0]
                conf = p.max(1)
                ece[draw, j] = expected_calibration_error(conf, p.argmax(1) == truth)
                rng = np.random.default_rng(1)
                floor[draw, j] = np.mean(
                    [
                        expected_calibration_error(conf, rng.random(conf.size) < conf)
                        for _ in range(100)
                    ]
                )
        result[name] = {
            "n_give": n_give,
            "acc": acc.tolist(),
            "nll": nll.tolist(),
            "ece": ece.tolist(),
            "ece_floor": floor.tolist(),
            "unanimous_wrong": unanimous_wrong,
        }
        print(f"## {name}: {n_give} gold given, {time.process_time() - t0:.1f} s CPU", flush=True)
        print(f"unanimous and wrong among scored: {np.mean(unanimous_wrong):.3f}")
        print(
            "| variant | acc | Δ vs ck DS | gold nll (cross-fitted) | ECE | ECE of a calibrated twin |"
        )
        for j, v in enumerate(vs):
            print(
                f"| {v.name} | {acc[:, j].mean():.4f} | "
                f"{100 * (acc[:, j].mean() - CK_DS.get(name, np.nan)):+.2f} | {nll[:, j].mean():.2f} | "
                f"{ece[:, j].mean():.3f} | {floor[:, j].mean():.3f} |"
            )
        args.json.write_text(json.dumps({"variants": [v.name for v in vs], **result}))
    summarise(result, vs)


def summarise(result: dict[str, dict[str, object]], vs: list[Variant]) -> None:
    default = [v.name for v in vs].index("ds s8 g1")
    rows = []
    for name, r in result.items():
        acc, nll = np.array(r["acc"]), np.array(r["nll"])
        pick_min = acc[np.arange(acc.shape[0]), nll.argmin(1)].mean()
        # Default unless another variant's cross-fitted gold log loss is lower by > 2 nats.
        better = nll.min(1) < nll[:, default] - 2.0
        pick2 = np.where(
            better, acc[np.arange(acc.shape[0]), nll.argmin(1)], acc[:, default]
        ).mean()
        rows.append((name, acc[:, default].mean(), pick_min, pick2, acc.mean(0).max()))
        print(
            f"| {name} | default {rows[-1][1]:.4f} | min-nll {pick_min:.4f} | "
            f"min-nll>2 {pick2:.4f} | oracle {rows[-1][4]:.4f} ({vs[int(acc.mean(0).argmax())].name}) |"
        )
    m = np.mean([[x[1], x[2], x[3], x[4]] for x in rows], axis=0)
    ck = np.mean([CK_DS[x[0]] for x in rows])
    print(
        f"mean: default {m[0]:.4f} ({100 * (m[0] - ck):+.2f}), min-nll {m[1]:.4f} ({100 * (m[1] - ck):+.2f}), "
        f"min-nll>2 {m[2]:.4f} ({100 * (m[2] - ck):+.2f}), oracle {m[3]:.4f} ({100 * (m[3] - ck):+.2f})"
    )


if __name__ == "__main__":
    main()
