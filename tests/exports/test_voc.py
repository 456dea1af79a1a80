"""Pascal VOC zips parse with globox; boxes round outward to 1-based whole pixels."""

from __future__ import annotations

from pathlib import Path
from xml.etree import ElementTree as ET

import pytest
from globox import AnnotationSet

from app.exports.voc import voc_box
from tests.exports.helpers import item, run, spec, unzip

BOXES = spec("bbox", ["car", "person"])


def write(tmp_path: Path, files: dict[str, bytes], folder: str = "Annotations/") -> Path:
    for name, data in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return tmp_path / folder


def test_bbox_parses_with_globox(tmp_path: Path) -> None:
    items = [
        item(
            BOXES,
            "tsk_1",
            "dir/a.jpg",
            {
                "objects": [
                    {"label": "car", "box": [10, 20, 30, 40]},
                    {"label": "person", "box": [0.4, 0.5, 99.6, 79.5]},
                ]
            },
            object_confidences=[0.75, 0.5],
        ),
        item(BOXES, "tsk_2", "pending.jpg", None, width=64, height=48),
    ]
    files = unzip(run("voc", BOXES, items))
    assert sorted(files) == [
        "Annotations/dir/a.xml",
        "Annotations/pending.xml",
        "ImageSets/Main/default.txt",
        "labelmap.txt",
        "tessera/manifest.csv",
    ]
    assert files["ImageSets/Main/default.txt"] == b"dir/a\npending\n"
    assert files["labelmap.txt"].decode().splitlines()[1:] == [
        "background:0,0,0::",
        "car:128,0,0::",
        "person:0,128,0::",
    ]

    parsed = AnnotationSet.from_pascal_voc(write(tmp_path, files))
    a = AnnotationSet.from_pascal_voc(tmp_path / "Annotations" / "dir")["dir/a.jpg"]
    assert a.image_size == (100, 80)
    assert [box.label for box in a.boxes] == ["car", "person"]
    assert a.boxes[0].ltrb == (11, 21, 40, 60)
    assert a.boxes[1].ltrb == (1, 1, 100, 80)
    pending = parsed["pending.jpg"]
    assert pending.image_size == (64, 48)
    assert pending.boxes == []  # exported without objects, not dropped

    root = ET.fromstring(files["Annotations/dir/a.xml"])
    assert root.findtext("folder") == "JPEGImages"
    assert root.findtext("size/depth") == "3"
    assert root.findtext("object/tessera_confidence") == "0.75"
    assert root.findtext("source/tessera_task_id") == "tsk_1"


def test_polygons_export_their_bounding_boxes(tmp_path: Path) -> None:
    polygons = spec("polygon", ["tree"])
    answer = {"objects": [{"label": "tree", "points": [[10.2, 8], [50, 8.9], [30.5, 72.1]]}]}
    files = unzip(run("voc", polygons, [item(polygons, "tsk_1", "p.jpg", answer)]))
    parsed = AnnotationSet.from_pascal_voc(write(tmp_path, files))
    assert parsed["p.jpg"].boxes[0].ltrb == (11, 9, 50, 73)


@pytest.mark.parametrize(
    ("box", "expected"),
    [
        ([0, 0, 100, 80], (1, 1, 100, 80)),  # the whole image
        ([10, 20, 30, 40], (11, 21, 40, 60)),  # whole pixels 10..39 → 11..40
        ([10.5, 20.5, 1, 1], (11, 21, 12, 22)),  # straddles two pixels each way
        ([10.5, 20.5, 0, 0], (11, 21, 11, 21)),  # degenerate: one pixel, never inverted
        ([9.9999999, 0, 10.0000002, 1], (11, 1, 20, 1)),  # float noise is forgiven
        ([99.5, 79.5, 0.5, 0.5], (100, 80, 100, 80)),  # the last pixel
    ],
)
def test_rounding(box: list[float], expected: tuple[int, int, int, int]) -> None:
    assert voc_box(box, 100, 80) == expected


def test_names_are_valid_xml_and_keep_their_folders(tmp_path: Path) -> None:
    odd = spec("bbox", ["<car & co>", "bell & whistle"])
    items = [
        item(
            odd, "tsk_1", "x/img.jpg", {"objects": [{"label": "<car & co>", "box": [1, 1, 5, 5]}]}
        ),
        item(
            odd,
            "tsk_2",
            "y/img.jpg",
            {"objects": [{"label": "bell & whistle", "box": [1, 1, 5, 5]}]},
        ),
    ]
    files = unzip(run("voc", odd, items))
    assert "Annotations/x/img.xml" in files
    assert "Annotations/y/img.xml" in files
    second = ET.fromstring(files["Annotations/y/img.xml"])
    assert second.findtext("filename") == "y/img.jpg"
    assert second.findtext("source/tessera_image_name") == "y/img.jpg"
    parsed = AnnotationSet.from_pascal_voc(write(tmp_path / "x", files, "Annotations/x/"))
    labels = sorted(box.label for annotation in parsed for box in annotation.boxes)
    assert labels == ["<car & co>"]
