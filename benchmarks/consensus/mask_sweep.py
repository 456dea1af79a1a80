"""Semantic masks: our consensus against the per-pixel majority vote, per image, on simulated crowds.

Issue 13 asks that semantic segmentation consensus be never worse than a per-pixel majority of
the same masks. Each task is a 320x240 label map of 1-4 blobs (``geometry_sim.truth_blobs``)
painted by workers of three kinds (``geometry_sim``: careful, sloppy, spammers drawing blobs
elsewhere); every worker's polygons are painted into a label map, which is the answer. Ours is
``aggregate_records("segmentation", ...)``: worker weights fitted by leave-one-out agreement,
then the weighted per-pixel vote. Scores are the per-image mean class IoU against the true map.

Crowds: ``default`` (70% careful, 20% sloppy, 10% spammers, as GEOMETRY.md), ``careful`` (all
careful: weights nearly equal, where a reweighting can only lose), ``sloppy`` (40% careful,
50% sloppy, 10% spammers).

.venv/bin/python benchmarks/consensus/mask_sweep.py --tasks 60 --seeds 0 1 --workers 3 5 7
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from geometry_masks import SIZE, label_map, majority
from geometry_sim import (
    CAREFUL,
    SLOPPY,
    SPAMMER,
    WorkerKind,
    blob_polygon,
    truth_blobs,
    worker_blobs,
)

from consensus.geometry import aggregate_records, decode_mask_png, encode_mask_png, per_class_iou

CROWDS: dict[str, tuple[float, float]] = {  # (careful share, sloppy share); the rest spammers
    "default": (0.7, 0.2),
    "careful": (1.0, 0.0),
    "sloppy": (0.4, 0.5),
}


def pool(crowd: str, seed: int, n: int = 40) -> list[tuple[str, WorkerKind]]:
    careful, sloppy = CROWDS[crowd]
    kinds = [CAREFUL] * round(careful * n) + [SLOPPY] * round(sloppy * n)
    kinds += [SPAMMER] * (n - len(kinds))
    rng = np.random.default_rng(seed)
    rng.shuffle(kinds)  # type: ignore[arg-type]
    return [(f"w{i:03d}", k) for i, k in enumerate(kinds)]


def miou(pred: np.ndarray, truth: np.ndarray) -> float:
    return float(np.mean(list(per_class_iou(pred, truth).values()) or [1.0]))


def run(crowd: str, n_tasks: int, n_workers: int, seed: int) -> dict[str, float]:
    rng = np.random.default_rng(1000 * seed + n_workers)
    workers = pool(crowd, seed)
    truths, masks, recs = [], [], []
    for t in range(n_tasks):
        blobs = truth_blobs(rng, None, SIZE)
        truths.append(label_map([(blob_polygon(c, r, 128), lab) for c, lab, r in blobs]))
        task_masks = []
        for i in rng.choice(len(workers), n_workers, replace=False):
            name, kind = workers[i]
            m = label_map(worker_blobs(rng, kind, blobs, SIZE))
            task_masks.append(m)
            recs.append(
                {"task": f"t{t}", "worker": name, "answer": {"mask_png_base64": encode_mask_png(m)}}
            )
        masks.append(task_masks)
    start = time.process_time()
    res, _ = aggregate_records("segmentation", recs)
    cpu = time.process_time() - start
    ours = [
        miou(decode_mask_png(r["answer"]["mask_png_base64"]), t)
        for r, t in zip(res, truths, strict=True)
    ]
    maj = [miou(majority(ms), t) for ms, t in zip(masks, truths, strict=True)]
    diff = np.asarray(ours) - np.asarray(maj)
    return {
        "ours": float(np.mean(ours)),
        "majority": float(np.mean(maj)),
        "worse_1pt": float(np.mean(diff < -0.01)),
        "worst": float(diff.min()),
        "cpu_per_image": cpu / n_tasks,
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--tasks", type=int, default=60)
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    ap.add_argument("--workers", type=int, nargs="+", default=[3, 5, 7])
    ap.add_argument("--crowds", nargs="+", default=list(CROWDS))
    args = ap.parse_args()
    print(
        "| crowd | workers | ours mIoU | per-pixel majority | ours − majority | images ≥ 1 pt worse "
        "than majority | worst image (pt) | CPU s per image |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for crowd in args.crowds:
        for n in args.workers:
            rows = [run(crowd, args.tasks, n, s) for s in args.seeds]
            mean = {k: float(np.mean([r[k] for r in rows])) for k in rows[0]}
            worst = min(r["worst"] for r in rows)
            print(
                f"| {crowd} | {n} | {mean['ours']:.4f} | {mean['majority']:.4f} | "
                f"{100 * (mean['ours'] - mean['majority']):+.2f} pt | {100 * mean['worse_1pt']:.1f}% | "
                f"{100 * worst:+.1f} | {mean['cpu_per_image']:.3f} |",
                flush=True,
            )


if __name__ == "__main__":
    main()
