"""Gold on 5% of tasks: ``auto`` with that gold beside crowd-kit's DS and MV, on the other tasks.

For each real set, ``--draws`` random 5% subsets of the gold tasks are given to ``auto`` as
honeypots; every method is scored on the gold tasks *not* in the subset (crowd-kit's methods
take no gold, so they are fitted once per set). Also ``auto`` without gold, ``auto`` with the
gold but without choosing how to learn from it (``use_gold=False``: clamping and EM counts
only, the behaviour before issue 13's gold selection), the variant ``auto`` chose, and the ECE
of ``auto`` with that gold (10 equal-width bins, on the scored tasks).

.venv/bin/python benchmarks/consensus/gold5.py --draws 3 [--ck-cache /tmp/ck_ds.json]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
from consensus import Auto, MajorityVote, read_csv, read_gold_csv  # noqa: E402

CK = str(ROOT / ".venv-crowdkit" / "bin" / "python")
HERE = Path(__file__).resolve().parent


def ece(conf: np.ndarray, correct: np.ndarray, n_bins: int = 10) -> float:
    bins = np.minimum((conf * n_bins).astype(int), n_bins - 1)
    total = 0.0
    for b in range(n_bins):
        m = bins == b
        if m.any():
            total += m.mean() * abs(conf[m].mean() - correct[m].mean())
    return float(total)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument(
        "--sets", type=Path, default=ROOT.parent.parent / "shared/datasets/classification"
    )
    ap.add_argument("--draws", type=int, default=3)
    ap.add_argument("--share", type=float, default=0.05)
    ap.add_argument("--ck-cache", type=Path, help="crowd-kit DS labels per set (JSON), reused")
    args = ap.parse_args()
    if not args.sets.exists():
        args.sets = Path("/work/shared/datasets/classification")
    print(
        "| set | gold given (of tasks) | crowd-kit MV | crowd-kit DS | ours auto, no gold | "
        "auto + gold, use_gold=False | ours auto + 5% gold | auto+gold − DS | ECE auto+gold | chosen (per draw) |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---|")
    rows = []
    cache: dict[str, dict[str, str]] = {}
    if args.ck_cache and args.ck_cache.exists():
        cache = json.loads(args.ck_cache.read_text())
    for d in sorted(p for p in args.sets.iterdir() if (p / "answers.csv").exists()):
        answers = read_csv(d / "answers.csv")
        gold = read_gold_csv(d / "gold.csv")
        if d.name not in cache:
            cache[d.name] = json.loads(
                subprocess.run(
                    [CK, str(HERE / "crowdkit_runner.py"), "labels-ds", str(d / "answers.csv")],
                    check=True,
                    capture_output=True,
                    text=True,
                ).stdout
            )["labels"]
            if args.ck_cache:
                args.ck_cache.write_text(json.dumps(cache))
        ck = cache[d.name]
        mv = MajorityVote().fit(answers)
        mv_lab = dict(zip(mv.task_names_.tolist(), mv.labels_.tolist(), strict=True))
        plain = Auto().fit(answers)
        plain_lab = dict(zip(plain.task_names_.tolist(), plain.labels_.tolist(), strict=True))
        answered = set(answers.task_names.tolist())
        gold_tasks = sorted(t for t in gold if t in answered)
        # 5% of the tasks, but never more than half the known gold (adult2 has gold on 3%):
        # the other half is what the methods are scored on.
        n_give = max(1, min(round(args.share * answers.n_tasks), len(gold_tasks) // 2))
        res: dict[str, list[float]] = {k: [] for k in ("mv", "ds", "plain", "old", "auto", "ece")}
        chosen = []
        for draw in range(args.draws):
            rng = np.random.default_rng(draw)
            given = set(rng.choice(gold_tasks, size=n_give, replace=False).tolist())
            scored = [t for t in gold_tasks if t not in given]
            fit = Auto().fit(answers, {t: gold[t] for t in given})
            chosen.append(fit.choice_)
            old = Auto(use_gold=False).fit(answers, {t: gold[t] for t in given})
            old_lab = dict(zip(old.task_names_.tolist(), old.labels_.tolist(), strict=True))
            lab = dict(zip(fit.task_names_.tolist(), fit.labels_.tolist(), strict=True))
            conf = dict(zip(fit.task_names_.tolist(), fit.confidence_.tolist(), strict=True))
            truth = [gold[t] for t in scored]
            res["mv"].append(np.mean([mv_lab[t] == g for t, g in zip(scored, truth, strict=True)]))
            res["ds"].append(np.mean([str(ck[t]) == g for t, g in zip(scored, truth, strict=True)]))
            res["plain"].append(
                np.mean([plain_lab[t] == g for t, g in zip(scored, truth, strict=True)])
            )
            res["old"].append(
                np.mean([old_lab[t] == g for t, g in zip(scored, truth, strict=True)])
            )
            ok = np.array([lab[t] == g for t, g in zip(scored, truth, strict=True)], dtype=float)
            res["auto"].append(ok.mean())
            res["ece"].append(ece(np.array([conf[t] for t in scored]), ok))
        m = {k: float(np.mean(v)) for k, v in res.items()}
        rows.append(m)
        print(
            f"| {d.name} | {n_give} ({answers.n_tasks}) | {m['mv']:.4f} | {m['ds']:.4f} | {m['plain']:.4f} | "
            f"{m['old']:.4f} | {m['auto']:.4f} | {100 * (m['auto'] - m['ds']):+.2f} pt | {m['ece']:.3f} | "
            f"{'; '.join(chosen)} |",
            flush=True,
        )
    mean = {k: float(np.mean([r[k] for r in rows])) for k in rows[0]}
    print(
        f"| **mean** | | {mean['mv']:.4f} | {mean['ds']:.4f} | {mean['plain']:.4f} | {mean['old']:.4f} | "
        f"{mean['auto']:.4f} | **{100 * (mean['auto'] - mean['ds']):+.2f} pt** | {mean['ece']:.3f} | |"
    )


if __name__ == "__main__":
    main()
