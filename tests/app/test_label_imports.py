"""Labels uploaded with the images (COCO JSON, YOLO label files, in the same zip) become
pre-annotations, validated like any answer, with a per-file report; export → import → export
gives the same labels."""

from __future__ import annotations

import io
import json
import zipfile
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from app.exports import ExportItem, export
from app.models import Task
from tests.exports.sample import IMAGES, sample
from tests.factories import make_project, signup, zip_of

CASES = [
    ("bbox", "coco"),
    ("bbox", "yolo"),
    ("polygon", "coco"),
    ("polygon", "yolo"),
    ("keypoints", "coco"),
    ("keypoints", "yolo"),
    ("points", "coco"),
]


def _labels(data: bytes, fmt: str) -> Any:
    """What a download says about the labels (not about confidences or task ids)."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        if fmt == "coco":
            [name] = [n for n in archive.namelist() if n.startswith("annotations/")]
            document = json.loads(archive.read(name))
            files = {i["id"]: i["file_name"] for i in document["images"]}
            return sorted(
                (
                    files[a["image_id"]],
                    a["category_id"],
                    [round(v, 3) for v in a["bbox"]],
                    a.get("keypoints"),
                    a.get("segmentation"),
                )
                for a in document["annotations"]
            )
        return {
            n: archive.read(n).decode()
            for n in archive.namelist()
            if n.startswith("labels/") or n == "data.yaml"
        }


def _pre_annotations(client: TestClient, batch_id: str) -> dict[str, Any]:
    with client.app.state.sessionmaker() as session:  # type: ignore[attr-defined]
        tasks = session.scalars(select(Task).where(Task.batch_id == batch_id)).all()
        return {t.image_name: t.pre_annotation for t in tasks}


@pytest.mark.parametrize(("kind", "fmt"), CASES)
def test_export_import_export_gives_the_same_labels(
    client: TestClient, kind: str, fmt: str
) -> None:
    data = sample(kind)
    exported = data.export(fmt)
    requester = signup(client, "requester")
    project = make_project(client, requester, annotation=data.spec.model_dump(exclude_none=True))
    r = client.post(
        f"/v1/projects/{project['id']}/batches",
        files=[("files", (f"{kind}.zip", exported, "application/zip"))],
        headers=requester,
    )
    assert r.status_code == 201, r.text
    report = r.json()["upload_report"]["labels"]
    assert all("problems" not in entry for entry in report), report
    pre = _pre_annotations(client, r.json()["id"])
    assert set(pre) == {n for n, _ in IMAGES}
    assert pre[IMAGES[-1][0]] is None  # no labels in the file: no pre-annotation
    items = [
        ExportItem(i.task_id, i.image_name, i.width, i.height, pre[i.image_name], i.confidence)
        for i in data.items
    ]
    again = b"".join(export(fmt, data.spec, items, images=data.read).chunks)
    assert _labels(again, fmt) == _labels(exported, fmt)


def test_what_does_not_match_is_reported_per_file(client: TestClient) -> None:
    data = sample("bbox")
    requester = signup(client, "requester")
    project = make_project(client, requester, annotation=data.spec.model_dump(exclude_none=True))
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
    r = client.post(
        f"/v1/projects/{project['id']}/batches",
        files=[("files", ("set.zip", zip_of(files), "application/zip"))],
        headers=requester,
    )
    assert r.status_code == 201, r.text
    report = {e["file"]: e for e in r.json()["upload_report"]["labels"]}
    assert report["annotations/coco.json"]["images"] == 1
    assert report["annotations/coco.json"]["problems"] == [
        "image 'missing.jpg' is not in the upload",
        "annotation 2: category is not a project label",
    ]
    assert "classes" in report["labels/val/cat.txt"]["problems"][0]
    assert "not read" in report["notes.xml"]["problems"][0]
    # The box outside the image makes the whole answer invalid: reported, not stored.
    assert "box is outside the image" in report["(all label files)"]["problems"][0]
    assert _pre_annotations(client, r.json()["id"])["train/cat.jpg"] is None
