"""The model as one more worker (issue 15, item 3), replayed on the real crowds.

    .venv/bin/python benchmarks/model_replay.py [--seed 0] [--audit 0.1] [--sets ...]

For each real crowd in ``../shared/datasets/classification``, a simulated model answers every
task: right with probability q (0.6, 0.75, 0.9), otherwise a wrong label drawn like the crowd's
own errors (the crowd's empirical confusion on the gold tasks, diagonal removed). The truth it is
right about is the gold label, or on a task without gold the full crowd's consensus.

The model enters the consensus exactly as the service enters it (``consensus`` library, the same
``Auto`` estimator and online posterior as ``benchmarks/consensus/replay.py``): one more worker
whose confusion matrix is fitted with everyone else's, from agreement and the project's gold
(``--gold-share`` of the gold tasks, 10%, given to every fit, never scored; accuracy is measured
on the other gold tasks), so nothing but the data tells the estimator how good the model is. Each task's human answers are
shuffled once (seed); the model's answer is there from the start and costs nothing; humans are
bought one at a time until the posterior reaches the target, never fewer than ``--min-humans``
(the model never counts toward it), never more than the task's full overlap.

* **no model**: dynamic overlap at target 0.9, the project's usual rule: the reference accuracy.
* **model q, equal accuracy**: the cheapest target (of a fixed grid) whose accuracy on the gold
  tasks is within 0.5 point of the reference or better: answers bought per gold task.
* **auto-labelling**: with the model q and the project's target 0.9, a task whose posterior from
  the model's answer alone reaches the target completes with no human answer, except a random
  ``--audit`` share that goes to humans as above. The model's confusion is fitted on the crowd's
  answers plus its own answers **on the audited tasks only** (the service never sees humans on
  the others): accuracy of the auto-labelled tasks, overall accuracy, human answers saved.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from app.quality.engine import gold_counts, rest_models_on_gold  # noqa: E402
from consensus import Answers, Auto, WorkerSkills, read_csv, read_gold_csv  # noqa: E402
from consensus._utils import log_normalize, safe_log  # noqa: E402
from consensus.calibration import tempered_log_posterior  # noqa: E402

SETS = ["bluebirds", "dog", "face", "rte", "temp", "adult2", "trec_rel"]
QUALITIES = [0.6, 0.75, 0.9]
TARGETS = [0.7, 0.8, 0.85, 0.9, 0.93, 0.95, 0.97, 0.98, 0.99, 0.995]
REFERENCE_TARGET = 0.9
TOLERANCE = 0.005
MODEL = "~model"
COUNT_MODEL_IN_DESIGN_EFFECT = False
"""Whether the model's answer counts as one more correlated answer in the calibration's design
effect (``1 + (n - 1) rho``). It does not: the tempering corrects for humans agreeing on the
same hard items; a model's answer is weighted by its own fitted confusion, and counting it would
make a useless model (≈ flat confusion, no evidence) cost answers by tempering everyone else's."""  # sorts after every crowd worker's name

F = NDArray[np.float64]
Ints = NDArray[np.intp]


@dataclass(frozen=True)
class Crowd:
    name: str
    answers: Answers
    gold_tasks: Ints  # the gold tasks accuracy is measured on (those not given to the fits)
    gold_labels: Ints
    fit_gold: dict[str, str]  # the project's gold tasks: given to every fit, never scored
    truth: Ints  # per task: gold, else the full crowd's consensus
    error_confusion: F  # (K, K): P(wrong answer l | truth k), rows sum to 1, zero diagonal


