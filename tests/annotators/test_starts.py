"""Predictions become pre-annotations, and the results say for each answer whether it started
from one and how much the worker changed it (IoU for boxes, label kept for classes)."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

from app.annotators.delivery import CallSettings
from tests.annotators.conftest import Server
from tests.conftest import FakeClock
from tests.factories import make_project, open_batch, signup
from workers.annotators import CallModels
from workers.runner import run_pass


def _world(
    client: TestClient,
    clock: FakeClock,
    model_server: Callable[..., Server],
    annotation: dict[str, Any],
    reply: dict[str, Any],
) -> tuple[dict[str, str], dict[str, Any], dict[str, Any], Callable[[], None]]:
    state = client.app.state  # type: ignore[attr-defined]
    state.settings.model_private_hosts = True
    requester = signup(client, "requester")
    project = make_project(
        client, requester, annotation=annotation, overlap={"min": 1, "max": 1}, gold_rate=0
    )
    batch = open_batch(client, requester, project["id"], 3)
    server = model_server(lambda _task: reply)
    made = client.post(
        f"/v1/projects/{project['id']}/models",
        headers=requester,
        json={"kind": "http", "name": "m", "url": server.url},
    ).json()
    server.knows(made["signing_secret"])

    def predict() -> None:
        reconciler = CallModels(
            state.settings, options=CallSettings(private_hosts=True), store=state.image_store
        )
        run_pass(state.sessionmaker, [reconciler], clock())

    return requester, project, batch, predict


def _lease(client: TestClient, worker: dict[str, str], project_id: str) -> dict[str, Any]:
    r = client.post(f"/v1/projects/{project_id}/assignments", headers=worker)
    assert r.status_code == 201, r.text
    return dict(r.json())


def _submit(client: TestClient, worker: dict[str, str], lease: dict[str, Any], answer: Any) -> None:
    r = client.post(
        f"/v1/assignments/{lease['id']}/submit", headers=worker, json={"answer": answer}
    )
    assert r.status_code == 200, r.text


def _starts(client: TestClient, requester: dict[str, str], batch_id: str) -> dict[str, Any]:
    r = client.get(f"/v1/batches/{batch_id}/results?include=answers", headers=requester)
    assert r.status_code == 200, r.text
    return {item["task_id"]: item["answers"][0]["prediction"] for item in r.json()["items"]}


BOX = {"objects": [{"label": "car", "box": [2, 2, 20, 15]}]}


def test_boxes_started_from_a_prediction_and_their_iou(
    client: TestClient, clock: FakeClock, model_server: Callable[..., Server]
) -> None:
    requester, project, batch, predict = _world(
        client,
        clock,
        model_server,
        {"type": "bbox", "labels": ["car"]},
        {"answer": BOX, "score": 0.7},
    )
    early, late = signup(client, "worker"), signup(client, "worker")
    before = _lease(client, early, project["id"])  # leased before any prediction existed
    assert before["task"].get("pre_annotation") is None
    clock.advance(5)
    predict()
    clock.advance(5)
    kept, moved = _lease(client, late, project["id"]), _lease(client, late, project["id"])
    for lease in (kept, moved):
        shown = lease["task"]["pre_annotation"]
        assert shown["objects"][0]["box"] == [2.0, 2.0, 20.0, 15.0]
    _submit(client, late, kept, shown)
    _submit(client, late, moved, {"objects": [{"label": "car", "box": [4, 4, 20, 15]}]})
    _submit(client, early, before, BOX)
    starts = _starts(client, requester, batch["id"])
    assert starts[before["task"]["id"]] is None
    assert starts[kept["task"]["id"]] == {
        "model_id": starts[kept["task"]["id"]]["model_id"],
        "model_score": 0.7,
        "agreement": 1.0,
        "unchanged": True,
        "measure": "IoU",
    }
    changed = starts[moved["task"]["id"]]
    assert changed["unchanged"] is False
    assert changed["agreement"] == pytest.approx(234 / 366, abs=1e-3)


def test_label_kept_or_changed(
    client: TestClient, clock: FakeClock, model_server: Callable[..., Server]
) -> None:
    requester, project, batch, predict = _world(
        client,
        clock,
        model_server,
        {"type": "classification", "labels": ["red", "blue"]},
        {"answer": {"label": "red"}, "score": 0.9},
    )
    predict()
    clock.advance(1)
    worker = signup(client, "worker")
    leases = [_lease(client, worker, project["id"]) for _ in range(3)]
    assert all(lease["task"]["pre_annotation"] == {"label": "red"} for lease in leases)
    for lease, label in zip(leases, ["red", "blue", "red"], strict=True):
        _submit(client, worker, lease, {"label": label})
    starts = _starts(client, requester, batch["id"])
    got = [
        (starts[lease["task"]["id"]]["agreement"], starts[lease["task"]["id"]]["unchanged"])
        for lease in leases
    ]
    assert got == [(1.0, True), (0.0, False), (1.0, True)]
    assert {starts[lease["task"]["id"]]["measure"] for lease in leases} == {"label kept"}


def test_the_exports_carry_who_labelled_and_what_was_kept(
    client: TestClient, clock: FakeClock, model_server: Callable[..., Server]
) -> None:
    """The same facts as the JSON results, in a download (``export_items``): the CSV's last
    columns and the COCO images' fields."""
    requester, project, batch, predict = _world(
        client,
        clock,
        model_server,
        {"type": "classification", "labels": ["red", "blue"]},
        {"answer": {"label": "red"}, "score": 0.9},
    )
    predict()
    clock.advance(1)
    worker = signup(client, "worker")
    leases = [_lease(client, worker, project["id"]) for _ in range(2)]
    for lease, label in zip(leases, ["red", "blue"], strict=True):
        _submit(client, worker, lease, {"label": label})
    r = client.get(f"/v1/batches/{batch['id']}/results?format=csv", headers=requester)
    assert r.status_code == 200, r.text
    rows = {row["task_id"]: row for row in csv.DictReader(io.StringIO(r.text))}
    models = client.get(f"/v1/projects/{project['id']}/models", headers=requester).json()
    model_id = models["items"][0]["id"]
    kept, changed = (rows[lease["task"]["id"]] for lease in leases)
    assert kept["labeled_by"] == "crowd"
    assert kept["prediction_model"] == model_id
    assert kept["prediction_score"] == "0.9"
    assert (kept["answers_from_prediction"], kept["prediction_kept"]) == ("1", "1.0")
    assert kept["prediction_unchanged"] == "1"
    assert (changed["prediction_kept"], changed["prediction_unchanged"]) == ("0.0", "0")
    unanswered = [
        row for task, row in rows.items() if task not in {le["task"]["id"] for le in leases}
    ]
    assert [(u["labeled_by"], u["answers_from_prediction"]) for u in unanswered] == [("", "0")]
