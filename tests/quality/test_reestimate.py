"""Re-estimation: after enough answers, EM over the project refits the worker model, the
submit path uses it, and unfinished tasks get their consensus refreshed."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient
from sqlalchemy import select

from app.models import ProjectModel
from app.quality.reestimate import _due
from consensus.geometry import GeometrySkills
from tests.conftest import FakeClock
from tests.factories import deposit, make_project, png, signup
from tests.quality import crowd
from tests.quality.test_end_to_end import LABELS, run_crowd
from workers.quality import Reestimate
from workers.runner import run_pass


def test_refit_learns_who_is_reliable(client: TestClient, clock: FakeClock) -> None:
    rng = random.Random(3)
    requester = signup(client, "requester")
    project = make_project(
        client,
        requester,
        annotation={"type": "classification", "labels": LABELS},
        overlap={"min": 3, "max": 3},
        ban_below_accuracy=0.0,
    )
    files = [("files", (f"i{i}.png", png(20, 20, (i, 1, 2)))) for i in range(40)]
    batch = client.post(
        f"/v1/projects/{project['id']}/batches", files=files, headers=requester
    ).json()
    deposit(client, requester, "10")
    client.post(f"/v1/batches/{batch['id']}/launch", headers=requester)
    tasks = client.get(f"/v1/batches/{batch['id']}/results?limit=500", headers=requester).json()[
        "items"
    ]
    truth = {t["task_id"]: crowd.classification_truth(rng, LABELS) for t in tasks}
    habits = ["good", "good", "good", "spammer"]
    workers = [
        crowd.SimWorker(h, h, crowd.answer_classification(h, LABELS), signup(client, "worker"))
        for h in habits
    ]
    run_crowd(client, project["id"], workers, truth, rng)

    sessionmaker = client.app.state.sessionmaker  # type: ignore[attr-defined]
    assert run_pass(sessionmaker, [Reestimate()], clock())["quality.reestimate"] == 1
    assert (
        run_pass(sessionmaker, [Reestimate()], clock())["quality.reestimate"] == 0
    )  # not due again yet
    with sessionmaker() as session:
        model = session.scalar(select(ProjectModel).where(ProjectModel.project_id == project["id"]))
    assert model is not None
    assert model.state is not None
    fitted = {w.kind: [] for w in workers}  # type: dict[str, list[float]]
    for w in workers:
        fitted[w.kind].append(model.state["workers"][w.headers["X-Test-Account-Id"]]["accuracy"])
    assert fitted["spammer"][0] < 0.6
    assert min(fitted["good"]) > 0.8


def test_a_slow_project_is_refitted_after_an_hour() -> None:
    fitted = datetime(2026, 1, 1, tzinfo=UTC)
    model = ProjectModel(
        project_id="prj_x", answers_at_fit=100, fitted_at=fitted, requested_at=fitted
    )
    assert not _due(model, 101, fitted + timedelta(minutes=59))
    assert _due(model, 101, fitted + timedelta(hours=1))
    assert not _due(model, 100, fitted + timedelta(days=1))  # nothing new: nothing to learn
    assert _due(model, 150, fitted)


def test_geometry_refit_gives_the_spammer_no_weight(client: TestClient, clock: FakeClock) -> None:
    rng = random.Random(5)
    requester = signup(client, "requester")
    spec = {"type": "bbox", "labels": ["car", "person"]}
    project = make_project(
        client, requester, annotation=spec, overlap={"min": 3, "max": 3}, ban_below_accuracy=0.0
    )
    files = [("files", (f"b{i}.png", png(crowd.W, crowd.H, (i, 5, 5)))) for i in range(20)]
    batch = client.post(
        f"/v1/projects/{project['id']}/batches", files=files, headers=requester
    ).json()
    deposit(client, requester, "10")
    client.post(f"/v1/batches/{batch['id']}/launch", headers=requester)
    tasks = client.get(f"/v1/batches/{batch['id']}/results?limit=500", headers=requester).json()[
        "items"
    ]
    truth = {t["task_id"]: crowd.box_truth(rng, list(spec["labels"])) for t in tasks}
    habits = ["good", "good", "good", "spammer"]
    workers = [
        crowd.SimWorker(h, h, crowd.answer_boxes(h, list(spec["labels"])), signup(client, "worker"))
        for h in habits
    ]
    run_crowd(client, project["id"], workers, truth, rng)

    sessionmaker = client.app.state.sessionmaker  # type: ignore[attr-defined]
    assert run_pass(sessionmaker, [Reestimate()], clock())["quality.reestimate"] == 1
    with sessionmaker() as session:
        model = session.scalar(select(ProjectModel).where(ProjectModel.project_id == project["id"]))
    assert model is not None
    assert model.state is not None
    skills = GeometrySkills.from_dict(model.state)
    spammer = next(w for w in workers if w.kind == "spammer").headers["X-Test-Account-Id"]
    good = [w.headers["X-Test-Account-Id"] for w in workers if w.kind == "good"]
    assert skills.weight(spammer) == 0.0
    assert min(skills.weight(g) for g in good) > 0.5
