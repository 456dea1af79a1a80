"""Labels uploaded with the images (every export format that carries labels) become
pre-annotations, validated like any answer, with a per-file report; export → import → export
gives the same labels (±0.5 px, masks exact), for every format of every type.

The sample batch (tests/exports/sample.py) has names with folders, spaces, ``+``, unicode and
one base name in two folders, non-square images of several sizes, and one image without
consensus (exported with no labels: imported as no pre-annotation).
"""

from __future__ import annotations

import base64
import csv
import io
import json
import zipfile
from dataclasses import replace
from typing import Any
from xml.etree import ElementTree

import httpx
import numpy as np
import pytest
from fastapi.testclient import TestClient
from PIL import Image
from sqlalchemy import select

from app.annotations import annotation_kind
from app.exports import ExportItem, export, formats_for
from app.exports.shapes import Shape
from app.images import ImageLimits, fetch_image
from app.models import Task
from tests.conftest import FakeClock
from tests.exports.sample import IMAGES, SPECS, Sample, sample
from tests.factories import make_project, signup, zip_of
from workers.images import FetchImages
from workers.runner import run_pass

CASES = [(kind, fmt) for kind in SPECS for fmt in formats_for(kind)]
LOSSY = {("polygon", "voc")}
"""VOC holds a polygon's box only: the round trip is checked on the second export alone."""
TOLERANCE = {"yolo": 1e-5, "labelstudio": 0.01}
"""How far a number of a format's files may move between the exports (pixels, unless the
format normalises: YOLO 0..1, Label Studio percent)."""


def _pre_annotations(client: TestClient, batch_id: str) -> dict[str, Any]:
    with client.app.state.sessionmaker() as session:  # type: ignore[attr-defined]
        tasks = session.scalars(select(Task).where(Task.batch_id == batch_id)).all()
        return {t.image_name: t.pre_annotation for t in tasks}


def _upload(
    client: TestClient,
    data: Sample,
    files: list[Any],
    *,
    headers: list[Any] | None = None,
    **form: str,
) -> Any:
    """Upload to a new project of the sample's spec; ``headers`` gets the requester's."""
    requester = signup(client, "requester")
    if headers is not None:
        headers.append(requester)
    project = make_project(client, requester, annotation=data.spec.model_dump(exclude_none=True))
    return client.post(
        f"/v1/projects/{project['id']}/batches", files=files, data=form, headers=requester
    )


def _tree(name: str, content: bytes) -> Any:
    """A label file as numbers and strings, whatever its format (so numbers compare ±tol)."""
    lower = name.lower()
    if lower.endswith(".png"):
        with Image.open(io.BytesIO(content)) as image:
            return np.asarray(image).tolist()
    if lower.endswith(".json"):
        return _numbers(json.loads(content))
    if lower.endswith(".xml"):
        return _xml(ElementTree.fromstring(content))
    if lower.endswith(".csv"):
        rows = list(csv.DictReader(io.StringIO(content.decode())))
        return [_numbers(row) for row in rows]
    return [[_number(token) for token in line.split()] for line in content.decode().splitlines()]


def _number(text: Any) -> Any:
    try:
        return float(text)
    except (TypeError, ValueError):
        return text


