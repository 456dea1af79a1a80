"""Gold tasks: added by the requester, mixed in unseen, gating qualification, never leaking."""

from __future__ import annotations

import base64
import json
from typing import Any

from fastapi.testclient import TestClient

from tests.conftest import FakeClock
from tests.factories import deposit, make_project, png, signup, upload
from workers.runner import default_reconcilers, run_pass

H = dict[str, str]


def add_gold(
    client: TestClient, requester: H, project_id: str, label: str, seed: int
) -> dict[str, Any]:
    r = client.post(
        f"/v1/projects/{project_id}/gold",
        headers=requester,
        files={"file": (f"gold{seed}.png", png(40, 30, (seed, 9, 9)))},
        data={"answer": json.dumps({"label": label})},
    )
    assert r.status_code == 201, r.text
    return dict(r.json())


def setup(
    client: TestClient,
    *,
    gold_tasks: int = 2,
    gold_rate: float = 0.0,
    n_gold: int = 3,
    n_real: int = 4,
) -> tuple[H, dict[str, Any], set[str], dict[str, Any]]:
    requester = signup(client, "requester")
    project = make_project(
        client,
        requester,
        overlap={"min": 1, "max": 3},
        gold_rate=gold_rate,
        qualification={"gold_tasks": gold_tasks, "min_accuracy": 0.8},
    )
    gold_ids = {add_gold(client, requester, project["id"], "cat", i)["id"] for i in range(n_gold)}
    batch = upload(
        client,
        requester,
        project["id"],
        {f"real{i}.png": png(40, 30, (200, i, 50)) for i in range(n_real)},
    )
    deposit(client, requester, "10")
    launched = client.post(f"/v1/batches/{batch['id']}/launch", headers=requester)
    assert launched.status_code == 200, launched.text
    return requester, project, gold_ids, launched.json()


def lease_and_answer(client: TestClient, project_id: str, worker: H, label: str) -> dict[str, Any]:
    lease = client.post(f"/v1/projects/{project_id}/assignments", headers=worker)
    assert lease.status_code == 201, lease.text
    body = lease.json()
    r = client.post(
        f"/v1/assignments/{body['id']}/submit", json={"answer": {"label": label}}, headers=worker
    )
    assert r.status_code == 200, r.text
    return dict(body)


class TestAddGold:
    def test_json_with_base64_and_validation(self, client: TestClient) -> None:
        requester = signup(client, "requester")
        project = make_project(client, requester)
        image = base64.b64encode(png(20, 20)).decode()
        bad = client.post(
            f"/v1/projects/{project['id']}/gold",
            headers=requester,
            json={"image_base64": image, "answer": {"label": "horse"}},
        )
        assert bad.status_code == 422
        assert bad.json()["errors"][0]["loc"][:3] == ["body", "answer", "label"]
        ok = client.post(
            f"/v1/projects/{project['id']}/gold",
            headers=requester,
            json={"image_base64": image, "answer": {"label": "dog"}, "name": "g.png"},
        )
        assert ok.status_code == 201
        assert ok.json()["answer"] == {"label": "dog"}
        other = signup(client, "requester")
        assert (
            client.post(
                f"/v1/projects/{project['id']}/gold",
                headers=other,
                json={"image_base64": image, "answer": {"label": "dog"}},
            ).status_code
            == 404
        )

    def test_gold_is_never_in_results_and_its_batch_is_hidden(self, client: TestClient) -> None:
        requester, _, gold_ids, batch = setup(client)
        items = client.get(f"/v1/batches/{batch['id']}/results", headers=requester).json()["items"]
        assert len(items) == 4
        assert not gold_ids & {i["task_id"] for i in items}


