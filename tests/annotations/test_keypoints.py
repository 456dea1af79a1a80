from typing import Any

import pytest

from tests.annotations.helpers import WIDTH, check, locs, refuse, spec

FACES = spec("keypoints", ["face"], keypoints=["left_eye", "right_eye", "nose"])
POSES = spec("keypoints", keypoints=["head", "tail"])


def face(points: Any, label: Any = "face") -> dict[str, Any]:
    return {"objects": [{"label": label, "points": points}]}


class TestKeypoints:
    def test_good_answer_is_normalised(self) -> None:
        answer = face([[10, 20, 2], [30.5, 20, 1], [0, 0, 0]])
        assert check(FACES, answer) == face([[10.0, 20.0, 2], [30.5, 20.0, 1], [0.0, 0.0, 0]])

    def test_default_label_is_object(self) -> None:
        answer = {"objects": [{"label": "object", "points": [[1, 1, 2], [2, 2, 2]]}]}
        assert check(POSES, answer) == {
            "objects": [{"label": "object", "points": [[1.0, 1.0, 2], [2.0, 2.0, 2]]}]
        }

    def test_empty_objects_is_fine(self) -> None:
        assert check(FACES, {"objects": []}) == {"objects": []}

    @pytest.mark.parametrize("xy", [[55, -3], [None, None], [1e9, 4.5]])
    def test_unlabelled_point_coordinates_are_ignored_and_zeroed(self, xy: list[Any]) -> None:
        answer = face([[10, 20, 2], [*xy, 0], [5, 5, 2]])
        assert check(FACES, answer)["objects"][0]["points"][1] == [0.0, 0.0, 0]

    def test_unlabelled_point_coordinates_must_still_be_numbers_or_null(self) -> None:
        errors = refuse(FACES, face([[10, 20, 2], ["a", 1, 0], [5, 5, 2]]))
        assert locs(errors) == [["answer", "objects", 0, "points", 1, 0]]

    @pytest.mark.parametrize("count", [2, 4])
    def test_wrong_number_of_points_is_refused(self, count: int) -> None:
        [error] = refuse(FACES, face([[1, 1, 2]] * count))
        assert error["loc"] == ["answer", "objects", 0, "points"]
        assert "exactly 3" in error["msg"]
        assert "left_eye" in error["msg"]

    @pytest.mark.parametrize("v", [3, -1, 2.0, True, "2", None])
    def test_visibility_must_be_0_1_or_2(self, v: Any) -> None:
        [error] = refuse(FACES, face([[1, 1, 2], [1, 1, v], [1, 1, 2]]))
        assert error["loc"] == ["answer", "objects", 0, "points", 1, 2]
        assert "0, 1 or 2" in error["msg"]

    def test_visible_point_outside_the_image_is_refused(self) -> None:
        errors = refuse(FACES, face([[1, 1, 2], [WIDTH + 1, 1, 1], [1, 1, 2]]))
        assert locs(errors) == [["answer", "objects", 0, "points", 1, 0]]

    @pytest.mark.parametrize("triple", [[1, 1], [1, 1, 2, 0], "1,1,2", {"x": 1}])
    def test_malformed_triple_is_refused(self, triple: Any) -> None:
        errors = refuse(FACES, face([[1, 1, 2], triple, [1, 1, 2]]))
        assert locs(errors) == [["answer", "objects", 0, "points", 1]]

    def test_object_with_no_labelled_point_is_refused(self) -> None:
        [error] = refuse(FACES, face([[0, 0, 0]] * 3))
        assert "no keypoint" in error["msg"]

    def test_label_must_be_in_the_set(self) -> None:
        errors = refuse(FACES, face([[1, 1, 2]] * 3, label="object"))
        assert locs(errors) == [["answer", "objects", 0, "label"]]
