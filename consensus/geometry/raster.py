"""Polygon <-> mask conversion in pure numpy.

Convention: pixel (row r, col c) covers [c, c+1) x [r, r+1) and belongs to a polygon when its
centre (c + 0.5, r + 0.5) is inside (even-odd rule), as in COCO/PIL-style rasterisers. The
boundary traced back from a mask runs along pixel edges, so rasterising it returns the same mask
exactly; only the Douglas-Peucker simplification afterwards loses (sub-pixel) area.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy import ndimage

from consensus.geometry._common import FloatArray

BoolArray = NDArray[np.bool_]

# Turning order for boundary tracing, clockwise on screen (y down): right, down, left, up.
_DIRS = ((1, 0), (0, 1), (-1, 0), (0, -1))


@dataclass(frozen=True)
class MaskCrop:
    """A boolean mask stored as a crop: ``mask[r, c]`` is image pixel ``(y0 + r, x0 + c)``."""

    mask: BoolArray
    y0: int
    x0: int

    @property
    def area(self) -> int:
        return int(self.mask.sum())

    def bounds(self) -> tuple[int, int, int, int]:
        h, w = self.mask.shape
        return self.y0, self.x0, self.y0 + h, self.x0 + w


def rasterize_polygon(points: FloatArray, image_size: tuple[int, int] | None = None) -> MaskCrop:
    """Scan-line rasterisation of one polygon into a crop around it.

    Vectorised over rows x edges: each crossing toggles the parity of every pixel centre to its
    right (a difference array + cumsum), so the cost is O(rows * edges + pixels).

    Args:
        points: (n, 2) array of ``[x, y]`` vertices.
        image_size: optional ``(height, width)`` to clip to.
    """
    pts = np.asarray(points, dtype=np.float64).reshape(-1, 2)
    if len(pts) < 3:
        return MaskCrop(np.zeros((0, 0), dtype=bool), 0, 0)
    x0, y0 = int(np.floor(pts[:, 0].min())), int(np.floor(pts[:, 1].min()))
    x1, y1 = int(np.ceil(pts[:, 0].max())), int(np.ceil(pts[:, 1].max()))
    if image_size is not None:
        x0, y0 = max(x0, 0), max(y0, 0)
        x1, y1 = min(x1, image_size[1]), min(y1, image_size[0])
    h, w = max(y1 - y0, 0), max(x1 - x0, 0)
    if h == 0 or w == 0:
        return MaskCrop(np.zeros((h, w), dtype=bool), y0, x0)
    a, b = pts, np.roll(pts, -1, axis=0)
    yc = y0 + np.arange(h)[:, None] + 0.5
    crosses = (a[None, :, 1] <= yc) != (b[None, :, 1] <= yc)
    dy = np.where(b[:, 1] == a[:, 1], 1.0, b[:, 1] - a[:, 1])
    xint = a[None, :, 0] + (yc - a[None, :, 1]) * ((b[:, 0] - a[:, 0]) / dy)[None, :]
    rows, edges = np.nonzero(crosses)
    start = np.clip(np.floor(xint[rows, edges] - x0 - 0.5).astype(np.int64) + 1, 0, w)
    toggles = np.zeros((h, w + 1), dtype=np.int64)
    np.add.at(toggles, (rows, start), 1)
    inside = (np.cumsum(toggles, axis=1)[:, :w] & 1).astype(bool)
    return MaskCrop(inside, y0, x0)


def crop_iou(a: MaskCrop, b: MaskCrop) -> float:
    """IoU of two cropped masks without building full-image arrays."""
    ya0, xa0, ya1, xa1 = a.bounds()
    yb0, xb0, yb1, xb1 = b.bounds()
    iy0, ix0, iy1, ix1 = max(ya0, yb0), max(xa0, xb0), min(ya1, yb1), min(xa1, xb1)
    inter = 0
    if iy1 > iy0 and ix1 > ix0:
        sa = a.mask[iy0 - ya0 : iy1 - ya0, ix0 - xa0 : ix1 - xa0]
        sb = b.mask[iy0 - yb0 : iy1 - yb0, ix0 - xb0 : ix1 - xb0]
        inter = int(np.count_nonzero(sa & sb))
    union = a.area + b.area - inter
    return inter / union if union else 0.0


def paste(crops: list[MaskCrop]) -> tuple[NDArray[np.bool_], int, int]:
    """Stack crops into one common window: (n, H, W) booleans plus the window's origin."""
    y0 = min(c.y0 for c in crops)
    x0 = min(c.x0 for c in crops)
    y1 = max(c.bounds()[2] for c in crops)
    x1 = max(c.bounds()[3] for c in crops)
    out = np.zeros((len(crops), y1 - y0, x1 - x0), dtype=bool)
    for k, c in enumerate(crops):
        h, w = c.mask.shape
        out[k, c.y0 - y0 : c.y0 - y0 + h, c.x0 - x0 : c.x0 - x0 + w] = c.mask
    return out, y0, x0


def largest_component(mask: BoolArray) -> BoolArray:
    """Largest 4-connected component with its holes filled: what a simple polygon can hold."""
    labels, n = ndimage.label(mask)
    if n == 0:
        return np.zeros_like(mask, dtype=bool)
    sizes = np.bincount(labels.ravel())[1:]
    keep = labels == (int(np.argmax(sizes)) + 1)
    filled: BoolArray = ndimage.binary_fill_holes(keep)
    return filled


