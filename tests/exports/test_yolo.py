"""YOLO zips parse with globox, and their names are safe and unique."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from globox import Annotation

from app.exports.base import PREDICTION_COLUMNS
from tests.exports.helpers import item, run, spec, unzip

BOXES = spec("bbox", ["car", "person"])


def parse(tmp_path: Path, text: bytes, size: tuple[int, int], *, seg: bool = False) -> Annotation:
    path = tmp_path / "labels.txt"
    path.write_bytes(text)
    if seg:
        return Annotation.from_yolo_seg(path, image_size=size)
    return Annotation.from_yolo_darknet(path, image_size=size)


def test_detection_labels_parse_with_globox(tmp_path: Path) -> None:
    items = [
        item(
            BOXES,
            "tsk_1",
            "a.jpg",
            {
                "objects": [
                    {"label": "person", "box": [10, 20, 30, 40]},
                    {"label": "car", "box": [0, 0, 100, 80]},
                ]
            },
        ),
        item(BOXES, "tsk_2", "pending.jpg", None),
    ]
    files = unzip(run("yolo", BOXES, items))

    assert files["classes.txt"] == b"car\nperson\n"
    data = yaml.safe_load(files["data.yaml"])
    assert data["names"] == {0: "car", 1: "person"}
    assert data["nc"] == 2
    assert "kpt_shape" not in data
    assert files["labels/a.txt"].splitlines()[0] == b"1 0.250000 0.500000 0.300000 0.500000"

    parsed = parse(tmp_path, files["labels/a.txt"], (100, 80))
    assert [box.label for box in parsed.boxes] == ["1", "0"]
    assert parsed.boxes[0].ltrb == pytest.approx((10, 20, 40, 60))
    assert parsed.boxes[1].ltrb == pytest.approx((0, 0, 100, 80))
    # Without consensus: an empty label file, the image is not dropped.
    assert files["labels/pending.txt"] == b""
    assert parse(tmp_path, files["labels/pending.txt"], (100, 80)).boxes == []
    manifest = files["tessera/manifest.csv"].decode().splitlines()
    assert manifest[0] == ",".join(
        [
            "task_id",
            "image_name",
            "file",
            "has_consensus",
            "confidence",
            "answer_count",
            *PREDICTION_COLUMNS,
        ]
    )
    assert manifest[2] == "tsk_2,pending.jpg,labels/pending.txt,0,,3,,,,,,"


def test_polygon_projects_use_segmentation_lines(tmp_path: Path) -> None:
    polygons = spec("polygon", ["tree"])
    points = [[10, 8], [50, 8], [30, 72]]
    items = [item(polygons, "tsk_1", "p.jpg", {"objects": [{"label": "tree", "points": points}]})]
    files = unzip(run("yolo", polygons, items))

    line = files["labels/p.txt"].decode().split()
    assert line[0] == "0"
    assert [float(v) for v in line[1:]] == pytest.approx([0.1, 0.1, 0.5, 0.1, 0.3, 0.9])
    parsed = parse(tmp_path, files["labels/p.txt"], (100, 80), seg=True)
    assert parsed.boxes[0].ltrb == pytest.approx((10, 8, 50, 72))


def test_keypoints_use_pose_format_and_kpt_shape() -> None:
    faces = spec("keypoints", keypoints=["left_eye", "right_eye", "nose"], skeleton=[[0, 1]])
    answer = {"objects": [{"label": "object", "points": [[20, 20, 2], [0, 0, 0], [40, 60, 1]]}]}
    files = unzip(run("yolo", faces, [item(faces, "tsk_1", "k.jpg", answer)]))

    data = yaml.safe_load(files["data.yaml"])
    assert data["kpt_shape"] == [3, 3]
    assert data["names"] == {0: "object"}
    values = files["labels/k.txt"].decode().split()
    assert len(values) == 1 + 4 + 3 * 3
    assert values[0] == "0"
    cx, cy, w, h = map(float, values[1:5])
    assert (cx, cy, w, h) == pytest.approx((0.3, 0.5, 0.2, 0.5))
    assert [float(v) for v in values[5:]] == pytest.approx([0.2, 0.25, 2, 0, 0, 0, 0.4, 0.75, 1])


def test_label_files_keep_the_image_names_folders() -> None:
    empty: dict[str, list[object]] = {"objects": []}
    names = ["train/cat.jpg", "val/cat.jpg", "val/Cat_2.PNG", "dog+cat 06.jpg", "chat été.png"]
    items = [item(BOXES, f"tsk_{i}", name, empty) for i, name in enumerate(names)]
    files = unzip(run("yolo", BOXES, items))
    labels = [name for name in files if name.startswith("labels/")]
    assert labels == [
        "labels/train/cat.txt",
        "labels/val/cat.txt",
        "labels/val/Cat_2.txt",
        "labels/dog+cat 06.txt",
        "labels/chat été.txt",
    ]
    manifest = files["tessera/manifest.csv"].decode().splitlines()
    assert "tsk_2,val/Cat_2.PNG,labels/val/Cat_2.txt,1,0.9,3,,,,,," in manifest


def test_label_with_yaml_syntax_round_trips() -> None:
    odd = spec("bbox", ["a: b", "- [x]", 'q"uote', "#hash", "yes", "🙂 \u2028x", "t\tab\\"])
    files = unzip(run("yolo", odd, []))
    assert yaml.safe_load(files["data.yaml"])["names"] == dict(enumerate(odd.labels))
