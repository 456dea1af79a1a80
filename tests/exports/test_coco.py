"""COCO exports load with pycocotools and evaluate to AP 1.0 against themselves."""

from __future__ import annotations

import contextlib
import io
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from pycocotools import mask as mask_utils
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval

from app.exports import ExportItem
from tests.exports.helpers import item, mask_answer, run, spec

# pycocotools' compiled mask code (2.0.11) trips numpy 2's __array__ copy deprecation; not ours.
pytestmark = pytest.mark.filterwarnings(
    "ignore:__array__ implementation doesn't accept a copy keyword:DeprecationWarning"
)


def load(tmp_path: Path, data: bytes) -> COCO:
    path = tmp_path / "coco.json"
    path.write_bytes(data)
    with contextlib.redirect_stdout(io.StringIO()):
        return COCO(str(path))


def evaluate(gt: COCO, detections: list[dict[str, Any]], iou_type: str, **params: Any) -> float:
    with contextlib.redirect_stdout(io.StringIO()):
        dt = gt.loadRes(detections)
        evaluator = COCOeval(gt, dt, iou_type)
        for name, value in params.items():
            setattr(evaluator.params, name, value)
        evaluator.evaluate()
        evaluator.accumulate()
        evaluator.summarize()
    return float(evaluator.stats[0])


BOXES = spec("bbox", ["car", "person"])


def box_items() -> list[ExportItem]:
    return [
        item(
            BOXES,
            "tsk_1",
            "street/a.jpg",
            {
                "objects": [
                    {"label": "car", "box": [10, 12, 30, 20]},
                    {"label": "person", "box": [50.5, 5.25, 10, 40]},
                ]
            },
            object_confidences=[0.8, 0.6],
        ),
        item(BOXES, "tsk_2", "b.png", {"objects": [{"label": "person", "box": [0, 0, 99, 79]}]}),
        item(BOXES, "tsk_3", "pending.jpg", None),
    ]


def test_bbox_loads_and_evaluates_to_ap_one(tmp_path: Path) -> None:
    gt = load(tmp_path, run("coco", BOXES, box_items()))

    assert [c["name"] for c in gt.loadCats(gt.getCatIds())] == ["car", "person"]
    assert gt.getCatIds() == [1, 2]
    images = gt.loadImgs(gt.getImgIds())
    assert [(i["file_name"], i["width"], i["height"]) for i in images] == [
        ("street/a.jpg", 100, 80),
        ("b.png", 100, 80),
        ("pending.jpg", 100, 80),
    ]
    # The image without consensus is there, with no annotations.
    assert images[2]["tessera_task_id"] == "tsk_3"
    assert images[2]["tessera_confidence"] is None
    assert gt.getAnnIds(imgIds=[images[2]["id"]]) == []
    first = gt.loadAnns(gt.getAnnIds(imgIds=[1]))
    assert [a["bbox"] for a in first] == [[10, 12, 30, 20], [50.5, 5.25, 10, 40]]
    assert [a["category_id"] for a in first] == [1, 2]
    assert [a["tessera_confidence"] for a in first] == [0.8, 0.6]
    assert first[0]["area"] == 600

    detections = [{**a, "score": a["tessera_confidence"]} for a in gt.loadAnns(gt.getAnnIds())]
    assert evaluate(gt, detections, "bbox") == pytest.approx(1.0)


def test_polygon_has_segmentation_area_and_box(tmp_path: Path) -> None:
    polygons = spec("polygon", ["tree", "house"])
    items = [
        item(
            polygons,
            "tsk_1",
            "p.jpg",
            {
                "objects": [
                    {"label": "house", "points": [[10, 10], [60, 10], [60, 50], [10, 50]]},
                    {"label": "tree", "points": [[70, 5], [95, 40], [70, 75]]},
                ]
            },
        ),
        item(polygons, "tsk_2", "q.jpg", None),
    ]
    gt = load(tmp_path, run("coco", polygons, items))

    house, tree = gt.loadAnns(gt.getAnnIds())
    assert house["segmentation"] == [[10, 10, 60, 10, 60, 50, 10, 50]]
    assert house["area"] == 2000
    assert house["bbox"] == [10, 10, 50, 40]
    assert tree["area"] == pytest.approx(25 * 70 / 2)
    assert gt.annToMask(house).sum() == pytest.approx(2000, rel=0.1)

    detections = []
    for ann in gt.loadAnns(gt.getAnnIds()):
        image = gt.loadImgs(ann["image_id"])[0]
        rle = mask_utils.merge(
            mask_utils.frPyObjects(ann["segmentation"], image["height"], image["width"])
        )
        detections.append(
            {
                "image_id": ann["image_id"],
                "category_id": ann["category_id"],
                "segmentation": rle,
                "score": ann["tessera_confidence"],
            }
        )
    assert evaluate(gt, detections, "segm") == pytest.approx(1.0)
    boxes = [{**a, "score": 0.9} for a in gt.loadAnns(gt.getAnnIds())]
    for box in boxes:
        del box["segmentation"]
    assert evaluate(gt, boxes, "bbox") == pytest.approx(1.0)


