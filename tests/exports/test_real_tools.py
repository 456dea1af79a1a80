"""Every export with its images, loaded by the tools people use: pycocotools, supervision and
globox read what the workers answered (±0.5 px; VOC's whole pixels ±1; masks exact), from
names with folders, spaces, ``+`` and unicode, and non-square images of several sizes."""

from __future__ import annotations

import contextlib
import io
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml
from PIL import Image
from pycocotools import mask as mask_utils
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval

from app.annotations import decode_mask
from app.exports.yolo import label_path
from tests.exports.sample import IMAGES, Sample, sample

pytestmark = [
    # pycocotools' compiled mask code (2.0.11) trips numpy 2's __array__ copy deprecation.
    pytest.mark.filterwarnings(
        "ignore:__array__ implementation doesn't accept a copy keyword:DeprecationWarning"
    ),
    # supervision runs on its NumPy fallback without OpenCV, and says so on import.
    pytest.mark.filterwarnings("ignore:OpenCV:UserWarning"),
]

LABELLED = [name for name, _ in IMAGES[:-1]]


def quiet_coco(path: Path) -> COCO:
    with contextlib.redirect_stdout(io.StringIO()):
        return COCO(str(path))


def evaluate(gt: COCO, detections: list[dict[str, Any]], iou_type: str, **params: Any) -> float:
    with contextlib.redirect_stdout(io.StringIO()):
        evaluator = COCOeval(gt, gt.loadRes(detections), iou_type)
        for name, value in params.items():
            setattr(evaluator.params, name, value)
        evaluator.evaluate()
        evaluator.accumulate()
        evaluator.summarize()
    return float(evaluator.stats[0])


def check_images(root: Path, folder: str, data: Sample) -> None:
    for entry in data.items:
        path = root / folder / entry.image_name
        assert path.read_bytes() == data.images[entry.task_id]
        with Image.open(path) as image:
            assert image.size == (entry.width, entry.height)


def xyxy(box: list[float]) -> list[float]:
    x, y, w, h = box
    return [x, y, x + w, y + h]


def truth_boxes(data: Sample, name: str) -> list[tuple[str, list[float]]]:
    answer = data.truth_of(name)
    if answer is None:
        return []
    boxes = []
    for obj in answer["objects"]:
        if "box" in obj:
            boxes.append((obj["label"], xyxy(obj["box"])))
        else:
            xs, ys = [p[0] for p in obj["points"]], [p[1] for p in obj["points"]]
            boxes.append((obj["label"], [min(xs), min(ys), max(xs), max(ys)]))
    return boxes


# pycocotools ---------------------------------------------------------------------------------


def test_coco_boxes_with_images_evaluate_to_ap_one(tmp_path: Path) -> None:
    data = sample("bbox")
    root = data.unpack("coco", tmp_path)
    check_images(root, "images", data)
    gt = quiet_coco(root / "annotations" / "instances_default.json")
    assert [gt.imgs[i]["file_name"] for i in sorted(gt.imgs)] == [n for n, _ in IMAGES]
    names = {c["id"]: c["name"] for c in gt.loadCats(gt.getCatIds())}
    detections = []
    for image_id, image in gt.imgs.items():
        exported = [
            (names[a["category_id"]], xyxy(a["bbox"]))
            for a in gt.loadAnns(gt.getAnnIds(imgIds=[image_id]))
        ]
        expected = truth_boxes(data, image["file_name"])
        assert [label for label, _ in exported] == [label for label, _ in expected]
        for (_, got), (_, want) in zip(exported, expected, strict=True):
            assert got == pytest.approx(want, abs=0.5)
        labels = {v: k for k, v in names.items()}
        for label, (x0, y0, x1, y1) in expected:
            detections.append(
                {
                    "image_id": image_id,
                    "category_id": labels[label],
                    "bbox": [x0, y0, x1 - x0, y1 - y0],
                    "score": 1.0,
                }
            )
    assert evaluate(gt, detections, "bbox") == pytest.approx(1.0)


