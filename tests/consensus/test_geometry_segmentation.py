"""Semantic segmentation: weighted per-pixel vote, tie-breaking, per-class IoU, agreement."""

from __future__ import annotations

import numpy as np
import pytest

from consensus.geometry import MaskAggregator, aggregate_semantic, per_class_iou, semantic_agreement


def mask(rows: list[str]) -> np.ndarray:
    return np.array([[int(c) for c in r] for r in rows], dtype=np.uint8)


A = mask(["0000", "0110", "0110", "0000"])
B = mask(["0000", "0120", "0110", "0000"])
C = mask(["0000", "0110", "0111", "0000"])


class TestAggregateSemantic:
    def test_majority_per_pixel(self) -> None:
        res = aggregate_semantic([A, B, C])
        np.testing.assert_array_equal(res.mask, A)
        assert res.mask.dtype == np.uint8

    def test_weights_beat_numbers(self) -> None:
        res = aggregate_semantic([A, B, B], [1.0, 0.2, 0.2])
        np.testing.assert_array_equal(res.mask, A)

    def test_tie_broken_by_neighbourhood(self) -> None:
        # two equal workers disagree on one pixel, whose neighbours are mostly label 1
        res = aggregate_semantic([A, B])
        assert res.mask[1, 2] == 1

    def test_tie_at_an_edge_goes_with_the_surroundings(self) -> None:
        lone = mask(["0000", "0000", "0000", "0001"])
        res = aggregate_semantic([np.zeros((4, 4), np.uint8), lone])
        assert res.mask[3, 3] == 0

    def test_confidence_grows_with_agreement(self) -> None:
        one = aggregate_semantic([A]).confidence
        three = aggregate_semantic([A, A, A]).confidence
        split = aggregate_semantic([A, B, C]).confidence
        assert three > split
        assert three > one

    def test_invariant_to_order(self) -> None:
        w = np.array([0.9, 0.3, 0.5])
        ref = aggregate_semantic([A, B, C], w)
        other = aggregate_semantic([C, A, B], w[[2, 0, 1]])
        np.testing.assert_array_equal(ref.mask, other.mask)
        assert ref.confidence == pytest.approx(other.confidence)

    def test_one_worker_and_all_background(self) -> None:
        np.testing.assert_array_equal(aggregate_semantic([B]).mask, B)
        empty = aggregate_semantic([np.zeros((3, 3), np.uint8)] * 2)
        assert not empty.mask.any()

    def test_sizes_must_match(self) -> None:
        with pytest.raises(ValueError, match="one size"):
            aggregate_semantic([A, np.zeros((2, 2), np.uint8)])

    def test_empty_input_is_an_error(self) -> None:
        with pytest.raises(ValueError, match="no masks"):
            aggregate_semantic([])


class TestPerClassIou:
    def test_hand_checked(self) -> None:
        assert per_class_iou(B, A) == {1: 3 / 4, 2: 0.0}

    def test_class_absent_from_both_is_left_out(self) -> None:
        assert per_class_iou(A, A, classes=[1, 5]) == {1: 1.0}


class TestSemanticAgreement:
    def test_reason_names_worst_class(self) -> None:
        ag = semantic_agreement(B, A)
        assert ag.score == pytest.approx(0.375)
        assert not ag.accepted
        assert "worst is label value 2 (IoU 0.00)" in ag.reason

    def test_identical_and_both_empty(self) -> None:
        assert semantic_agreement(A, A).score == 1.0
        z = np.zeros((2, 2), np.uint8)
        assert semantic_agreement(z, z).accepted


class TestVoteWeights:
    """Square-root vote weights: noisy weights cannot overrule a majority, spammers still lose."""

    @staticmethod
    def _masks() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        drawn = np.zeros((6, 6), dtype=np.uint8)
        drawn[1:5, 1:5] = 1
        elsewhere = np.zeros((6, 6), dtype=np.uint8)
        elsewhere[0, :] = 2
        return drawn, np.zeros((6, 6), dtype=np.uint8), elsewhere

    def test_one_worker_does_not_outvote_two_careful_ones(self) -> None:
        # The case mask_sweep.py found: weights from a few leave-one-out grades each.
        drawn, empty, _ = self._masks()
        weights = [0.225, 0.238, 0.485]
        assert (aggregate_semantic([drawn, drawn, empty], weights).mask == drawn).all()
        linear = MaskAggregator(weight_power=1.0).fit([drawn, drawn, empty], weights)
        assert (linear.mask_ == empty).all()  # what linear weights did

    def test_spammers_still_count_for_nothing(self) -> None:
        drawn, _, elsewhere = self._masks()
        out = aggregate_semantic([elsewhere, elsewhere, drawn], [0.0, 0.02, 0.8]).mask
        assert (out == drawn).all()

    def test_equal_weights_are_the_majority(self) -> None:
        rng = np.random.default_rng(3)
        masks = [rng.integers(0, 2, (8, 8)).astype(np.uint8) for _ in range(5)]  # no ties
        majority = (np.sum(masks, axis=0) >= 3).astype(np.uint8)
        for power in (0.0, 0.5, 1.0):
            a = MaskAggregator(weight_power=power).fit(masks, [0.6] * 5).mask_
            np.testing.assert_array_equal(a, majority)
