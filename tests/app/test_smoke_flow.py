from __future__ import annotations

from fastapi.testclient import TestClient

from tests.factories import make_project, open_batch, signup


def test_requester_and_worker_loop(client: TestClient) -> None:
    requester = signup(client, "requester")
    worker = signup(client, "worker")
    project = make_project(client, requester)
    batch = open_batch(client, requester, project["id"], n_images=2)
    assert batch["status"] == "open"
    r = client.post(f"/v1/projects/{project['id']}/assignments", headers=worker)
    assert r.status_code == 201, r.text
    lease = r.json()
    img = client.get(lease["task"]["image_url"], headers=worker)
    assert img.status_code == 200
    assert img.headers["content-type"] == "image/png"
    r = client.post(
        f"/v1/assignments/{lease['id']}/submit", json={"answer": {"label": "cat"}}, headers=worker
    )
    assert r.status_code == 200, r.text
    r = client.get(f"/v1/batches/{batch['id']}/results?include=answers", headers=requester)
    assert r.status_code == 200, r.text
    items = r.json()["items"]
    assert sum(i["answer_count"] for i in items) == 1
