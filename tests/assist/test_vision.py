"""The image work of the assist tools, without the service: edge cases of boxes and images."""

from __future__ import annotations

import cv2
import numpy as np
from shapely.geometry import Polygon

from app.assist import vision


def blob(width: int = 200, height: int = 150) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(5)
    rgb = (rng.integers(0, 60, (height, width, 3)) + np.array([30, 120, 60])).astype(np.uint8)
    truth = np.zeros((height, width), np.uint8)
    cv2.rectangle(truth, (60, 40), (140, 110), 1, -1)
    rgb[truth > 0] = (200, 40, 40)
    return rgb, truth > 0


def test_a_box_over_the_whole_image_still_finds_the_object() -> None:
    rgb, truth = blob()
    region = vision.largest_object(vision.grabcut(rgb, (0, 0, 200, 150)))
    mask = region.full(200, 150)
    assert (mask & truth).sum() / (mask | truth).sum() >= 0.85


def test_a_flat_image_gives_nothing_rather_than_an_error() -> None:
    rgb = np.full((100, 100, 3), 128, np.uint8)
    region = vision.grabcut(rgb, (10, 10, 50, 50))
    assert region.mask.shape == (50, 50)
    assert region.area == 0
    assert vision.outline(vision.largest_object(region), max_points=100) is None


def test_outline_is_simple_and_within_the_point_budget() -> None:
    # A comb: many teeth, so the point budget forces a coarser ring that must stay simple.
    mask = np.zeros((60, 200), bool)
    mask[40:60, :] = True
    for x in range(0, 200, 8):
        mask[0:40, x : x + 4] = True
    ring = vision.outline(vision.Region(10, 20, mask), max_points=12)
    assert ring is not None
    assert 3 <= len(ring) <= 12
    polygon = Polygon(ring)
    assert polygon.is_valid
    assert polygon.area > 0
    assert min(x for x, _ in ring) >= 10
    assert min(y for _, y in ring) >= 20


def test_snap_stays_put_without_an_edge_nearby() -> None:
    rgb, _ = blob()
    assert vision.snap(rgb, (10.0, 10.0), 8) is None
    found = vision.snap(rgb, (55.0, 70.0), 10)  # 5 px left of the rectangle's left edge
    assert found is not None
    assert abs(found[0] - 60) <= 1.5
