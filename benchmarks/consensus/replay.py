"""Dynamic-overlap replay on the real data sets.

    .venv/bin/python benchmarks/consensus/replay.py [--seed 0]

Each task's answers are shuffled once; the fixed-overlap baseline buys the first k of them, the
dynamic rule (:class:`consensus.dynamic_overlap.StoppingRule`, min 2, max = full overlap) buys
answers one at a time and stops as soon as the calibrated posterior reaches the target. Both
score every prefix with the same worker skills (``Auto`` fitted once on all answers, no gold,
as the service would have from earlier batches), using the online posterior's formula.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from consensus import Auto, read_csv, read_gold_csv  # noqa: E402
from consensus._utils import log_normalize, safe_log  # noqa: E402
from consensus.calibration import tempered_log_posterior  # noqa: E402
from consensus.dynamic_overlap import StoppingRule  # noqa: E402

SETS = ["bluebirds", "dog", "face", "rte", "temp", "adult2", "trec_rel"]
TARGETS = [0.8, 0.9, 0.95, 0.98]


def prefix_posteriors(a, skills, seed):  # type: ignore[no-untyped-def]
    """Shuffle answers within tasks; return (task, position 1..n, label argmax, confidence) per prefix."""
    rng = np.random.default_rng(seed)
    order = np.lexsort((rng.random(a.n_answers), a.task))
    t, w, lab = a.task[order], a.worker[order], a.label[order]
    log_cm_t = safe_log(skills.confusion).transpose(0, 2, 1)
    contrib = log_cm_t[w, lab]  # (n, K)
    cum = np.cumsum(contrib, axis=0)
    starts = np.flatnonzero(np.r_[True, t[1:] != t[:-1]])
    group_start = np.repeat(starts, np.diff(np.r_[starts, t.size]))
    before = np.where(group_start[:, None] > 0, cum[np.maximum(group_start - 1, 0)], 0.0)
    cum -= before
    pos = np.arange(t.size) - group_start + 1
    logp = tempered_log_posterior(cum, safe_log(skills.class_prior), pos.astype(float), skills.rho)
    p = log_normalize(logp)[0]
    return t, pos, p.argmax(axis=1), p.max(axis=1)


def replay(
    name: str, sets_dir: Path, seed: int, summary: dict[float, list[tuple[float, float]]]
) -> list[str]:
    a = read_csv(sets_dir / name / "answers.csv")
    gt, gl = a.gold_codes(read_gold_csv(sets_dir / name / "gold.csv"))
    skills = Auto().fit(a).skills_
    t, pos, label, conf = prefix_posteriors(a, skills, seed)
    n_per_task = np.bincount(a.task, minlength=a.n_tasks)
    full = int(np.median(n_per_task))
    is_gold = np.zeros(a.n_tasks, bool)
    is_gold[gt] = True
    truth = np.full(a.n_tasks, -1)
    truth[gt] = gl

    def outcome(stop_pos: np.ndarray) -> tuple[float, float]:
        # stop_pos[task] = answers bought; the label is the prefix posterior at that point.
        sel = pos == stop_pos[t]
        lab = np.full(a.n_tasks, -1)
        lab[t[sel]] = label[sel]
        return float(stop_pos[is_gold].mean()), float((lab[gt] == gl).mean())

    rows = []
    fixed = {k: outcome(np.minimum(k, n_per_task)) for k in sorted({3, 5, full})}
    base_n, base_acc = fixed[full]
    for k, (n, acc) in fixed.items():
        rows.append(f"| {name} | fixed {k} | {n:.2f} | {acc:.3f} | | |")
    for target in TARGETS:
        rule = StoppingRule(target=target, min_overlap=2, max_overlap=full)
        done = (
            (pos >= rule.min_overlap) & (conf >= rule.target)
            | (pos >= rule.max_overlap)
            | (pos == n_per_task[t])
        )
        first = np.full(a.n_tasks, np.iinfo(np.int64).max)
        np.minimum.at(first, t[done], pos[done])
        n, acc = outcome(first)
        summary.setdefault(target, []).append((1 - n / base_n, acc - base_acc))
        rows.append(
            f"| {name} | dynamic ≥{target} (max {full}) | {n:.2f} | {acc:.3f} | {100 * (1 - n / base_n):.0f}% | {100 * (acc - base_acc):+.1f} |"
        )
    return rows


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument(
        "--sets", type=Path, default=ROOT.parent / "shared" / "datasets" / "classification"
    )
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    print(
        "| set | policy | answers per gold task | accuracy | answers saved vs fixed full | accuracy Δ (points) |"
    )
    print("|---|---|---|---|---|---|")
    summary: dict[float, list[tuple[float, float]]] = {}
    for name in SETS:
        print("\n".join(replay(name, args.sets, args.seed, summary)))
    print(
        "\n| target | mean answers saved over the 7 sets | sets with ≥30% saved and Δacc ≥ −0.5 | worst Δacc (points) |"
    )
    print("|---|---|---|---|")
    for target, res in summary.items():
        ok = sum(1 for saved, d in res if saved >= 0.3 and d >= -0.005)
        print(
            f"| {target} | {100 * np.mean([r[0] for r in res]):.0f}% | {ok}/7 | {100 * min(r[1] for r in res):+.1f} |"
        )


if __name__ == "__main__":
    main()
