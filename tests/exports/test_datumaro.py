"""Datumaro detects and imports every export of every type, with its images, and reads what the
workers answered: coordinates ±0.5 px (VOC's whole pixels ±1), masks exact, labels and image
sizes equal. Datumaro pins Pillow 12, so it runs in its own venv (``.venv-datumaro``, made by
scripts/setup) through tests/exports/datumaro_probe.py.

Not covered because Datumaro 1.13 has no reader for them: Ultralytics segmentation and pose
label files (its YOLO reader takes boxes only) and Label Studio JSON."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from app.annotations import decode_mask
from app.images.names import name_stem
from tests.exports.sample import IMAGES, Sample, sample

ROOT = Path(__file__).resolve().parents[2]
PYTHON = ROOT / ".venv-datumaro" / "bin" / "python"
PROBE = Path(__file__).with_name("datumaro_probe.py")

CASES: dict[str, list[tuple[str, str]]] = {
    "bbox": [
        ("coco", "coco_instances"),
        ("voc", "voc_detection"),
        ("yolo", "yolo"),
        ("cvat", "cvat"),
        ("datumaro", "datumaro"),
    ],
    "polygon": [
        ("coco", "coco_instances"),
        ("voc", "voc_detection"),
        ("cvat", "cvat"),
        ("datumaro", "datumaro"),
    ],
    "keypoints": [("coco", "coco_person_keypoints"), ("cvat", "cvat"), ("datumaro", "datumaro")],
    "points": [("coco", "coco_person_keypoints"), ("cvat", "cvat"), ("datumaro", "datumaro")],
    "segmentation": [
        ("coco", "coco_stuff"),
        ("voc", "voc_segmentation"),
        ("masks", "common_semantic_segmentation"),
        ("cvat", "cvat"),
        ("datumaro", "datumaro"),
    ],
    "classification": [
        ("folders", "imagenet_with_subset_dirs"),
        ("cvat", "cvat"),
        ("datumaro", "datumaro"),
    ],
}


def probe(data: Sample, root: Path) -> dict[str, dict[str, Any]]:
    assert PYTHON.exists(), "run scripts/setup: it makes .venv-datumaro"
    args = []
    for fmt, dm_format in CASES[data.kind]:
        args += [str(data.unpack(fmt, root / fmt)), dm_format]
    done = subprocess.run(
        [str(PYTHON), str(PROBE), *args], capture_output=True, text=True, timeout=300, check=False
    )
    assert done.returncode == 0, done.stderr[-4000:]
    results = json.loads(done.stdout)
    return {fmt: result for (fmt, _), result in zip(CASES[data.kind], results, strict=True)}


def image_of(item: dict[str, Any]) -> str | None:
    """The sample image a Datumaro item stands for (its id is the stem, or the stem within its
    subset folder, or, for mask layouts that drop folders, a unique base name)."""
    stems = {name_stem(name): name for name, _ in IMAGES}
    keys = [item["id"], f"{item['subset']}/{item['id']}"]
    if ":" in item["id"]:  # ImageNet: "<label>/<folders>:<base name>"
        label_path, base = item["id"].split(":", 1)
        keys.append("/".join([*label_path.split("/")[1:], base]))
    for key in keys:
        if key in stems:
            return stems[key]
    matches = [name for stem, name in stems.items() if stem.rsplit("/", 1)[-1] == item["id"]]
    return matches[0] if len(matches) == 1 else None


def boxes_of(answer: dict[str, Any] | None) -> list[tuple[str, list[float]]]:
    found = []
    for obj in (answer or {"objects": []})["objects"]:
        if "box" in obj:
            found.append((obj["label"], [float(v) for v in obj["box"]]))
        else:
            xs = [p[0] for p in obj["points"]]
            ys = [p[1] for p in obj["points"]]
            found.append((obj["label"], [min(xs), min(ys), max(xs) - min(xs), max(ys) - min(ys)]))
    return sorted(found)


def assert_close(found: list[Any], expected: list[Any], tolerance: float) -> None:
    assert [label for label, _ in found] == [label for label, _ in expected]
    for (_, got), (_, want) in zip(found, expected, strict=True):
        assert got == pytest.approx(want, abs=tolerance)


def check_items(result: dict[str, Any], fmt: str) -> dict[str, dict[str, Any]]:
    """Every sample image is one item with its image and size; returns them by image name."""
    by_name: dict[str, dict[str, Any]] = {}
    for item in result["items"]:
        name = image_of(item)
        if name is not None:
            by_name[name] = item
    expected = {n for n, _ in IMAGES} if fmt != "folders" else {n for n, _ in IMAGES[:-1]}
    if fmt == "masks":  # Datumaro's mask layout keys items by base name: the two "cat" are one
        assert len(result["items"]) == len({name_stem(n).rsplit("/", 1)[-1] for n, _ in IMAGES})
        return by_name
    assert set(by_name) == expected, fmt
    assert len(result["items"]) == len(expected), fmt
    for name, item in by_name.items():
        assert item["has_data"], (fmt, name)
        size = dict(IMAGES)[name]
        assert item["size"] in (None, [size[1], size[0]]), (fmt, name)
    return by_name


@pytest.mark.parametrize("kind", list(CASES))
def test_datumaro_imports_every_format(kind: str, tmp_path: Path) -> None:
    data = sample(kind)
    results = probe(data, tmp_path)
    for fmt, dm_format in CASES[kind]:
        result = results[fmt]
        assert dm_format.split("_")[0] in " ".join(result["detected"]), (fmt, result["detected"])
        declared = list(data.spec.labels)
        if fmt == "cvat" and kind == "keypoints":  # a skeleton's keypoints are sublabels
            declared += list(data.spec.keypoints or [])
        found_labels = [label for label in result["labels"] if label != "background"]
        if fmt == "folders":
            # Datumaro's ImageNet reader takes an image's folders for sub-labels ("cat/train"
            # for train/cat/train/cat.jpg); the class is the first one.
            found_labels = sorted({label.split("/")[0] for label in found_labels})
        assert found_labels == declared, fmt
        for name, item in check_items(result, fmt).items():
            truth = data.truth_of(name)
            anns = item["annotations"]
            if kind in ("bbox", "polygon"):
                if kind == "polygon" and fmt != "voc":
                    polygons = sorted(
                        (a["label"], a["points"]) for a in anns if a["type"] == "polygon"
                    )
                    expected = sorted(
                        (o["label"], [float(c) for p in o["points"] for c in p])
                        for o in (truth or {"objects": []})["objects"]
                    )
                    assert_close(polygons, expected, 0.5)
                    continue
                found = sorted((a["label"], a["bbox"]) for a in anns if a["type"] == "bbox")
                assert_close(found, boxes_of(truth), 1.0 if fmt == "voc" else 0.5)
            elif kind in ("keypoints", "points"):
                points = [a for a in anns if a["type"] == "points"]
                objects = (truth or {"objects": []})["objects"]
                if fmt == "cvat" and kind == "keypoints":
                    # Datumaro reads each keypoint of a skeleton as a point of its own.
                    names = list(data.spec.keypoints or [])
                    expected_points = sorted(
                        (names[j], [float(p[0]), float(p[1])])
                        for o in objects
                        for j, p in enumerate(o["points"])
                    )
                    found_points = sorted((a["label"], a["points"]) for a in points)
                    assert_close(found_points, expected_points, 0.5)
                    continue
                expected = sorted(
                    (o["label"], [float(c) for p in o["points"] for c in p[:2]])
                    if "points" in o
                    else (o["label"], [float(c) for c in o["point"]])
                    for o in objects
                )
                assert_close(sorted((a["label"], a["points"]) for a in points), expected, 0.5)
                if kind == "keypoints":
                    assert [a["visibility"] for a in points] == [
                        [p[2] for p in o["points"]] for o in objects
                    ]
            elif kind == "segmentation":
                masks: dict[str, np.ndarray] = {}
                for a in anns:
                    if a["type"] == "mask" and a["label"] != "background":
                        array = np.asarray(a["mask"], dtype=bool)
                        masks[a["label"]] = masks.get(a["label"], np.zeros_like(array)) | array
                if truth is None:
                    assert not any(m.any() for m in masks.values()), (fmt, name)
                    continue
                width, height = dict(IMAGES)[name]
                expected_mask = decode_mask(truth, width, height)
                for value, label in enumerate(data.spec.labels, start=1):
                    assert np.array_equal(masks[label], expected_mask == value), (fmt, name, label)
            elif kind == "classification":
                labels = [a["label"].split("/")[0] for a in anns if a["type"] == "label"]
                assert labels == ([] if truth is None else [truth["label"]]), (fmt, name)
