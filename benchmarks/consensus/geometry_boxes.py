"""Boxes on simulated crowds: ours beside the mean box, WBF (ensemble-boxes) and one worker.

    .venv/bin/python benchmarks/consensus/geometry_boxes.py --tasks 400 --workers 3 5

WBF runs in a subprocess in .venv-geobench (benchmarks/consensus/geometry_setup.sh).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from geometry_sim import IMG_H, IMG_W, LABELS, SPAMMER, make_pool, truth_boxes, worker_boxes

from consensus.geometry import Boxes, aggregate_boxes, aggregate_records, iou_matrix
from consensus.geometry._common import cluster_items, hungarian

ROOT = Path(__file__).resolve().parents[2]
WBF_PY = ROOT / ".venv-geobench" / "bin" / "python"


def simulate(
    n_tasks: int, n_workers: int, seed: int, pool_seed: int | None = None
) -> tuple[list[dict[str, Any]], list[Any], dict[str, Any]]:
    rng = np.random.default_rng(seed)
    pool = make_pool(40, seed if pool_seed is None else pool_seed)
    records, truth = [], []
    for t in range(n_tasks):
        boxes, labels = truth_boxes(rng)
        truth.append((boxes, labels))
        for i in rng.choice(len(pool), n_workers, replace=False):
            name, kind = pool[i]
            records.append(
                {"task": f"t{t}", "worker": name, "answer": worker_boxes(rng, kind, boxes, labels)}
            )
    return records, truth, dict(pool)


def score(preds: list[Boxes], truth: list[Any]) -> dict[str, float]:
    tp = fp = fn = 0
    ious: list[float] = []
    exact = 0
    for p, (tb, tl) in zip(preds, truth, strict=True):
        sim = iou_matrix(p.xywh, tb)
        pairs = [(i, j) for i, j in hungarian(sim, 0.5) if p.labels[i] == tl[j]]
        tp += len(pairs)
        fp += len(p) - len(pairs)
        fn += len(tl) - len(pairs)
        ious += [float(sim[i, j]) for i, j in pairs]
        exact += len(pairs) == len(p) == len(tl)
    return {
        "f1": 2 * tp / max(2 * tp + fp + fn, 1),
        "precision": tp / max(tp + fp, 1),
        "recall": tp / max(tp + fn, 1),
        "iou_mean": float(np.mean(ious)) if ious else float("nan"),
        "iou_median": float(np.median(ious)) if ious else float("nan"),
        "image_exact": exact / len(truth),
    }


def by_task(records: list[dict[str, Any]]) -> dict[str, list[tuple[str, Boxes]]]:
    out: dict[str, list[tuple[str, Boxes]]] = {}
    for r in records:
        out.setdefault(r["task"], []).append((r["worker"], Boxes.from_answer(r["answer"])))
    return out


def mean_box(answers: list[Boxes]) -> Boxes:
    """The same matching and quorum as ours, but an unweighted mean of the coordinates."""

    def fuse(members: list[tuple[int, int]]) -> Any:
        return np.mean([answers[k].xywh[i] for k, i in members], axis=0)

    def sim(k: int, reps: list[Any]) -> Any:
        return iou_matrix(answers[k].xywh, np.asarray(reps).reshape(-1, 4))

    clusters = cluster_items([len(a) for a in answers], sim, fuse, 0.5)
    kept = [c for c in clusters if len({k for k, _ in c}) >= len(answers) / 2]
    labs = [
        max(
            sorted({answers[k].labels[i] for k, i in c}),
            key=[answers[k].labels[i] for k, i in c].count,
        )
        for c in kept
    ]
    return Boxes(np.asarray([fuse(c) for c in kept]).reshape(-1, 4), tuple(labs))


def run_wbf(
    tasks: dict[str, list[tuple[str, Boxes]]],
) -> tuple[list[Boxes], list[np.ndarray]] | None:
    if not WBF_PY.exists():
        return None
    scale = np.array([IMG_W, IMG_H, IMG_W, IMG_H], dtype=float)
    payload = {
        "tasks": [
            [
                {
                    "boxes": np.clip(
                        np.c_[b.xywh[:, :2], b.xywh[:, :2] + b.xywh[:, 2:]] / scale, 0, 1
                    ).tolist(),
                    "labels": [LABELS.index(lab) for lab in b.labels],
                }
                for _, b in ans
            ]
            for ans in tasks.values()
        ]
    }
    with tempfile.TemporaryDirectory() as d:
        src, dst = Path(d) / "in.json", Path(d) / "out.json"
        src.write_text(json.dumps(payload))
        subprocess.run(
            [str(WBF_PY), str(Path(__file__).parent / "geometry_wbf.py"), str(src), str(dst)],
            check=True,
        )
        out = json.loads(dst.read_text())["tasks"]
    preds, scores = [], []
    for t in out:
        b = np.asarray(t["boxes"], dtype=float).reshape(-1, 4) * scale
        preds.append(
            Boxes(np.c_[b[:, :2], b[:, 2:] - b[:, :2]], tuple(LABELS[int(v)] for v in t["labels"]))
        )
        scores.append(np.asarray(t["scores"]))
    return preds, scores


def evaluate(
    n_tasks: int, n_workers: int, seed: int, quorums: list[float]
) -> dict[str, dict[str, float]]:
    records, truth, pool = simulate(n_tasks, n_workers, seed)
    t0 = time.perf_counter()
    results, skills = aggregate_records("bbox", records)
    elapsed = time.perf_counter() - t0
    ours = [Boxes.from_answer(r["answer"]) for r in results]
    tasks = by_task(records)
    rows = {"ours (weighted median + quorum 0.5)": score(ours, truth)}
    for q in quorums:
        alt, _ = aggregate_records("bbox", records, quorum=q)
        rows[f"ours, quorum {q}"] = score([Boxes.from_answer(r["answer"]) for r in alt], truth)
    rows["ours, equal weights"] = score(
        [aggregate_boxes([b for _, b in a]).boxes for a in tasks.values()], truth
    )
    rows["mean box (+ same quorum)"] = score(
        [mean_box([b for _, b in a]) for a in tasks.values()], truth
    )
    wbf = run_wbf(tasks)
    if wbf is not None:
        rows["WBF (ensemble-boxes)"] = score(wbf[0], truth)
        kept = [
            Boxes(
                p.xywh[s >= 0.5 - 1e-9],
                tuple(lab for lab, k in zip(p.labels, s >= 0.5 - 1e-9, strict=True) if k),
            )
            for p, s in zip(*wbf, strict=True)
        ]
        rows["WBF, score >= 0.5"] = score(kept, truth)
    first = [a[0][1] for a in tasks.values()]
    rows["one worker (any)"] = score(first, truth)
    careful = [[b for w, b in a if pool[w].name == "careful"] for a in tasks.values()]
    keep = [i for i, c in enumerate(careful) if c]
    rows["one careful worker"] = score([careful[i][0] for i in keep], [truth[i] for i in keep])
    spam_w = [v["weight"] for w, v in skills["workers"].items() if pool[w] is SPAMMER]
    rows["_meta"] = {
        "seconds": elapsed,
        "spammer_weight_max": max(spam_w, default=0.0),
        "careful_weight_median": float(
            np.median(
                [v["weight"] for w, v in skills["workers"].items() if pool[w].name == "careful"]
            )
        ),
    }
    return rows


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--tasks", type=int, default=400)
    ap.add_argument("--workers", type=int, nargs="+", default=[3, 5])
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", type=Path)
    ap.add_argument("--quorums", type=float, nargs="*", default=[], help="extra quorum ablations")
    args = ap.parse_args()
    allres = {}
    for n in args.workers:
        res = evaluate(args.tasks, n, args.seed, args.quorums)
        allres[n] = res
        print(f"\n### {n} workers, {args.tasks} images (seed {args.seed})\n")
        print("| method | F1@0.5 | precision | recall | matched IoU mean | median | images exact |")
        print("|---|---|---|---|---|---|---|")
        for name, r in res.items():
            if name != "_meta":
                print(
                    f"| {name} | {r['f1']:.3f} | {r['precision']:.3f} | {r['recall']:.3f} | {r['iou_mean']:.3f} | {r['iou_median']:.3f} | {r['image_exact']:.3f} |"
                )
        print(
            f"\naggregate_records: {res['_meta']['seconds']:.2f} s; max spammer weight {res['_meta']['spammer_weight_max']:.3f}; median careful weight {res['_meta']['careful_weight_median']:.3f}"
        )
    if args.out:
        args.out.write_text(json.dumps(allres, indent=1))


if __name__ == "__main__":
    main()
