"""Record-level entry point, worker skills across tasks, the stopping rule and PNG io."""

from __future__ import annotations

import base64
import io
import json

import numpy as np
import pytest
from PIL import Image

from consensus.geometry import (
    Boxes,
    GeometrySkills,
    aggregate_boxes,
    aggregate_records,
    box_agreement,
    decode_mask_png,
    encode_mask_png,
    grade_task,
    kind_for,
    should_stop,
)
from consensus.geometry._common import Agreement


def box_answer(*boxes: tuple[float, float, float, float]) -> dict[str, object]:
    return {"objects": [{"label": "car", "box": list(b)} for b in boxes]}


def crowd(n_tasks: int = 12, seed: int = 0) -> list[dict[str, object]]:
    """Four careful workers (small jitter) and one spammer who boxes random places."""
    rng = np.random.default_rng(seed)
    recs: list[dict[str, object]] = []
    for t in range(n_tasks):
        truth = [
            (rng.uniform(0, 300), rng.uniform(0, 300), rng.uniform(30, 80), rng.uniform(30, 80))
            for _ in range(2)
        ]
        for w in ("ann", "bob", "cat", "dan"):
            recs.append(
                {
                    "task": f"t{t}",
                    "worker": w,
                    "answer": box_answer(*[tuple(np.add(b, rng.normal(0, 1.5, 4))) for b in truth]),
                }
            )
        recs.append(
            {
                "task": f"t{t}",
                "worker": "spam",
                "answer": box_answer((rng.uniform(0, 300), rng.uniform(0, 300), 40, 40)),
            }
        )
    return recs


class TestAggregateRecords:
    def test_spammer_weight_goes_to_zero(self) -> None:
        results, skills = aggregate_records("bbox", crowd(8))
        workers = skills["workers"]
        assert workers["spam"]["weight"] == 0.0
        assert workers["spam"]["presence_weight"] == 0.0
        assert min(workers[w]["weight"] for w in ("ann", "bob", "cat", "dan")) > 0.6
        assert all(len(r["answer"]["objects"]) == 2 for r in results)

    def test_invariant_to_renaming_workers_and_reordering_rows(self) -> None:
        recs = crowd(6)
        ref, _ = aggregate_records("bbox", recs)
        rename = {"ann": "zed", "bob": "amy", "cat": "kim", "dan": "bo", "spam": "aaa"}
        other = [{**r, "worker": rename[str(r["worker"])]} for r in reversed(recs)]
        got, _ = aggregate_records("bbox", other)
        by_task = {r["task"]: r for r in got}
        for r in ref:
            assert by_task[r["task"]]["answer"] == r["answer"]
            assert by_task[r["task"]]["confidence"] == pytest.approx(r["confidence"])

    def test_skills_are_plain_json_and_carry_over(self) -> None:
        _, first = aggregate_records("bbox", crowd(6, seed=1))
        json.dumps(first)
        _, second = aggregate_records("bbox", crowd(6, seed=2), skills=first)
        assert second["workers"]["ann"]["n"] > first["workers"]["ann"]["n"]
        with pytest.raises(ValueError, match="skills are for 'bbox'"):
            aggregate_records("polygon", [], skills=first)

    def test_gold_grades_workers(self) -> None:
        recs = [
            {"task": "g", "worker": "good", "answer": box_answer((10, 10, 50, 50))},
            {"task": "g", "worker": "bad", "answer": box_answer((200, 200, 50, 50))},
        ]
        _, skills = aggregate_records("bbox", recs, gold={"g": box_answer((11, 10, 50, 50))})
        assert skills["workers"]["good"]["n_gold"] == 1
        assert skills["workers"]["good"]["weight"] > skills["workers"]["bad"]["weight"] == 0.0

    def test_one_worker_empty_input_and_empty_answers(self) -> None:
        res, skills = aggregate_records(
            "bbox", [{"task": "t", "worker": "w", "answer": box_answer((1, 2, 3, 4))}]
        )
        assert res[0]["answer"] == box_answer((1.0, 2.0, 3.0, 4.0))
        assert skills["workers"] == {}  # nobody to compare with: no evidence
        assert aggregate_records("bbox", []) == ([], GeometrySkills("bbox").to_dict())
        res, _ = aggregate_records(
            "bbox", [{"task": "t", "worker": w, "answer": {"objects": []}} for w in "ab"]
        )
        assert res[0]["answer"] == {"objects": []}

    def test_segmentation_records_round_trip_png(self) -> None:
        m = np.zeros((8, 8), np.uint8)
        m[2:5, 2:6] = 2
        recs = [
            {"task": "t", "worker": w, "answer": {"mask_png_base64": encode_mask_png(m)}}
            for w in "abc"
        ]
        res, _ = aggregate_records("segmentation", recs)
        np.testing.assert_array_equal(decode_mask_png(res[0]["answer"]["mask_png_base64"]), m)

    def test_keypoint_records_with_names(self) -> None:
        face = [[150, 150, 2], [120, 110, 2], [180, 110, 2]]
        swapped = [face[0], face[2], face[1]]
        recs = [
            {"task": "t", "worker": w, "answer": {"objects": [{"label": "face", "points": p}]}}
            for w, p in (("a", face), ("b", face), ("c", swapped))
        ]
        res, _ = aggregate_records(
            "keypoints", recs, keypoint_names=["nose", "left_eye", "right_eye"]
        )
        assert res[0]["answer"]["objects"][0]["points"] == [
            [150.0, 150.0, 2],
            [120.0, 110.0, 2],
            [180.0, 110.0, 2],
        ]

    def test_polygon_records(self) -> None:
        sq = [[10, 10], [30, 10], [30, 30], [10, 30]]
        recs = [
            {"task": "t", "worker": w, "answer": {"objects": [{"label": "tree", "points": sq}]}}
            for w in "ab"
        ]
        res, _ = aggregate_records("polygon", recs)
        assert sorted(map(tuple, res[0]["answer"]["objects"][0]["points"])) == sorted(
            map(tuple, ((float(p[0]), float(p[1])) for p in sq))
        )

    def test_malformed_record_names_its_number(self) -> None:
        recs = [
            {"task": "t", "worker": "a", "answer": box_answer((1, 2, 3, 4))},
            {"task": "t", "worker": "b", "answer": {"objects": [{"box": [1, 2]}]}},
        ]
        with pytest.raises(ValueError, match=r"record 2: object 0: 'box' must be \[x, y, w, h\]"):
            aggregate_records("bbox", recs)
        with pytest.raises(ValueError, match="record 1: needs"):
            aggregate_records("bbox", [{"task": "t"}])

    def test_unknown_type(self) -> None:
        with pytest.raises(ValueError, match="unknown geometry annotation type"):
            aggregate_records("classification", [])


