"""Keypoints on simulated crowds (COCO person, 17 keypoints): ours beside the mean pose and one worker.

.venv/bin/python benchmarks/consensus/geometry_keypoints.py --tasks 300 --workers 3 5
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from geometry_sim import SIGMAS, SPAMMER, make_pool, truth_poses, worker_poses

from consensus.geometry import (
    COCO_KEYPOINTS,
    Poses,
    aggregate_keypoints,
    aggregate_records,
    oks_matrix,
)
from consensus.geometry._common import hungarian


def simulate(
    n_tasks: int, n_workers: int, seed: int
) -> tuple[list[dict[str, Any]], list[np.ndarray], dict[str, Any]]:
    rng = np.random.default_rng(seed + 100)
    pool = make_pool(40, seed)
    records, truth = [], []
    for t in range(n_tasks):
        poses = truth_poses(rng)
        truth.append(poses)
        for i in rng.choice(len(pool), n_workers, replace=False):
            name, kind = pool[i]
            records.append(
                {"task": f"t{t}", "worker": name, "answer": worker_poses(rng, kind, poses)}
            )
    return records, truth, dict(pool)


def score(preds: list[Poses], truth: list[np.ndarray]) -> dict[str, float]:
    """Mean OKS per true instance (0 when unmatched), plus precision of predicted instances."""
    oks_all: list[float] = []
    n_pred = n_tp = 0
    for p, t in zip(preds, truth, strict=True):
        sim = oks_matrix(p.kps, t, SIGMAS) if len(p) else np.zeros((0, len(t)))
        pairs = hungarian(sim, 0.5)
        got = {j: float(sim[i, j]) for i, j in pairs}
        oks_all += [got.get(j, 0.0) for j in range(len(t))]
        n_pred += len(p)
        n_tp += len(pairs)
    arr = np.asarray(oks_all)
    matched = arr[arr >= 0.5]
    return {
        "mean_oks": float(arr.mean()),
        "mean_oks_matched": float(matched.mean()),
        "median_oks": float(np.median(arr)),
        "recall@0.5": n_tp / len(arr),
        "precision@0.5": n_tp / max(n_pred, 1),
    }


def evaluate(n_tasks: int, n_workers: int, seed: int) -> dict[str, dict[str, float]]:
    records, truth, pool = simulate(n_tasks, n_workers, seed)
    t0 = time.perf_counter()
    results, skills = aggregate_records("keypoints", records, keypoint_names=COCO_KEYPOINTS)
    elapsed = time.perf_counter() - t0
    rows = {
        "ours (OKS match, swap-aligned geometric median)": score(
            [Poses.from_answer(r["answer"]) for r in results], truth
        )
    }
    tasks: dict[str, list[tuple[str, Poses]]] = {}
    for r in records:
        tasks.setdefault(r["task"], []).append((r["worker"], Poses.from_answer(r["answer"], 17)))
    rows["equal weights, no swap alignment"] = score(
        [aggregate_keypoints([p for _, p in a], sigmas=SIGMAS).poses for a in tasks.values()], truth
    )
    rows["one worker (any)"] = score([a[0][1] for a in tasks.values()], truth)
    careful = [[p for w, p in a if pool[w].name == "careful"] for a in tasks.values()]
    keep = [i for i, c in enumerate(careful) if c]
    rows["one careful worker"] = score([careful[i][0] for i in keep], [truth[i] for i in keep])
    spam = [v["weight"] for w, v in skills["workers"].items() if pool[w] is SPAMMER]
    rows["_meta"] = {"seconds": elapsed, "spammer_weight_max": max(spam, default=0.0)}
    return rows


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--tasks", type=int, default=300)
    ap.add_argument("--workers", type=int, nargs="+", default=[3, 5])
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    for n in args.workers:
        res = evaluate(args.tasks, n, args.seed)
        print(f"\n### {n} workers, {args.tasks} images (seed {args.seed})\n")
        print(
            "| method | mean OKS | median OKS | mean OKS of matched | recall@OKS0.5 | precision@OKS0.5 |"
        )
        print("|---|---|---|---|---|---|")
        for name, r in res.items():
            if name != "_meta":
                print(
                    f"| {name} | {r['mean_oks']:.3f} | {r['median_oks']:.3f} | {r['mean_oks_matched']:.3f} | {r['recall@0.5']:.3f} | {r['precision@0.5']:.3f} |"
                )
        print(
            f"\naggregate_records: {res['_meta']['seconds']:.2f} s; max spammer weight {res['_meta']['spammer_weight_max']:.3f}"
        )


if __name__ == "__main__":
    main()
