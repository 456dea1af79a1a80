"""Accuracy and calibration on the shared real data sets: ours beside crowd-kit, same run.

    .venv/bin/python benchmarks/consensus/compare.py [--sets DIR] [--no-crowdkit]

Prints Markdown tables (pasted into README.md). Accuracy is measured on the gold tasks with no
gold given to any method. Calibration (ECE, 10 bins) of ``auto`` is shown three ways:
with the library default rho (one value for all crowds), leave-one-set-out (rho chosen on the
other six sets, so the set being scored played no part in it), and with 10% of the gold used
as honeypots (rho measured on them; scored on the other 90%).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from consensus import (  # noqa: E402
    GLAD,
    Auto,
    DawidSkene,
    MajorityVote,
    OneCoinDawidSkene,
    PooledDawidSkene,
    WeightedMajorityVote,
    read_csv,
    read_gold_csv,
)
from consensus._utils import log_normalize, safe_log  # noqa: E402
from consensus.calibration import expected_calibration_error, tempered_log_posterior  # noqa: E402
from consensus.classification._em import Design, task_logliks  # noqa: E402

SETS = ["bluebirds", "dog", "face", "rte", "temp", "adult2", "trec_rel"]
OURS = {
    "auto": Auto,
    "mv": MajorityVote,
    "wmv": WeightedMajorityVote,
    "ds": DawidSkene,
    "onecoin": OneCoinDawidSkene,
    "pooled": PooledDawidSkene,
    "glad": GLAD,
}
RHO_GRID = np.round(np.arange(0.0, 1.51, 0.05), 2)


def _ece_curve(sets_dir: Path, name: str) -> tuple[np.ndarray, float]:
    """ECE of auto's labels on gold for every rho in RHO_GRID (labels do not depend on rho)."""
    a = read_csv(sets_dir / name / "answers.csv")
    gt, gl = a.gold_codes(read_gold_csv(sets_dir / name / "gold.csv"))
    m = Auto(rho=0.0).fit(a)
    d = Design.from_answers(a)
    joint = task_logliks(d, safe_log(m.skills_.confusion)) + safe_log(m.skills_.class_prior)
    correct = m.label_codes_[gt] == gl
    curve = [
        expected_calibration_error(
            log_normalize(
                tempered_log_posterior(joint, np.zeros(a.n_labels), d.answers_per_task, r)
            )[0].max(axis=1)[gt],
            correct,
        )
        for r in RHO_GRID
    ]
    return np.asarray(curve), float(correct.mean())


def _honeypot_run(
    sets_dir: Path, name: str, share: float = 0.1, seed: int = 0
) -> tuple[float, float, float]:
    """10% of gold as honeypots; accuracy and ECE on the other 90%; returns (acc, ece, rho)."""
    a = read_csv(sets_dir / name / "answers.csv")
    gold = read_gold_csv(sets_dir / name / "gold.csv")
    answered = set(a.task_names.tolist())
    tasks = np.array(sorted(t for t in gold if t in answered))
    rng = np.random.default_rng(seed)
    n_h = max(int(share * tasks.size), 30)
    hp = set(rng.choice(tasks, n_h, replace=False).tolist())
    m = Auto().fit(a, {t: gold[t] for t in hp})
    rest = {t: gold[t] for t in tasks if t not in hp}
    gt, gl = a.gold_codes(rest)
    correct = m.label_codes_[gt] == gl
    return float(correct.mean()), expected_calibration_error(m.confidence_[gt], correct), m.rho_


def ours_accuracy(sets_dir: Path) -> dict[str, dict[str, float]]:
    out: dict[str, dict[str, float]] = {}
    for name in SETS:
        a = read_csv(sets_dir / name / "answers.csv")
        gt, gl = a.gold_codes(read_gold_csv(sets_dir / name / "gold.csv"))
        row: dict[str, float] = {}
        for key, cls in OURS.items():
            start = time.perf_counter()
            m = cls().fit(a)
            row[key + "_s"] = time.perf_counter() - start
            row[key] = float((m.label_codes_[gt] == gl).mean())
            if key in ("auto", "ds"):
                row[key + "_ece"] = expected_calibration_error(
                    m.confidence_[gt], m.label_codes_[gt] == gl
                )
            if key == "auto":
                row["auto_choice"] = max(m.scores_, key=lambda k: m.scores_[k])  # type: ignore[assignment]
        out[name] = row
    return out


