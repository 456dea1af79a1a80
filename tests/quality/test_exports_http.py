"""Result downloads through HTTP: the formats of the project's type, streamed; others refused."""

from __future__ import annotations

import csv
import io
import json
import zipfile

from fastapi.testclient import TestClient
from pycocotools.coco import COCO

from tests.factories import make_project, open_batch, signup


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
