"""Result downloads through HTTP: the formats of the project's type, streamed; others refused."""

from __future__ import annotations

import csv
import io
import json
import zipfile

from fastapi.testclient import TestClient
from pycocotools.coco import COCO

from tests.factories import deposit, jpeg, make_project, open_batch, png, signup, zip_of


def answer_all(client: TestClient, project_id: str, answer: dict, n_workers: int = 2) -> None:  # type: ignore[type-arg]
    for _ in range(n_workers):
        worker = signup(client, "worker")
        while (
            r := client.post(f"/v1/projects/{project_id}/assignments", headers=worker)
        ).status_code == 201:
            s = client.post(
                f"/v1/assignments/{r.json()['id']}/submit", json={"answer": answer}, headers=worker
            )
            assert s.status_code == 200, s.text


def test_bbox_batch_downloads_as_coco_yolo_and_voc(client: TestClient, tmp_path) -> None:  # type: ignore[no-untyped-def]
    requester = signup(client, "requester")
    project = make_project(
        client,
        requester,
        annotation={"type": "bbox", "labels": ["car", "person"]},
        overlap={"min": 2, "max": 2},
    )
    batch = open_batch(client, requester, project["id"], n_images=3)
    answer_all(client, project["id"], {"objects": [{"label": "person", "box": [2, 3, 10, 12]}]})
    r = client.get(f"/v1/batches/{batch['id']}/results?format=coco", headers=requester)
    assert r.status_code == 200
    assert r.headers["content-disposition"] == f'attachment; filename="{batch["id"]}_coco.json"'
    path = tmp_path / "coco.json"
    path.write_bytes(r.content)
    coco = COCO(str(path))
    assert len(coco.getImgIds()) == 3
    assert [c["name"] for c in coco.loadCats(coco.getCatIds())] == ["car", "person"]
    assert {tuple(a["bbox"]) for a in coco.loadAnns(coco.getAnnIds())} == {(2.0, 3.0, 10.0, 12.0)}
    for fmt in ("yolo", "voc"):
        z = client.get(f"/v1/batches/{batch['id']}/results?format={fmt}", headers=requester)
        assert z.status_code == 200
        assert z.headers["content-type"] == "application/zip"
        assert len(zipfile.ZipFile(io.BytesIO(z.content)).namelist()) >= 3


def test_classification_downloads_as_csv_and_refuses_yolo(client: TestClient) -> None:
    requester = signup(client, "requester")
    project = make_project(client, requester, overlap={"min": 2, "max": 2})
    batch = open_batch(client, requester, project["id"], n_images=2)
    answer_all(client, project["id"], {"label": "dog"})
    r = client.get(f"/v1/batches/{batch['id']}/results?format=csv", headers=requester)
    rows = list(csv.DictReader(io.StringIO(r.text)))
    assert [row["label"] for row in rows] == ["dog", "dog"]
    refused = client.get(f"/v1/batches/{batch['id']}/results?format=yolo", headers=requester)
    assert refused.status_code == 422
    assert "csv" in refused.json()["detail"]
    assert (
        client.get(f"/v1/batches/{batch['id']}/results?format=pdf", headers=requester).status_code
        == 422
    )
    other = signup(client, "requester")
    assert (
        client.get(f"/v1/batches/{batch['id']}/results?format=csv", headers=other).status_code
        == 404
    )
    assert json.loads(client.get(f"/v1/batches/{batch['id']}/results", headers=requester).text)[
        "items"
    ]


def test_points_project_end_to_end(client: TestClient, tmp_path) -> None:  # type: ignore[no-untyped-def]
    requester = signup(client, "requester")
    project = make_project(
        client,
        requester,
        annotation={"type": "points", "labels": ["cell", "debris"]},
        overlap={"min": 2, "max": 2},
    )
    assert project["annotation"] == {
        "type": "points",
        "labels": ["cell", "debris"],
        "keypoints": None,
        "skeleton": None,
    }
    batch = open_batch(client, requester, project["id"], n_images=2)
    worker = signup(client, "worker")
    lease = client.post(f"/v1/projects/{project['id']}/assignments", headers=worker).json()
    bad = client.post(
        f"/v1/assignments/{lease['id']}/submit",
        json={"answer": {"objects": [{"label": "cell", "point": [1, 2, 3]}]}},
        headers=worker,
    )
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["loc"] == ["body", "answer", "objects", 0, "point"]
    client.post(f"/v1/assignments/{lease['id']}/release", headers=worker)
    answer = {
        "objects": [{"label": "cell", "point": [3, 4]}, {"label": "debris", "point": [12, 9]}]
    }
    answer_all(client, project["id"], answer)
    items = client.get(f"/v1/batches/{batch['id']}/results", headers=requester).json()["items"]
    assert [i["answer"] for i in items] == [answer, answer]
    coco_path = tmp_path / "points.json"
    coco_path.write_bytes(
        client.get(f"/v1/batches/{batch['id']}/results?format=coco", headers=requester).content
    )
    coco = COCO(str(coco_path))
    assert [c["keypoints"] for c in coco.loadCats(coco.getCatIds())] == [["point"], ["point"]]
    assert sorted(a["keypoints"][:2] for a in coco.loadAnns(coco.getAnnIds())) == [
        [3.0, 4.0],
        [3.0, 4.0],
        [12.0, 9.0],
        [12.0, 9.0],
    ]
    rows = list(
        csv.DictReader(
            io.StringIO(
                client.get(f"/v1/batches/{batch['id']}/results?format=csv", headers=requester).text
            )
        )
    )
    assert [(r["count:cell"], r["count:debris"]) for r in rows] == [("1", "1"), ("1", "1")]
    assert json.loads(rows[0]["points"]) == [["cell", 3.0, 4.0], ["debris", 12.0, 9.0]]
    refused = client.get(f"/v1/batches/{batch['id']}/results?format=yolo", headers=requester)
    assert refused.status_code == 422
    assert "available formats: coco, csv" in refused.json()["detail"]


