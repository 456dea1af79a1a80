"""Per annotation type, through HTTP only: a simulated crowd (good, sloppy, a spammer, one who
always gives the same answer) on synthetic images with known truth. The spammer is banned, the
consensus beats a single worker (and majority vote for labels), fewer answers are bought than
``overlap.max`` x tasks, every verdict carries its reason, and the ledger verifies."""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.testclient import TestClient

from app.core.config import Settings
from tests.conftest import FakeClock
from tests.factories import deposit, make_operator, make_project, png, signup
from tests.quality import crowd
from workers.runner import default_reconcilers, run_pass

N_TASKS = 60
MAX_OVERLAP = 5
LABELS = ["cat", "dog", "bird"]


@dataclass(frozen=True)
class Case:
    spec: dict[str, Any]
    truth: Callable[[random.Random, list[str]], crowd.Truth]
    habit: Callable[[str, list[str]], Callable[[crowd.Truth, random.Random], crowd.Answer]]
    score: Callable[[crowd.Answer, crowd.Truth], float]


CASES = {
    "classification": Case(
        {"type": "classification", "labels": LABELS},
        crowd.classification_truth,
        crowd.answer_classification,
        lambda a, t: float(a["label"] == t["label"]),
    ),
    "multilabel": Case(
        {"type": "multilabel", "labels": ["indoor", "person", "animal", "text"]},
        crowd.multilabel_truth,
        crowd.answer_multilabel,
        lambda a, t: float(set(a["labels"]) == set(t["labels"])),
    ),
    "bbox": Case(
        {"type": "bbox", "labels": ["car", "person"]},
        crowd.box_truth,
        crowd.answer_boxes,
        lambda a, t: crowd.box_f1(a, t, lambda o: o["box"]),
    ),
    "polygon": Case(
        {"type": "polygon", "labels": ["car", "person"]},
        crowd.box_truth,
        crowd.answer_polygons,
        lambda a, t: crowd.box_f1(a, t, crowd.ring_box),
    ),
    "keypoints": Case(
        {"type": "keypoints", "labels": ["face"], "keypoints": ["left_eye", "right_eye", "nose"]},
        crowd.keypoint_truth,
        crowd.answer_keypoints,
        crowd.keypoint_score,
    ),
    "segmentation": Case(
        {"type": "segmentation", "labels": ["road", "car"]},
        crowd.mask_truth,
        crowd.answer_masks,
        crowd.mask_score,
    ),
}


def run_crowd(
    client: TestClient,
    project_id: str,
    workers: list[crowd.SimWorker],
    truth_of: dict[str, Any],
    rng: random.Random,
) -> dict[str, int]:
    """Round-robin until a whole round leases nothing (a ban can free slots after a worker was
    told 204, so one 204 does not end a worker); returns lease refusals (403) by worker kind."""
    active, refused = list(workers), Counter[str]()
    leased = True
    while leased:
        leased = False
        for worker in list(active):
            r = client.post(f"/v1/projects/{project_id}/assignments", headers=worker.headers)
            if r.status_code == 403:
                active.remove(worker)
                refused[worker.kind] += 1
            if r.status_code != 201:
                continue
            leased = True
            lease = r.json()
            answer = worker.answer(truth_of[lease["task"]["id"]], rng)
            s = client.post(
                f"/v1/assignments/{lease['id']}/submit",
                json={"answer": answer},
                headers=worker.headers,
            )
            assert s.status_code in (200, 409), s.text  # 409: banned mid-lease, lease released
            worker.answered += s.status_code == 200
    return dict(refused)


