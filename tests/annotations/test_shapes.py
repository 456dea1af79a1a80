from typing import Any

import pytest

from app.annotations import MAX_OBJECTS, MAX_TOTAL_POINTS
from tests.annotations.helpers import HEIGHT, WIDTH, check, locs, refuse, spec

BOXES = spec("bbox", ["car", "person"])
SHAPES = spec("polygon", ["tree"])
SQUARE = [[10, 10], [20, 10], [20, 20], [10, 20]]


def boxes(*items: Any) -> dict[str, Any]:
    return {"objects": [{"label": "car", "box": box} for box in items]}


def polygon(points: Any) -> dict[str, Any]:
    return {"objects": [{"label": "tree", "points": points}]}


class TestBbox:
    def test_good_boxes_are_normalised_to_floats(self) -> None:
        answer = {
            "objects": [
                {"label": "car", "box": [0, 0, WIDTH, HEIGHT]},
                {"label": "person", "box": [1.5, 2, 3, 4.25]},
            ]
        }
        assert check(BOXES, answer) == {
            "objects": [
                {"label": "car", "box": [0.0, 0.0, float(WIDTH), float(HEIGHT)]},
                {"label": "person", "box": [1.5, 2.0, 3.0, 4.25]},
            ]
        }

    def test_empty_objects_means_nothing_in_the_image(self) -> None:
        assert check(BOXES, {"objects": []}) == {"objects": []}

    def test_float_noise_on_the_edge_is_clamped(self) -> None:
        answer = boxes([-1e-7, 10, WIDTH + 1e-7, 5])
        assert check(BOXES, answer)["objects"][0]["box"] == [0.0, 10.0, float(WIDTH), 5.0]

    @pytest.mark.parametrize(
        "box",
        [[-1, 0, 10, 10], [0, -0.5, 10, 10], [95, 0, 10, 10], [0, 75, 10, 6], [200, 200, 1, 1]],
    )
    def test_box_outside_the_image_is_refused(self, box: list[float]) -> None:
        errors = refuse(BOXES, boxes(box))
        assert locs(errors) == [["answer", "objects", 0, "box"]] * len(errors)
        assert all("outside the image" in error["msg"] for error in errors)

    @pytest.mark.parametrize("box", [[10, 10, 0, 5], [10, 10, 5, 0], [10, 10, -5, 5]])
    def test_box_without_area_is_refused(self, box: list[float]) -> None:
        [error] = refuse(BOXES, boxes(box))
        assert "no area" in error["msg"]

    @pytest.mark.parametrize(
        ("box", "loc"),
        [
            ([1, 2, 3], ["answer", "objects", 0, "box"]),
            ([1, 2, 3, 4, 5], ["answer", "objects", 0, "box"]),
            ("1,2,3,4", ["answer", "objects", 0, "box"]),
            ([1, "2", 3, 4], ["answer", "objects", 0, "box", 1]),
            ([1, 2, True, 4], ["answer", "objects", 0, "box", 2]),
            ([1, 2, 3, float("nan")], ["answer", "objects", 0, "box", 3]),
            ([1, 2, 3, float("inf")], ["answer", "objects", 0, "box", 3]),
            ([10**400, 2, 3, 4], ["answer", "objects", 0, "box", 0]),
        ],
    )
    def test_malformed_box_is_refused_where_it_is_wrong(self, box: Any, loc: list[Any]) -> None:
        assert locs(refuse(BOXES, boxes(box))) == [loc]

    def test_object_errors_name_the_object(self) -> None:
        answer = {
            "objects": [
                {"label": "car", "box": [0, 0, 1, 1]},
                {"label": "bus", "box": [0, 0, 1, 1], "score": 0.9},
                {"box": [0, 0, 1, 1]},
                "car",
            ]
        }
        assert locs(refuse(BOXES, answer)) == [
            ["answer", "objects", 1, "score"],
            ["answer", "objects", 1, "label"],
            ["answer", "objects", 2, "label"],
            ["answer", "objects", 3],
        ]

    def test_too_many_objects_are_refused(self) -> None:
        answer = boxes(*[[0, 0, 1, 1]] * (MAX_OBJECTS + 1))
        assert locs(refuse(BOXES, answer)) == [["answer", "objects"]]