def crowdkit(sets_dir: Path) -> dict[str, dict[str, float | None]]:
    py = ROOT / ".venv-crowdkit" / "bin" / "python"
    res = subprocess.run(
        [str(py), str(Path(__file__).with_name("crowdkit_runner.py")), "accuracy", str(sets_dir)],
        check=True,
        capture_output=True,
        text=True,
    )
    sets: dict[str, dict[str, float | None]] = json.loads(res.stdout)["sets"]
    return sets


def _f(x: float | None) -> str:
    return "–" if x is None else f"{x:.3f}"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument(
        "--sets", type=Path, default=ROOT.parent / "shared" / "datasets" / "classification"
    )
    ap.add_argument("--crowdkit-json", type=Path, help="reuse a crowdkit_runner.py accuracy output")
    args = ap.parse_args()
    ck = (
        json.loads(args.crowdkit_json.read_text())["sets"]
        if args.crowdkit_json
        else crowdkit(args.sets)
    )
    ours = ours_accuracy(args.sets)
    cols = ["auto", "ds", "onecoin", "wmv", "mv", "pooled", "glad"]
    ck_cols = ["MV", "Wawa", "DS", "OneCoinDS", "GLAD", "MMSR"]
    print(
        "| set | "
        + " | ".join(f"ours {c}" for c in cols)
        + " | "
        + " | ".join(f"ck {c}" for c in ck_cols)
        + " | auto − max(ck MV, DS) | auto picked |"
    )
    print("|---" * (len(cols) + len(ck_cols) + 3) + "|")
    for s in SETS:
        margin = ours[s]["auto"] - max(ck[s]["MV"] or 0, ck[s]["DS"] or 0)
        print(
            f"| {s} | "
            + " | ".join(_f(ours[s][c]) for c in cols)
            + " | "
            + " | ".join(_f(ck[s].get(c)) for c in ck_cols)
            + f" | {margin * 100:+.1f} | {ours[s]['auto_choice']} |"
        )
    means = [np.mean([ours[s][c] for s in SETS]) for c in cols]
    ck_means = [
        np.mean([ck[s][c] for s in SETS]) if all(ck[s].get(c) is not None for s in SETS) else None
        for c in ck_cols
    ]
    print(
        "| **mean** | "
        + " | ".join(f"**{m:.4f}**" for m in means)
        + " | "
        + " | ".join("–" if m is None else f"{m:.4f}" for m in ck_means)
        + " | | |"
    )
    print(f"\nauto mean − crowd-kit DS mean: {(means[0] - ck_means[2]) * 100:+.2f} points")  # type: ignore[operator]

    curves = {s: _ece_curve(args.sets, s)[0] for s in SETS}
    default_idx = int(np.argmin(np.mean([curves[s] for s in SETS], axis=0)))
    print(f"\nrho minimising the mean ECE over all seven sets: {RHO_GRID[default_idx]}")
    print(
        "\n| set | ck DS ECE | ours DS (rho=0) ECE | auto, default rho ECE | auto, leave-one-set-out rho ECE (rho) | auto, 10% honeypots (≥30): ECE / accuracy on the other gold tasks (rho), mean of 3 draws |"
    )
    print("|---|---|---|---|---|---|")
    for s in SETS:
        others = np.mean([curves[o] for o in SETS if o != s], axis=0)
        lo = int(np.argmin(others))
        runs = np.array([_honeypot_run(args.sets, s, seed=seed) for seed in range(3)])
        hp_acc, hp_ece, hp_rho = runs.mean(axis=0)
        print(
            f"| {s} | {_f(ck[s]['DS_ECE'])} | {_f(ours[s]['ds_ece'])} | {_f(ours[s]['auto_ece'])} | "
            f"{curves[s][lo]:.3f} ({RHO_GRID[lo]}) | {hp_ece:.3f} / {hp_acc:.3f} ({hp_rho:.2f}) |"
        )
    print(
        "\nseconds per fit (ours): "
        + ", ".join(f"{s} auto {ours[s]['auto_s']:.2f} glad {ours[s]['glad_s']:.2f}" for s in SETS)
    )


if __name__ == "__main__":
    main()