def test_coco_polygons_evaluate_segm_to_ap_one(tmp_path: Path) -> None:
    data = sample("polygon")
    root = data.unpack("coco", tmp_path)
    check_images(root, "images", data)
    gt = quiet_coco(root / "annotations" / "instances_default.json")
    detections = []
    for image_id, image in gt.imgs.items():
        answer = data.truth_of(image["file_name"])
        annotations = gt.loadAnns(gt.getAnnIds(imgIds=[image_id]))
        assert len(annotations) == (0 if answer is None else len(answer["objects"]))
        for ann, obj in zip(annotations, (answer or {"objects": []})["objects"], strict=True):
            flat = [c for point in obj["points"] for c in point]
            assert ann["segmentation"][0] == pytest.approx(flat, abs=0.5)
            rle = mask_utils.merge(mask_utils.frPyObjects([flat], image["height"], image["width"]))
            rle["counts"] = rle["counts"].decode()
            detections.append(
                {
                    "image_id": image_id,
                    "category_id": ann["category_id"],
                    "segmentation": rle,
                    "score": 1.0,
                }
            )
    assert evaluate(gt, detections, "segm") == pytest.approx(1.0)


def test_coco_keypoints_evaluate_with_the_exported_sigmas(tmp_path: Path) -> None:
    data = sample("keypoints")
    root = data.unpack("coco", tmp_path)
    check_images(root, "images", data)
    path = root / "annotations" / "person_keypoints_default.json"
    [category] = json.loads(path.read_bytes())["categories"]
    assert category["keypoints"] == ["left_eye", "right_eye", "nose"]
    sigmas = np.array(category["sigmas"])
    assert sigmas.shape == (3,)
    assert (sigmas > 0).all()
    gt = quiet_coco(path)
    detections = []
    for image_id, image in gt.imgs.items():
        answer = data.truth_of(image["file_name"])
        for ann, obj in zip(
            gt.loadAnns(gt.getAnnIds(imgIds=[image_id])),
            (answer or {"objects": []})["objects"],
            strict=True,
        ):
            flat = [float(c) for point in obj["points"] for c in point]
            assert ann["keypoints"] == pytest.approx(flat, abs=0.5)
            detections.append(
                {"image_id": image_id, "category_id": 1, "keypoints": flat, "score": 1.0}
            )
    assert len(detections) == len(LABELLED)
    assert evaluate(gt, detections, "keypoints", kpt_oks_sigmas=sigmas) == pytest.approx(1.0)


def test_coco_stuff_masks_are_exact(tmp_path: Path) -> None:
    data = sample("segmentation")
    root = data.unpack("coco", tmp_path)
    check_images(root, "images", data)
    gt = quiet_coco(root / "annotations" / "stuff_default.json")
    for image_id, image in gt.imgs.items():
        answer = data.truth_of(image["file_name"])
        annotations = gt.loadAnns(gt.getAnnIds(imgIds=[image_id]))
        if answer is None:
            assert annotations == []
            continue
        mask = decode_mask(answer, image["width"], image["height"])
        assert {a["category_id"] for a in annotations} == {1, 2}
        for ann in annotations:
            assert np.array_equal(gt.annToMask(ann), mask == ann["category_id"])
            rle = mask_utils.frPyObjects(ann["segmentation"], image["height"], image["width"])
            assert int(mask_utils.area(rle)) == ann["area"]


# supervision ---------------------------------------------------------------------------------


def _supervision_boxes(
    dataset: Any, classes: list[str], *, keep_path: bool = False
) -> dict[str, list[tuple[str, list[float]]]]:
    found = {}
    for path, _image, detections in dataset:
        class_ids = [] if detections.class_id is None else list(detections.class_id)
        found[path if keep_path else Path(path).name] = [
            (classes[int(c)], [float(v) for v in box])
            for c, box in zip(class_ids, detections.xyxy, strict=True)
        ]
    return found


def _compare(
    found: list[tuple[str, list[float]]], expected: list[tuple[str, list[float]]], tolerance: float
) -> None:
    assert sorted(label for label, _ in found) == sorted(label for label, _ in expected)
    for (label, got), (label_2, want) in zip(sorted(found), sorted(expected), strict=True):
        assert label == label_2
        assert got == pytest.approx(want, abs=tolerance)