class TestPolygon:
    def test_good_polygon_is_normalised(self) -> None:
        assert check(SHAPES, polygon(SQUARE)) == {
            "objects": [{"label": "tree", "points": [[float(x), float(y)] for x, y in SQUARE]}]
        }

    def test_closing_point_and_repeats_are_dropped(self) -> None:
        points = [[10, 10], [20, 10], [20, 10], [20, 20], [10, 20], [10, 10]]
        assert check(SHAPES, polygon(points))["objects"][0]["points"] == [
            [10.0, 10.0],
            [20.0, 10.0],
            [20.0, 20.0],
            [10.0, 20.0],
        ]

    def test_concave_polygon_with_a_straight_vertex_is_fine(self) -> None:
        points = [[0, 0], [10, 0], [20, 0], [20, 20], [10, 5], [0, 20]]
        assert len(check(SHAPES, polygon(points))["objects"][0]["points"]) == 6

    def test_bow_tie_is_refused(self) -> None:
        [error] = refuse(SHAPES, polygon([[0, 0], [10, 10], [10, 0], [0, 10]]))
        assert error["loc"] == ["answer", "objects", 0, "points"]
        assert "not simple" in error["msg"]
        assert "(5, 5)" in error["msg"]

    def test_ring_touching_itself_is_refused(self) -> None:
        # A figure eight through one shared vertex is not a simple polygon either.
        points = [[0, 0], [10, 0], [5, 5], [10, 10], [0, 10], [5, 5]]
        [error] = refuse(SHAPES, polygon(points))
        assert "not simple" in error["msg"]

    @pytest.mark.parametrize(
        "points",
        [[[0, 0], [5, 5], [10, 10]], [[0, 0], [10, 0], [5, 0]], [[3, 3], [3, 3], [3, 3], [4, 4]]],
    )
    def test_collinear_polygon_is_refused(self, points: list[list[int]]) -> None:
        [error] = refuse(SHAPES, polygon(points))
        assert "zero area" in error["msg"] or "3 distinct points" in error["msg"]

    def test_two_points_are_refused(self) -> None:
        [error] = refuse(SHAPES, polygon([[0, 0], [5, 5]]))
        assert error["loc"] == ["answer", "objects", 0, "points"]
        assert "at least 3" in error["msg"]

    def test_two_distinct_points_after_dropping_repeats_are_refused(self) -> None:
        [error] = refuse(SHAPES, polygon([[0, 0], [5, 5], [0, 0]]))
        assert "3 distinct points" in error["msg"]

    def test_point_outside_the_image_is_refused_at_the_coordinate(self) -> None:
        points = [[10, 10], [WIDTH + 1, 10], [20, 20]]
        [error] = refuse(SHAPES, polygon(points))
        assert error["loc"] == ["answer", "objects", 0, "points", 1, 0]
        assert "outside the image" in error["msg"]

    @pytest.mark.parametrize("point", [[1], [1, 2, 3], "1,2", [None, 2], [1, False]])
    def test_malformed_point_is_refused(self, point: Any) -> None:
        errors = refuse(SHAPES, polygon([[10, 10], point, [20, 20]]))
        assert all(loc[:5] == ["answer", "objects", 0, "points", 1] for loc in locs(errors))

    def test_total_points_are_capped(self) -> None:
        ring = [[0, 0], *([[1, 0]] * 9_998), [0, 1]]  # 10,000 points, valid after dedup
        answer = {"objects": [{"label": "tree", "points": ring}] * (MAX_TOTAL_POINTS // 10_000 + 1)}
        errors = refuse(SHAPES, answer)
        assert "in total" in errors[-1]["msg"]