def _zip_upload_and_launch(
    client: TestClient, requester: dict[str, str], project_id: str, files: dict[str, bytes]
) -> dict:  # type: ignore[type-arg]
    r = client.post(
        f"/v1/projects/{project_id}/batches",
        files=[("files", ("set.zip", zip_of(files), "application/zip"))],
        headers=requester,
    )
    assert r.status_code == 201, r.text
    deposit(client, requester, "100")
    launched = client.post(f"/v1/batches/{r.json()['id']}/launch", headers=requester)
    assert launched.status_code == 200, launched.text
    return dict(launched.json())


def test_downloads_with_images_keep_the_uploaded_names(client: TestClient) -> None:
    requester = signup(client, "requester")
    project = make_project(
        client,
        requester,
        annotation={"type": "bbox", "labels": ["car", "person"]},
        overlap={"min": 2, "max": 2},
    )
    files = {
        "train/cat.jpg": jpeg(40, 30),
        "val/cat.jpg": jpeg(30, 40),
        "val/Cat.PNG": png(50, 20),
        "dog+cat 06.jpg": jpeg(44, 33),
    }
    batch = _zip_upload_and_launch(client, requester, project["id"], files)
    answer_all(client, project["id"], {"objects": [{"label": "person", "box": [2, 3, 10, 12]}]})
    stored = {"train/cat.jpg", "val/cat.jpg", "val/Cat_2.PNG", "dog+cat 06.jpg"}
    items = client.get(f"/v1/batches/{batch['id']}/results", headers=requester).json()["items"]
    assert {i["image_name"] for i in items} == stored
    original = {**files, "val/Cat_2.PNG": files["val/Cat.PNG"]}

    def download(query: str) -> dict[str, bytes]:
        r = client.get(f"/v1/batches/{batch['id']}/{query}", headers=requester)
        assert r.status_code == 200, r.text
        assert r.headers["content-type"] == "application/zip"
        with zipfile.ZipFile(io.BytesIO(r.content)) as archive:
            return {n: archive.read(n) for n in archive.namelist()}

    coco = download("results?format=coco&images=true")
    assert {n: coco[f"images/{n}"] for n in stored} == {n: original[n] for n in stored}
    document = json.loads(coco["annotations/instances_default.json"])
    assert {i["file_name"] for i in document["images"]} == stored
    yolo = download("results?format=yolo&images=true")
    assert {n for n in yolo if n.startswith(("images/", "labels/"))} == {
        *(f"images/{n}" for n in stored),
        "labels/train/cat.txt",
        "labels/val/cat.txt",
        "labels/val/Cat_2.txt",
        "labels/dog+cat 06.txt",
    }
    voc = download("results?format=voc&images=true")
    assert voc["JPEGImages/val/Cat_2.PNG"] == files["val/Cat.PNG"]
    assert b"<filename>val/Cat_2.PNG</filename>" in voc["Annotations/val/Cat_2.xml"]
    alone = download("images.zip")
    assert {n: alone[n] for n in stored} == {n: original[n] for n in stored}
    assert set(alone) == {*stored, "tessera/manifest.csv"}
    plain = client.get(f"/v1/batches/{batch['id']}/results?format=coco", headers=requester)
    assert plain.headers["content-type"] == "application/json"
    refused = client.get(f"/v1/batches/{batch['id']}/results?images=true", headers=requester)
    assert refused.status_code == 422
    other = signup(client, "requester")
    assert client.get(f"/v1/batches/{batch['id']}/images.zip", headers=other).status_code == 404


def test_classification_downloads_as_class_folders(client: TestClient) -> None:
    requester = signup(client, "requester")
    project = make_project(client, requester, overlap={"min": 2, "max": 2})
    files = {"a/x.jpg": jpeg(20, 10), "b/x.jpg": jpeg(10, 20)}
    batch = _zip_upload_and_launch(client, requester, project["id"], files)
    answer_all(client, project["id"], {"label": "dog"})
    r = client.get(f"/v1/batches/{batch['id']}/results?format=folders", headers=requester)
    assert r.status_code == 200, r.text
    with zipfile.ZipFile(io.BytesIO(r.content)) as archive:
        names = set(archive.namelist())
        assert archive.read("train/dog/a/x.jpg") == files["a/x.jpg"]
    assert names == {"train/dog/a/x.jpg", "train/dog/b/x.jpg"}
