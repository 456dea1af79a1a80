"""Operators ban and unban by hand; workers see their own standing."""

from __future__ import annotations

from fastapi.testclient import TestClient

from app.core.config import Settings
from tests.conftest import FakeClock
from tests.factories import account_id, make_operator, make_project, open_batch, signup


def test_operator_ban_releases_leases_and_unban_restores(
    client: TestClient, settings: Settings
) -> None:
    op = make_operator(settings)
    requester, worker, other = (
        signup(client, "requester"),
        signup(client, "worker"),
        signup(client, "worker"),
    )
    project = make_project(client, requester, overlap={"min": 1, "max": 1})
    open_batch(client, requester, project["id"], n_images=1)
    lease = client.post(f"/v1/projects/{project['id']}/assignments", headers=worker).json()
    assert (
        client.post(f"/v1/projects/{project['id']}/assignments", headers=other).status_code == 204
    )

    r = client.post(
        f"/v1/admin/workers/{account_id(worker)}/ban", json={"reason": "fraud"}, headers=op
    )
    assert r.status_code == 200
    assert r.json()["banned"] is True
    refused = client.post(f"/v1/projects/{project['id']}/assignments", headers=worker)
    assert refused.status_code == 403
    assert "fraud" in refused.json()["detail"]
    assert (
        client.post(
            f"/v1/assignments/{lease['id']}/submit",
            json={"answer": {"label": "cat"}},
            headers=worker,
        ).status_code
        == 409
    )
    assert (
        client.post(f"/v1/projects/{project['id']}/assignments", headers=other).status_code == 201
    )

    assert (
        client.post(f"/v1/admin/workers/{account_id(worker)}/unban", headers=op).json()["banned"]
        is False
    )
    skills = client.get("/v1/me/skills", headers=worker).json()["items"]
    assert [(s["project_id"], s["banned"]) for s in skills] == [(project["id"], False)]


def test_project_ban_only_blocks_that_project(client: TestClient, settings: Settings) -> None:
    op = make_operator(settings)
    requester, worker = signup(client, "requester"), signup(client, "worker")
    p1, p2 = make_project(client, requester), make_project(client, requester)
    open_batch(client, requester, p1["id"], n_images=1)
    open_batch(client, requester, p2["id"], n_images=1)
    body = {"reason": "bad boxes", "project_id": p1["id"]}
    assert (
        client.post(
            f"/v1/admin/workers/{account_id(worker)}/ban", json=body, headers=op
        ).status_code
        == 200
    )
    assert client.post(f"/v1/projects/{p1['id']}/assignments", headers=worker).status_code == 403
    assert client.post(f"/v1/projects/{p2['id']}/assignments", headers=worker).status_code == 201
    rows = client.get("/v1/admin/workers", headers=op).json()["items"]
    mine = next(r for r in rows if r["id"] == account_id(worker))
    assert [(p["project_id"], p["banned"]) for p in mine["projects"]] == [(p1["id"], True)]
    assert (
        client.post("/v1/admin/workers/acc_nope/ban", json={"reason": "x"}, headers=op).status_code
        == 404
    )


def test_operator_quality_settings(client: TestClient, settings: Settings) -> None:
    op = make_operator(settings)
    before = client.get("/v1/admin/settings", headers=op).json()
    assert (before["benefit_of_doubt_below"], before["qualification_retry_s"]) == (0.6, 86400)
    r = client.patch(
        "/v1/admin/settings",
        json={"benefit_of_doubt_below": 0.75, "qualification_retry_s": 3600},
        headers=op,
    )
    assert r.status_code == 200
    assert (r.json()["benefit_of_doubt_below"], r.json()["qualification_retry_s"]) == (0.75, 3600)
    assert r.json()["platform_fee"] == before["platform_fee"]
    assert (
        client.patch(
            "/v1/admin/settings", json={"benefit_of_doubt_below": 2}, headers=op
        ).status_code
        == 422
    )


def test_repeated_fast_answers_ban_the_worker(client: TestClient, clock: FakeClock) -> None:
    requester, rusher, careful = (
        signup(client, "requester"),
        signup(client, "worker"),
        signup(client, "worker"),
    )
    project = make_project(
        client, requester, overlap={"min": 2, "max": 3}, min_answer_s=10, fast_answers_to_ban=3
    )
    assert (project["min_answer_s"], project["fast_answers_to_ban"]) == (10, 3)
    open_batch(client, requester, project["id"], n_images=6)

    def answer(worker: dict[str, str], think_s: float) -> int:
        lease = client.post(f"/v1/projects/{project['id']}/assignments", headers=worker)
        if lease.status_code != 201:
            return lease.status_code
        clock.advance(think_s)
        r = client.post(
            f"/v1/assignments/{lease.json()['id']}/submit",
            json={"answer": {"label": "cat"}},
            headers=worker,
        )
        return r.status_code

    assert [answer(careful, 12) for _ in range(3)] == [200, 200, 200]
    assert [answer(rusher, 1) for _ in range(3)] == [200, 200, 200]
    refused = client.post(f"/v1/projects/{project['id']}/assignments", headers=rusher)
    assert refused.status_code == 403
    assert "3 answers faster than this project's floor of 10 s" in refused.json()["detail"]
    assert (
        client.post(f"/v1/projects/{project['id']}/assignments", headers=careful).status_code == 201
    )
    history = client.get("/v1/me/assignments", headers=rusher).json()["items"]
    assert history[0]["reason"] == "excluded: the worker was banned from this project"


def test_a_ban_recomputes_the_open_tasks_it_takes_answers_from(
    client: TestClient, settings: Settings
) -> None:
    """The banned worker's answer leaves an open task's consensus at once, not at the task's
    next submit (which may never come: every remaining worker may have answered it)."""
    op = make_operator(settings)
    requester = signup(client, "requester")
    banned, other = signup(client, "worker"), signup(client, "worker")
    project = make_project(
        client,
        requester,
        overlap={"min": 3, "max": 3},
        annotation={"type": "classification", "labels": ["cat", "dog", "fox"]},
    )
    batch = open_batch(client, requester, project["id"], n_images=1)
    for worker, label in ((banned, "dog"), (other, "fox")):
        lease = client.post(f"/v1/projects/{project['id']}/assignments", headers=worker).json()
        r = client.post(
            f"/v1/assignments/{lease['id']}/submit",
            json={"answer": {"label": label}},
            headers=worker,
        )
        assert r.status_code == 200, r.text

    def result() -> dict[str, object]:
        items = client.get(f"/v1/batches/{batch['id']}/results", headers=requester).json()
        (item,) = items["items"]
        assert item["status"] == "open"
        return dict(item["answer"])

    assert result() == {"label": "dog"}  # a tie between two newcomers: the first label of the two
    body = {"reason": "spam", "project_id": project["id"]}
    r = client.post(f"/v1/admin/workers/{account_id(banned)}/ban", json=body, headers=op)
    assert r.status_code == 200, r.text
    assert result() == {"label": "fox"}
