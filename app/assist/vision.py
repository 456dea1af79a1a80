"""The image work behind the assist tools, pure: NumPy arrays in, arrays and rings out.

No database, no HTTP, no project: ``app.assist.service`` finds the image and the lease, and
shapes what these functions return into the project's answer shape.

* ``grabcut``: the object inside a box, by OpenCV's GrabCut initialised with the rectangle, run
  on the box's neighbourhood downscaled to at most ``WORK_PIXELS`` (its cost does not grow with
  the image, only with how much of it the box covers);
* ``outline``: the largest region of a mask as a simple polygon (``cv2.approxPolyDP``, checked
  by shapely, simplified with topology kept when the approximation crosses itself);
* ``superpixel``: the SLIC superpixel (scikit-image) under a point, on the image downscaled to
  at most ``SLIC_PIXELS``, so neighbouring clicks tile the same segmentation;
* ``snap``: the nearest strong edge point (Canny on each colour channel, thresholds from the
  window's own gradient magnitude) within a radius, or nothing.
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass

import cv2
import numpy as np
from PIL import Image
from shapely.geometry import MultiPolygon, Polygon
from skimage.segmentation import slic

__all__ = [
    "SLIC_PIXELS",
    "WORK_PIXELS",
    "Region",
    "decode_rgb",
    "grabcut",
    "outline",
    "snap",
    "superpixel",
]

WORK_PIXELS = 100_000
"""GrabCut runs on the box's neighbourhood scaled down to about this many pixels (on a 1-MP image
with a box over 40% of it, GrabCut alone: ~65 ms of CPU with 2 iterations, against ~115 ms at
150,000 pixels × 3 and ~180 ms at 250,000 × 3, for a mask IoU 0.994 rather than 0.996 / 0.997
with the benchmark's ellipse and the same outline IoU, 0.985: the polygon's simplification, not
the working resolution, bounds it; benchmarks/README.md)."""
SLIC_PIXELS = 160_000
"""SLIC runs on the whole image scaled down to about this many pixels."""
GRABCUT_ITERATIONS = 2
_MIN_EDGE_MAGNITUDE = 80.0  # L2 Sobel 3x3 magnitude: a step of ~20 grey levels


@dataclass(frozen=True)
class Region:
    """A binary mask at full image resolution, placed at ``(x0, y0)`` (only its bounding box
    is stored, so a small object on a huge image stays small)."""

    x0: int
    y0: int
    mask: np.ndarray  # (h, w) bool

    @property
    def area(self) -> int:
        return int(self.mask.sum())

    def full(self, width: int, height: int) -> np.ndarray:
        """The mask on a ``(height, width)`` canvas."""
        canvas = np.zeros((height, width), dtype=bool)
        h, w = self.mask.shape
        canvas[self.y0 : self.y0 + h, self.x0 : self.x0 + w] = self.mask
        return canvas


def decode_rgb(data: bytes) -> np.ndarray:
    """The image's pixels as ``(height, width, 3)`` ``uint8`` RGB, as stored (no EXIF rotation:
    the stored width and height, and so every answer's coordinates, are the raw ones)."""
    with Image.open(io.BytesIO(data)) as im:
        return np.asarray(im.convert("RGB"))


def _scale_for(pixels: int, budget: int) -> float:
    return min(1.0, math.sqrt(budget / max(1, pixels)))


