"""Keypoints: OKS, COCO sigmas, swap alignment, geometric median, visibility vote."""

from __future__ import annotations

import numpy as np
import pytest

from consensus.geometry import (
    COCO_KEYPOINTS,
    COCO_SIGMAS,
    Poses,
    aggregate_keypoints,
    default_sigmas,
    flip_pairs_from_names,
    keypoint_agreement,
    oks_matrix,
)
from consensus.geometry.keypoints import flip, geometric_median

NAMES = ["nose", "left_eye", "right_eye", "left_mouth", "right_mouth"]
PAIRS = flip_pairs_from_names(NAMES)
SIG = np.full(5, 0.05)
# A face 100 px wide: nose in the middle, eyes above, mouth corners below.
FACE = np.array(
    [[150, 150, 2], [120, 110, 2], [180, 110, 2], [125, 190, 2], [175, 190, 2]], dtype=float
)


def poses(*insts: np.ndarray) -> Poses:
    return Poses(np.array(insts, dtype=float).reshape(-1, 5, 3), tuple("face" for _ in insts))


def shifted(dx: float, dy: float = 0.0) -> np.ndarray:
    out = FACE.copy()
    out[:, :2] += [dx, dy]
    return out


class TestSigmasAndPairs:
    def test_coco_names_get_coco_sigmas(self) -> None:
        np.testing.assert_allclose(default_sigmas(COCO_KEYPOINTS, 17), COCO_SIGMAS)

    def test_unknown_names_get_default(self) -> None:
        np.testing.assert_allclose(default_sigmas(["tail", "nose"], 2), [0.05, 0.026])
        np.testing.assert_allclose(default_sigmas(None, 3), [0.05] * 3)

    def test_flip_pairs_from_names(self) -> None:
        assert PAIRS == [(1, 2), (3, 4)]
        assert len(flip_pairs_from_names(COCO_KEYPOINTS)) == 8


class TestOks:
    def test_identical_is_one_and_hand_checked_shift(self) -> None:
        assert oks_matrix(FACE[None], FACE[None], SIG)[0, 0] == pytest.approx(1.0)
        # area = 60 * 80 = 4800; k = 0.1; exp(-d^2 / (2 * 4800 * 0.01)) with d = 4
        got = oks_matrix(shifted(4)[None], FACE[None], SIG)[0, 0]
        assert got == pytest.approx(np.exp(-16 / 96))

    def test_only_reference_labelled_keypoints_count(self) -> None:
        ref = FACE.copy()
        ref[3:, 2] = 0
        moved = FACE.copy()
        moved[3:, :2] += 50  # far off, but the reference did not label them
        assert oks_matrix(moved[None], ref[None], SIG)[0, 0] == pytest.approx(1.0)


class TestGeometricMedian:
    def test_resists_one_far_click(self) -> None:
        pts = np.array([[[0.0, 0.0]], [[1.0, 0.0]], [[0.0, 1.0]], [[100.0, 100.0]]])
        med = geometric_median(pts, np.ones((4, 1)))
        assert np.hypot(*med[0]) < 1.0


class TestAggregateKeypoints:
    def test_median_of_three_workers(self) -> None:
        res = aggregate_keypoints([poses(FACE), poses(shifted(2)), poses(shifted(-1))], sigmas=SIG)
        assert len(res.poses) == 1
        np.testing.assert_allclose(res.poses.kps[0, :, 0], FACE[:, 0], atol=1.01)

    def test_left_right_swap_is_aligned(self) -> None:
        swapped = flip(shifted(1), PAIRS)
        res = aggregate_keypoints(
            [poses(FACE), poses(swapped), poses(shifted(-1))], sigmas=SIG, flip_pairs=PAIRS
        )
        assert len(res.poses) == 1
        assert res.support[0] == pytest.approx(1.0)
        np.testing.assert_allclose(res.poses.kps[0, 1, :2], FACE[1, :2], atol=1.01)  # left eye

    def test_swapped_anchor_is_outvoted(self) -> None:
        swapped = flip(FACE, PAIRS)
        res = aggregate_keypoints(
            [poses(swapped), poses(shifted(1)), poses(shifted(-1))],
            [1.0, 0.6, 0.6],
            sigmas=SIG,
            flip_pairs=PAIRS,
        )
        np.testing.assert_allclose(res.poses.kps[0, 1, :2], FACE[1, :2], atol=1.01)

    def test_visibility_by_weighted_vote(self) -> None:
        occluded = FACE.copy()
        occluded[0, 2] = 1
        unlabelled = FACE.copy()
        unlabelled[4] = 0
        res = aggregate_keypoints([poses(occluded), poses(occluded), poses(unlabelled)], sigmas=SIG)
        assert res.poses.kps[0, 0, 2] == 1  # two of three say occluded
        assert res.poses.kps[0, 4, 2] == 2  # two of three labelled it

    def test_spam_instance_dropped(self) -> None:
        res = aggregate_keypoints(
            [poses(FACE), poses(shifted(1)), poses(shifted(-1), shifted(300, 300))], sigmas=SIG
        )
        assert len(res.poses) == 1

    def test_invariant_to_order(self) -> None:
        answers = [poses(FACE), poses(flip(shifted(2), PAIRS)), poses(shifted(-1, 3))]
        w = np.array([0.8, 0.5, 0.6])
        ref = aggregate_keypoints(answers, w, sigmas=SIG, flip_pairs=PAIRS)
        other = aggregate_keypoints(answers[::-1], w[::-1], sigmas=SIG, flip_pairs=PAIRS)
        np.testing.assert_allclose(ref.poses.kps, other.poses.kps)

    def test_no_instances_and_empty_input(self) -> None:
        empty = Poses(np.zeros((0, 5, 3)), ())
        assert len(aggregate_keypoints([empty, empty], sigmas=SIG).poses) == 0
        assert aggregate_keypoints([]).confidence == 0.0

    def test_answer_round_trip_and_validation(self) -> None:
        ans = poses(FACE).to_answer()
        np.testing.assert_allclose(Poses.from_answer(ans, 5).kps[0], FACE)
        with pytest.raises(ValueError, match="expected 4 keypoints"):
            Poses.from_answer(ans, 4)


class TestKeypointAgreement:
    def test_close_answer_accepted(self) -> None:
        ag = keypoint_agreement(poses(shifted(2)), poses(FACE), sigmas=SIG)
        assert ag.accepted
        assert 0.9 < ag.quality < 1.0

    def test_swapped_answer_rejected_with_reason(self) -> None:
        ag = keypoint_agreement(poses(flip(FACE, PAIRS)), poses(FACE), sigmas=SIG, flip_pairs=PAIRS)
        assert not ag.accepted
        assert "left/right swapped" in ag.reason
        assert "best OKS" in ag.reason


class TestKeypointValidation:
    def test_answers_with_different_keypoint_counts_are_refused(self) -> None:
        short = Poses(FACE[None, :3], ("face",))
        with pytest.raises(ValueError, match="number of keypoints"):
            aggregate_keypoints([poses(FACE), short])
