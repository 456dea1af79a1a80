from typing import Any

import pytest

from app.annotations import AnswerInvalid, validate_answer
from tests.annotations.helpers import check, locs, refuse, spec

ANIMALS = spec("classification", ["cat", "dog"])
TAGS = spec("multilabel", ["cat", "dog", "outdoor"])


class TestValidateAnswer:
    @pytest.mark.parametrize(("width", "height"), [(0, 10), (10, -1), (True, 10), (1.5, 10)])
    def test_bad_image_size_is_a_caller_bug(self, width: Any, height: Any) -> None:
        with pytest.raises(ValueError, match="positive integer"):
            validate_answer(ANIMALS, {"label": "cat"}, width=width, height=height)

    @pytest.mark.parametrize("answer", [None, "cat", ["cat"], 3])
    def test_non_object_is_refused_at_answer(self, answer: object) -> None:
        assert locs(refuse(ANIMALS, answer)) == [["answer"]]

    def test_error_carries_detail_and_every_error(self) -> None:
        with pytest.raises(AnswerInvalid) as caught:
            check(ANIMALS, {"label": "cow", "confidence": 1})
        error = caught.value
        assert locs(error.errors) == [["answer", "confidence"], ["answer", "label"]]
        assert error.detail.startswith("invalid answer: answer.confidence: unknown field")
        assert "(and 1 more)" in error.detail
        assert str(error) == error.detail

    def test_errors_are_capped_but_counted(self) -> None:
        answer = {"labels": [f"x{i}" for i in range(80)]}
        with pytest.raises(AnswerInvalid) as caught:
            check(TAGS, answer)
        assert len(caught.value.errors) == 50
        assert "(and 79 more)" in caught.value.detail


class TestClassification:
    def test_label_in_set(self) -> None:
        assert check(ANIMALS, {"label": "dog"}) == {"label": "dog"}

    @pytest.mark.parametrize("label", ["Dog", " dog", "cow", 1, None, ["dog"]])
    def test_other_labels_are_refused(self, label: object) -> None:
        assert locs(refuse(ANIMALS, {"label": label})) == [["answer", "label"]]

    def test_missing_and_unknown_keys(self) -> None:
        assert locs(refuse(ANIMALS, {"labels": ["cat"]})) == [
            ["answer", "label"],
            ["answer", "labels"],
        ]


class TestMultilabel:
    def test_labels_come_back_in_spec_order(self) -> None:
        assert check(TAGS, {"labels": ["outdoor", "cat"]}) == {"labels": ["cat", "outdoor"]}

    def test_empty_list_means_none_apply(self) -> None:
        assert check(TAGS, {"labels": []}) == {"labels": []}

    def test_duplicates_are_refused(self) -> None:
        assert locs(refuse(TAGS, {"labels": ["cat", "dog", "cat"]})) == [["answer", "labels", 2]]

    def test_unknown_label_is_refused_at_its_index(self) -> None:
        assert locs(refuse(TAGS, {"labels": ["cat", "cow"]})) == [["answer", "labels", 1]]

    @pytest.mark.parametrize("labels", ["cat", None, {"cat": True}])
    def test_labels_must_be_a_list(self, labels: object) -> None:
        assert locs(refuse(TAGS, {"labels": labels})) == [["answer", "labels"]]