def load(sets_dir: Path, name: str, gold_share: float, seed: int) -> Crowd:
    a = read_csv(sets_dir / name / "answers.csv")
    gold = read_gold_csv(sets_dir / name / "gold.csv")
    gt, gl = a.gold_codes(gold)
    fit = Auto().fit(a)
    truth = np.asarray(fit.probas_.argmax(axis=1), dtype=np.intp)
    truth[gt] = gl
    given = np.random.default_rng([seed, 11]).random(gt.size) < gold_share
    fit_gold = {
        str(a.task_names[t]): str(a.label_names[lab])
        for t, lab in zip(gt[given], gl[given], strict=True)
    }
    k = a.n_labels
    counts = np.zeros((k, k))
    is_gold = np.full(a.n_tasks, -1)
    is_gold[gt] = gl
    on_gold = is_gold[a.task] >= 0
    np.add.at(counts, (is_gold[a.task][on_gold], a.label[on_gold]), 1.0)
    np.fill_diagonal(counts, 0.0)
    counts += 1e-3  # a class the crowd never confused still has somewhere to go
    np.fill_diagonal(counts, 0.0)
    return Crowd(
        name, a, gt[~given], gl[~given], fit_gold, truth, counts / counts.sum(axis=1, keepdims=True)
    )


def model_answers(crowd: Crowd, quality: float, rng: np.random.Generator) -> Ints:
    """The simulated model's label for every task."""
    k = crowd.answers.n_labels
    right = rng.random(crowd.truth.size) < quality
    wrong = np.array([rng.choice(k, p=crowd.error_confusion[t]) for t in crowd.truth])
    return np.where(right, crowd.truth, wrong).astype(np.intp)


def with_model(a: Answers, labels: Ints, tasks: Ints) -> Answers:
    """The crowd's answers plus the model's on ``tasks``."""
    return Answers(
        task=np.concatenate([a.task, tasks]),
        worker=np.concatenate([a.worker, np.full(tasks.size, a.n_workers, dtype=np.intp)]),
        label=np.concatenate([a.label, labels[tasks]]),
        task_names=a.task_names,
        worker_names=np.append(a.worker_names, MODEL),
        label_names=a.label_names,
    )


@dataclass(frozen=True)
class Prefixes:
    """Every prefix of every task's shuffled human answers: task, humans so far, label, confidence."""

    task: Ints
    pos: Ints
    label: Ints
    conf: F


def prefixes(
    a: Answers, skills: WorkerSkills, order: Ints, model: F | None, with_zero: bool
) -> Prefixes:
    """Posteriors after 1..n human answers (and, ``with_zero``, after none) per task; ``model``
    is the (T, K) log-likelihood of the model's answer, or None without a model."""
    t, w, lab = a.task[order], a.worker[order], a.label[order]
    log_cm_t = safe_log(skills.confusion).transpose(0, 2, 1)
    cum = np.cumsum(log_cm_t[w, lab], axis=0)
    starts = np.flatnonzero(np.r_[True, t[1:] != t[:-1]])
    group_start = np.repeat(starts, np.diff(np.r_[starts, t.size]))
    cum -= np.where(group_start[:, None] > 0, cum[np.maximum(group_start - 1, 0)], 0.0)
    pos = np.arange(t.size) - group_start + 1
    tasks = t
    if with_zero:
        zero_tasks = np.arange(a.n_tasks)
        tasks = np.concatenate([zero_tasks, t])
        pos = np.concatenate([np.zeros(a.n_tasks, dtype=np.intp), pos])
        cum = np.concatenate([np.zeros((a.n_tasks, a.n_labels)), cum])
    n = pos.astype(float)
    if model is not None:
        cum = cum + model[tasks]
        if COUNT_MODEL_IN_DESIGN_EFFECT:
            n = n + 1.0
    logp = tempered_log_posterior(cum, safe_log(skills.class_prior), n, skills.rho)
    p = log_normalize(logp)[0]
    return Prefixes(tasks, pos, p.argmax(axis=1), p.max(axis=1))


def stop_at(
    px: Prefixes, n_tasks: int, available: Ints, target: float, min_humans: int, full: int
) -> Ints:
    """Human answers bought per task under the dynamic rule (prefixes with ≥ 1 human)."""
    done = (px.pos >= 1) & (
        ((px.pos >= min_humans) & (px.conf >= target))
        | (px.pos >= full)
        | (px.pos == available[px.task])
    )
    first = np.full(n_tasks, np.iinfo(np.intp).max, dtype=np.intp)
    np.minimum.at(first, px.task[done], px.pos[done])
    return first


