"""Auto-labelling (issue 15, item 3): with it on, a task the project's model is sure enough of
completes with no human answer (``labeled_by: "model"``), except a random audit share that goes
to people like any other task; the model is never paid and nothing in a lease tells an audit
task apart. With it off, a model's answer is one more vote: it never completes a task alone."""

from __future__ import annotations

import json
from datetime import datetime
from decimal import Decimal
from typing import Any

import numpy as np
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from app.annotators.service import record_prediction
from app.core.db import transaction
from app.models import AnnotatorModel, ProjectModel, Task
from consensus import WorkerSkills
from tests.conftest import FakeClock
from tests.factories import make_operator, make_project, open_batch, signup
from workers.runner import default_reconcilers, run_pass

LABELS = ["cat", "dog"]
N_TASKS = 60
AUDIT = 0.3


def measured(
    session: Session, project_id: str, model_id: str, accuracy: float, now: datetime
) -> None:
    """What a re-estimation would store after measuring the model on gold and agreement: its
    confusion matrix (right ``accuracy`` of the time), in the project's fitted worker model."""
    k = len(LABELS)
    off = (1 - accuracy) / (k - 1)
    cm = np.full((k, k), off) + np.eye(k) * (accuracy - off)
    skills = WorkerSkills(
        label_names=LABELS,
        worker_names=[model_id],
        confusion=cm[None],
        class_prior=np.full(k, 1 / k),
        n_answers=np.array([200.0]),
        expected_correct=np.array([200 * accuracy]),
        default_confusion=np.full((k, k), off) + np.eye(k) * (0.7 - off),
        rho=0.2,
    )
    with transaction(session):
        session.add(
            ProjectModel(
                project_id=project_id,
                state=skills.to_dict(),
                version=1,
                answers_at_fit=0,
                fitted_at=now,
                requested_at=now,
            )
        )


def predict_all(
    make_session: sessionmaker[Session], project_id: str, model_id: str, now: datetime
) -> None:
    """The model's prediction for every task, recorded as its reconciler records it (task row
    locked, one transaction each)."""
    with make_session() as session:
        ids = session.scalars(select(Task.id).where(Task.project_id == project_id)).all()
        session.commit()
        for task_id in ids:
            with transaction(session):
                task = session.scalar(select(Task).where(Task.id == task_id).with_for_update())
                model = session.get_one(AnnotatorModel, model_id)
                assert task is not None
                record_prediction(session, model, task, {"label": "cat"}, 0.99, now=now)


def results(client: TestClient, requester: dict[str, str], batch_id: str) -> list[dict[str, Any]]:
    r = client.get(f"/v1/batches/{batch_id}/results?limit=500", headers=requester)
    assert r.status_code == 200, r.text
    return list(r.json()["items"])


def attach_model(client: TestClient, requester: dict[str, str], project_id: str) -> str:
    r = client.post(
        f"/v1/projects/{project_id}/models",
        headers=requester,
        json={"kind": "builtin", "name": "pets classifier"},
    )
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


