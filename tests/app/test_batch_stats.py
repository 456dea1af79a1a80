"""GET /v1/batches/{id}/stats: the dashboard's figures, aggregated in SQL, equal to what the
results pages say task by task (the browser used to compute them from every result)."""

from __future__ import annotations

import itertools
from datetime import datetime
from typing import Any

from fastapi.testclient import TestClient

from tests.conftest import FakeClock
from tests.factories import make_project, open_batch, signup


def _answer_all(client: TestClient, project_id: str, worker: dict[str, str], label: Any) -> None:
    while (
        r := client.post(f"/v1/projects/{project_id}/assignments", headers=worker)
    ).status_code == 201:
        lease = r.json()
        answer = {"label": label(lease["task"]["id"])}
        s = client.post(
            f"/v1/assignments/{lease['id']}/submit", json={"answer": answer}, headers=worker
        )
        assert s.status_code == 200, s.text


def test_stats_match_the_results(client: TestClient, clock: FakeClock) -> None:
    requester = signup(client, "requester")
    project = make_project(
        client, requester, overlap={"min": 2, "max": 3}, gold_rate=0, confidence=0.6
    )
    batch = open_batch(client, requester, project["id"], n_images=5)
    empty = client.get(f"/v1/batches/{batch['id']}/stats", headers=requester).json()
    assert (empty["completed_tasks"], empty["completions"]["points"]) == (0, [])
    assert empty["confidence"] == [0] * 10
    workers = [signup(client, "worker") for _ in range(3)]
    ids = [
        i["task_id"]
        for i in client.get(f"/v1/batches/{batch['id']}/results", headers=requester).json()["items"]
    ]
    split = set(ids[:2])
    _answer_all(client, project["id"], workers[0], lambda name: "cat")
    clock.advance(300)
    # The second worker disagrees on two images: those tasks need a third answer.
    _answer_all(
        client,
        project["id"],
        workers[1],
        lambda t: "dog" if t in split else "cat",
    )
    clock.advance(300)
    _answer_all(client, project["id"], workers[2], lambda name: "cat")
    clock.advance(60)

    stats = client.get(f"/v1/batches/{batch['id']}/stats", headers=requester).json()
    results = client.get(
        f"/v1/batches/{batch['id']}/results",
        params={"include": "answers", "limit": 500},
        headers=requester,
    ).json()["items"]
    done = [i for i in results if i["status"] == "completed"]
    assert stats["completed_tasks"] == len(done) == 5
    assert stats["tasks"] == 5

    hist = [0] * 10
    for i in done:
        hist[min(9, int(i["confidence"] * 10))] += 1
    assert stats["confidence"] == hist

    per = stats["answers_per_task"]
    assert per["histogram"] == [0, 0, 3, 2]
    assert per["used"] == sum(i["answer_count"] for i in done) == 12
    assert per["fixed"] == 15
    assert per["saved"] == round(1 - 12 / 15, 4)

    points = stats["completions"]["points"]
    assert points[0]["completed"] == 0
    assert points[-1]["completed"] == 5
    assert all(a["completed"] <= b["completed"] for a, b in itertools.pairwise(points))
    for p in points:  # each point counts the tasks completed by its moment
        at = datetime.fromisoformat(p["at"].replace("Z", "+00:00"))
        assert p["completed"] == sum(
            datetime.fromisoformat(i["completed_at"].replace("Z", "+00:00")) <= at for i in done
        )
    assert len(points) <= 49

    figures = {w["worker_id"]: w for w in stats["workers"]}
    assert stats["worker_count"] == len(figures) == 3
    for item in results:
        for a in item["answers"]:
            assert a["worker_id"] in figures
    counted = {w: sum(a["worker_id"] == w for i in results for a in i["answers"]) for w in figures}
    assert {w: f["answers"] for w, f in figures.items()} == counted
    assert [w["answers"] for w in stats["workers"]] == sorted(counted.values(), reverse=True)
    for w, f in figures.items():
        marks = [
            a["agreement"]
            for i in results
            for a in i["answers"]
            if a["worker_id"] == w and a.get("agreement") is not None
        ]
        if marks:
            assert abs(f["agreement"] - sum(marks) / len(marks)) < 1e-3


def test_only_the_owner_sees_them(client: TestClient) -> None:
    requester = signup(client, "requester")
    project = make_project(client, requester)
    batch = open_batch(client, requester, project["id"], n_images=1)
    for other in (signup(client, "requester"), signup(client, "worker")):
        assert client.get(f"/v1/batches/{batch['id']}/stats", headers=other).status_code in (
            403,
            404,
        )


def test_a_batch_done_in_the_instant_it_launched(client: TestClient) -> None:
    """The fake clock never moves: launch and every completion share one moment."""
    requester = signup(client, "requester")
    project = make_project(client, requester, overlap={"min": 1, "max": 1}, gold_rate=0)
    batch = open_batch(client, requester, project["id"], n_images=2)
    _answer_all(client, project["id"], signup(client, "worker"), lambda task: "cat")
    stats = client.get(f"/v1/batches/{batch['id']}/stats", headers=requester).json()
    assert stats["completed_tasks"] == 2
    assert [p["completed"] for p in stats["completions"]["points"]] == [2, 2]
    assert stats["answers_per_task"] == {"histogram": [0, 2], "used": 2, "fixed": 2, "saved": 0.0}
