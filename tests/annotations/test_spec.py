from typing import Any

import pytest
from pydantic import ValidationError

from app.annotations import AnnotationSpec
from app.annotations.types.keypoints import DEFAULT_LABELS as DEFAULT_KEYPOINT_LABELS


def errors_of(data: dict[str, Any]) -> list[tuple[tuple[Any, ...], str]]:
    with pytest.raises(ValidationError) as caught:
        AnnotationSpec.model_validate(data)
    return [(error["loc"], error["msg"]) for error in caught.value.errors()]


class TestLabels:
    def test_labels_are_stripped_and_kept_in_order(self) -> None:
        spec = AnnotationSpec.model_validate({"type": "bbox", "labels": [" car ", "person"]})
        assert spec.type == "bbox"
        assert spec.labels == ["car", "person"]
        assert spec.keypoints is None
        assert spec.skeleton is None

    def test_duplicate_after_stripping_is_refused(self) -> None:
        [(loc, msg)] = errors_of({"type": "classification", "labels": ["cat", " cat"]})
        assert loc == ("labels",)
        assert "duplicate label 'cat'" in msg

    @pytest.mark.parametrize("label", ["", "   "])
    def test_empty_label_is_refused_at_its_index(self, label: str) -> None:
        [(loc, _)] = errors_of({"type": "classification", "labels": ["cat", label]})
        assert loc == ("labels", 1)

    def test_label_over_100_characters_is_refused(self) -> None:
        [(loc, _)] = errors_of({"type": "classification", "labels": ["x" * 101]})
        assert loc == ("labels", 0)

    def test_non_string_label_is_refused(self) -> None:
        [(loc, _)] = errors_of({"type": "classification", "labels": [1]})
        assert loc == ("labels", 0)

    @pytest.mark.parametrize("labels", [[], [str(i) for i in range(1001)]])
    def test_label_count_is_1_to_1000(self, labels: list[str]) -> None:
        [(loc, _)] = errors_of({"type": "multilabel", "labels": labels})
        assert loc == ("labels",)

    @pytest.mark.parametrize("kind", ["classification", "bbox", "polygon", "segmentation"])
    def test_labels_are_required_except_for_keypoints(self, kind: str) -> None:
        [(loc, msg)] = errors_of({"type": kind})
        assert loc == ("labels",)
        assert msg == "Field required"

    def test_segmentation_allows_255_labels_not_256(self) -> None:
        labels = [str(i) for i in range(256)]
        AnnotationSpec(type="segmentation", labels=labels[:255])
        [(loc, msg)] = errors_of({"type": "segmentation", "labels": labels})
        assert loc == ("labels",)
        assert "at most 255" in msg

    def test_unknown_type_and_unknown_field_are_refused(self) -> None:
        errors = errors_of({"type": "cuboid", "labels": ["a"], "colour": "red"})
        assert {loc for loc, _ in errors} == {("type",), ("colour",)}


class TestKeypoints:
    def test_labels_default_to_object(self) -> None:
        spec = AnnotationSpec.model_validate({"type": "keypoints", "keypoints": ["l", "r"]})
        assert spec.labels == list(DEFAULT_KEYPOINT_LABELS) == ["object"]
        assert spec.skeleton == []

    def test_labels_may_be_named(self) -> None:
        spec = AnnotationSpec.model_validate(
            {"type": "keypoints", "labels": ["face"], "keypoints": ["l", "r"], "skeleton": [[0, 1]]}
        )
        assert spec.labels == ["face"]
        assert spec.skeleton == [(0, 1)]
        assert spec.model_dump(mode="json")["skeleton"] == [[0, 1]]

    @pytest.mark.parametrize("extra", [{}, {"keypoints": []}, {"keypoints": None}])
    def test_keypoints_are_required(self, extra: dict[str, Any]) -> None:
        [(loc, _)] = errors_of({"type": "keypoints", **extra})
        assert loc == ("keypoints",)

    def test_duplicate_keypoint_names_are_refused(self) -> None:
        [(loc, msg)] = errors_of({"type": "keypoints", "keypoints": ["eye", "nose", "eye"]})
        assert loc == ("keypoints",)
        assert "positions 0 and 2" in msg

    @pytest.mark.parametrize("field", ["keypoints", "skeleton"])
    def test_keypoint_fields_are_refused_for_other_types(self, field: str) -> None:
        value = ["a", "b"] if field == "keypoints" else [[0, 1]]
        [(loc, msg)] = errors_of({"type": "bbox", "labels": ["a"], field: value})
        assert loc == (field,)
        assert "only allowed when type is 'keypoints'" in msg

    @pytest.mark.parametrize(
        ("skeleton", "message"),
        [
            ([[0, 2]], "0..1"),
            ([[-1, 0]], "0..1"),
            ([[1, 1]], "two different keypoints"),
            ([[0, 1], [1, 0]], "duplicate edge"),
        ],
    )
    def test_bad_skeleton_is_refused(self, skeleton: list[list[int]], message: str) -> None:
        [(loc, msg)] = errors_of(
            {"type": "keypoints", "keypoints": ["a", "b"], "skeleton": skeleton}
        )
        assert loc == ("skeleton",)
        assert message in msg

    @pytest.mark.parametrize("edge", [[0], [0, 1, 2], [True, 1], ["0", 1], [0.5, 1]])
    def test_skeleton_edges_are_pairs_of_integers(self, edge: list[Any]) -> None:
        errors = errors_of({"type": "keypoints", "keypoints": ["a", "b"], "skeleton": [edge]})
        assert all(loc[:2] == ("skeleton", 0) for loc, _ in errors)
