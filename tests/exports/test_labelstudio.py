"""Label Studio JSON: regions in percent of the image, as Label Studio stores them; CVAT XML
parses and holds every shape (the Datumaro tests load both CVAT and Datumaro with the tool)."""

from __future__ import annotations

import io
import json
import xml.etree.ElementTree as ET
import zipfile

import pytest

from tests.exports.sample import IMAGES, sample


def test_boxes_are_percent_of_the_image_and_images_ride_along() -> None:
    data = sample("bbox")
    tasks = json.loads(data.export("labelstudio", images=False))
    assert [t["data"]["image_name"] for t in tasks] == [n for n, _ in IMAGES]
    first = tasks[0]["annotations"][0]["result"]
    width, height = IMAGES[0][1]
    x, y, w, h = data.items[0].answer["objects"][0]["box"]  # type: ignore[index]
    value = first[0]["value"]
    assert first[0]["type"] == "rectanglelabels"
    assert value["rectanglelabels"] == ["car"]
    assert (value["x"], value["y"], value["width"], value["height"]) == pytest.approx(
        (100 * x / width, 100 * y / height, 100 * w / width, 100 * h / height)
    )
    assert (first[0]["original_width"], first[0]["original_height"]) == (width, height)
    assert tasks[-1]["annotations"] == []  # no consensus yet
    with zipfile.ZipFile(io.BytesIO(data.export("labelstudio"))) as archive:
        names = set(archive.namelist())
        assert json.loads(archive.read("tasks.json")) == tasks
    assert names == {"tasks.json", *(f"images/{n}" for n, _ in IMAGES)}


@pytest.mark.parametrize("kind", ["classification", "polygon", "keypoints", "points"])
def test_every_shape_kind_writes(kind: str) -> None:
    data = sample(kind)
    tasks = json.loads(data.export("labelstudio", images=False))
    regions = tasks[0]["annotations"][0]["result"]
    expected = {
        "classification": "choices",
        "polygon": "polygonlabels",
        "keypoints": "keypointlabels",
        "points": "keypointlabels",
    }[kind]
    assert {r["type"] for r in regions} == {expected}


def test_cvat_xml_declares_labels_and_holds_skeletons() -> None:
    data = sample("keypoints")
    with zipfile.ZipFile(io.BytesIO(data.export("cvat"))) as archive:
        root = ET.fromstring(archive.read("annotations.xml"))
    assert root.findtext("version") == "1.1"
    [label] = root.findall("meta/task/labels/label")
    assert label.findtext("type") == "skeleton"
    assert [n.text for n in label.findall("sublabels/label/name")] == [
        "left_eye",
        "right_eye",
        "nose",
    ]
    images = root.findall("image")
    assert [i.get("name") for i in images] == [n for n, _ in IMAGES]
    skeleton = images[0].find("skeleton")
    assert skeleton is not None
    assert [p.get("label") for p in skeleton.findall("points")] == [
        "left_eye",
        "right_eye",
        "nose",
    ]
    assert [p.get("occluded") for p in skeleton.findall("points")] == ["0", "0", "1"]
