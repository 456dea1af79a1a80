"""Rasterisation, mask -> polygon, and polygon (instance) consensus."""

from __future__ import annotations

import numpy as np
import pytest
import shapely

from consensus.geometry import (
    Polygons,
    aggregate_polygons,
    mask_to_polygon,
    polygon_agreement,
    rasterize_polygon,
)
from consensus.geometry.raster import MaskCrop, crop_iou, paste, simplify, trace_boundary


def square(x: float, y: float, s: float) -> list[list[float]]:
    return [[x, y], [x + s, y], [x + s, y + s], [x, y + s]]


def _majority(crops: list[MaskCrop]) -> MaskCrop:
    stack, y0, x0 = paste(crops)
    return MaskCrop(stack.sum(axis=0) * 2 > len(crops), y0, x0)


def polys(*items: tuple[list[list[float]], str]) -> Polygons:
    return Polygons.from_points([p for p, _ in items], [lab for _, lab in items])


class TestRasterizePolygon:
    def test_axis_aligned_square_covers_exactly_its_pixels(self) -> None:
        crop = rasterize_polygon(np.array(square(2, 3, 4), dtype=float))
        assert (crop.y0, crop.x0, crop.mask.shape, crop.area) == (3, 2, (4, 4), 16)

    def test_triangle_area_close_to_geometric_area(self) -> None:
        crop = rasterize_polygon(np.array([[0, 0], [40, 0], [0, 40]], dtype=float))
        assert crop.area == pytest.approx(800, rel=0.03)

    def test_clipped_to_image(self) -> None:
        crop = rasterize_polygon(np.array(square(-5, -5, 10), dtype=float), image_size=(20, 20))
        assert (crop.y0, crop.x0, crop.area) == (0, 0, 25)

    def test_degenerate_polygon_is_empty(self) -> None:
        assert rasterize_polygon(np.array([[0, 0], [5, 5]], dtype=float)).area == 0


class TestMaskToPolygon:
    def test_boundary_round_trips_exactly(self) -> None:
        t = np.linspace(0, 2 * np.pi, 40, endpoint=False)
        r = 20 + 4 * np.sin(3 * t)
        crop = rasterize_polygon(np.c_[30 + r * np.cos(t), 30 + r * np.sin(t)])
        ring = trace_boundary(crop.mask) + np.array([crop.x0, crop.y0])
        assert crop_iou(crop, rasterize_polygon(ring)) == 1.0

    def test_simplified_polygon_keeps_the_shape(self) -> None:
        t = np.linspace(0, 2 * np.pi, 60, endpoint=False)
        crop = rasterize_polygon(np.c_[40 + 25 * np.cos(t), 40 + 25 * np.sin(t)])
        poly = mask_to_polygon(crop.mask, crop.y0, crop.x0)
        assert len(poly) < 60
        assert crop_iou(crop, rasterize_polygon(poly)) > 0.97

    def test_keeps_largest_component_and_fills_holes(self) -> None:
        m = np.zeros((20, 20), dtype=bool)
        m[2:12, 2:12] = True
        m[5:8, 5:8] = False  # a hole
        m[15:17, 15:17] = True  # a speck
        poly = mask_to_polygon(m)
        np.testing.assert_allclose(sorted(map(tuple, poly)), [(2, 2), (2, 12), (12, 2), (12, 12)])

    def test_diagonal_pixels_do_not_make_a_self_touching_polygon(self) -> None:
        m = np.zeros((4, 4), dtype=bool)
        m[1, 1] = m[2, 2] = True
        assert len(mask_to_polygon(m)) == 4  # one pixel kept, not a figure eight

    def test_empty_mask(self) -> None:
        assert mask_to_polygon(np.zeros((5, 5), dtype=bool)).shape == (0, 2)

    def test_simplify_keeps_a_square(self) -> None:
        sq = np.array([[0, 0], [5, 0], [10, 0], [10, 10], [0, 10]], dtype=float)
        assert len(simplify(sq, 0.5)) == 4


