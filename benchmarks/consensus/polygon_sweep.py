"""Polygon consensus on the tracing simulator (polygon_sim.py): IoU against the truth, by crowd size.

Compared on the same outlines: our consensus (``aggregate_polygons``, no prior skills, so equal
weights), a per-pixel majority vote of the workers' rasters, one random worker and the best
worker of each task (an oracle no aggregator can know). IoU is taken on rasters at pixel centres,
as COCO does. Tuned on seeds 0-1; the README reports seeds 100-104 (held out).

.venv/bin/python benchmarks/consensus/polygon_sweep.py --tasks 200 --seeds 100 101 102 103 104
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import shapely

sys.path.insert(0, str(Path(__file__).parent))
from polygon_sim import SIZE, make_pool, trace, truth_object

from consensus.geometry import Polygons, aggregate_polygons, rasterize_polygon
from consensus.geometry.raster import MaskCrop, crop_iou, paste


def majority(crops: list[MaskCrop]) -> MaskCrop:
    stack, y0, x0 = paste(crops)
    return MaskCrop(stack.sum(axis=0) * 2 > len(crops), y0, x0)


def run(n_tasks: int, n_workers: int, seed: int) -> dict[str, list[float]]:
    rng = np.random.default_rng(seed)
    pool = make_pool(40, rng)
    rows: dict[str, list[float]] = {k: [] for k in ("ours", "majority", "random", "best", "nv")}
    for _ in range(n_tasks):
        full, body = truth_object(rng)
        truth = rasterize_polygon(shapely.get_coordinates(full.exterior)[:-1], SIZE)
        who = [pool[i] for i in rng.choice(len(pool), n_workers, replace=False)]
        outlines = [trace(rng, w, full, body) for w in who]
        crops = [rasterize_polygon(o, SIZE) for o in outlines]
        singles = [crop_iou(c, truth) for c in crops]
        cons = aggregate_polygons([Polygons.from_points([o], ["x"], SIZE) for o in outlines])
        if len(cons.polygons):
            ours = max(crop_iou(rasterize_polygon(p, SIZE), truth) for p in cons.polygons.points)
            nv = len(cons.polygons.points[0]) / float(np.median([len(o) for o in outlines]))
        else:
            ours, nv = 0.0, 0.0
        rows["ours"].append(ours)
        rows["majority"].append(crop_iou(majority(crops), truth))
        rows["random"].append(singles[0])
        rows["best"].append(max(singles))
        rows["nv"].append(nv)
    return rows


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--tasks", type=int, default=200)
    ap.add_argument("--workers", type=int, nargs="+", default=[3, 5, 7])
    ap.add_argument("--seeds", type=int, nargs="+", default=[100, 101, 102, 103, 104])
    args = ap.parse_args()
    print(
        "| workers | ours | per-pixel majority | ours − majority | one random worker | best worker (oracle) | vertices / median worker (max) | s per object |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|---:|")
    for n in args.workers:
        agg: dict[str, list[float]] = {}
        t0 = time.process_time()
        for s in args.seeds:
            for k, v in run(args.tasks, n, s).items():
                agg.setdefault(k, []).extend(v)
        cpu = (time.process_time() - t0) / (args.tasks * len(args.seeds))
        m = {k: float(np.mean(v)) for k, v in agg.items()}
        print(
            f"| {n} | {m['ours']:.4f} | {m['majority']:.4f} | {100 * (m['ours'] - m['majority']):+.2f} pt | "
            f"{m['random']:.4f} | {m['best']:.4f} | {m['nv']:.2f} ({max(agg['nv']):.2f}) | {cpu:.3f} |"
        )


if __name__ == "__main__":
    main()
