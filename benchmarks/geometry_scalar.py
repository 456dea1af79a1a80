"""Small geometry consensus: µs per aggregate and per agreement, scalar path against numpy's.

A submit of a box, point or keypoint answer aggregates the task's 2-5 answers of a few objects
(``GeometryEngine.consensus``) and, when the task completes, judges each answer against the
consensus (``*_agreement``). For inputs that small ``consensus.geometry`` runs plain-float code
(``consensus/geometry/_scalar.py``); this times both paths on the same inputs, the numpy path
forced by setting ``SCALAR_MAX_WORKERS`` / ``SCALAR_MAX_AGREEMENT_ITEMS`` out of reach (CPU time of the
calling thread, best of ``--repeat``), and counts the Python-level calls of one aggregate with
cProfile.

Inputs: ``n`` answers of ``k`` objects each around the same truth (noise of a few pixels, one
object in ten missed, labels agreeing 90%), worker weights as the service passes them (numpy
arrays); keypoints have the 3 named keypoints of the quality benchmark's project, with its
left/right pair.

    .venv/bin/python benchmarks/geometry_scalar.py [--repeat 7] [--number 200]
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import random
import sys
import time
import timeit
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
# Run as a script, this folder comes first on sys.path and its consensus/ would shadow the library.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != HERE]

import numpy as np  # noqa: E402

from consensus.geometry import (  # noqa: E402
    Boxes,
    Points,
    Poses,
    _scalar,
    aggregate_boxes,
    aggregate_keypoints,
    aggregate_points,
    box_agreement,
    default_sigmas,
    flip_pairs_from_names,
    keypoint_agreement,
    point_agreement,
)

NAMES = ["left_eye", "right_eye", "nose"]
SIGMAS = default_sigmas(NAMES, 3)
PAIRS = flip_pairs_from_names(NAMES)
LABELS = ("car", "person")


def _label(rng: random.Random, lab: str) -> str:
    return lab if rng.random() < 0.9 else rng.choice(LABELS)


def boxes(rng: random.Random, n: int, k: int) -> list[Boxes]:
    truth = [
        ([rng.uniform(0, 400), rng.uniform(0, 300), rng.uniform(20, 90), rng.uniform(20, 90)], lab)
        for lab in rng.choices(LABELS, k=k)
    ]
    out = []
    for _ in range(n):
        kept = [(b, lab) for b, lab in truth if rng.random() > 0.1]
        xywh = [[v + rng.gauss(0, 2) for v in b] for b, _ in kept]
        out.append(
            Boxes(np.asarray(xywh).reshape(-1, 4), tuple(_label(rng, lab) for _, lab in kept))
        )
    return out


def points(rng: random.Random, n: int, k: int) -> list[Points]:
    truth = [([rng.uniform(0, 400), rng.uniform(0, 300)], lab) for lab in rng.choices(LABELS, k=k)]
    out = []
    for _ in range(n):
        kept = [(p, lab) for p, lab in truth if rng.random() > 0.1]
        xy = [[v + rng.gauss(0, 2) for v in p] for p, _ in kept]
        out.append(
            Points(np.asarray(xy).reshape(-1, 2), tuple(_label(rng, lab) for _, lab in kept))
        )
    return out


def poses(rng: random.Random, n: int, k: int) -> list[Poses]:
    truth = []
    for _ in range(k):
        cx, cy, s = rng.uniform(40, 360), rng.uniform(40, 260), rng.uniform(10, 30)
        truth.append([[cx - s, cy], [cx + s, cy], [cx, cy + s]])
    out = []
    for _ in range(n):
        insts = [
            [[x + rng.gauss(0, 2), y + rng.gauss(0, 2), 2.0] for x, y in kps]
            for kps in truth
            if rng.random() > 0.1
        ]
        out.append(Poses(np.asarray(insts).reshape(-1, 3, 3), ("face",) * len(insts)))
    return out


TYPES: dict[str, tuple[Callable[..., list[Any]], Callable[..., Any], Callable[..., Any]]] = {
    "bbox": (
        boxes,
        lambda a, w: aggregate_boxes(a, w, presence_weights=w),
        lambda a, c: box_agreement(a, c.boxes),
    ),
    "points": (
        points,
        lambda a, w: aggregate_points(a, w, presence_weights=w, radius=10.0),
        lambda a, c: point_agreement(a, c.points, radius=10.0),
    ),
    "keypoints": (
        poses,
        lambda a, w: aggregate_keypoints(a, w, presence_weights=w, sigmas=SIGMAS, flip_pairs=PAIRS),
        lambda a, c: keypoint_agreement(a, c.poses, sigmas=SIGMAS, flip_pairs=PAIRS),
    ),
}


CELLS = ((3, 1), (3, 3), (3, 5), (5, 1), (5, 3), (5, 5), (7, 8), (7, 12))
"""(answers, objects each): a submit's sizes, then the largest the scalar path takes."""