def outcome(
    crowd: Crowd, px: Prefixes, bought: Ints, forced: Ints | None = None
) -> tuple[float, float]:
    """Human answers per gold task and accuracy on the gold tasks; ``forced`` (−1: none) holds
    labels decided without the crowd (auto-labelled tasks, zero answers bought)."""
    a = crowd.answers
    sel = px.pos == bought[px.task]
    lab = np.full(a.n_tasks, -1)
    lab[px.task[sel]] = px.label[sel]
    if forced is not None:
        lab = np.where(forced >= 0, forced, lab)
    gt, gl = crowd.gold_tasks, crowd.gold_labels
    return float(bought[gt].mean()), float((lab[gt] == gl).mean())


def model_loglik(skills: WorkerSkills, labels: Ints) -> F:
    """Each task's log-likelihood from the model's answer, with the model's fitted confusion."""
    w = list(skills.worker_names).index(MODEL)
    out: F = safe_log(skills.confusion[w]).T[labels]
    return out


def fit_with_model(crowd: Crowd, labels: Ints, tasks: Ints, gold_first: bool) -> WorkerSkills:
    """The re-estimation's fit with the model's answers on ``tasks``: ``Auto`` on everyone's
    answers and the project's gold, then (``gold_first``) the model's matrix resting on its
    answers to the gold tasks first (``app.quality.engine.rest_models_on_gold``, what
    ``app/quality/reestimate.py`` applies). The model answers every gold task (the service
    predicts gold tasks too, and never auto-labels them)."""
    a = crowd.answers
    skills = Auto().fit(with_model(a, labels, tasks), crowd.fit_gold).skills_
    if not gold_first:
        return skills
    names = a.task_names
    on_gold = [
        (str(names[t]), MODEL, str(a.label_names[labels[t]]))
        for t in np.flatnonzero(np.isin(names, list(crowd.fit_gold)))
    ]
    counts = gold_counts(list(a.label_names), on_gold, crowd.fit_gold, {MODEL})
    return rest_models_on_gold(skills, counts)


