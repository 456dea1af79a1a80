"""Fuse matched polygon outlines in vector space: a robust mean of the workers' signed distances.

Per-pixel majority voting is the *median* of the outlines along the normal, quantised to the
pixel grid: every vertex lands on a pixel corner (a staircase) and it throws away most of the
information in five outlines (the median of Gaussian jitter is ~1.6x noisier than its mean).
Here each outline becomes a signed distance field (positive inside) sampled on a fine grid; the
fused field is a weighted Tukey-biweight M-estimate per sample, started at the weighted median,
so ordinary jitter is averaged out while an outline that is far away at that spot (an omitted
part, a careless sketch) gets no say there. The zero level of the fused field is traced with
linear interpolation between samples (subpixel vertices, marching-squares style) and simplified
by Douglas-Peucker at a tolerance set by the workers' own disagreement, capped so the result
never has more than 1.5x the median worker's vertex count.

Identical outlines (up to the starting vertex and direction) are returned exactly.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import shapely
from numpy.typing import NDArray

from consensus.geometry._common import FloatArray, weighted_median
from consensus.geometry.raster import BoolArray, largest_component, simplify_indices, trace_edges

MAX_CELLS = 8_000  # samples per distance field and object (the grid step adapts to the size)
MIN_STEP = 0.25  # px: finer than this buys nothing against hand-drawn outlines
TUKEY_C = 4.685  # biweight constant (95% efficiency under Gaussian jitter)
BAND_PX = 8.0  # distances are exact within this band of an outline (and clipped beyond) ...
BAND_FRACTION = 0.12  # ... or this share of the object's size, whichever is larger
VERTEX_FACTOR = 1.5  # never more vertices than the median worker outline times this
SCALE_FLOOR = 0.6  # px: no worker is trusted to be more precise than this (tuned on seeds 3, 5)


@dataclass(frozen=True)
class FusedOutline:
    """A fused outline and how much the workers disagreed about it.

    ``spread`` is the weighted median, over workers, of the median distance from the fused
    outline to the worker's own (px); ``tolerance`` is the Douglas-Peucker tolerance used.
    """

    points: FloatArray
    spread: float
    tolerance: float


def canonical_ring(points: FloatArray) -> FloatArray:
    """The same ring with a fixed start (lexicographically smallest vertex) and direction."""
    p = np.asarray(points, dtype=np.float64).reshape(-1, 2)
    if len(p) and np.allclose(p[0], p[-1]) and len(p) > 3:
        p = p[:-1]
    x, y = p[:, 0], p[:, 1]
    if float(np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1))) < 0:
        p = p[::-1]
    start = int(np.lexsort((p[:, 1], p[:, 0]))[0])
    out: FloatArray = np.roll(p, -start, axis=0)
    return out


def _all_identical(rings: Sequence[FloatArray]) -> bool:
    first = canonical_ring(rings[0])
    for r in rings[1:]:
        c = canonical_ring(r)
        if c.shape != first.shape or not np.allclose(c, first, rtol=0.0, atol=1e-9):
            return False
    return True


def inside_grid(points: FloatArray, xs: FloatArray, ys: FloatArray) -> BoolArray:
    """Even-odd inside test of one polygon at every grid point ``(xs[j], ys[i])``.

    The same rule as ``rasterize_polygon`` (which is this at pixel centres), so self-crossing
    outlines are read the same way by the vote and by the fusion.
    """
    a = np.asarray(points, dtype=np.float64).reshape(-1, 2)
    b = np.roll(a, -1, axis=0)
    yc = ys[:, None]
    crosses = (a[None, :, 1] <= yc) != (b[None, :, 1] <= yc)
    dy = np.where(b[:, 1] == a[:, 1], 1.0, b[:, 1] - a[:, 1])
    xint = a[None, :, 0] + (yc - a[None, :, 1]) * ((b[:, 0] - a[:, 0]) / dy)[None, :]
    rows, edges = np.nonzero(crosses)
    start = np.searchsorted(xs, xint[rows, edges], side="left")
    toggles = np.zeros((len(ys), len(xs) + 1), dtype=np.int64)
    np.add.at(toggles, (rows, start), 1)
    out: BoolArray = (np.cumsum(toggles, axis=1)[:, : len(xs)] & 1).astype(bool)
    return out


def distance_field(points: FloatArray, xs: FloatArray, ys: FloatArray, band: float) -> FloatArray:
    """Distance from every grid point to the ring's edges, exact up to ``band`` (clipped there).

    Each edge only touches the grid points in its bounding box grown by ``band``, so the cost
    is about perimeter x band / step^2 rather than grid size x edges.
    """
    a = np.asarray(points, dtype=np.float64).reshape(-1, 2)
    b = np.roll(a, -1, axis=0)
    out = np.full((len(ys), len(xs)), band)
    x_first, y_first = float(xs[0]), float(ys[0])
    step = float(xs[1] - xs[0]) if len(xs) > 1 else 1.0
    for (ax, ay), (bx, by) in zip(a, b, strict=True):
        j0 = max(int(np.floor((min(ax, bx) - band - x_first) / step)), 0)
        j1 = min(int(np.ceil((max(ax, bx) + band - x_first) / step)) + 1, len(xs))
        i0 = max(int(np.floor((min(ay, by) - band - y_first) / step)), 0)
        i1 = min(int(np.ceil((max(ay, by) + band - y_first) / step)) + 1, len(ys))
        if j1 <= j0 or i1 <= i0:
            continue
        px = xs[j0:j1][None, :] - ax
        py = ys[i0:i1][:, None] - ay
        ex, ey = bx - ax, by - ay
        ll = ex * ex + ey * ey
        t = np.clip((px * ex + py * ey) / ll, 0.0, 1.0) if ll > 0 else np.zeros_like(px * py)
        d = np.hypot(px - t * ex, py - t * ey)
        view = out[i0:i1, j0:j1]
        np.minimum(view, d, out=view)
    return out


def _ring_line(points: FloatArray) -> shapely.LinearRing:
    return shapely.LinearRing(np.asarray(points, dtype=np.float64))


def fuse_outlines(
    rings: Sequence[FloatArray | Sequence[Sequence[float]]],
    weights: Sequence[float] | FloatArray,
    *,
    max_cells: int | None = None,
) -> FusedOutline:
    """Fuse the outlines of one object drawn by several workers (see module docstring).

    Args:
        rings: one (n, 2) ``[x, y]`` ring per worker (at least one, each >= 3 vertices).
        weights: the workers' localisation weights (>= 0, not all zero).
        max_cells: samples per distance field (default ``MAX_CELLS``); the grid step is
            chosen to fit.

    Returns:
        The fused outline; an empty (0, 2) array when the fused field is nowhere inside.
    """
    pts = [np.asarray(r, dtype=np.float64).reshape(-1, 2) for r in rings]
    w = np.asarray(weights, dtype=np.float64).reshape(-1)
    if not pts or len(w) != len(pts):
        raise ValueError("fuse_outlines needs one weight per ring")
    if len(pts) == 1 or _all_identical(pts):
        return FusedOutline(pts[0].copy(), 0.0, 0.0)
    w = np.clip(w, 0.0, None)
    w = w / w.sum() if w.sum() > 0 else np.full(len(pts), 1.0 / len(pts))

    allp = np.vstack(pts)
    lo, hi = allp.min(axis=0), allp.max(axis=0)
    span = hi - lo
    cells = MAX_CELLS if max_cells is None else max_cells
    step = max(MIN_STEP, float(np.sqrt(max(span[0] * span[1], 1.0) / cells)))
    pad = 2.0 * step
    nx = int(np.ceil((span[0] + 2 * pad) / step)) + 1
    ny = int(np.ceil((span[1] + 2 * pad) / step)) + 1
    x0, y0 = lo[0] - pad, lo[1] - pad
    xs = x0 + step * np.arange(nx)
    ys = y0 + step * np.arange(ny)
    band = max(BAND_PX, 6.0 * step, BAND_FRACTION * float(np.sqrt(span[0] * span[1])))
    fields = np.empty((len(pts), ny, nx))
    for k, p in enumerate(pts):
        dist = distance_field(p, xs, ys, band)
        fields[k] = np.where(inside_grid(p, xs, ys), dist, -dist)

    fused = _robust_mean(fields, w, step)
    ring = _zero_level(fused, x0, y0, step)
    if len(ring) < 3:
        return FusedOutline(np.zeros((0, 2)), 0.0, 0.0)
    spread = _spread(ring, pts, w)
    n_cap = max(3, int(np.floor(VERTEX_FACTOR * float(np.median([len(p) for p in pts])))))
    tol = float(np.clip(0.5 * spread, 0.2, 3.0))
    idx = simplify_indices(ring, tol)
    while len(idx) > n_cap:
        tol *= 1.3
        idx = simplify_indices(ring, tol)
    return FusedOutline(fit_sides(ring, idx, tol), spread, tol)


def fit_sides(ring: FloatArray, idx: NDArray[np.int64], tol: float) -> FloatArray:
    """Vertices where least-squares lines through consecutive sections of ``ring`` meet.

    Douglas-Peucker keeps points *on* the curve, so each side is a chord and a convex stretch
    loses area on every side; a line fitted to the whole stretch cuts through the curve instead
    (as much outside as inside) and puts corners where the sides meet. A vertex whose two lines
    are nearly parallel, or meet far from the kept point, stays where Douglas-Peucker put it.
    """
    k = len(idx)
    if k < 3:
        return ring[idx]
    centres = np.empty((k, 2))
    dirs = np.empty((k, 2))
    for j in range(k):
        a, b = int(idx[j]), int(idx[(j + 1) % k])
        sec = ring[a : b + 1] if b > a else np.vstack([ring[a:], ring[: b + 1]])
        c = sec.mean(axis=0)
        cov = (sec - c).T @ (sec - c)
        _, vecs = np.linalg.eigh(cov)
        d = vecs[:, -1]
        chord = ring[b] - ring[a]
        if float(np.hypot(*chord)) > 0 and len(sec) < 3:
            d = chord / np.hypot(*chord)
        centres[j], dirs[j] = c, d
    out = ring[idx].copy()
    limit = max(2.0 * tol, 1.0)
    for j in range(k):
        p, d1 = centres[j - 1], dirs[j - 1]
        q, d2 = centres[j], dirs[j]
        den = d1[0] * d2[1] - d1[1] * d2[0]
        if abs(den) < 0.05:
            continue
        t = ((q[0] - p[0]) * d2[1] - (q[1] - p[1]) * d2[0]) / den
        x = p + t * d1
        if float(np.hypot(*(x - out[j]))) <= limit:
            out[j] = x
    return out


def _robust_mean(fields: FloatArray, w: FloatArray, step: float, n_iter: int = 4) -> FloatArray:
    """Per-sample Tukey-biweight location of the workers' signed distances, precision-weighted.

    Each worker's noise scale is the robust spread (1.4826 x median absolute residual) of their
    field along the current fused boundary; their weight is ``w / scale**2`` (inverse variance)
    and their residuals beyond ``TUKEY_C * scale`` get no say. Starts at the weighted median.
    """
    k, ny, nx = fields.shape
    flat = fields.reshape(k, -1)
    m = weighted_median(flat, w)
    floor = max(0.5 * step, SCALE_FLOOR)
    for _ in range(n_iter):
        near = np.abs(m) < max(3.0 * step, 2.0)
        if not near.any():
            break
        res = np.abs(flat[:, near] - m[near])
        sig = np.maximum(1.4826 * np.median(res, axis=1), floor)
        prec = w / sig**2
        prec = prec / prec.sum()
        u = (flat - m) / (TUKEY_C * sig[:, None])
        bw = np.where(np.abs(u) < 1.0, (1.0 - u * u) ** 2, 0.0) * prec[:, None]
        tot = bw.sum(axis=0)
        m = np.where(tot > 1e-12, (bw * flat).sum(axis=0) / np.maximum(tot, 1e-12), m)
    out: FloatArray = m.reshape(ny, nx)
    return out


def _zero_level(field: FloatArray, x0: float, y0: float, step: float) -> FloatArray:
    """Outer zero-level ring of the largest inside component, interpolated between samples."""
    inside = field > 0
    if not inside.any():
        return np.zeros((0, 2))
    mask = largest_component(inside)
    edges = trace_edges(mask)
    if len(edges) == 0:
        return np.zeros((0, 2))
    rin, cin, rout, cout = edges.T
    h, w = field.shape
    f_in = field[rin, cin]
    valid_out = (rout >= 0) & (rout < h) & (cout >= 0) & (cout < w)
    f_out = np.where(valid_out, field[np.clip(rout, 0, h - 1), np.clip(cout, 0, w - 1)], -abs(step))
    denom = f_in - f_out
    ok = (f_in > 0) & (f_out <= 0) & (denom > 0)
    t = np.where(ok, f_in / np.where(denom > 0, denom, 1.0), 0.5)
    t = np.clip(t, 0.0, 1.0)
    x = x0 + step * (cin + t * (cout - cin))
    y = y0 + step * (rin + t * (rout - rin))
    ring = np.c_[x, y]
    # Consecutive crack edges around a convex corner of the sample grid can interpolate to the
    # same point; drop exact repeats so simplification sees a clean ring.
    keep = np.r_[True, np.any(np.abs(np.diff(ring, axis=0)) > 1e-12, axis=1)]
    out: FloatArray = ring[keep]
    return out


def _spread(ring: FloatArray, pts: Sequence[FloatArray], w: FloatArray) -> float:
    """Weighted median over workers of the median distance from the fused ring to theirs."""
    line = _ring_line(ring)
    dense = shapely.segmentize(line, max(float(line.length) / 200.0, 0.5))
    samples = shapely.points(shapely.get_coordinates(dense))
    per = np.array([float(np.median(shapely.distance(samples, _ring_line(p)))) for p in pts])
    return float(weighted_median(per.reshape(-1, 1), w.reshape(-1, 1))[0])