def grabcut(rgb: np.ndarray, box: tuple[float, float, float, float]) -> Region:
    """The foreground GrabCut finds inside ``box`` = ``[x, y, w, h]`` (image pixels), as a
    region no larger than the box. Empty when it finds nothing."""
    height, width = rgb.shape[:2]
    bx0, by0 = max(0, math.floor(box[0])), max(0, math.floor(box[1]))
    bx1, by1 = min(width, math.ceil(box[0] + box[2])), min(height, math.ceil(box[1] + box[3]))
    if bx1 - bx0 < 2 or by1 - by0 < 2:
        return Region(bx0, by0, np.zeros((max(0, by1 - by0), max(0, bx1 - bx0)), dtype=bool))
    # The neighbourhood: the box and a margin of background around it, to learn its colours.
    margin = max(8, round(0.15 * max(bx1 - bx0, by1 - by0)))
    x0, y0 = max(0, bx0 - margin), max(0, by0 - margin)
    x1, y1 = min(width, bx1 + margin), min(height, by1 + margin)
    crop = rgb[y0:y1, x0:x1]
    scale = _scale_for(crop.shape[0] * crop.shape[1], WORK_PIXELS)
    if scale < 1.0:
        size = (max(1, round(crop.shape[1] * scale)), max(1, round(crop.shape[0] * scale)))
        small = cv2.resize(crop, size, interpolation=cv2.INTER_AREA)
    else:
        small = np.ascontiguousarray(crop)
    sy, sx = small.shape[0] / crop.shape[0], small.shape[1] / crop.shape[1]
    rx0, ry0 = math.floor((bx0 - x0) * sx), math.floor((by0 - y0) * sy)
    rx1 = min(small.shape[1], math.ceil((bx1 - x0) * sx))
    ry1 = min(small.shape[0], math.ceil((by1 - y0) * sy))
    rect = (rx0, ry0, rx1 - rx0, ry1 - ry0)
    labels = np.full(small.shape[:2], cv2.GC_BGD, dtype=np.uint8)
    labels[ry0:ry1, rx0:rx1] = cv2.GC_PR_FGD
    mode = cv2.GC_INIT_WITH_RECT
    if labels.min() != cv2.GC_BGD:
        # The box covers the whole image: no known background, so take the box's border as
        # probable background (GrabCut needs some of both to fit its colour models).
        labels[[0, -1], :] = cv2.GC_PR_BGD
        labels[:, [0, -1]] = cv2.GC_PR_BGD
        mode = cv2.GC_INIT_WITH_MASK
    bgd, fgd = np.zeros((1, 65), np.float64), np.zeros((1, 65), np.float64)
    bgr = cv2.cvtColor(small, cv2.COLOR_RGB2BGR)
    try:
        cv2.grabCut(bgr, labels, rect, bgd, fgd, GRABCUT_ITERATIONS, mode)
    except cv2.error:
        # A flat neighbourhood (one colour) has no mixture to fit: nothing to find.
        return Region(bx0, by0, np.zeros((by1 - by0, bx1 - bx0), dtype=bool))
    fg = ((labels == cv2.GC_FGD) | (labels == cv2.GC_PR_FGD)).astype(np.float32)
    if scale < 1.0:
        # Back to full resolution; a bilinear soft mask cut at 0.5 keeps edges smooth.
        fg = cv2.resize(fg, (crop.shape[1], crop.shape[0]), interpolation=cv2.INTER_LINEAR)
    full = fg >= 0.5
    # Nothing outside the box is foreground (the worker drew the box around the object).
    return Region(bx0, by0, full[by0 - y0 : by1 - y0, bx0 - x0 : bx1 - x0])


def largest_object(region: Region) -> Region:
    """Only the largest 8-connected component of the region (an object, not its crumbs)."""
    mask = region.mask.astype(np.uint8)
    count, labels, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
    if count <= 1:
        return region
    biggest = 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))
    return Region(region.x0, region.y0, labels == biggest)


def outline(region: Region, *, max_points: int) -> list[tuple[float, float]] | None:
    """The outer boundary of the region's largest component as a simple polygon in image
    coordinates (pixel edges, so a filled square of side n gives a ring of side ~n), with at
    most ``max_points`` points; None when the region is empty."""
    mask = np.pad(region.mask.astype(np.uint8), 1)  # contours never run along the array edge
    contours, _ = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
    if not contours:
        return None
    contour = max(contours, key=cv2.contourArea)
    if cv2.contourArea(contour) <= 0:
        return None
    perimeter = cv2.arcLength(contour, True)
    # Pixel centres -> the polygon through them, shifted by the pad and the region's origin;
    # the half pixel puts the ring on the object's edge rather than its outer pixels' centres.
    offset = np.array([region.x0 - 1 + 0.5, region.y0 - 1 + 0.5])
    epsilon = max(0.75, 0.004 * perimeter)
    while True:
        approx = cv2.approxPolyDP(contour, epsilon, True).reshape(-1, 2).astype(np.float64)
        ring = _simple_ring(approx + offset, epsilon)
        if ring is not None and len(ring) <= max_points:
            return ring
        epsilon *= 1.5
        if epsilon > perimeter:
            return None