def _numbers(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _numbers(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_numbers(v) for v in value]
    if isinstance(value, str) and ";" in value and "," in value:  # CVAT's x,y;x,y
        return [[_number(c) for c in pair.split(",")] for pair in value.split(";")]
    return _number(value) if isinstance(value, str) else value


def _xml(node: ElementTree.Element) -> Any:
    return [
        node.tag,
        _numbers(dict(node.attrib)),
        _number((node.text or "").strip()),
        [_xml(child) for child in node],
    ]


def _close(a: Any, b: Any, tol: float, where: str = "") -> None:
    if isinstance(a, float | int) and isinstance(b, float | int):
        assert abs(a - b) <= tol + 1e-9, f"{where}: {a} != {b}"
    elif isinstance(a, dict) and isinstance(b, dict):
        assert a.keys() == b.keys(), f"{where}: {sorted(a)} != {sorted(b)}"
        for key in a:
            _close(a[key], b[key], tol, f"{where}.{key}")
    elif isinstance(a, list) and isinstance(b, list):
        assert len(a) == len(b), f"{where}: {len(a)} items != {len(b)}"
        for index, (x, y) in enumerate(zip(a, b, strict=True)):
            _close(x, y, tol, f"{where}[{index}]")
    else:
        assert a == b, f"{where}: {a!r} != {b!r}"


def _label_files(data: bytes, fmt: str) -> dict[str, bytes]:
    """A download's files but the images and the manifest (with images, every format zips)."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        names = [
            n
            for n in archive.namelist()
            if not n.startswith(("images/", "JPEGImages/", "tessera/"))
        ]
        if fmt == "folders":
            return {"names": "\n".join(sorted(names)).encode()}
        return {n: archive.read(n) for n in names}


def _shapes(data: Sample, name: str, answer: dict[str, Any] | None) -> list[Shape]:
    entry = next(i for i in data.items if i.image_name == name)
    codec = annotation_kind(data.spec.type).shapes
    assert codec is not None
    return [] if answer is None else codec.shapes(data.spec, replace(entry, answer=answer))


def _same_shapes(truth: list[Shape], got: list[Shape], tol: float, where: str) -> None:
    assert [(s.kind, s.label) for s in got] == [(s.kind, s.label) for s in truth], where
    for t, g in zip(truth, got, strict=True):
        _close([list(p) for p in g.points], [list(p) for p in t.points], tol, where)
        assert (g.visibility or []) == (t.visibility or []), where
        if t.mask is not None:
            assert g.mask is not None
            assert (g.mask == t.mask).all(), f"{where}: masks differ"


@pytest.mark.parametrize(("kind", "fmt"), CASES)
def test_export_import_export_gives_the_same_labels(
    client: TestClient, kind: str, fmt: str
) -> None:
    data = sample(kind)
    exported = data.export(fmt)
    r = _upload(client, data, [("files", (f"{kind} {fmt}.zip", exported, "application/zip"))])
    assert r.status_code == 201, r.text
    report = r.json()["upload_report"]["labels"]
    assert report, "no label file was read"
    assert all("problems" not in entry for entry in report), report
    pre = _pre_annotations(client, r.json()["id"])
    expected = {i.image_name for i in data.items if fmt != "folders" or i.answer is not None}
    assert set(pre) == expected
    tol = TOLERANCE.get(fmt, 0.5)
    pixels = 1.0 if fmt == "voc" else 0.5  # VOC's whole pixels cover the answer's box
    for entry in data.items:
        if entry.image_name not in pre:
            continue
        truth = entry.answer
        if truth == {"labels": []} and fmt not in ("csv", "labelstudio"):
            truth = None  # CVAT and Datumaro cannot tell "none of them" from "no answer"
        if truth is None:
            assert pre[entry.image_name] is None, entry.image_name
        elif (kind, fmt) not in LOSSY:
            assert pre[entry.image_name] is not None, entry.image_name
            _same_shapes(
                _shapes(data, entry.image_name, truth),
                _shapes(data, entry.image_name, pre[entry.image_name]),
                pixels,
                f"{fmt} {entry.image_name}",
            )
    items: list[ExportItem] = [
        replace(i, answer=pre[i.image_name]) for i in data.items if i.image_name in pre
    ]
    if fmt == "folders":
        items += [i for i in data.items if i.image_name not in pre]
    again = b"".join(export(fmt, data.spec, items, images=data.read).chunks)
    first, second = _label_files(exported, fmt), _label_files(again, fmt)
    assert sorted(first) == sorted(second)
    for name in first:
        _close(_tree(name, second[name]), _tree(name, first[name]), tol, f"{fmt} {name}")


def test_what_does_not_match_is_reported_per_file(client: TestClient) -> None:
    data = sample("bbox")
    files = {f"images/{n}": data.images[f"tsk_{i}"] for i, (n, _) in enumerate(IMAGES)}
    coco = {
        "images": [
            {"id": 1, "file_name": "train/cat.jpg", "width": 160, "height": 90},
            {"id": 2, "file_name": "missing.jpg", "width": 10, "height": 10},
        ],
        "categories": [{"id": 1, "name": "car"}, {"id": 2, "name": "tractor"}],
        "annotations": [
            {"id": 1, "image_id": 1, "category_id": 1, "bbox": [1, 2, 30, 20]},
            {"id": 2, "image_id": 1, "category_id": 2, "bbox": [1, 2, 30, 20]},
            {"id": 3, "image_id": 1, "category_id": 1, "bbox": [150, 80, 30, 20]},
        ],
    }
    files["annotations/coco.json"] = json.dumps(coco).encode()
    files["labels/val/cat.txt"] = b"0 0.5 0.5 0.2 0.2\n"  # no classes.txt / data.yaml
    files["notes.xml"] = b"<x/>"
    files["Annotations/dog+cat 06.xml"] = (
        b"<annotation><filename>dog+cat 06.jpg</filename><object><name>person</name><bndbox>"
        b"<xmin>1</xmin><ymin>1</ymin><xmax>10</xmax><ymax>10</ymax></bndbox></object>"
        b"<object><name>bus</name><bndbox><xmin>1</xmin><ymin>1</ymin><xmax>10</xmax>"
        b"<ymax>10</ymax></bndbox></object></annotation>"
    )
    r = _upload(client, data, [("files", ("set.zip", zip_of(files), "application/zip"))])
    assert r.status_code == 201, r.text
    report = {e["file"]: e for e in r.json()["upload_report"]["labels"]}
    coco_entry = report["annotations/coco.json"]
    assert coco_entry["format"] == "coco"
    assert coco_entry["images"] == 1
    assert coco_entry["problems"][:2] == [
        "image 'missing.jpg' is not in the upload",
        "annotation 2: 'tractor' is not a project label",
    ]
    # The box outside the image makes that image's answer invalid: reported, not stored.
    assert "box is outside the image" in coco_entry["problems"][2]
    assert coco_entry["problem_count"] == 3
    assert "classes" in report["labels/val/cat.txt"]["problems"][0]
    assert "not read" in report["notes.xml"]["problems"][0]
    voc = report["Annotations/dog+cat 06.xml"]
    assert voc["format"] == "voc"
    assert voc["objects"] == 1
    assert voc["problems"] == ["object 2: 'bus' is not a project label"]
    pre = _pre_annotations(client, r.json()["id"])
    assert pre["train/cat.jpg"] is None
    assert pre["dog+cat 06.jpg"] == {"objects": [{"label": "person", "box": [0, 0, 10, 10]}]}


@pytest.mark.parametrize(
    ("name", "content", "reason"),
    [
        ("labels.json", b'{"images": [', "not valid JSON"),
        ("annotations.xml", b"<annotations><image></annotations>", "not well-formed XML"),
        ("labels/train/cat.txt", b"0 0.5 zero 0.1 0.1\n", "expected a number"),
        (
            "coco.json",
            json.dumps({"images": [], "annotations": [{"id": 1}]}).encode(),
            "no image_id or category_id",
        ),
        (
            "bomb.xml",
            b'<?xml version="1.0"?><!DOCTYPE a [<!ENTITY x "xx">]><annotations>&x;</annotations>',
            "refused XML",
        ),
    ],
)
def test_a_malformed_label_file_refuses_the_upload(
    client: TestClient, name: str, content: bytes, reason: str
) -> None:
    data = sample("bbox")
    files = {"images/train/cat.jpg": data.images["tsk_0"], name: content, "classes.txt": b"car\n"}
    r = _upload(client, data, [("files", ("set.zip", zip_of(files), "application/zip"))])
    assert r.status_code == 422, r.text
    problem = r.json()
    assert problem["type"].endswith("/label-file-invalid")
    assert problem["file"] == name
    assert reason in problem["detail"]


def test_labels_format_reads_only_that_format(client: TestClient) -> None:
    data = sample("bbox")
    exported = zipfile.ZipFile(io.BytesIO(data.export("voc")))
    files = {n: exported.read(n) for n in exported.namelist()}
    coco = data.export("coco", images=False)
    files["annotations/instances_default.json"] = coco
    r = _upload(
        client,
        data,
        [("files", ("set.zip", zip_of(files), "application/zip"))],
        labels_format="voc",
    )
    assert r.status_code == 201, r.text
    report = {e["file"]: e for e in r.json()["upload_report"]["labels"]}
    assert report["annotations/instances_default.json"]["problems"] == [
        "not read: labels_format is voc"
    ]
    assert {e.get("format") for e in report.values()} == {"voc", None}
    r = _upload(
        client,
        data,
        [("files", ("set.zip", zip_of(files), "application/zip"))],
        labels_format="tabular",
    )
    assert r.status_code == 422
    assert r.json()["errors"][0]["loc"] == ["body", "labels_format"]


def test_images_added_to_a_draft_bring_their_labels(client: TestClient) -> None:
    data = sample("bbox")
    exported = zipfile.ZipFile(io.BytesIO(data.export("yolo")))
    files = {n: exported.read(n) for n in exported.namelist()}
    first = {n: v for n, v in files.items() if "train/" not in n}
    headers: list[Any] = []
    r = _upload(
        client, data, [("files", ("a.zip", zip_of(first), "application/zip"))], headers=headers
    )
    assert r.status_code == 201, r.text
    batch = r.json()["id"]
    second = {n: v for n, v in files.items() if "train/" in n or n == "data.yaml"}
    r = client.post(
        f"/v1/batches/{batch}/images",
        files=[("files", ("b.zip", zip_of(second), "application/zip"))],
        headers=headers[0],
    )
    assert r.status_code == 200, r.text
    assert r.json()["labels"] == [
        {"file": "labels/train/cat.txt", "format": "yolo", "image": "train/cat.jpg", "objects": 2}
    ]
    assert [a["name"] for a in r.json()["added"]] == ["train/cat.jpg"]
    pre = _pre_annotations(client, batch)
    assert pre["train/cat.jpg"] is not None
    assert pre["val/cat.jpg"] is not None
    report = r.json()["batch"]["upload_report"]
    assert len(report["labels"]) == 5
    assert report["skipped"] == []  # an empty label file is read: "no objects"


def test_labels_beside_a_url_list(client: TestClient, clock: FakeClock) -> None:
    data = sample("bbox")
    served = {f"/{i.task_id}.img": data.images[i.task_id] for i in data.items}

    def handler(request: httpx.Request) -> httpx.Response:
        body = served.get(request.url.path)
        return httpx.Response(200, content=body) if body else httpx.Response(404)

    def fetcher(url: str, limits: ImageLimits) -> bytes:
        with httpx.Client(transport=httpx.MockTransport(handler)) as mock:
            return fetch_image(url, limits, client=mock, resolver=lambda host: ["93.184.216.34"])

    client.app.state.url_resolver = lambda host: ["93.184.216.34"]  # type: ignore[attr-defined]
    coco = data.export("coco", images=False)
    yolo = zipfile.ZipFile(io.BytesIO(data.export("yolo", images=False)))
    requester = signup(client, "requester")
    project = make_project(client, requester, annotation=data.spec.model_dump(exclude_none=True))
    body = {
        "images": [
            {"url": f"https://images.example.com/{i.task_id}.img", "name": i.image_name}
            for i in data.items
        ],
        "labels": [
            {"name": "annotations/instances_default.json", "data_base64": _b64(coco)},
            {"name": "labels/val/cat.txt", "data_base64": _b64(yolo.read("labels/val/cat.txt"))},
            {"name": "classes.txt", "data_base64": _b64(yolo.read("classes.txt"))},
        ],
    }
    r = client.post(f"/v1/projects/{project['id']}/batches", headers=requester, json=body)
    assert r.status_code == 201, r.text
    batch = r.json()["id"]
    report = {e["file"]: e for e in r.json()["upload_report"]["labels"]}
    assert "problems" not in report["annotations/instances_default.json"]
    assert "size is unknown until it is downloaded" in report["labels/val/cat.txt"]["problems"][0]
    store = client.app.state.image_store  # type: ignore[attr-defined]
    run_pass(
        client.app.state.sessionmaker,  # type: ignore[attr-defined]
        [FetchImages(store, ImageLimits(), fetcher)],
        clock(),
    )
    pre = _pre_annotations(client, batch)
    assert set(pre) == {i.image_name for i in data.items}
    for entry in data.items:
        got, truth = pre[entry.image_name], entry.answer
        if truth is None:
            assert got is None
            continue
        _same_shapes(
            _shapes(data, entry.image_name, truth),
            _shapes(data, entry.image_name, got),
            0.5,
            entry.image_name,
        )


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


@pytest.mark.parametrize(
    ("kind", "fmt"),
    [
        ("keypoints", "coco"),
        ("segmentation", "masks"),
        ("bbox", "yolo"),
        ("classification", "folders"),
    ],
)
def test_gold_from_a_dataset(client: TestClient, kind: str, fmt: str) -> None:
    data = sample(kind)
    requester = signup(client, "requester")
    project = make_project(client, requester, annotation=data.spec.model_dump(exclude_none=True))
    files = [("files", (f"gold {fmt}.zip", data.export(fmt), "application/zip"))]
    r = client.post(f"/v1/projects/{project['id']}/gold/import", files=files, headers=requester)
    assert r.status_code == 201, r.text
    body = r.json()
    answered = [i for i in data.items if i.answer is not None]
    assert [g["image_name"] for g in body["items"]] == [i.image_name for i in answered]
    for gold, entry in zip(body["items"], answered, strict=True):
        _same_shapes(
            _shapes(data, entry.image_name, entry.answer),
            _shapes(data, entry.image_name, gold["answer"]),
            0.5,
            entry.image_name,
        )
    problems = [p for e in body["labels"] for p in e.get("problems", [])]
    if fmt == "folders":
        assert problems == []  # the image without consensus is not in the export at all
    else:  # the manifest says it had no consensus: its empty labels are not a known answer
        assert problems == ["chat été/猫 1.png: no label file answers it; not made gold"]


def test_gold_needs_an_answer_and_a_readable_file(client: TestClient) -> None:
    data = sample("bbox")
    requester = signup(client, "requester")
    project = make_project(client, requester, annotation=data.spec.model_dump(exclude_none=True))
    url = f"/v1/projects/{project['id']}/gold/import"
    image = ("files", ("cat.jpg", data.images["tsk_0"], "image/jpeg"))
    r = client.post(url, files=[image], headers=requester)
    assert r.status_code == 422
    assert r.json()["type"].endswith("/empty-upload")
    assert r.json()["labels"][0]["problems"] == ["cat.jpg: no label file answers it; not made gold"]
    broken = ("files", ("coco.json", b"{", "application/json"))
    r = client.post(url, files=[image, broken], headers=requester)
    assert r.status_code == 422
    assert r.json()["type"].endswith("/label-file-invalid")
    empty = {"images": [{"id": 1, "file_name": "cat.jpg"}], "annotations": [], "categories": []}
    nothing = ("files", ("coco.json", json.dumps(empty).encode(), "application/json"))
    r = client.post(url, files=[image, nothing], headers=requester)
    assert r.status_code == 201, r.text
    assert r.json()["items"][0]["answer"] == {"objects": []}  # "no object here" is an answer