def per_call_us(fn: Callable[[], Any], repeat: int, number: int) -> float:
    """CPU µs per call of this thread, best of ``repeat``: on a shared machine wall-clock time
    is mostly waiting for a core, CPU time much less so."""
    timer = timeit.Timer(fn, timer=time.thread_time)
    return min(timer.repeat(repeat=repeat, number=number)) / number * 1e6


def numpy_path() -> Any:
    """Context: every input takes the numpy path."""

    class _Ctx:
        def __enter__(self) -> None:
            self.saved = _scalar.SCALAR_MAX_WORKERS, _scalar.SCALAR_MAX_AGREEMENT_ITEMS
            _scalar.SCALAR_MAX_WORKERS, _scalar.SCALAR_MAX_AGREEMENT_ITEMS = 0, -1

        def __exit__(self, *exc: object) -> None:
            _scalar.SCALAR_MAX_WORKERS, _scalar.SCALAR_MAX_AGREEMENT_ITEMS = self.saved

    return _Ctx()


def calls(fn: Callable[[], Any]) -> int:
    prof = cProfile.Profile()
    prof.enable()
    fn()
    prof.disable()
    return int(pstats.Stats(prof).total_calls)  # type: ignore[attr-defined]


def measure(
    aggregate: Callable[..., Any],
    agree: Callable[..., Any],
    tasks: list[list[Any]],
    weights: list[Any],
    repeat: int,
    number: int,
) -> tuple[float, float, int]:
    """(µs per aggregate, µs per agreement, Python calls of one aggregate) on this path."""
    conses = [aggregate(a, w) for a, w in zip(tasks, weights, strict=True)]

    def run_aggregate() -> None:
        for a, w in zip(tasks, weights, strict=True):
            aggregate(a, w)

    def run_agree() -> None:
        for a, c in zip(tasks, conses, strict=True):
            agree(a[0], c)

    def one() -> None:
        aggregate(tasks[0], weights[0])

    loops = max(1, number // len(tasks))
    return (
        per_call_us(run_aggregate, repeat, loops) / len(tasks),
        per_call_us(run_agree, repeat, loops) / len(tasks),
        calls(one),
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--number", type=int, default=200)
    parser.add_argument("--tasks", type=int, default=8, help="different inputs per cell")
    args = parser.parse_args()
    print(
        "| type | answers × objects | aggregate µs numpy | aggregate µs scalar | × | "
        "agreement µs numpy | agreement µs scalar | × | Python calls per aggregate numpy / scalar |"
    )
    print("|---|---|---:|---:|---:|---:|---:|---:|---|")
    for name, (make, aggregate, agree) in TYPES.items():
        for n, k in CELLS:
            rng = random.Random(n * 10 + k)
            tasks = [make(rng, n, k) for _ in range(args.tasks)]
            weights = [np.asarray([rng.uniform(0.3, 1.0) for _ in range(n)]) for _ in tasks]
            agg_s, agr_s, calls_s = measure(
                aggregate, agree, tasks, weights, args.repeat, args.number
            )
            with numpy_path():
                agg_v, agr_v, calls_v = measure(
                    aggregate, agree, tasks, weights, args.repeat, args.number
                )
            print(
                f"| {name} | {n} × {k} | {agg_v:,.0f} | {agg_s:,.0f} | {agg_v / agg_s:.1f} "
                f"| {agr_v:,.0f} | {agr_s:,.0f} | {agr_v / agr_s:.1f} | {calls_v:,} / {calls_s:,} |",
                flush=True,
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