def run(
    crowd: Crowd,
    seed: int,
    audit: float,
    min_humans: int,
    auto_targets: list[float],
    gold_first: bool = True,
) -> list[dict[str, object]]:
    a = crowd.answers
    rng = np.random.default_rng(seed)
    order = np.lexsort((rng.random(a.n_answers), a.task))
    available = np.bincount(a.task, minlength=a.n_tasks).astype(np.intp)
    full = int(np.median(available))
    base_skills = Auto().fit(a, crowd.fit_gold).skills_
    base = prefixes(a, base_skills, order, None, with_zero=False)
    bought0 = stop_at(base, a.n_tasks, available, REFERENCE_TARGET, min_humans, full)
    n_ref, acc0 = outcome(crowd, base, bought0)
    # Without a model too, the cheapest target of the grid within 0.5 point of the reference:
    # the fair price of that accuracy (at worst the reference itself).
    n0, t0 = n_ref, REFERENCE_TARGET
    for target in TARGETS:
        n, acc = outcome(crowd, base, stop_at(base, a.n_tasks, available, target, min_humans, full))
        if acc >= acc0 - TOLERANCE and n < n0:
            n0, t0 = n, target
    rows: list[dict[str, object]] = [
        {
            "set": crowd.name,
            "arm": "no model",
            "target": t0,
            "answers": n0,
            "acc": acc0,
            "ref_answers": n_ref,
        }
    ]
    for q in QUALITIES:
        labels = model_answers(crowd, q, np.random.default_rng([seed, int(q * 1000)]))
        model_acc = float((labels[crowd.gold_tasks] == crowd.gold_labels).mean())
        skills = fit_with_model(crowd, labels, np.arange(a.n_tasks), gold_first)
        w = list(skills.worker_names).index(MODEL)
        learnt = float(skills.accuracy[w])
        px = prefixes(a, skills, order, model_loglik(skills, labels), with_zero=False)
        best = None
        at_ref = None
        for target in TARGETS:
            n, acc = outcome(crowd, px, stop_at(px, a.n_tasks, available, target, min_humans, full))
            if target == REFERENCE_TARGET:
                at_ref = (n, acc)
            if acc >= acc0 - TOLERANCE and (best is None or n < best[1]):
                best = (target, n, acc)
        assert at_ref is not None
        rows.append(
            {
                "set": crowd.name,
                "arm": f"model {q}",
                "model_acc": model_acc,
                "learnt": learnt,
                "target": best[0] if best else None,
                "answers": best[1] if best else None,
                "acc": best[2] if best else None,
                "ref_answers": at_ref[0],
                "ref_acc": at_ref[1],
                "saved": 1 - best[1] / n0 if best else None,
            }
        )
        # Auto-labelling: the model's skill is learnt from the audited tasks only.
        audited = np.random.default_rng([seed, 7, int(q * 1000)]).random(a.n_tasks) < audit
        skills_a = fit_with_model(crowd, labels, np.flatnonzero(audited), gold_first)
        px_a = prefixes(a, skills_a, order, model_loglik(skills_a, labels), with_zero=True)
        alone = px_a.pos == 0
        model_conf = np.zeros(a.n_tasks)
        model_conf[px_a.task[alone]] = px_a.conf[alone]
        for target in auto_targets:
            auto = (model_conf >= target) & ~audited
            bought = stop_at(px_a, a.n_tasks, available, target, min_humans, full)
            bought = np.where(auto, 0, bought)
            n, acc = outcome(crowd, px_a, bought, np.where(auto, labels, -1))
            # The same project without a model at the same target: what the humans would cost.
            n_plain, acc_plain = outcome(
                crowd, base, stop_at(base, a.n_tasks, available, target, min_humans, full)
            )
            g_auto = auto[crowd.gold_tasks]
            auto_acc = (
                float((labels[crowd.gold_tasks][g_auto] == crowd.gold_labels[g_auto]).mean())
                if g_auto.any()
                else None
            )
            rows.append(
                {
                    "set": crowd.name,
                    "arm": f"auto-label, model {q}",
                    "target": target,
                    "auto_share": float(g_auto.mean()),
                    "auto_acc": auto_acc,
                    "answers": n,
                    "acc": acc,
                    "plain_answers": n_plain,
                    "plain_acc": acc_plain,
                    "saved": 1 - n / n_plain,
                    "learnt": float(skills_a.accuracy[list(skills_a.worker_names).index(MODEL)]),
                }
            )
    return rows


def default_sets_dir() -> Path:
    """``../shared/datasets/classification`` beside the checkout (or beside /work/main when the
    checkout is a worktree elsewhere)."""
    for base in (ROOT.parent, Path("/work")):
        candidate = base / "shared" / "datasets" / "classification"
        if candidate.is_dir():
            return candidate
    return ROOT.parent / "shared" / "datasets" / "classification"


