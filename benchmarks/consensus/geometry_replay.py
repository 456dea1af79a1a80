"""Dynamic overlap for boxes, replayed on a simulated crowd.

Skills are learned on a warm-up batch (fixed overlap 5), then each test image's five answers
arrive in random order; the stopping rule sees the consensus confidence after each answer.

    .venv/bin/python benchmarks/consensus/geometry_replay.py --warmup 200 --tasks 300
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
import itertools

from geometry_boxes import score, simulate

from consensus.geometry import (
    Boxes,
    GeometrySkills,
    aggregate_boxes,
    aggregate_records,
    should_stop,
)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--warmup", type=int, default=200)
    ap.add_argument("--tasks", type=int, default=300)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    warm, _, _ = simulate(args.warmup, 5, args.seed)
    _, skills_dict = aggregate_records("bbox", warm)
    skills = GeometrySkills.from_dict(skills_dict)
    recs, truth, _ = simulate(
        args.tasks, 5, args.seed + 1, pool_seed=args.seed
    )  # same pool, new images
    tasks: dict[str, list[tuple[str, Boxes]]] = {}
    for r in recs:
        tasks.setdefault(r["task"], []).append((r["worker"], Boxes.from_answer(r["answer"])))
    # consensus after the first n answers, for every n (answers already arrive in random order)
    prefix = {}
    for tid, ans in tasks.items():
        for n in range(1, 6):
            ws = [w for w, _ in ans[:n]]
            prefix[tid, n] = aggregate_boxes(
                [b for _, b in ans[:n]],
                skills.weights(ws),
                presence_weights=skills.presence_weights(ws),
            )
    tids = list(tasks)
    print("| policy | answers / image | saved vs fixed 5 | F1@0.5 | matched IoU | images exact |")
    print("|---|---|---|---|---|---|")
    for n in range(2, 6):
        r = score([prefix[t, n].boxes for t in tids], truth)
        print(
            f"| fixed {n} | {n:.2f} | {1 - n / 5:.0%} | {r['f1']:.3f} | {r['iou_mean']:.3f} | {r['image_exact']:.3f} |"
        )
    for lo in (2, 3):
        for target in (0.6, 0.7, 0.8, 0.9, 0.95, 0.98):
            used = []
            for t in tids:
                n = next(
                    n
                    for n in range(1, 6)
                    if should_stop(
                        prefix[t, n].confidence, n, min_answers=lo, max_answers=5, target=target
                    )
                )
                used.append(n)
            r = score([prefix[t, n].boxes for t, n in zip(tids, used, strict=True)], truth)
            mean_n = float(np.mean(used))
            print(
                f"| dynamic min {lo}, max 5, target {target} | {mean_n:.2f} | {1 - mean_n / 5:.0%} | {r['f1']:.3f} | {r['iou_mean']:.3f} | {r['image_exact']:.3f} |"
            )
    # calibration of the image confidence at fixed 5
    conf = np.array([prefix[t, 5].confidence for t in tids])
    exact = np.array(
        [score([prefix[t, 5].boxes], [truth[i]])["image_exact"] for i, t in enumerate(tids)]
    )
    print("\n| image confidence (fixed 5) | images | share exactly right |")
    print("|---|---|---|")
    edges = [0.0, 0.5, 0.8, 0.9, 0.95, 0.99, 1.0001]
    for a, b in itertools.pairwise(edges):
        m = (conf >= a) & (conf < b)
        if m.any():
            print(f"| [{a:.2f}, {min(b, 1):.2f}) | {int(m.sum())} | {exact[m].mean():.3f} |")


if __name__ == "__main__":
    main()