class TestAggregatePolygons:
    def test_three_shifted_squares_fuse_to_their_mean(self) -> None:
        res = aggregate_polygons(
            [
                polys((square(10, 10, 20), "a")),
                polys((square(12, 10, 20), "a")),
                polys((square(10, 12, 20), "a")),
            ]
        )
        assert res.polygons.labels == ("a",)
        poly = res.polygons.points[0]
        assert len(poly) <= 6  # 1.5 x the workers' 4 vertices
        # a 20 x 20 square near the workers' mean corner (10.67, 10.67), not a 396-pixel notch
        assert shapely.Polygon(poly).area == pytest.approx(400, rel=0.04)
        lo = poly.min(axis=0)
        assert 10.0 <= lo[0] <= 11.5
        assert 10.0 <= lo[1] <= 11.5
        assert res.support[0] == pytest.approx(1.0)

    def test_identical_answers_give_that_polygon_back(self) -> None:
        tri = [[10.0, 10.0], [75.0, 12.5], [37.5, 50.0]]
        res = aggregate_polygons([polys((tri, "a"))] * 3)
        np.testing.assert_allclose(res.polygons.points[0], tri, atol=1e-6)
        out = res.polygons.to_answer()["objects"][0]["points"]
        np.testing.assert_allclose(out, tri, atol=1e-6)
        odd = [[154.2345, 103.8125], [190.5, 101.25], [170.0, 150.75]]
        res = aggregate_polygons([polys((odd, "a")), polys((odd[1:] + odd[:1], "a"))])
        np.testing.assert_allclose(res.polygons.to_answer()["objects"][0]["points"], odd, atol=1e-6)

    def test_noisy_outlines_give_subpixel_vertices_and_no_staircase(self) -> None:
        rng = np.random.default_rng(3)
        t = np.linspace(0, 2 * np.pi, 24, endpoint=False)
        answers = [
            polys(
                (
                    np.c_[60 + 30 * np.cos(t + k), 50 + 20 * np.sin(t + k)]
                    + rng.normal(0, 0.7, (24, 2)),
                    "a",
                )
            )
            for k in range(5)
        ]
        poly = aggregate_polygons(answers).polygons.points[0]
        assert 3 <= len(poly) <= 36  # at most 1.5 x the median worker's 24 vertices
        assert np.mean(np.abs(poly - np.round(poly)) > 1e-3) > 0.8  # off the pixel grid
        edges = np.diff(np.vstack([poly, poly[:1]]), axis=0)
        axis_aligned = np.mean((np.abs(edges) < 1e-9).any(axis=1))
        assert axis_aligned < 0.2  # a staircase is all horizontal and vertical steps
        truth = shapely.Polygon(np.c_[60 + 30 * np.cos(t), 50 + 20 * np.sin(t)])
        got = shapely.Polygon(poly)
        assert got.intersection(truth).area / got.union(truth).area > 0.95

    def test_fused_outline_beats_per_pixel_majority_on_jittered_crowds(self) -> None:
        """Five workers trace an ellipse with normal jitter, one of them carelessly."""
        rng = np.random.default_rng(11)
        ours, vote = [], []
        for _ in range(6):
            answers = []
            for k in range(5):
                n = int(rng.integers(16, 40))
                t = np.sort(rng.uniform(0, 2 * np.pi, n))
                sigma = 3.0 if k == 0 else 0.8
                r = (
                    1
                    + rng.normal(0, sigma / 25, n)
                    + rng.normal(0, sigma / 50) * np.cos(t + rng.uniform(0, 6))
                )
                answers.append(np.c_[70 + 25 * r * np.cos(t), 60 + 18 * r * np.sin(t)])
            tt = np.linspace(0, 2 * np.pi, 400, endpoint=False)
            truth_pts = np.c_[70 + 25 * np.cos(tt), 60 + 18 * np.sin(tt)]
            truth = rasterize_polygon(truth_pts)
            crops = [rasterize_polygon(a) for a in answers]
            res = aggregate_polygons([polys((a, "a")) for a in answers])
            ours.append(crop_iou(rasterize_polygon(res.polygons.points[0]), truth))
            vote.append(crop_iou(_majority(crops), truth))
        assert np.mean(ours) > np.mean(vote)

    def test_spam_polygon_dropped_by_quorum(self) -> None:
        a = polys((square(10, 10, 20), "a"))
        spam = polys((square(11, 10, 20), "a"), (square(60, 60, 10), "b"))
        res = aggregate_polygons([a, a, spam])
        assert res.polygons.labels == ("a",)

    def test_two_equal_workers_tie_band_is_settled_by_neighbourhood(self) -> None:
        res = aggregate_polygons(
            [polys((square(10, 10, 20), "a")), polys((square(14, 10, 20), "a"))]
        )
        area = res.polygons.masks[0].area
        assert 16 * 20 <= area <= 24 * 20  # between intersection and union

    def test_invariant_to_worker_order(self) -> None:
        answers = [
            polys((square(10, 10, 20), "a")),
            polys((square(12, 10, 20), "a"), (square(50, 50, 9), "b")),
            polys((square(10, 12, 20), "a"), (square(51, 50, 9), "b")),
        ]
        ref = aggregate_polygons(answers, [0.9, 0.6, 0.7])
        other = aggregate_polygons(answers[::-1], [0.7, 0.6, 0.9])
        assert ref.polygons.labels == other.polygons.labels
        for p, q in zip(ref.polygons.points, other.polygons.points, strict=True):
            np.testing.assert_allclose(p, q)

    def test_no_objects_and_empty_input(self) -> None:
        assert len(aggregate_polygons([polys(), polys()]).polygons) == 0
        assert aggregate_polygons([]).confidence == 0.0

    def test_answer_round_trip(self) -> None:
        ans = {"objects": [{"label": "tree", "points": square(1, 2, 5)}]}
        p = Polygons.from_answer(ans)
        assert p.to_answer() == {
            "objects": [
                {"label": "tree", "points": [[1.0, 2.0], [6.0, 2.0], [6.0, 7.0], [1.0, 7.0]]}
            ]
        }

    def test_malformed_answer(self) -> None:
        with pytest.raises(ValueError, match="at least 3"):
            Polygons.from_answer({"objects": [{"label": "x", "points": [[0, 0], [1, 1]]}]})


class TestPolygonAgreement:
    def test_reason_for_a_stray_polygon(self) -> None:
        cons = polys((square(10, 10, 20), "a"))
        ag = polygon_agreement(polys((square(25, 10, 20), "a")), cons)
        assert not ag.accepted
        assert "polygon 0 matched no consensus object (best IoU 0.14 < 0.5)" in ag.reason

    def test_good_polygon_accepted(self) -> None:
        cons = polys((square(10, 10, 20), "a"))
        ag = polygon_agreement(polys((square(11, 10, 20), "a")), cons)
        assert ag.accepted
        assert ag.quality == pytest.approx(380 / 420)
