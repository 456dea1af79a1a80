"""PostgreSQL's hot path: a lease and a submit are one database call each, no ORM statement,
and the consensus it computes is the engine's, number for number."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event, select

from app.models import Task, WebhookDelivery
from app.quality.engine import ClassificationEngine, TaskAnswer
from app.quality.skills import estimate
from app.work.hotpath import HotPath
from tests.factories import make_project, open_batch, signup


@pytest.fixture
def calls(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> Iterator[list[Any]]:
    """Every hot-path call's result, and every ORM statement, while the test runs."""
    seen: list[Any] = []
    real = HotPath._call

    def spy(self: HotPath, sql: str, params: tuple[object, ...]) -> dict[str, Any]:
        result = real(self, sql, params)
        seen.append(result)
        return result

    monkeypatch.setattr(HotPath, "_call", spy)
    engine = client.app.state.engine  # type: ignore[attr-defined]

    def orm(*_args: object) -> None:
        seen.append("orm")

    event.listen(engine, "before_cursor_execute", orm)
    yield seen
    event.remove(engine, "before_cursor_execute", orm)


@pytest.mark.postgres_only
def test_lease_and_submit_are_one_call_each_with_the_engines_posterior(
    client: TestClient, calls: list[Any]
) -> None:
    requester = signup(client, "requester")
    project = make_project(
        client,
        requester,
        overlap={"min": 3, "max": 3},
        annotation={"type": "classification", "labels": ["cat", "dog", "fox"]},
    )
    open_batch(client, requester, project["id"], n_images=1)
    workers = [signup(client, "worker") for _ in range(3)]
    calls.clear()
    labels = ["cat", "dog", "cat"]
    for worker, label in zip(workers, labels, strict=True):
        r = client.post(f"/v1/projects/{project['id']}/assignments", headers=worker)
        assert r.status_code == 201, r.text
        lease = r.json()
        assert lease["reward"] == "0.02"
        assert lease["task"]["image_url"].startswith("http")
        r = client.post(
            f"/v1/assignments/{lease['id']}/submit",
            json={"answer": {"label": label}},
            headers=worker,
        )
        assert r.status_code == 200, r.text
        assert r.json()["status"] == "submitted"
        assert r.json()["reason"] is None
    assert "orm" not in calls, "the hot path ran an ORM statement"
    assert len(calls) == 6
    assert all("fallback" not in c for c in calls), calls

    engine = ClassificationEngine(["cat", "dog", "fox"])
    expected = engine.consensus(
        [
            TaskAnswer(f"w{i}", {"label": lab}, estimate(None).accuracy)
            for i, lab in enumerate(labels)
        ]
    )
    with client.app.state.sessionmaker() as session:  # type: ignore[attr-defined]
        task = session.scalars(select(Task).where(Task.project_id == project["id"])).one()
        assert task.status == "completed"
        assert task.consensus == expected.answer
        assert task.confidence is not None
        assert abs(task.confidence - expected.confidence) <= 1e-15
    items = client.get("/v1/me/assignments", headers=workers[1]).json()["items"]
    assert items[0]["status"] == "submitted"


@pytest.mark.postgres_only
def test_what_the_function_does_not_handle_goes_to_the_service(
    client: TestClient, calls: list[Any]
) -> None:
    requester = signup(client, "requester")
    project = make_project(client, requester)
    open_batch(client, requester, project["id"], n_images=2)
    worker = signup(client, "worker")
    lease = client.post(f"/v1/projects/{project['id']}/assignments", headers=worker).json()
    calls.clear()
    r = client.post(
        f"/v1/assignments/{lease['id']}/submit", json={"answer": {"label": "emu"}}, headers=worker
    )
    assert r.status_code == 422, r.text
    assert calls[0] == {"fallback": "answer", "counted": True}
    assert "orm" in calls
    r = client.post(f"/v1/projects/{project['id']}/assignments", headers=requester)
    assert r.status_code == 403, r.text
    r = client.post("/v1/projects/prj_nope/assignments", headers=worker)
    assert r.status_code == 404, r.text


def test_the_functions_constants_are_the_pythons() -> None:
    """The PL/pgSQL functions restate a few constants of the Python rules: a change to one side
    must show up here (runs on SQLite too: it reads the migration's text)."""
    import importlib

    from app.models.quality_settings import DEFAULT_BENEFIT_OF_DOUBT_BELOW
    from app.quality import service, skills

    for revision in ("2026-12-01-1410_hot_path_functions", "2026-12-01-1620_webhooks"):
        sql = importlib.import_module(f"migrations.versions.{revision}").SUBMIT
        assert (skills.PRIOR_RIGHT, skills.PRIOR_WRONG) == (3.5, 1.5)
        assert (
            "(3.5 + r.right_sum) / ((3.5 + r.right_sum) + ((1.5 + r.graded) - r.right_sum))" in sql
        )
        assert f"g.graded >= {skills.MIN_GRADED_FOR_BAN}" in sql
        assert f"{DEFAULT_BENEFIT_OF_DOUBT_BELOW})" in sql
        assert f"'{service.EXCLUDED}'" in sql


@pytest.mark.postgres_only
def test_the_submit_function_writes_the_webhook_outbox_itself(
    client: TestClient, calls: list[Any]
) -> None:
    """With webhooks registered, a submit is still one call: the function writes the
    ``assignment.submitted`` and ``task.completed`` rows (in that order) in the same call."""
    client.app.state.url_resolver = lambda host: ["93.184.216.34"]  # type: ignore[attr-defined]
    requester, worker = signup(client, "requester"), signup(client, "worker")
    r = client.post(
        "/v1/webhooks",
        json={
            "url": "https://hooks.example.com/",
            "events": ["assignment.submitted", "task.completed"],
        },
        headers=requester,
    )
    assert r.status_code == 201, r.text
    project = make_project(client, requester, overlap={"min": 1, "max": 1})
    open_batch(client, requester, project["id"], n_images=1)
    lease = client.post(f"/v1/projects/{project['id']}/assignments", headers=worker).json()
    calls.clear()
    r = client.post(
        f"/v1/assignments/{lease['id']}/submit", json={"answer": {"label": "dog"}}, headers=worker
    )
    assert r.status_code == 200, r.text
    assert "orm" not in calls, calls
    assert len(calls) == 1, calls
    assert "fallback" not in calls[0], calls
    with client.app.state.sessionmaker() as session:  # type: ignore[attr-defined]
        rows = session.scalars(select(WebhookDelivery).order_by(WebhookDelivery.event_id)).all()
    assert [d.event_type for d in rows] == ["assignment.submitted", "task.completed"]
    submitted, completed = rows[0].payload, rows[1].payload
    assert submitted["assignment_id"] == lease["id"]
    assert submitted["submitted_at"] == r.json()["submitted_at"]
    assert completed["answer"] == {"label": "dog"}
    assert completed["answer_count"] == 1
    assert {d.order_key for d in rows} == {submitted["batch_id"]}
