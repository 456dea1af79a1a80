"""Rasterisation, mask -> polygon, and polygon (instance) consensus."""

from __future__ import annotations

import numpy as np
import pytest

from consensus.geometry import (
    Polygons,
    aggregate_polygons,
    mask_to_polygon,
    polygon_agreement,
    rasterize_polygon,
)
from consensus.geometry.raster import crop_iou, simplify, trace_boundary


def square(x: float, y: float, s: float) -> list[list[float]]:
    return [[x, y], [x + s, y], [x + s, y + s], [x, y + s]]


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
    def test_per_pixel_majority_of_three_squares(self) -> None:
        res = aggregate_polygons(
            [
                polys((square(10, 10, 20), "a")),
                polys((square(12, 10, 20), "a")),
                polys((square(10, 12, 20), "a")),
            ]
        )
        assert res.polygons.labels == ("a",)
        # covered by at least two of three = the first square minus its 2x2 top-left corner,
        # which only the first worker covers: 400 - 4
        assert res.polygons.masks[0].area == 396
        assert res.support[0] == pytest.approx(1.0)

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
