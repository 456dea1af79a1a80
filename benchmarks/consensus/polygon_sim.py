"""A polygon crowd simulator: how people really trace outlines, for the polygon sweep.

Objects (one per task, 10-90 px across, like COCO instances): smooth blobs, sharp-cornered
polygons (boxes, L-shapes, stars) and bodies with a thin protruding part (a limb, a handle).
Each worker traces the true outline with

- vertex density of their own (careful: a vertex every 3-7 px; quick: every 8-20 px, so they cut
  corners and chord the curves);
- jitter along the outline's normal: a smooth low-frequency drift (the hand wanders) plus
  independent per-vertex noise, scaled per worker;
- occasional part omissions (the protruding part left out, 15% of careful tracings);
- a few careless workers (15% of the pool): large drift, very coarse vertices, sometimes a
  grossly wrong extent (scaled 0.7x or 1.4x) or an offset of several pixels.

Every draw goes through one ``numpy.random.Generator``; a seed reproduces a run exactly.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely
from numpy.typing import NDArray

F = NDArray[np.float64]
SIZE = (240, 320)  # (height, width)


@dataclass(frozen=True)
class Tracer:
    name: str
    spacing: tuple[float, float]  # px between vertices
    drift: float  # px, smooth normal offset (std)
    jitter: float  # px, per-vertex normal noise (std)
    omit: float  # probability of leaving out the protruding part
    gross: float  # probability of a grossly wrong extent or offset


CAREFUL = Tracer("careful", (3.0, 7.0), 0.8, 0.6, 0.15, 0.0)
QUICK = Tracer("quick", (8.0, 20.0), 1.3, 0.9, 0.3, 0.02)
CARELESS = Tracer("careless", (12.0, 30.0), 3.5, 2.0, 0.5, 0.35)


def make_pool(n: int, rng: np.random.Generator) -> list[Tracer]:
    kinds = [CAREFUL] * round(0.55 * n) + [QUICK] * round(0.30 * n)
    kinds += [CARELESS] * (n - len(kinds))
    order = rng.permutation(len(kinds))
    return [kinds[i] for i in order]


def _blob(rng: np.random.Generator, c: F, r0: float) -> shapely.Polygon:
    theta = np.linspace(0, 2 * np.pi, 256, endpoint=False)
    r = np.full(256, r0)
    for k in range(2, 6):
        r += r0 * rng.normal(0, 0.15 / k) * np.cos(k * theta + rng.uniform(0, 2 * np.pi))
    r = np.maximum(r, 0.4 * r0)
    return shapely.Polygon(np.c_[c[0] + r * np.cos(theta), c[1] + r * np.sin(theta)])


def _rotate(p: shapely.Polygon, c: F, angle: float) -> shapely.Polygon:
    xy = shapely.get_coordinates(p.exterior) - c
    rot = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    return shapely.Polygon(xy @ rot.T + c)


def truth_object(rng: np.random.Generator) -> tuple[shapely.Polygon, shapely.Polygon]:
    """(full object, the object without its protruding part) — equal when it has none."""
    r0 = float(np.exp(rng.uniform(np.log(6), np.log(45))))
    c = np.array([rng.uniform(60, SIZE[1] - 60), rng.uniform(60, SIZE[0] - 60)])
    kind = rng.choice(["blob", "box", "ell", "star", "limb"], p=[0.3, 0.15, 0.15, 0.1, 0.3])
    if kind == "blob":
        body = _blob(rng, c, r0)
        return body, body
    angle = float(rng.uniform(0, np.pi))
    if kind == "box":
        a = r0 * float(np.exp(rng.uniform(-0.5, 0.5)))
        b = r0 * r0 / a
        body = shapely.box(c[0] - a, c[1] - b, c[0] + a, c[1] + b)
        return _rotate(body, c, angle), _rotate(body, c, angle)
    if kind == "ell":
        t = r0 * 0.6
        body = shapely.union(
            shapely.box(c[0] - r0, c[1] - r0, c[0] - r0 + t, c[1] + r0),
            shapely.box(c[0] - r0, c[1] + r0 - t, c[0] + r0, c[1] + r0),
        )
        return _rotate(body, c, angle), _rotate(body, c, angle)
    if kind == "star":
        n = int(rng.integers(5, 8))
        th = np.linspace(0, 2 * np.pi, 2 * n, endpoint=False) + angle
        rr = np.where(np.arange(2 * n) % 2 == 0, r0, r0 * rng.uniform(0.45, 0.65))
        body = shapely.Polygon(np.c_[c[0] + rr * np.cos(th), c[1] + rr * np.sin(th)])
        return body, body
    body = _blob(rng, c, r0)
    length, width = r0 * rng.uniform(0.8, 1.6), max(r0 * rng.uniform(0.2, 0.4), 2.5)
    limb = shapely.box(c[0], c[1] - width / 2, c[0] + r0 * 0.8 + length, c[1] + width / 2)
    full = shapely.union(body, _rotate(limb, c, angle))
    if not isinstance(full, shapely.Polygon):
        return body, body
    return shapely.Polygon(full.exterior), body


def trace(rng: np.random.Generator, who: Tracer, full: shapely.Polygon, body: shapely.Polygon) -> F:
    """One worker's outline of the object, as an (n, 2) array of vertices."""
    shape = body if (body is not full and rng.random() < who.omit) else full
    if rng.random() < who.gross:
        c = np.asarray(shape.centroid.coords[0])
        if rng.random() < 0.5:
            xy = shapely.get_coordinates(shape.exterior)[:-1]
            shape = shapely.Polygon((xy - c) * rng.choice([0.7, 1.4]) + c)
        else:
            xy = shapely.get_coordinates(shape.exterior)[:-1]
            shape = shapely.Polygon(xy + rng.normal(0, 4.0, 2))
    ring = shape.exterior
    length = float(ring.length)
    spacing = rng.uniform(*who.spacing)
    n = max(round(length / spacing), 4)
    s = (np.arange(n) + rng.random()) * length / n
    pts = shapely.get_coordinates(shapely.line_interpolate_point(ring, s))
    # outward normal from neighbouring arc positions
    ahead = shapely.get_coordinates(shapely.line_interpolate_point(ring, (s + 0.5) % length))
    behind = shapely.get_coordinates(shapely.line_interpolate_point(ring, (s - 0.5) % length))
    tangent = ahead - behind
    tangent /= np.maximum(np.linalg.norm(tangent, axis=1, keepdims=True), 1e-9)
    normal = np.c_[tangent[:, 1], -tangent[:, 0]]
    if not ring.is_ccw:
        normal = -normal
    phase = s / length * 2 * np.pi
    drift = np.zeros(n)
    for k in range(4):
        drift += rng.normal(0, who.drift / (1 + k)) * np.cos(k * phase + rng.uniform(0, 2 * np.pi))
    offset = drift + rng.normal(0, who.jitter, n)
    out: F = pts + offset[:, None] * normal
    return out
