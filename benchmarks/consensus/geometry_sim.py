"""Simulated crowds for the geometry benchmarks (noise model documented in GEOMETRY.md).

Workers come from a fixed pool of three kinds, drawn per task without replacement:
careful (70%), sloppy (20%) and spammers (10%). Every random draw goes through one
``numpy.random.Generator`` so a seed reproduces a run exactly.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from consensus.geometry import COCO_KEYPOINTS, COCO_SIGMAS, flip_pairs_from_names

F = NDArray[np.float64]
IMG_W, IMG_H = 640, 480
LABELS = ("car", "person", "sign")


@dataclass(frozen=True)
class WorkerKind:
    name: str
    edge_sigma: float  # box edge noise, fraction of the side (Gaussian)
    gross: float  # probability that one box is a gross error (IoU < 0.5 with the truth)
    miss_small: float  # probability of missing an object smaller than 32x32
    miss_big: float
    wrong_label: float
    kp_scale: float  # keypoint noise as a multiple of COCO's sigma
    kp_gross: float  # probability that one keypoint is misplaced far away
    swap: float  # probability that an instance's left/right are swapped
    shape_noise: float  # polygon radial noise (fraction of the radius)
    n_vertices: tuple[int, int]


CAREFUL = WorkerKind("careful", 0.033, 0.075, 0.15, 0.02, 0.02, 1.0, 0.02, 0.04, 0.035, (14, 30))
SLOPPY = WorkerKind("sloppy", 0.09, 0.15, 0.35, 0.06, 0.06, 2.0, 0.06, 0.15, 0.08, (6, 12))
SPAMMER = WorkerKind("spammer", 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, (5, 10))


def make_pool(n: int = 40, seed: int = 0) -> list[tuple[str, WorkerKind]]:
    kinds = [CAREFUL] * round(0.7 * n) + [SLOPPY] * round(0.2 * n)
    kinds += [SPAMMER] * (n - len(kinds))
    rng = np.random.default_rng(seed)
    rng.shuffle(kinds)  # type: ignore[arg-type]
    return [(f"w{i:03d}", k) for i, k in enumerate(kinds)]


# ---------------------------------------------------------------- boxes
def truth_boxes(rng: np.random.Generator) -> tuple[F, list[str]]:
    n = int(min(1 + rng.poisson(3.0), 10))
    side = np.exp(rng.uniform(np.log(14), np.log(220), n))
    aspect = np.exp(rng.uniform(np.log(0.5), np.log(2.0), n))
    w, h = side * np.sqrt(aspect), side / np.sqrt(aspect)
    w, h = np.minimum(w, IMG_W - 2), np.minimum(h, IMG_H - 2)
    x, y = rng.uniform(0, IMG_W - w), rng.uniform(0, IMG_H - h)
    return np.c_[x, y, w, h], [LABELS[i] for i in rng.integers(0, len(LABELS), n)]


def _iou1(a: F, b: F) -> float:
    ix = max(0.0, min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1]))
    inter = ix * iy
    return inter / (a[2] * a[3] + b[2] * b[3] - inter)


def _gross_box(rng: np.random.Generator, t: F) -> F:
    """A box on the object that is badly wrong: half-object, shifted, or far too big."""
    for _ in range(50):
        kind = rng.integers(0, 3)
        x, y, w, h = t
        if kind == 0:  # only part of the object
            f = rng.uniform(0.25, 0.5)
            b = (
                np.array([x + rng.uniform(0, 1 - f) * w, y, w * f, h])
                if rng.random() < 0.5
                else np.array([x, y + rng.uniform(0, 1 - f) * h, w, h * f])
            )
        elif kind == 1:  # shifted by most of a side
            b = np.array(
                [
                    x + rng.choice([-1, 1]) * rng.uniform(0.5, 1.0) * w,
                    y + rng.normal(0, 0.2) * h,
                    w,
                    h,
                ]
            )
        else:  # far too big (grouped with neighbours)
            f = rng.uniform(2.1, 3.5)
            b = np.array(
                [x - rng.uniform(0, f - 1) * w, y - rng.uniform(0, f - 1) * h, w * f, h * f]
            )
        if _iou1(b, t) < 0.5:
            return b
    return t + np.array([t[2], 0, 0, 0])


def worker_boxes(
    rng: np.random.Generator, kind: WorkerKind, boxes: F, labels: list[str]
) -> dict[str, object]:
    if kind is SPAMMER:
        n = int(rng.integers(1, 5))
        fake, _ = truth_boxes(rng)
        return {
            "objects": [
                {"label": LABELS[int(rng.integers(0, 3))], "box": [float(v) for v in b]}
                for b in fake[:n]
            ]
        }
    out = []
    for b, lab in zip(boxes, labels, strict=True):
        small = b[2] * b[3] < 32 * 32
        if rng.random() < (kind.miss_small if small else kind.miss_big):
            continue
        if rng.random() < kind.gross:
            nb = _gross_box(rng, b)
        else:
            x1, y1 = b[:2] + rng.normal(0, kind.edge_sigma, 2) * b[2:]
            x2, y2 = b[:2] + b[2:] + rng.normal(0, kind.edge_sigma, 2) * b[2:]
            nb = np.array([min(x1, x2), min(y1, y2), abs(x2 - x1), abs(y2 - y1)])
        if rng.random() < kind.wrong_label:
            lab = LABELS[(LABELS.index(lab) + 1) % len(LABELS)]
        out.append({"label": lab, "box": [float(v) for v in nb]})
    return {"objects": out}


# ---------------------------------------------------------------- keypoints
_TEMPLATE = np.array([
    [0.0, -0.90], [-0.06, -0.95], [0.06, -0.95], [-0.13, -0.92], [0.13, -0.92],
    [-0.22, -0.68], [0.22, -0.68], [-0.30, -0.35], [0.30, -0.35], [-0.32, -0.05], [0.32, -0.05],
    [-0.14, 0.02], [0.14, 0.02], [-0.16, 0.48], [0.16, 0.48], [-0.17, 0.92], [0.17, 0.92],
])  # fmt: skip
KP_PAIRS = flip_pairs_from_names(COCO_KEYPOINTS)
SIGMAS = np.asarray(COCO_SIGMAS)


def truth_poses(rng: np.random.Generator) -> F:
    n = int(rng.integers(1, 4))
    out = []
    for _ in range(n):
        height = rng.uniform(90, 320)
        pts = _TEMPLATE * (height / 2) + rng.normal(0, 0.03 * height, _TEMPLATE.shape)
        if rng.random() < 0.5:  # facing away: image-left is the person's left
            pts[:, 0] *= -1
            pts = pts[_swap_index()]
        cx, cy = (
            rng.uniform(60, IMG_W - 60),
            rng.uniform(height / 2, max(height / 2 + 1, IMG_H - height / 2)),
        )
        v = np.where(rng.random(17) < 0.2, 1.0, 2.0)
        v[rng.random(17) < 0.08] = 0.0
        xy = np.where(v[:, None] > 0, pts + np.array([cx, cy]), 0.0)
        out.append(np.c_[xy, v])
    return np.asarray(out)


def _swap_index() -> NDArray[np.int64]:
    idx = np.arange(17)
    for i, j in KP_PAIRS:
        idx[i], idx[j] = j, i
    return idx


def _area(inst: F) -> float:
    on = inst[:, 2] > 0
    span = inst[on, :2].max(axis=0) - inst[on, :2].min(axis=0)
    return float(max(span[0] * span[1], 1.0))


def worker_poses(rng: np.random.Generator, kind: WorkerKind, poses: F) -> dict[str, object]:
    if kind is SPAMMER:
        fake = truth_poses(rng)
        return {"objects": [{"label": "person", "points": p.tolist()} for p in fake]}
    out = []
    for inst in poses:
        if rng.random() < kind.miss_big + 0.03:
            continue
        s = np.sqrt(_area(inst))
        # COCO's sigma is the RMS of the Euclidean error over s, so sigma/sqrt(2) per axis.
        xy = (
            inst[:, :2]
            + rng.normal(0, 1, (17, 2)) * (kind.kp_scale * SIGMAS * s / np.sqrt(2))[:, None]
        )
        far = rng.random(17) < kind.kp_gross
        xy[far] += rng.normal(0, 0.25 * s, (int(far.sum()), 2))
        v = inst[:, 2].copy()
        v = np.where((v > 0) & (rng.random(17) < 0.1), 3 - v, v)
        v[(v > 0) & (rng.random(17) < 0.03)] = 0
        new = np.c_[np.where(v[:, None] > 0, xy, 0.0), v]
        if rng.random() < kind.swap:
            new = new[_swap_index()]
        out.append({"label": "person", "points": new.tolist()})
    return {"objects": out}


# ---------------------------------------------------------------- polygons / masks
def truth_blobs(
    rng: np.random.Generator, n: int | None = None, size: tuple[int, int] = (240, 320)
) -> list[tuple[F, str, F]]:
    """Star-shaped blobs: (centre, label, radius profile over 256 angles)."""
    n = int(rng.integers(1, 5)) if n is None else n
    out = []
    theta = np.linspace(0, 2 * np.pi, 256, endpoint=False)
    for _ in range(n):
        r0 = float(np.exp(rng.uniform(np.log(7), np.log(55))))
        r = np.full(256, r0)
        for k in range(2, 6):
            r += r0 * rng.normal(0, 0.12 / k) * np.cos(k * theta + rng.uniform(0, 2 * np.pi))
        c = np.array([rng.uniform(r0, size[1] - r0), rng.uniform(r0, size[0] - r0)])
        out.append((c, LABELS[int(rng.integers(0, 3))], np.maximum(r, 0.3 * r0)))
    return out


def blob_polygon(c: F, r: F, n_vertices: int = 64, noise: F | None = None, phase: float = 0.0) -> F:
    theta = np.linspace(0, 2 * np.pi, 256, endpoint=False)
    rr = r * (1 + noise) if noise is not None else r
    idx = (
        np.round(np.linspace(0, 256, n_vertices, endpoint=False) + phase * 256 / n_vertices).astype(
            int
        )
    ) % 256
    return np.c_[c[0] + rr[idx] * np.cos(theta[idx]), c[1] + rr[idx] * np.sin(theta[idx])]


def worker_blobs(
    rng: np.random.Generator,
    kind: WorkerKind,
    blobs: list[tuple[F, str, F]],
    size: tuple[int, int] = (240, 320),
) -> list[tuple[F, str]]:
    if kind is SPAMMER:
        return [(blob_polygon(c, r, 8), lab) for c, lab, r in truth_blobs(rng, None, size)]
    out = []
    theta = np.linspace(0, 2 * np.pi, 256, endpoint=False)
    for c, lab, r in blobs:
        small = np.pi * r.mean() ** 2 < 32 * 32
        if rng.random() < (kind.miss_small if small else kind.miss_big):
            continue
        noise = np.zeros(256)
        for k in range(5):  # smooth boundary error: low harmonics, like a hand tracing
            noise += rng.normal(0, kind.shape_noise / (1 + k)) * np.cos(
                k * theta + rng.uniform(0, 2 * np.pi)
            )
        nv = int(rng.integers(*kind.n_vertices))
        poly = blob_polygon(c, r, nv, noise, float(rng.random()))
        poly += rng.normal(0, 0.6, poly.shape)
        if rng.random() < kind.gross * 0.6:
            poly = (poly - c) * rng.choice([0.45, 1.8]) + c  # grossly wrong extent
        out.append((poly, lab))
    return out


def _calibration_check(n_images: int = 3000, seed: int = 1) -> None:
    """One careful worker's box IoU against the truth: the figures the model is tuned to."""
    from consensus.geometry import iou_matrix

    rng = np.random.default_rng(seed)
    ious = []
    for _ in range(n_images):
        b, lab = truth_boxes(rng)
        for o in worker_boxes(rng, CAREFUL, b, lab)["objects"]:  # type: ignore[union-attr]
            ious.append(float(iou_matrix(np.array([o["box"]]), b).max()))
    arr = np.asarray(ious)
    print(
        f"careful worker: median box IoU {np.median(arr):.3f}, below 0.5: {(arr < 0.5).mean():.1%} ({len(arr)} boxes)"
    )


if __name__ == "__main__":
    _calibration_check()