def _simple_ring(points: np.ndarray, tolerance: float) -> list[tuple[float, float]] | None:
    """The ring as a valid polygon's exterior: as given when it is simple, else the largest
    part of its repair simplified with its topology kept. None if nothing with area is left."""
    if len(points) < 3:
        return None
    polygon = Polygon(points)
    if not (polygon.is_valid and polygon.area > 0):
        repaired = polygon.buffer(0)
        if isinstance(repaired, MultiPolygon):
            repaired = max(repaired.geoms, key=lambda p: p.area)
        if not isinstance(repaired, Polygon) or repaired.is_empty:
            return None
        polygon = Polygon(repaired.exterior).simplify(tolerance, preserve_topology=True)
        if not isinstance(polygon, Polygon) or not polygon.is_valid or polygon.area <= 0:
            return None
    coords = list(polygon.exterior.coords)[:-1]
    return [(round(float(x), 2), round(float(y), 2)) for x, y in coords]


def superpixel(rgb: np.ndarray, point: tuple[float, float], *, segments: int) -> Region:
    """The SLIC superpixel containing ``point`` (image pixels), at full resolution."""
    height, width = rgb.shape[:2]
    scale = _scale_for(width * height, SLIC_PIXELS)
    if scale < 1.0:
        size = (max(1, round(width * scale)), max(1, round(height * scale)))
        small = cv2.resize(rgb, size, interpolation=cv2.INTER_AREA)
    else:
        small = rgb
    # sigma: a light blur first, or texture splits the image into crumbs SLIC then merges.
    labels = slic(
        small, n_segments=segments, compactness=10.0, sigma=1.0, start_label=1, channel_axis=-1
    )
    sy, sx = small.shape[0] / height, small.shape[1] / width
    px = min(small.shape[1] - 1, max(0, int(point[0] * sx)))
    py = min(small.shape[0] - 1, max(0, int(point[1] * sy)))
    chosen = (labels == labels[py, px]).astype(np.uint8)
    ys, xs = np.nonzero(chosen)
    # Crop to the superpixel's box in the small image, then scale that crop up.
    ly0, ly1, lx0, lx1 = int(ys.min()), int(ys.max()) + 1, int(xs.min()), int(xs.max()) + 1
    x0, y0 = math.floor(lx0 / sx), math.floor(ly0 / sy)
    x1, y1 = min(width, math.ceil(lx1 / sx)), min(height, math.ceil(ly1 / sy))
    crop = chosen[ly0:ly1, lx0:lx1]
    if scale < 1.0:
        mask = cv2.resize(crop, (x1 - x0, y1 - y0), interpolation=cv2.INTER_NEAREST) > 0
    else:
        mask = crop > 0
    # The clicked pixel itself is always in (nearest-neighbour scaling can miss it by one).
    cx, cy = min(width - 1, max(0, int(point[0]))), min(height - 1, max(0, int(point[1])))
    if y0 <= cy < y1 and x0 <= cx < x1:
        mask[cy - y0, cx - x0] = True
    return Region(x0, y0, mask)


def snap(rgb: np.ndarray, point: tuple[float, float], radius: float) -> tuple[float, float] | None:
    """The nearest strong edge pixel (its centre) within ``radius`` of ``point``, or None."""
    height, width = rgb.shape[:2]
    r = math.ceil(radius) + 3  # +3: the blur and Sobel need a border
    px, py = point
    x0, y0 = max(0, math.floor(px) - r), max(0, math.floor(py) - r)
    x1, y1 = min(width, math.floor(px) + r + 1), min(height, math.floor(py) + r + 1)
    if x1 - x0 < 3 or y1 - y0 < 3:
        return None
    # Per colour channel, not on grey: a red object on green can have almost the same grey.
    window = cv2.GaussianBlur(np.ascontiguousarray(rgb[y0:y1, x0:x1]), (5, 5), 0)
    channels = cv2.split(window)
    magnitudes = [
        cv2.magnitude(
            cv2.Sobel(c, cv2.CV_32F, 1, 0, ksize=3), cv2.Sobel(c, cv2.CV_32F, 0, 1, ksize=3)
        )
        for c in channels
    ]
    high = max(_MIN_EDGE_MAGNITUDE, 0.5 * max(float(m.max()) for m in magnitudes))
    edges = np.zeros(window.shape[:2], dtype=np.uint8)
    for c in channels:
        edges |= cv2.Canny(c, 0.5 * high, high, L2gradient=True)
    ys, xs = np.nonzero(edges)
    if len(xs) == 0:
        return None
    cx, cy = xs + x0 + 0.5, ys + y0 + 0.5
    distance = np.hypot(cx - px, cy - py)
    best = int(np.argmin(distance))
    if distance[best] > radius:
        return None
    return float(cx[best]), float(cy[best])