@pytest.mark.parametrize("kind", ["bbox", "polygon"])
def test_supervision_loads_coco_yolo_and_voc(kind: str, tmp_path: Path) -> None:
    import supervision as sv

    data = sample(kind)
    coco_root = data.unpack("coco", tmp_path / "coco")
    coco = sv.DetectionDataset.from_coco(
        images_directory_path=str(coco_root / "images"),
        annotations_path=str(coco_root / "annotations" / "instances_default.json"),
    )
    assert len(coco) == len(IMAGES)
    by_name = {
        Path(path).relative_to(coco_root / "images").as_posix(): boxes
        for path, boxes in _supervision_boxes(coco, coco.classes, keep_path=True).items()
    }
    assert set(by_name) == {n for n, _ in IMAGES}
    for name, found in by_name.items():
        _compare(found, truth_boxes(data, name), 0.5)

    # supervision lists one folder (not its subfolders): load each folder of the dataset.
    folders = sorted({str(Path(name).parent) for name, _ in IMAGES})
    yolo_root = data.unpack("yolo", tmp_path / "yolo")
    voc_root = data.unpack("voc", tmp_path / "voc")
    seen = 0
    for folder in folders:
        expected = {
            Path(n).name: truth_boxes(data, n) for n, _ in IMAGES if str(Path(n).parent) == folder
        }
        yolo = sv.DetectionDataset.from_yolo(
            images_directory_path=str(yolo_root / "images" / folder),
            annotations_directory_path=str(yolo_root / "labels" / folder),
            data_yaml_path=str(yolo_root / "data.yaml"),
            force_masks=kind == "polygon",
        )
        from_yolo = _supervision_boxes(yolo, yolo.classes)
        assert set(from_yolo) == set(expected), folder
        for name, boxes in from_yolo.items():
            _compare(boxes, expected[name], 0.5)
        voc = sv.DetectionDataset.from_pascal_voc(
            images_directory_path=str(voc_root / "JPEGImages" / folder),
            annotations_directory_path=str(voc_root / "Annotations" / folder),
        )
        from_voc = _supervision_boxes(voc, voc.classes)
        assert set(from_voc) == set(expected), folder
        for name, boxes in from_voc.items():
            _compare(boxes, expected[name], 1.0)  # VOC boxes are whole pixels
        seen += len(from_voc)
    assert seen == len(IMAGES)


# globox --------------------------------------------------------------------------------------


def test_globox_reads_coco_yolo_and_voc_with_ap_one(tmp_path: Path) -> None:
    from globox import Annotation, AnnotationSet, BoundingBox, COCOEvaluator

    data = sample("bbox")
    truth = AnnotationSet()

    for name, (width, height) in IMAGES:
        boxes = [
            BoundingBox.create(label=label, coords=tuple(box), confidence=1.0)
            for label, box in truth_boxes(data, name)
        ]
        truth.add(Annotation(image_id=name, image_size=(width, height), boxes=boxes))

    coco_root = data.unpack("coco", tmp_path / "coco")
    coco = AnnotationSet.from_coco(coco_root / "annotations" / "instances_default.json")
    # globox's YOLO folder reader keys images by stem with one extension; read file by file.
    yolo_root = data.unpack("yolo", tmp_path / "yolo")
    names = yaml.safe_load((yolo_root / "data.yaml").read_text())["names"]
    yolo = AnnotationSet()
    for name, size in IMAGES:
        label_file = yolo_root / label_path(f"images/{name}")
        parsed = Annotation.from_yolo_v5(label_file, image_size=size)
        yolo.add(
            Annotation(
                image_id=name,
                image_size=size,
                boxes=[
                    BoundingBox.create(
                        label=names[int(b.label)], coords=b.ltrb, confidence=b.confidence
                    )
                    for b in parsed.boxes
                ],
            )
        )
    voc_root = data.unpack("voc", tmp_path / "voc")
    voc = AnnotationSet.from_pascal_voc(voc_root / "Annotations", recursive=True)
    for parsed in (coco, yolo, voc):
        assert len(parsed) == len(IMAGES)
        assert sorted(parsed.image_ids) == sorted(n for n, _ in IMAGES)
        ap = COCOEvaluator(ground_truths=parsed, predictions=truth).ap_50()
        assert ap == pytest.approx(1.0)