class TestQualification:
    def test_new_worker_gets_only_gold_then_qualifies(self, client: TestClient) -> None:
        _, project, gold_ids, _ = setup(client)
        worker = signup(client, "worker")
        seen = [
            lease_and_answer(client, project["id"], worker, "cat")["task"]["id"] for _ in range(2)
        ]
        assert set(seen) <= gold_ids
        after = lease_and_answer(client, project["id"], worker, "cat")["task"]["id"]
        assert after not in gold_ids

    def test_failing_worker_is_refused_with_reason_and_retry_time(
        self, client: TestClient, clock: FakeClock
    ) -> None:
        _, project, _, _ = setup(client)
        worker = signup(client, "worker")
        for _ in range(2):
            lease_and_answer(client, project["id"], worker, "dog")
        r = client.post(f"/v1/projects/{project['id']}/assignments", headers=worker)
        assert r.status_code == 403
        detail = r.json()["detail"]
        assert "accuracy 0.00 on 2 gold tasks" in detail
        assert "2026-01-06T12:00:00Z" in detail
        clock.advance(86_401)
        retry = client.post(f"/v1/projects/{project['id']}/assignments", headers=worker)
        assert retry.status_code == 201  # the third, unseen gold task

    def test_gold_answers_are_judged_and_paid_like_any(
        self, client: TestClient, clock: FakeClock
    ) -> None:
        _, project, _, _ = setup(client)
        worker = signup(client, "worker")
        for _ in range(2):
            lease_and_answer(client, project["id"], worker, "cat")
        history = client.get("/v1/me/assignments", headers=worker).json()["items"]
        assert all(h["status"] == "submitted" for h in history)
        clock.advance(3 * 86_400 + 1)
        run_pass(client.app.state.sessionmaker, default_reconcilers(), clock())  # type: ignore[attr-defined]
        history = client.get("/v1/me/assignments", headers=worker).json()["items"]
        assert [h["status"] for h in history] == ["accepted", "accepted"]
        assert client.get("/v1/me", headers=worker).json()["balance"]["pending"] == "0.04"


def test_gold_payload_is_indistinguishable_from_a_real_task(client: TestClient) -> None:
    requester, project, gold_ids, _ = setup(client, gold_tasks=1)
    worker = signup(client, "worker")
    gold_lease = client.post(f"/v1/projects/{project['id']}/assignments", headers=worker).json()
    client.post(
        f"/v1/assignments/{gold_lease['id']}/submit",
        json={"answer": {"label": "cat"}},
        headers=worker,
    )
    real_lease = client.post(f"/v1/projects/{project['id']}/assignments", headers=worker).json()
    assert gold_lease["task"]["id"] in gold_ids
    assert real_lease["task"]["id"] not in gold_ids

    def shape(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: shape(v) for k, v in sorted(value.items())}
        if isinstance(value, str):
            return (
                value.split("_")[0]
                if "_" in value and len(value) == 30
                else value.rsplit("/", 1)[0]
            )
        return type(value).__name__ if isinstance(value, int | float) else value

    assert shape(gold_lease) == shape(real_lease)
    for key in ("reward", "project_id"):
        assert gold_lease[key] == real_lease[key]
    assert gold_lease["task"]["annotation"] == real_lease["task"]["annotation"]
    assert client.get(gold_lease["task"]["image_url"], headers=requester).status_code == 200


def test_gold_rate_mixes_gold_into_a_qualified_stream(client: TestClient) -> None:
    _, project, gold_ids, _ = setup(client, gold_tasks=0, gold_rate=0.5, n_gold=3, n_real=14)
    worker = signup(client, "worker")
    leased = []
    while (
        r := client.post(f"/v1/projects/{project['id']}/assignments", headers=worker)
    ).status_code == 201:
        leased.append(r.json()["task"]["id"])
        client.post(
            f"/v1/assignments/{r.json()['id']}/submit",
            json={"answer": {"label": "cat"}},
            headers=worker,
        )
    # At rate 0.5 over 14+ leases, gold shows up (a miss has odds 2^-14), never the same twice.
    assert 1 <= len(set(leased) & gold_ids) <= 3
    assert len(leased) == len(set(leased))
    assert len(set(leased) - gold_ids) == 14