def test_keypoints_with_skeleton_evaluate_with_oks(tmp_path: Path) -> None:
    faces = spec(
        "keypoints",
        ["face", "hand"],
        keypoints=["left_eye", "right_eye", "nose"],
        skeleton=[[0, 1], [1, 2]],
    )
    items = [
        item(
            faces,
            "tsk_1",
            "k.jpg",
            {
                "objects": [
                    {"label": "face", "points": [[20, 20, 2], [40, 20, 2], [30, 35, 1]]},
                    {"label": "hand", "points": [[70, 60, 2], [0, 0, 0], [80, 70, 2]]},
                ]
            },
            object_confidences=[0.95, 0.7],
        ),
        item(faces, "tsk_2", "none.jpg", None),
    ]
    data = run("coco", faces, items)
    gt = load(tmp_path, data)

    for category in json.loads(data)["categories"]:
        assert category["keypoints"] == ["left_eye", "right_eye", "nose"]
        assert category["skeleton"] == [[1, 2], [2, 3]]  # 1-based, as COCO expects
    face, hand = gt.loadAnns(gt.getAnnIds())
    assert face["keypoints"] == [20, 20, 2, 40, 20, 2, 30, 35, 1]
    assert face["num_keypoints"] == 3
    assert face["bbox"] == [20, 20, 20, 15]
    assert face["area"] == 300
    assert hand["num_keypoints"] == 2
    assert hand["keypoints"][3:6] == [0, 0, 0]

    detections = [
        {
            "image_id": a["image_id"],
            "category_id": a["category_id"],
            "keypoints": a["keypoints"],
            "score": a["tessera_confidence"],
        }
        for a in gt.loadAnns(gt.getAnnIds())
    ]
    sigmas = np.full(3, 0.05)
    assert evaluate(gt, detections, "keypoints", kpt_oks_sigmas=sigmas) == pytest.approx(1.0)


def test_segmentation_is_rle_per_label(tmp_path: Path) -> None:
    masks = spec("segmentation", ["sky", "road", "car"])
    pixels = np.zeros((30, 40), dtype=np.uint8)
    pixels[:10, :] = 1
    pixels[20:, 5:35] = 2
    pixels[0, 0] = 2  # a run starting at the very first pixel
    items = [
        item(masks, "tsk_1", "m.png", mask_answer(pixels), width=40, height=30),
        item(masks, "tsk_2", "n.png", None, width=40, height=30),
    ]
    gt = load(tmp_path, run("coco", masks, items))

    annotations = gt.loadAnns(gt.getAnnIds())
    assert [a["category_id"] for a in annotations] == [1, 2]  # no "car" pixels
    for ann in annotations:
        expected = pixels == ann["category_id"]
        assert np.array_equal(gt.annToMask(ann).astype(bool), expected)
        assert ann["area"] == int(expected.sum())
        assert ann["bbox"] == pytest.approx(mask_utils.toBbox(gt.annToRLE(ann)).tolist())

    detections = [
        {
            "image_id": a["image_id"],
            "category_id": a["category_id"],
            "segmentation": gt.annToRLE(a),
            "score": 1.0,
        }
        for a in annotations
    ]
    assert evaluate(gt, detections, "segm") == pytest.approx(1.0)


def test_output_is_strict_utf8_json_with_odd_names(tmp_path: Path) -> None:
    odd = spec("bbox", ['ca"r', "pié\u00e7e", "a\\b"])
    items = [
        item(
            odd,
            "tsk_1",
            'we"ird\nname 🙂.jpg',
            {"objects": [{"label": "pié\u00e7e", "box": [1, 1, 2, 2]}]},
        )
    ]
    document = json.loads(run("coco", odd, items).decode("utf-8"))
    assert document["images"][0]["file_name"] == 'we"ird\nname 🙂.jpg'
    assert [c["name"] for c in document["categories"]] == ['ca"r', "pié\u00e7e", "a\\b"]
    assert document["annotations"][0]["category_id"] == 2
    load(tmp_path, json.dumps(document).encode())
