"""A worker may appeal a rejection once; the requester's answer or the deadline settles it."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from tests.conftest import FakeClock
from tests.factories import make_project, open_batch, signup
from workers.runner import default_reconcilers, run_pass


def rejected_answer(
    client: TestClient,
) -> tuple[dict[str, str], dict[str, str], str, dict[str, Any]]:
    requester, worker = signup(client, "requester"), signup(client, "worker")
    project = make_project(client, requester, overlap={"max": 1}, auto_accept_s=600)
    batch = open_batch(client, requester, project["id"], n_images=1)
    lease = client.post(f"/v1/projects/{project['id']}/assignments", headers=worker).json()
    client.post(
        f"/v1/assignments/{lease['id']}/submit", json={"answer": {"label": "cat"}}, headers=worker
    )
    r = client.post(
        f"/v1/assignments/{lease['id']}/reject", json={"reason": "it is a dog"}, headers=requester
    )
    assert r.json()["status"] == "rejected"
    return requester, worker, lease["id"], batch


def test_granted_appeal_pays_and_only_one_appeal(client: TestClient) -> None:
    requester, worker, asg, _ = rejected_answer(client)
    r = client.post(
        f"/v1/assignments/{asg}/appeal", json={"message": "look at the ears"}, headers=worker
    )
    assert r.status_code == 200
    assert r.json()["appeal_message"] == "look at the ears"
    assert (
        client.post(
            f"/v1/assignments/{asg}/appeal", json={"message": "again"}, headers=worker
        ).status_code
        == 409
    )
    g = client.post(
        f"/v1/assignments/{asg}/appeal/grant", json={"reason": "you are right"}, headers=requester
    )
    assert (g.json()["status"], g.json()["appeal_outcome"]) == ("accepted", "granted")
    assert client.get("/v1/me", headers=worker).json()["balance"]["pending"] == "0.02"
    again = client.post(
        f"/v1/assignments/{asg}/appeal/deny", json={"reason": "no"}, headers=requester
    )
    assert again.status_code == 409


def test_denied_appeal_keeps_the_rejection_with_reason(client: TestClient) -> None:
    requester, worker, asg, _ = rejected_answer(client)
    client.post(f"/v1/assignments/{asg}/appeal", json={"message": "please"}, headers=worker)
    d = client.post(
        f"/v1/assignments/{asg}/appeal/deny", json={"reason": "ears are a dog's"}, headers=requester
    )
    assert (d.json()["status"], d.json()["reason"]) == (
        "rejected",
        "appeal denied: ears are a dog's",
    )
    assert client.get("/v1/me", headers=worker).json()["balance"]["pending"] == "0"


def test_unanswered_appeal_is_granted_at_the_deadline_and_late_appeals_refused(
    client: TestClient, clock: FakeClock
) -> None:
    requester, worker, asg, batch = rejected_answer(client)
    client.post(f"/v1/assignments/{asg}/appeal", json={"message": "please"}, headers=worker)
    clock.advance(601)
    run_pass(client.app.state.sessionmaker, default_reconcilers(), clock())  # type: ignore[attr-defined]
    history = client.get("/v1/me/assignments", headers=worker).json()["items"][0]
    assert (history["status"], history["appeal_outcome"]) == ("accepted", "granted")
    assert (
        client.get(f"/v1/batches/{batch['id']}", headers=requester).json()["status"] == "completed"
    )

    _, late_worker, late, _ = rejected_answer(client)
    clock.advance(601)
    assert (
        client.post(
            f"/v1/assignments/{late}/appeal", json={"message": "x"}, headers=late_worker
        ).status_code
        == 409
    )
