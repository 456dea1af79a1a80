"""POST /v1/batches/{id}/images: adding images to a draft batch, once per image."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from tests.factories import deposit, make_project, png, signup, upload


def _add(client: TestClient, who: dict[str, str], batch_id: str, files: dict[str, bytes]) -> Any:
    parts = [("files", (n, d, "application/octet-stream")) for n, d in files.items()]
    return client.post(f"/v1/batches/{batch_id}/images", files=parts, headers=who)


def test_added_images_become_tasks_once_with_names_unique_in_the_batch(client: TestClient) -> None:
    requester = signup(client, "requester")
    project = make_project(client, requester)
    batch = upload(client, requester, project["id"], {"cat.png": png(10, 10)})
    r = _add(client, requester, batch["id"], {"cat.png": png(11, 11), "dog.png": png(12, 12)})
    assert r.status_code == 200, r.text
    body = r.json()
    assert [a["name"] for a in body["added"]] == ["cat_2.png", "dog.png"]
    assert body["batch"]["task_count"] == 3
    # The same bytes again, under any name: no new task, listed as present.
    r = _add(client, requester, batch["id"], {"again.png": png(10, 10), "dog.png": png(12, 12)})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["added"] == []
    assert sorted(p["name"] for p in body["present"]) == ["again.png", "dog.png"]
    assert body["batch"]["task_count"] == 3
    results = client.get(f"/v1/batches/{batch['id']}/results", headers=requester).json()
    assert sorted(i["image_name"] for i in results["items"]) == ["cat.png", "cat_2.png", "dog.png"]


def test_adding_is_refused_after_launch_for_others_and_for_bad_images(client: TestClient) -> None:
    requester, other = signup(client, "requester"), signup(client, "requester")
    project = make_project(client, requester)
    batch = upload(client, requester, project["id"], {"a.png": png(10, 10)})
    r = _add(client, other, batch["id"], {"b.png": png(13, 13)})
    assert r.status_code == 404
    r = _add(client, requester, batch["id"], {"b.png": b"not an image"})
    assert r.status_code == 415, r.text
    assert r.json()["image"] == "b.png"
    deposit(client, requester, "10")
    assert client.post(f"/v1/batches/{batch['id']}/launch", headers=requester).status_code == 200
    r = _add(client, requester, batch["id"], {"c.png": png(14, 14)})
    assert r.status_code == 409
    after = client.get(f"/v1/batches/{batch['id']}", headers=requester).json()
    assert after["task_count"] == 1


def test_the_same_idempotency_key_replays_the_first_answer(client: TestClient) -> None:
    requester = signup(client, "requester")
    project = make_project(client, requester)
    batch = upload(client, requester, project["id"], {"a.png": png(10, 10)})
    key = {"Idempotency-Key": "chunk-1"}
    first = _add(client, {**requester, **key}, batch["id"], {"b.png": png(15, 15)})
    second = _add(client, {**requester, **key}, batch["id"], {"b.png": png(15, 15)})
    assert first.status_code == second.status_code == 200
    assert first.json() == second.json()
    assert [a["name"] for a in second.json()["added"]] == ["b.png"]
    other = _add(client, {**requester, **key}, batch["id"], {"c.png": png(16, 16)})
    assert other.status_code == 409


def test_a_chunk_larger_than_a_json_body_goes_in(client: TestClient) -> None:
    """The images route takes upload-sized bodies (several MB), not the small-JSON cap."""
    import io

    import numpy as np
    from PIL import Image

    requester = signup(client, "requester")
    project = make_project(client, requester)
    batch = upload(client, requester, project["id"], {"a.png": png(10, 10)})
    noise = np.random.default_rng(7).integers(0, 256, (700, 700, 3), dtype=np.uint8)
    buf = io.BytesIO()
    Image.fromarray(noise).save(buf, format="PNG")
    assert len(buf.getvalue()) > 1024 * 1024
    r = _add(client, requester, batch["id"], {"big.png": buf.getvalue()})
    assert r.status_code == 200, r.text
    assert r.json()["batch"]["task_count"] == 2
