"""Boxes: hand-checked toy images, invariances, quorum, agreement reasons."""

from __future__ import annotations

import numpy as np
import pytest

from consensus.geometry import Boxes, aggregate_boxes, box_agreement, iou_matrix
from consensus.geometry._common import weighted_median


def boxes(*rows: tuple[float, float, float, float, str]) -> Boxes:
    return Boxes(
        np.array([r[:4] for r in rows], dtype=float).reshape(-1, 4), tuple(r[4] for r in rows)
    )


# Three careful workers on two objects (hand-checked medians: car x = median(10, 12, 11) = 11,
# w = median(50, 50, 52) = ...: computed on corners, x2 = median(60, 62, 63) = 62 -> w = 51).
CAR_A = (10.0, 20.0, 50.0, 30.0, "car")
CAR_B = (12.0, 20.0, 50.0, 30.0, "car")
CAR_C = (11.0, 21.0, 52.0, 30.0, "car")
PERSON = (200.0, 100.0, 20.0, 60.0, "person")
SPAM = (400.0, 300.0, 30.0, 30.0, "car")


class TestIouMatrix:
    def test_hand_checked_values(self) -> None:
        a = np.array([[0.0, 0, 10, 10]])
        b = np.array([[5.0, 0, 10, 10], [20.0, 20, 5, 5], [0.0, 0, 10, 10]])
        np.testing.assert_allclose(iou_matrix(a, b), [[50 / 150, 0.0, 1.0]])

    def test_empty_sides(self) -> None:
        assert iou_matrix(np.zeros((0, 4)), np.ones((3, 4))).shape == (0, 3)

    def test_zero_area_boxes_do_not_divide_by_zero(self) -> None:
        assert iou_matrix(np.zeros((1, 4)), np.zeros((1, 4)))[0, 0] == 0.0


class TestAggregateBoxes:
    def test_median_of_three_is_hand_checked(self) -> None:
        res = aggregate_boxes([boxes(CAR_A, PERSON), boxes(CAR_B, PERSON), boxes(CAR_C)])
        assert res.boxes.labels == ("car", "person")
        # corners: x1 median(10,12,11)=11, y1 median(20,20,21)=20, x2 median(60,62,63)=62,
        # y2 median(50,50,51)=50
        np.testing.assert_allclose(res.boxes.xywh[0], [11, 20, 51, 30])
        np.testing.assert_allclose(res.support, [1.0, 2 / 3])
        assert res.object_confidence[0] > res.object_confidence[1]

    def test_quorum_drops_a_single_spam_box(self) -> None:
        res = aggregate_boxes([boxes(CAR_A), boxes(CAR_B), boxes(CAR_C, SPAM)])
        assert res.boxes.labels == ("car",)
        assert res.n_candidates == 2

    def test_zero_weight_spammer_cannot_add_or_move_a_box(self) -> None:
        spam = boxes((14.0, 24.0, 80.0, 40.0, "car"), SPAM)
        res = aggregate_boxes([boxes(CAR_A), boxes(CAR_B), spam], [1.0, 1.0, 0.0])
        assert len(res.boxes) == 1
        np.testing.assert_allclose(res.boxes.xywh[0], [11, 20, 50, 30])

    def test_at_most_one_box_per_worker_per_object(self) -> None:
        double = boxes(CAR_A, (10.0, 20.0, 48.0, 30.0, "car"))
        res = aggregate_boxes([double, boxes(CAR_B), boxes(CAR_C)])
        assert len(res.boxes) == 1
        assert res.n_candidates == 2  # the duplicate is its own (dropped) candidate

    def test_label_by_weighted_vote(self) -> None:
        truck = (10.0, 20.0, 50.0, 30.0, "truck")
        res = aggregate_boxes([boxes(CAR_A), boxes(truck), boxes(truck)], [1.0, 0.3, 0.3])
        assert res.boxes.labels == ("car",)

    def test_invariant_to_worker_order(self) -> None:
        answers = [boxes(CAR_A, PERSON), boxes(CAR_B), boxes(CAR_C, PERSON, SPAM)]
        w = np.array([0.9, 0.5, 0.7])
        ref = aggregate_boxes(answers, w)
        for perm in ([2, 0, 1], [1, 2, 0]):
            other = aggregate_boxes([answers[i] for i in perm], w[perm])
            np.testing.assert_allclose(other.boxes.xywh, ref.boxes.xywh)
            assert other.boxes.labels == ref.boxes.labels
            assert other.confidence == pytest.approx(ref.confidence)

    def test_invariant_to_box_order_within_an_answer(self) -> None:
        a = aggregate_boxes([boxes(CAR_A, PERSON), boxes(PERSON, CAR_B)])
        b = aggregate_boxes([boxes(PERSON, CAR_A), boxes(CAR_B, PERSON)])
        np.testing.assert_allclose(a.boxes.xywh, b.boxes.xywh)

    def test_one_worker_is_returned_as_is_with_modest_confidence(self) -> None:
        res = aggregate_boxes([boxes(CAR_A, PERSON)])
        np.testing.assert_allclose(res.boxes.xywh, [CAR_A[:4], PERSON[:4]])
        assert 0.2 < res.confidence < 0.8  # one unknown worker is never enough to stop

    def test_no_objects_at_all(self) -> None:
        res = aggregate_boxes([boxes(), boxes(), boxes()])
        assert len(res.boxes) == 0
        assert res.confidence > 0.9  # three workers agree the image is empty

    def test_empty_input(self) -> None:
        res = aggregate_boxes([])
        assert len(res.boxes) == 0
        assert res.confidence == 0.0

    def test_disagreement_on_object_count_keeps_what_half_the_weight_drew(self) -> None:
        res = aggregate_boxes([boxes(CAR_A, PERSON), boxes(CAR_B), boxes(CAR_C), boxes(CAR_A)])
        assert res.boxes.labels == ("car",)  # person: 1 of 4 workers
        res = aggregate_boxes([boxes(CAR_A, PERSON), boxes(CAR_B, PERSON), boxes(CAR_C)])
        assert res.boxes.labels == ("car", "person")  # person: 2 of 3

    def test_more_agreement_means_more_confidence(self) -> None:
        two = aggregate_boxes([boxes(CAR_A), boxes(CAR_B)]).confidence
        three = aggregate_boxes([boxes(CAR_A), boxes(CAR_B), boxes(CAR_C)]).confidence
        split = aggregate_boxes([boxes(CAR_A), boxes(CAR_B), boxes(PERSON)]).confidence
        assert three > two > split