def test_auto_labelling_sends_the_audit_share_to_humans_and_never_pays_a_model(
    client: TestClient, clock: FakeClock, settings: Any
) -> None:
    requester = signup(client, "requester")
    project = make_project(
        client,
        requester,
        overlap={"min": 1, "max": 2},
        confidence=0.9,
        gold_rate=0,
        auto_label=True,
        auto_label_audit=AUDIT,
    )
    assert project["auto_label"] is True
    assert project["auto_label_audit"] == AUDIT
    model_id = attach_model(client, requester, project["id"])
    batch = open_batch(client, requester, project["id"], n_images=N_TASKS, fund="100")
    make_session = client.app.state.sessionmaker  # type: ignore[attr-defined]
    with make_session() as session:
        measured(session, project["id"], model_id, 0.98, clock())
    predict_all(make_session, project["id"], model_id, clock())

    items = results(client, requester, batch["id"])
    auto = [r for r in items if r["labeled_by"] == "model"]
    audited = [r for r in items if r["status"] == "open"]
    assert len(auto) + len(audited) == N_TASKS
    # The audit share, drawn at random: 18 expected of 60, 4-36 is ±4 standard deviations.
    assert 4 <= len(audited) <= 36, len(audited)
    for item in auto:
        assert item["status"] == "completed"
        assert item["answer"] == {"label": "cat"}
        assert item["answer_count"] == 0
        assert item["confidence"] >= 0.9

    # The audited tasks go to people like any other: the leases are exactly those tasks, and
    # nothing in one says it is an audit (the prediction shows as any pre-annotation would).
    worker = signup(client, "worker")
    leased = []
    while True:
        r = client.post(f"/v1/projects/{project['id']}/assignments", headers=worker)
        if r.status_code != 201:
            break
        body = r.json()
        assert "audit" not in json.dumps(body).lower()
        assert "labeled_by" not in json.dumps(body)
        leased.append(body["task"]["id"])
        s = client.post(
            f"/v1/assignments/{body['id']}/submit",
            headers=worker,
            json={"answer": {"label": "cat"}},
        )
        assert s.status_code == 200, s.text
    assert sorted(leased) == sorted(r["task_id"] for r in audited)

    # One human answer the model agrees with completes an audited task (overlap.min 1): by
    # the crowd, with that one answer paid.
    items = results(client, requester, batch["id"])
    assert all(r["status"] == "completed" for r in items)
    by_crowd = [r for r in items if r["labeled_by"] == "crowd"]
    assert sorted(r["task_id"] for r in by_crowd) == sorted(leased)
    assert all(r["answer_count"] == 1 for r in by_crowd)

    for _ in range(3):  # review windows, payouts' holds, the batch's settlement
        clock.advance(3 * 86400 + 1)
        run_pass(make_session, default_reconcilers(settings), clock())
    batch_now = client.get(f"/v1/batches/{batch['id']}", headers=requester).json()
    assert batch_now["status"] == "completed"
    assert batch_now["counts"]["answers"] == len(leased)
    assert batch_now["counts"]["accepted"] == len(leased)
    me = client.get("/v1/me", headers=worker).json()["balance"]
    earned = sum(Decimal(me[k]) for k in ("pending", "available", "paid_out"))
    assert earned == Decimal("0.02") * len(leased)  # the people's answers, and nothing else
    fee = Decimal(
        client.get("/v1/admin/settings", headers=make_operator(settings)).json()["platform_fee"]
    )
    spent = Decimal(batch_now["money"]["spent"])
    assert spent == (earned * (1 + fee)).quantize(Decimal("0.000001"))  # no reward for a model
    report = client.get("/v1/admin/ledger/verify", headers=make_operator(settings, "ops2")).json()
    assert report["ok"], report["violations"]


def test_without_auto_labelling_a_model_never_completes_a_task_alone(
    client: TestClient, clock: FakeClock
) -> None:
    requester = signup(client, "requester")
    project = make_project(client, requester, overlap={"min": 1, "max": 2}, confidence=0.9)
    assert project["auto_label"] is False
    model_id = attach_model(client, requester, project["id"])
    batch = open_batch(client, requester, project["id"], n_images=5)
    make_session = client.app.state.sessionmaker  # type: ignore[attr-defined]
    with make_session() as session:  # right 85% of the time: surer than one person, not alone
        measured(session, project["id"], model_id, 0.85, clock())
    predict_all(make_session, project["id"], model_id, clock())
    items = results(client, requester, batch["id"])
    assert all(r["status"] == "open" and r["labeled_by"] is None for r in items)
    # The model's vote counts: it agrees with the one person, and that completes the task at
    # overlap.min 1 (a person alone, at the prior accuracy 0.7, would not reach 0.9; with the
    # model: 0.7 × 0.85 / (0.7 × 0.85 + 0.3 × 0.15) = 0.93).
    worker = signup(client, "worker")
    r = client.post(f"/v1/projects/{project['id']}/assignments", headers=worker)
    assert r.status_code == 201, r.text
    task_id = r.json()["task"]["id"]
    s = client.post(
        f"/v1/assignments/{r.json()['id']}/submit",
        headers=worker,
        json={"answer": {"label": "cat"}},
    )
    assert s.status_code == 200, s.text
    done = {x["task_id"]: x for x in results(client, requester, batch["id"])}[task_id]
    assert done["status"] == "completed"
    assert done["labeled_by"] == "crowd"
    assert done["answer_count"] == 1
    # Disagreeing with the model, one person is not enough: the task waits for a second
    # (the person, now at 0.75, against the model: 0.65 for the model's label).
    r = client.post(f"/v1/projects/{project['id']}/assignments", headers=worker)
    task_id = r.json()["task"]["id"]
    client.post(
        f"/v1/assignments/{r.json()['id']}/submit",
        headers=worker,
        json={"answer": {"label": "dog"}},
    )
    waiting = {x["task_id"]: x for x in results(client, requester, batch["id"])}[task_id]
    assert waiting["status"] == "open"
    assert waiting["answer_count"] == 1
