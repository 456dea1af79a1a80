"""Migration 0011 drops the batch's stored completed-task counter; its downgrade rebuilds it."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import create_engine, pool, text

from app.core.migrate import downgrade, upgrade
from tests.factories import make_project, open_batch, signup


def _complete_one_task(client: TestClient) -> str:
    requester = signup(client, "requester")
    project = make_project(client, requester, overlap={"min": 1, "max": 2})
    batch = open_batch(client, requester, project["id"], n_images=2)
    for _ in range(2):
        worker = signup(client, "worker")
        a = client.post(f"/v1/projects/{project['id']}/assignments", headers=worker).json()
        client.post(
            f"/v1/assignments/{a['id']}/submit", json={"answer": {"label": "cat"}}, headers=worker
        )
    counts = client.get(f"/v1/batches/{batch['id']}", headers=requester).json()["counts"]
    assert counts["completed_tasks"] == 1  # counted from the tasks, not stored
    return str(batch["id"])


def test_downgrade_restores_the_counter_from_the_tasks(
    client: TestClient, database_url: str
) -> None:
    batch_id = _complete_one_task(client)
    client.app.state.engine.dispose()  # type: ignore[attr-defined]
    downgrade(database_url, "0010")
    engine = create_engine(database_url, poolclass=pool.NullPool)
    with engine.connect() as conn:
        stored = conn.execute(
            text("SELECT completed_tasks FROM batches WHERE id = :id"), {"id": batch_id}
        ).scalar()
    engine.dispose()
    upgrade(database_url)
    assert stored == 1
