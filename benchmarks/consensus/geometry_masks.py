"""Polygons and semantic masks on simulated crowds: ours beside pixel majority vote and one worker.

.venv/bin/python benchmarks/consensus/geometry_masks.py --tasks 120 --workers 3 5
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from geometry_sim import LABELS, SPAMMER, blob_polygon, make_pool, truth_blobs, worker_blobs

from consensus.geometry import (
    Polygons,
    aggregate_polygons,
    aggregate_records,
    decode_mask_png,
    encode_mask_png,
    per_class_iou,
    rasterize_polygon,
)
from consensus.geometry._common import hungarian
from consensus.geometry.polygons import mask_iou_matrix

SIZE = (240, 320)


def label_map(polys: list[tuple[np.ndarray, str]]) -> np.ndarray:
    """Semantic mask: later polygons paint over earlier ones (value = label index + 1)."""
    out = np.zeros(SIZE, dtype=np.uint8)
    for pts, lab in polys:
        c = rasterize_polygon(pts, SIZE)
        h, w = c.mask.shape
        view = out[c.y0 : c.y0 + h, c.x0 : c.x0 + w]
        view[c.mask] = LABELS.index(lab) + 1
    return out


def simulate(
    n_tasks: int, n_workers: int, seed: int
) -> tuple[list[Any], list[Any], dict[str, Any]]:
    rng = np.random.default_rng(seed + 200)
    pool = make_pool(40, seed)
    tasks, truth = [], []
    for t in range(n_tasks):
        blobs = truth_blobs(rng, None, SIZE)
        truth.append([(blob_polygon(c, r, 128), lab) for c, lab, r in blobs])
        answers = []
        for i in rng.choice(len(pool), n_workers, replace=False):
            name, kind = pool[i]
            answers.append((name, worker_blobs(rng, kind, blobs, SIZE)))
        tasks.append((f"t{t}", answers))
    return tasks, truth, dict(pool)


def inst_score(preds: list[Polygons], truth: list[Polygons]) -> dict[str, float]:
    tp = fp = fn = 0
    ious: list[float] = []
    per_true: list[float] = []
    for p, t in zip(preds, truth, strict=True):
        sim = mask_iou_matrix(p.masks, t.masks)
        pairs = [(i, j) for i, j in hungarian(sim, 0.5) if p.labels[i] == t.labels[j]]
        tp, fp, fn = tp + len(pairs), fp + len(p) - len(pairs), fn + len(t) - len(pairs)
        ious += [float(sim[i, j]) for i, j in pairs]
        got = {j: float(sim[i, j]) for i, j in pairs}
        per_true += [got.get(j, 0.0) for j in range(len(t))]
    return {
        "f1": 2 * tp / max(2 * tp + fp + fn, 1),
        "iou_mean": float(np.mean(ious)),
        "iou_median": float(np.median(ious)),
        "iou_per_true": float(np.mean(per_true)),
    }


def sem_score(preds: list[np.ndarray], truth: list[np.ndarray]) -> dict[str, float]:
    per_image = [
        float(np.mean(list(per_class_iou(p, t).values()) or [1.0]))
        for p, t in zip(preds, truth, strict=True)
    ]
    return {"miou_mean": float(np.mean(per_image)), "miou_median": float(np.median(per_image))}


def majority(masks: list[np.ndarray]) -> np.ndarray:
    """Unweighted per-pixel plurality (ties to the lowest value): the usual baseline."""
    stack = np.stack(masks)
    counts = np.stack([(stack == v).sum(axis=0) for v in range(len(LABELS) + 1)])
    return np.argmax(counts, axis=0).astype(np.uint8)


def evaluate(n_tasks: int, n_workers: int, seed: int) -> dict[str, dict[str, float]]:
    tasks, truth, pool = simulate(n_tasks, n_workers, seed)
    t_polys = [Polygons.from_points([p for p, _ in t], [lab for _, lab in t], SIZE) for t in truth]
    recs = [
        {
            "task": tid,
            "worker": w,
            "answer": {"objects": [{"label": lab, "points": p.tolist()} for p, lab in polys]},
        }
        for tid, ans in tasks
        for w, polys in ans
    ]
    t0 = time.perf_counter()
    res, skills = aggregate_records("polygon", recs, image_size=SIZE)
    t_poly = time.perf_counter() - t0
    ours = [Polygons.from_answer(r["answer"], SIZE) for r in res]
    rows: dict[str, dict[str, float]] = {}
    rows["polygons: ours"] = inst_score(ours, t_polys)
    eq = [
        aggregate_polygons(
            [
                Polygons.from_points([p for p, _ in polys], [lab for _, lab in polys], SIZE)
                for _, polys in ans
            ]
        ).polygons
        for _, ans in tasks
    ]
    rows["polygons: equal weights"] = inst_score(eq, t_polys)
    one = [
        Polygons.from_points([p for p, _ in ans[0][1]], [lab for _, lab in ans[0][1]], SIZE)
        for _, ans in tasks
    ]
    rows["polygons: one worker (any)"] = inst_score(one, t_polys)
    careful = [
        (i, next((p for w, p in ans if pool[w].name == "careful"), None))
        for i, (_, ans) in enumerate(tasks)
    ]
    careful = [(i, p) for i, p in careful if p is not None]
    rows["polygons: one careful worker"] = inst_score(
        [Polygons.from_points([p for p, _ in c], [lab for _, lab in c], SIZE) for _, c in careful],
        [t_polys[i] for i, _ in careful],
    )

    t_maps = [label_map(t) for t in truth]
    masks = [[label_map(polys) for _, polys in ans] for _, ans in tasks]
    recs = [
        {"task": tid, "worker": w, "answer": {"mask_png_base64": encode_mask_png(m)}}
        for (tid, ans), ms in zip(tasks, masks, strict=True)
        for (w, _), m in zip(ans, ms, strict=True)
    ]
    t0 = time.perf_counter()
    res, sskills = aggregate_records("segmentation", recs)
    t_sem = time.perf_counter() - t0
    rows["semantic: ours"] = sem_score(
        [decode_mask_png(r["answer"]["mask_png_base64"]) for r in res], t_maps
    )
    rows["semantic: pixel majority vote"] = sem_score([majority(ms) for ms in masks], t_maps)
    rows["semantic: one worker (any)"] = sem_score([ms[0] for ms in masks], t_maps)
    rows["semantic: one careful worker"] = sem_score(
        [
            masks[i][
                [w for w, _ in tasks[i][1]].index(
                    next(w for w, _ in tasks[i][1] if pool[w].name == "careful")
                )
            ]
            for i, _ in careful
        ],
        [t_maps[i] for i, _ in careful],
    )
    spam = [v["weight"] for w, v in sskills["workers"].items() if pool[w] is SPAMMER]
    rows["_meta"] = {
        "polygon_seconds": t_poly,
        "semantic_seconds": t_sem,
        "spammer_weight_max_semantic": max(spam, default=0.0),
        "spammer_weight_max_polygon": max(
            (v["weight"] for w, v in skills["workers"].items() if pool[w] is SPAMMER), default=0.0
        ),
    }
    return rows


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--tasks", type=int, default=120)
    ap.add_argument("--workers", type=int, nargs="+", default=[3, 5])
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    for n in args.workers:
        res = evaluate(args.tasks, n, args.seed)
        print(f"\n### {n} workers, {args.tasks} images {SIZE[1]}x{SIZE[0]} (seed {args.seed})\n")
        print(
            "| method | F1@0.5 | IoU per true object (0 if missed) | matched IoU mean | matched IoU median |"
        )
        print("|---|---|---|---|---|")
        for name, r in res.items():
            if name == "_meta":
                continue
            if "f1" in r:
                print(
                    f"| {name} | {r['f1']:.3f} | {r['iou_per_true']:.3f} | {r['iou_mean']:.3f} | {r['iou_median']:.3f} |"
                )
            else:
                print(
                    f"| {name} (per-image mean class IoU: mean, median) | - | - | {r['miou_mean']:.3f} | {r['miou_median']:.3f} |"
                )
        m = res["_meta"]
        print(
            f"\npolygon aggregate_records {m['polygon_seconds']:.1f} s, semantic {m['semantic_seconds']:.1f} s; "
            f"max spammer weight polygon {m['spammer_weight_max_polygon']:.3f}, semantic {m['spammer_weight_max_semantic']:.3f}"
        )


if __name__ == "__main__":
    main()