class TestGeometrySkills:
    def test_new_worker_gets_the_prior(self) -> None:
        s = GeometrySkills("bbox")
        assert s.skill("new") == pytest.approx(0.7)
        assert s.weight("new") == pytest.approx(4 / 7)

    def test_weight_never_negative_and_round_trip(self) -> None:
        s = GeometrySkills("keypoints")
        for _ in range(10):
            s.update("spam", Agreement(0.0, 0.7, 0.0))
            s.update("gold", Agreement(1.0, 0.7, 0.95), gold=True)
        assert s.weight("spam") == 0.0
        assert s.weight("gold") > 0.9
        back = GeometrySkills.from_dict(json.loads(json.dumps(s.to_dict())))
        assert back.to_dict() == s.to_dict()


class TestShouldStop:
    @pytest.mark.parametrize(
        ("confidence", "n", "expected"),
        [(0.99, 1, False), (0.5, 2, False), (0.95, 2, True), (0.1, 5, True), (0.9, 3, True)],
    )
    def test_rule(self, confidence: float, n: int, expected: bool) -> None:
        assert should_stop(confidence, n, min_answers=2, max_answers=5, target=0.9) is expected


class TestMaskPng:
    def test_palette_png_keeps_indices(self) -> None:
        im = Image.fromarray(np.array([[0, 3], [1, 2]], np.uint8)).convert("P")
        buf = io.BytesIO()
        im.save(buf, format="PNG")
        got = decode_mask_png(base64.b64encode(buf.getvalue()).decode())
        np.testing.assert_array_equal(got, [[0, 3], [1, 2]])

    def test_rgb_png_refused(self) -> None:
        buf = io.BytesIO()
        Image.new("RGB", (2, 2)).save(buf, format="PNG")
        with pytest.raises(ValueError, match="single-channel"):
            decode_mask_png(base64.b64encode(buf.getvalue()).decode())

    def test_garbage_refused(self) -> None:
        with pytest.raises(ValueError, match="base64"):
            decode_mask_png("not base64!!")
        with pytest.raises(ValueError, match="readable PNG"):
            decode_mask_png(base64.b64encode(b"hello").decode())


class TestServiceFlow:
    def test_one_task_end_to_end_as_the_service_runs_it(self) -> None:
        skills = GeometrySkills("bbox")
        workers = ["a", "b", "c"]
        raw = [
            box_answer((10, 10, 50, 50)),
            box_answer((12, 10, 50, 50)),
            box_answer((300, 300, 20, 20)),
        ]
        answers = [Boxes.from_answer(a) for a in raw]
        cons = aggregate_boxes(
            answers, skills.weights(workers), presence_weights=skills.presence_weights(workers)
        )
        assert should_stop(cons.confidence, 3, min_answers=3, max_answers=3, target=0.99)
        verdicts = [box_agreement(a, cons.boxes) for a in answers]
        assert [v.accepted for v in verdicts] == [True, True, False]
        assert "box 0 matched no consensus object" in verdicts[2].reason
        graded = grade_task(kind_for("bbox"), workers, answers, skills)
        for w, ag in zip(workers, graded, strict=True):
            assert ag is not None
            skills.update(w, ag)
        assert skills.weight("c") < skills.weight("a")
        assert grade_task(kind_for("bbox"), ["a"], answers[:1], skills) == [None]