def _walk(mask: BoolArray) -> tuple[list[tuple[int, int]], list[tuple[int, int, int, int]]]:
    """Crack following around the first component of ``mask`` (padded by one pixel).

    Walk the pixel edges keeping the inside on the right, trying a right turn first so that
    diagonal-only contacts are not crossed (4-connectivity). Returns the corners where the
    direction changes and, for every edge walked, (inside row, col, outside row, col), all in
    the padded frame.
    """
    m = np.pad(mask, 1)
    corners: list[tuple[int, int]] = []
    edges: list[tuple[int, int, int, int]] = []
    if not m.any():
        return corners, edges
    r0, c0 = (int(v) for v in np.argwhere(m)[0])
    x, y, d = c0, r0, 0
    start = (x, y, d)
    for _ in range(4 * m.size + 4):
        for turn in (1, 0, -1, 2):
            nd = (d + turn) % 4
            right, left = _edge_pixels(x, y, nd)
            if m[right] and not m[left]:
                break
        if nd != d or not corners:
            corners.append((x, y))
        edges.append((*right, *left))
        d = nd
        x, y = x + _DIRS[d][0], y + _DIRS[d][1]
        if (x, y, d) == start or ((x, y) == start[:2] and len(corners) > 1):
            break
    return corners, edges


def trace_boundary(mask: BoolArray) -> FloatArray:
    """Outer boundary of a single filled component along pixel edges, clockwise, as (n, 2) x, y."""
    corners, _ = _walk(mask)
    if not corners:
        return np.zeros((0, 2))
    pts = np.asarray(corners, dtype=np.float64) - 1.0  # undo the padding
    return _drop_collinear(pts)


def trace_edges(mask: BoolArray) -> NDArray[np.int64]:
    """The boundary edges of ``trace_boundary`` in walking order, one row per edge:
    (inside row, inside col, outside row, outside col); the outside pixel may be off the mask
    by one (row or col -1 or the size)."""
    _, edges = _walk(mask)
    if not edges:
        return np.zeros((0, 4), dtype=np.int64)
    return np.asarray(edges, dtype=np.int64) - 1


def _edge_pixels(x: int, y: int, d: int) -> tuple[tuple[int, int], tuple[int, int]]:
    """(right-hand, left-hand) pixel of the edge leaving corner (x, y) in direction d."""
    if d == 0:
        return (y, x), (y - 1, x)
    if d == 1:
        return (y, x - 1), (y, x)
    if d == 2:
        return (y - 1, x - 1), (y, x - 1)
    return (y - 1, x), (y - 1, x - 1)


def _drop_collinear(pts: FloatArray) -> FloatArray:
    if len(pts) < 3:
        return pts
    prev, nxt = np.roll(pts, 1, axis=0), np.roll(pts, -1, axis=0)
    cross = (pts[:, 0] - prev[:, 0]) * (nxt[:, 1] - pts[:, 1]) - (pts[:, 1] - prev[:, 1]) * (
        nxt[:, 0] - pts[:, 0]
    )
    out: FloatArray = pts[np.abs(cross) > 1e-9]
    return out


def simplify(points: FloatArray, tolerance: float = 0.75) -> FloatArray:
    """Douglas-Peucker on a closed ring: split at the vertex farthest from the first one."""
    pts = np.asarray(points, dtype=np.float64)
    out: FloatArray = pts[simplify_indices(pts, tolerance)]
    return out


def simplify_indices(points: FloatArray, tolerance: float) -> NDArray[np.int64]:
    """Indices (ascending) of the vertices ``simplify`` keeps."""
    pts = np.asarray(points, dtype=np.float64)
    n = len(pts)
    if n <= 4 or tolerance <= 0:
        return np.arange(n)
    far = int(np.argmax(np.linalg.norm(pts - pts[0], axis=1)))
    first = np.flatnonzero(_dp(pts[: far + 1], tolerance))
    ring = np.vstack([pts[far:], pts[:1]])
    second = np.flatnonzero(_dp(ring, tolerance)) + far
    idx = np.unique(np.r_[first, second[second < n]])
    return idx if len(idx) >= 3 else np.arange(n)


def _dp(pts: FloatArray, tol: float) -> NDArray[np.bool_]:
    """Iterative Douglas-Peucker on an open polyline (keeps both ends): the kept mask."""
    keep = np.zeros(len(pts), dtype=bool)
    keep[[0, -1]] = True
    stack = [(0, len(pts) - 1)]
    while stack:
        i, j = stack.pop()
        if j <= i + 1:
            continue
        seg = pts[j] - pts[i]
        rel = pts[i + 1 : j] - pts[i]
        norm = float(np.hypot(*seg))
        if norm > 0:
            dist = np.abs(seg[0] * rel[:, 1] - seg[1] * rel[:, 0]) / norm
        else:
            dist = np.hypot(rel[:, 0], rel[:, 1])
        k = int(np.argmax(dist))
        if dist[k] > tol:
            keep[i + 1 + k] = True
            stack += [(i, i + 1 + k), (i + 1 + k, j)]
    return keep


def mask_to_polygon(
    mask: BoolArray, y0: int = 0, x0: int = 0, tolerance: float = 0.75
) -> FloatArray:
    """Simplified outer polygon (n, 2) of the largest component, in image coordinates."""
    ring = trace_boundary(largest_component(mask))
    if len(ring) == 0:
        return ring
    out: FloatArray = simplify(ring, tolerance) + np.array([x0, y0], dtype=np.float64)
    return out