def pct(x: object) -> str:
    return "–" if x is None else f"{100 * float(x):.1f}"  # type: ignore[arg-type]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sets-dir", type=Path, default=default_sets_dir())
    ap.add_argument("--sets", nargs="*", default=SETS)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--audit", type=float, default=0.1)
    ap.add_argument("--min-humans", type=int, default=2)
    ap.add_argument(
        "--auto-targets",
        type=float,
        nargs="*",
        default=[0.9, 0.8],
        help="project targets to auto-label at (a task's model-only posterior must reach it)",
    )
    ap.add_argument(
        "--gold-share",
        type=float,
        default=0.1,
        help="share of the gold tasks the project has as gold (given to the fits, not scored)",
    )
    ap.add_argument(
        "--no-gold-first",
        action="store_true",
        help="the model's matrix as the fit leaves it (before rest_models_on_gold)",
    )
    args = ap.parse_args()
    all_rows: list[dict[str, object]] = []
    for name in args.sets:
        all_rows += run(
            load(args.sets_dir, name, args.gold_share, args.seed),
            args.seed,
            args.audit,
            args.min_humans,
            args.auto_targets,
            gold_first=not args.no_gold_first,
        )
    print(
        f"min {args.min_humans} human answers per task, reference: no model at target "
        f"{REFERENCE_TARGET}; equal accuracy = within {100 * TOLERANCE:.1f} point; seed {args.seed}; "
        f"gold first: {'no' if args.no_gold_first else 'yes'}\n"
    )
    print(
        "| set | model q | model acc (gold) | learnt acc | no model: answers/task (target) "
        "| no model: acc | model: answers/task (target) | model: acc | saved "
        "| both at target 0.9: answers without → with model, acc with |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    ref = {r["set"]: r for r in all_rows if r["arm"] == "no model"}
    for r in all_rows:
        if not str(r["arm"]).startswith("model"):
            continue
        b = ref[r["set"]]
        model_cost = "–" if r["answers"] is None else f"{r['answers']:.2f} ({r['target']})"
        print(
            f"| {r['set']} | {str(r['arm'])[6:]} | {pct(r['model_acc'])} | {pct(r['learnt'])} "
            f"| {b['answers']:.2f} ({b['target']}) | {pct(b['acc'])} "
            f"| {model_cost} | {pct(r['acc'])} | {pct(r['saved'])}% "
            f"| {b['ref_answers']:.2f} → {r['ref_answers']:.2f}, {pct(r['ref_acc'])} |"
        )
    print(
        f"\nAuto-labelling at {100 * args.audit:.0f}% audit (the model's skill learnt from the "
        "audited tasks, the crowd and the gold):\n\n"
        "| set | model q | target | learnt acc | auto-labelled | acc of auto-labelled "
        "| acc overall | acc, no model | human answers/task: no model → with | saved |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    for r in all_rows:
        if not str(r["arm"]).startswith("auto"):
            continue
        print(
            f"| {r['set']} | {str(r['arm'])[18:]} | {r['target']} | {pct(r['learnt'])} "
            f"| {pct(r['auto_share'])}% | {pct(r['auto_acc'])} | {pct(r['acc'])} "
            f"| {pct(r['plain_acc'])} | {r['plain_answers']:.2f} → {r['answers']:.2f} "
            f"| {pct(r['saved'])}% |"
        )
    print("\nSummary (mean over sets):\n")
    for q in QUALITIES:
        rows = [r for r in all_rows if r["arm"] == f"model {q}"]
        saved = [float(r["saved"]) for r in rows if r["saved"] is not None]  # type: ignore[arg-type]
        print(
            f"- model {q}: answers saved at equal accuracy {100 * np.mean(saved):.0f}% "
            f"(equal accuracy reached on {len(saved)}/{len(rows)} sets; "
            f"least {100 * min(saved):.0f}%)"
        )
        for target in args.auto_targets:
            auto = [
                r
                for r in all_rows
                if r["arm"] == f"auto-label, model {q}" and r["target"] == target
            ]
            accs = [float(r["acc"]) - float(r["plain_acc"]) for r in auto]  # type: ignore[arg-type]
            shares = [float(r["auto_share"]) for r in auto]  # type: ignore[arg-type]
            saved_a = [float(r["saved"]) for r in auto]  # type: ignore[arg-type]
            print(
                f"  - auto-labelling at target {target}: {100 * np.mean(shares):.0f}% of tasks "
                f"auto-labelled, human answers saved {100 * np.mean(saved_a):.0f}%, accuracy Δ "
                f"mean {100 * np.mean(accs):+.1f} points (worst {100 * min(accs):+.1f})"
            )


if __name__ == "__main__":
    main()