class TestBoxAgreement:
    def test_perfect_answer(self) -> None:
        cons = boxes(CAR_A, PERSON)
        ag = box_agreement(cons, cons)
        assert ag.score == 1.0
        assert ag.accepted
        assert ag.reason == ""
        assert float(ag) == 1.0

    def test_unmatched_box_reason_names_best_iou(self) -> None:
        cons = boxes(CAR_A)
        bad = boxes((40.0, 20.0, 50.0, 30.0, "car"))  # IoU 20*30/(2*1500-600) = 0.25
        ag = box_agreement(bad, cons)
        assert not ag.accepted
        assert "box 0 matched no consensus object (best IoU 0.25 < 0.5)" in ag.reason
        assert "missed 1 of 1" in ag.reason

    def test_wrong_label_is_reported(self) -> None:
        ag = box_agreement(boxes((*CAR_A[:4], "truck")), boxes(CAR_A))
        assert ag.score == 0.0
        assert "labelled 'truck' but consensus says 'car'" in ag.reason

    def test_f1_counts_missed_objects(self) -> None:
        ag = box_agreement(boxes(CAR_A), boxes(CAR_A, PERSON))
        assert ag.score == pytest.approx(2 / 3)
        assert ag.quality == pytest.approx(2 / 3)

    def test_loose_box_has_lower_quality_but_same_score(self) -> None:
        tight = box_agreement(boxes(CAR_A), boxes(CAR_A))
        loose = box_agreement(boxes(CAR_C), boxes(CAR_A))
        assert loose.score == tight.score == 1.0
        assert loose.quality < tight.quality

    def test_both_empty_agree(self) -> None:
        assert box_agreement(boxes(), boxes()).score == 1.0


class TestWeightedMedian:
    def test_matches_the_median_of_repeated_values(self) -> None:
        rng = np.random.default_rng(0)
        for _ in range(100):
            m = int(rng.integers(1, 7))
            v = rng.normal(size=(m, 3))
            w = rng.integers(1, 4, size=m).astype(float)
            got = weighted_median(v, w)
            for c in range(3):
                assert got[c] == pytest.approx(np.median(np.repeat(v[:, c], w.astype(int))))

    def test_zero_weight_rows_are_ignored(self) -> None:
        got = weighted_median(
            np.array([[1.0], [2.0], [4.0], [9.0]]), np.array([1.0, 0.0, 1.0, 1.0])
        )
        assert got[0] == 4.0