@pytest.mark.parametrize("kind", list(CASES))
def test_simulated_crowd(
    kind: str, client: TestClient, clock: FakeClock, settings: Settings
) -> None:
    case, rng = CASES[kind], random.Random(7)
    labels = case.spec["labels"]
    requester = signup(client, "requester")
    project = make_project(
        client,
        requester,
        annotation=case.spec,
        reward="0.01",
        overlap={"min": 2, "max": MAX_OVERLAP},
        confidence=0.9,
        ban_below_accuracy=0.6,
        auto_accept_s=3600,
    )
    files = [
        ("files", (f"img{i}.png", png(crowd.W, crowd.H, (i, 2 * i, 100)))) for i in range(N_TASKS)
    ]
    batch = client.post(
        f"/v1/projects/{project['id']}/batches", files=files, headers=requester
    ).json()
    deposit(client, requester, "10")
    assert client.post(f"/v1/batches/{batch['id']}/launch", headers=requester).status_code == 200
    tasks = client.get(f"/v1/batches/{batch['id']}/results?limit=500", headers=requester).json()[
        "items"
    ]
    truth_of = {t["task_id"]: case.truth(rng, labels) for t in tasks}

    habits = ["good"] * 4 + ["sloppy"] * 2 + ["spammer", "constant"]
    workers = [
        crowd.SimWorker(f"{h}{i}", h, case.habit(h, labels), signup(client, "worker"))
        for i, h in enumerate(habits)
    ]
    refused = run_crowd(client, project["id"], workers, truth_of, rng)

    results = client.get(
        f"/v1/batches/{batch['id']}/results?include=answers&limit=500", headers=requester
    ).json()["items"]
    answers_bought = sum(r["answer_count"] for r in results)
    assert all(r["status"] == "completed" for r in results), Counter(r["status"] for r in results)
    assert answers_bought < MAX_OVERLAP * N_TASKS, answers_bought

    consensus = sum(case.score(r["answer"], truth_of[r["task_id"]]) for r in results) / N_TASKS
    single = [
        case.score(a["answer"], truth_of[r["task_id"]]) for r in results for a in r["answers"]
    ]
    assert consensus > sum(single) / len(single) + 0.05, (consensus, sum(single) / len(single))
    if kind == "classification":

        def majority(r: dict[str, Any]) -> str:
            return str(Counter(a["answer"]["label"] for a in r["answers"]).most_common(1)[0][0])

        mv = sum(majority(r) == truth_of[r["task_id"]]["label"] for r in results) / N_TASKS
        assert consensus >= mv, (consensus, mv)
    assert consensus >= 0.85, consensus

    # The spammer is stopped on this project.
    assert refused.get("spammer") == 1, refused
    spammer = next(w for w in workers if w.kind == "spammer")
    r = client.post(f"/v1/projects/{project['id']}/assignments", headers=spammer.headers)
    assert r.status_code == 403
    assert "accuracy" in r.json()["detail"]

    # Verdicts become final at the review deadline, each with its evidence, and money follows.
    clock.advance(3601)
    run_pass(client.app.state.sessionmaker, default_reconcilers(), clock())  # type: ignore[attr-defined]
    final = client.get(
        f"/v1/batches/{batch['id']}/results?include=answers&limit=500", headers=requester
    ).json()["items"]
    verdicts = [a for r in final for a in r["answers"]]
    assert {a["status"] for a in verdicts} <= {"accepted", "rejected"}
    assert all(a["reason"] for a in verdicts)
    good_ids = {w.headers["X-Test-Account-Id"] for w in workers if w.kind == "good"}
    good_accepted = [a["status"] == "accepted" for a in verdicts if a["worker_id"] in good_ids]
    assert sum(good_accepted) / len(good_accepted) >= 0.8
    clock.advance(3601)  # rejections may be appealed for one more review window
    run_pass(client.app.state.sessionmaker, default_reconcilers(), clock())  # type: ignore[attr-defined]
    body = client.get(f"/v1/batches/{batch['id']}", headers=requester).json()
    assert body["status"] == "completed"
    op = make_operator(settings)
    report = client.get("/v1/admin/ledger/verify", headers=op).json()
    assert report["ok"], report["violations"]


def test_progress_projects_cost_and_eta(client: TestClient, clock: FakeClock) -> None:
    requester = signup(client, "requester")
    project = make_project(
        client, requester, reward="0.1", overlap={"min": 1, "max": 4}, confidence=0.6
    )
    files = [("files", (f"p{i}.png", png(20, 20, (i, 3, 3)))) for i in range(4)]
    batch = client.post(
        f"/v1/projects/{project['id']}/batches", files=files, headers=requester
    ).json()
    deposit(client, requester, "5")
    client.post(f"/v1/batches/{batch['id']}/launch", headers=requester)
    clock.advance(100)
    worker = signup(client, "worker")
    for _ in range(2):  # two tasks finish with one confident answer each
        lease = client.post(f"/v1/projects/{project['id']}/assignments", headers=worker).json()
        client.post(
            f"/v1/assignments/{lease['id']}/submit",
            json={"answer": {"label": "cat"}},
            headers=worker,
        )
    body = client.get(f"/v1/batches/{batch['id']}", headers=requester).json()
    assert body["counts"]["completed_tasks"] == 2
    # 2 answers so far, 2 more tasks at 1 answer each; 0.11 per answer with the 10% fee.
    assert body["progress"] == {
        "answers_used": 2,
        "answers_max": 16,
        "projected_answers": 4,
        "projected_cost": "0.44",
        "eta": "2026-01-05T12:03:20.000Z",
    }
