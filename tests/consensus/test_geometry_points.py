"""Labelled points: distance-gated matching, weighted medians, quorum, counts in the verdict."""

from __future__ import annotations

import numpy as np

from consensus.geometry import (
    Points,
    aggregate_points,
    aggregate_records,
    match_radius,
    point_agreement,
)


def pts(*rows: tuple[float, float, str]) -> Points:
    return Points(np.array([[x, y] for x, y, _ in rows], dtype=float).reshape(-1, 2),
                  tuple(lab for *_, lab in rows))  # fmt: skip


class TestAggregate:
    def test_clicks_on_the_same_objects_fuse_to_their_median(self) -> None:
        a = pts((10, 10, "cell"), (50, 50, "cell"))
        b = pts((12, 11, "cell"), (51, 49, "cell"))
        c = pts((11, 10, "cell"), (50, 52, "cell"))
        cons = aggregate_points([a, b, c], radius=6)
        assert cons.points.xy.tolist() == [[11.0, 10.0], [50.0, 50.0]]
        assert cons.points.labels == ("cell", "cell")
        assert cons.confidence > 0.8

    def test_a_lone_extra_click_is_dropped_by_the_quorum(self) -> None:
        a = pts((10, 10, "cell"))
        b = pts((11, 10, "cell"), (80, 70, "cell"))
        c = pts((10, 11, "cell"))
        cons = aggregate_points([a, b, c], radius=6)
        assert len(cons.points) == 1
        assert cons.n_candidates == 2

    def test_clicks_beyond_the_gate_are_different_objects(self) -> None:
        a = pts((10, 10, "cell"), (20, 10, "cell"))
        b = pts((10, 10, "cell"), (20, 10, "cell"))
        cons = aggregate_points([a, b], radius=5)
        assert len(cons.points) == 2

    def test_label_is_the_weighted_vote(self) -> None:
        a, b, c = pts((10, 10, "cell")), pts((10, 10, "cell")), pts((10, 10, "debris"))
        assert aggregate_points([a, b, c], radius=5).points.labels == ("cell",)
        strong = aggregate_points([a, c], [0.1, 1.0], radius=5)
        assert strong.points.labels == ("debris",)

    def test_worker_order_and_names_do_not_matter(self) -> None:
        a = pts((10, 10, "cell"), (40, 40, "cell"))
        b = pts((12, 10, "cell"))
        c = pts((41, 40, "cell"), (10, 12, "cell"))
        one = aggregate_points([a, b, c], radius=6)
        two = aggregate_points([c, a, b], radius=6)
        assert one.points.xy.tolist() == two.points.xy.tolist()
        assert one.confidence == two.confidence

    def test_nobody_clicked_anything(self) -> None:
        cons = aggregate_points([pts(), pts()], radius=5)
        assert len(cons.points) == 0
        assert cons.confidence > 0.5


class TestAgreement:
    def test_same_points_agree(self) -> None:
        a = pts((10, 10, "cell"), (40, 40, "cell"))
        agreement = point_agreement(a, a, radius=5)
        assert agreement.accepted
        assert agreement.score == 1.0
        assert agreement.reason == ""

    def test_a_miscount_is_rejected_with_the_counts(self) -> None:
        truth = pts((10, 10, "cell"), (40, 40, "cell"), (70, 10, "cell"))
        answer = pts((11, 10, "cell"))
        agreement = point_agreement(answer, truth, radius=5)
        assert not agreement.accepted
        assert agreement.reason.startswith("counted 1, consensus 3")
        assert "missed 2 of 3 consensus points" in agreement.reason

    def test_an_off_target_click_scores_lower_quality(self) -> None:
        truth = pts((10, 10, "cell"))
        near, far = pts((10, 10, "cell")), pts((13, 10, "cell"))
        assert (
            point_agreement(near, truth, radius=5).quality
            > point_agreement(far, truth, radius=5).quality
        )
        assert "more than 5 px" in point_agreement(pts((20, 10, "cell")), truth, radius=5).reason


def test_radius_scales_with_the_image() -> None:
    assert match_radius((3000, 4000)) == 100.0
    assert match_radius((10, 10)) == 4.0
    assert match_radius(None) == 10.0


def test_records_and_skills_for_points() -> None:
    answers = {"w1": [[10, 10]], "w2": [[11, 10]], "w3": [[60, 60]]}
    records = [
        {
            "task": "t1",
            "worker": w,
            "answer": {"objects": [{"label": "cell", "point": p} for p in ps]},
        }
        for w, ps in answers.items()
    ]
    results, skills = aggregate_records("points", records)
    assert results[0]["answer"] == {"objects": [{"label": "cell", "point": [10.5, 10.0]}]}
    assert skills["type"] == "points"
