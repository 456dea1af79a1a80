"""Leasing guarantees (API.md, "Leasing guarantees"), through HTTP and under concurrency."""

from __future__ import annotations

from collections import Counter
from concurrent.futures import ThreadPoolExecutor

from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select

from app.core.db import make_sessionmaker
from app.core.ids import new_id
from app.models import Account, Assignment, Role, TaskQueueEntry
from app.work import service as work_service
from tests.conftest import FakeClock
from tests.factories import account_id, make_project, open_batch, signup
from workers.runner import default_reconcilers, run_pass


def lease(client: TestClient, project_id: str, worker: dict[str, str]):  # type: ignore[no-untyped-def]
    return client.post(f"/v1/projects/{project_id}/assignments", headers=worker)


class TestLease:
    def test_worker_gets_each_task_once_then_204(self, client: TestClient) -> None:
        requester, worker = signup(client, "requester"), signup(client, "worker")
        project = make_project(client, requester, overlap={"min": 1, "max": 3})
        open_batch(client, requester, project["id"], n_images=2)
        seen = set()
        for _ in range(2):
            r = lease(client, project["id"], worker)
            assert r.status_code == 201
            seen.add(r.json()["task"]["id"])
        assert len(seen) == 2
        assert lease(client, project["id"], worker).status_code == 204

    def test_task_never_exceeds_max_overlap(self, client: TestClient) -> None:
        requester = signup(client, "requester")
        project = make_project(client, requester, overlap={"min": 1, "max": 2})
        open_batch(client, requester, project["id"], n_images=1)
        codes = [
            lease(client, project["id"], signup(client, "worker")).status_code for _ in range(3)
        ]
        assert codes == [201, 201, 204]

    def test_lease_shows_task_and_terms(self, client: TestClient, clock: FakeClock) -> None:
        requester, worker = signup(client, "requester"), signup(client, "worker")
        project = make_project(
            client, requester, reward="0.035", assignment_duration_s=120, instructions="Pick one."
        )
        open_batch(client, requester, project["id"], n_images=1)
        body = lease(client, project["id"], worker).json()
        assert body["reward"] == "0.035"
        assert body["expires_at"] == "2026-01-05T12:02:00.000Z"
        assert body["task"]["annotation"]["labels"] == ["cat", "dog"]
        assert body["task"]["instructions"] == "Pick one."
        assert (body["task"]["width"], body["task"]["height"]) == (32, 24)

    def test_draft_and_cancelled_batches_hand_out_nothing(self, client: TestClient) -> None:
        requester, worker = signup(client, "requester"), signup(client, "worker")
        project = make_project(client, requester)
        batch = open_batch(client, requester, project["id"], n_images=2)
        assert (
            client.post(f"/v1/batches/{batch['id']}/cancel", headers=requester).json()["status"]
            == "cancelled"
        )
        assert lease(client, project["id"], worker).status_code == 204

    def test_paused_project_is_not_found_for_workers(self, client: TestClient) -> None:
        requester, worker = signup(client, "requester"), signup(client, "worker")
        project = make_project(client, requester)
        open_batch(client, requester, project["id"], n_images=1)
        client.patch(f"/v1/projects/{project['id']}", json={"status": "paused"}, headers=requester)
        assert lease(client, project["id"], worker).status_code == 404

    def test_a_worker_cannot_hoard_leases(self, client: TestClient) -> None:
        requester, worker = signup(client, "requester"), signup(client, "worker")
        project = make_project(client, requester)
        open_batch(client, requester, project["id"], n_images=12)
        codes = [lease(client, project["id"], worker).status_code for _ in range(11)]
        assert codes == [201] * 10 + [409]


class TestExpiryAndRelease:
    def test_expired_lease_returns_task_to_pool(self, client: TestClient, clock: FakeClock) -> None:
        requester = signup(client, "requester")
        w1, w2 = signup(client, "worker"), signup(client, "worker")
        project = make_project(
            client, requester, overlap={"min": 1, "max": 1}, assignment_duration_s=60
        )
        open_batch(client, requester, project["id"], n_images=1)
        first = lease(client, project["id"], w1).json()
        assert lease(client, project["id"], w2).status_code == 204
        clock.advance(61)
        makers = client.app.state.sessionmaker  # type: ignore[attr-defined]
        assert run_pass(makers, default_reconcilers(), clock())["leases.expire"] == 1
        assert lease(client, project["id"], w2).status_code == 201
        r = client.post(
            f"/v1/assignments/{first['id']}/submit", json={"answer": {"label": "cat"}}, headers=w1
        )
        assert r.status_code == 409
        history = client.get("/v1/me/assignments", headers=w1).json()["items"]
        assert history[0]["status"] == "expired"

    def test_submit_after_deadline_is_409_even_before_the_reconciler(
        self, client: TestClient, clock: FakeClock
    ) -> None:
        requester, worker, other = (
            signup(client, "requester"),
            signup(client, "worker"),
            signup(client, "worker"),
        )
        project = make_project(
            client, requester, overlap={"min": 1, "max": 1}, assignment_duration_s=60
        )
        open_batch(client, requester, project["id"], n_images=1)
        a = lease(client, project["id"], worker).json()
        clock.advance(60)
        r = client.post(
            f"/v1/assignments/{a['id']}/submit", json={"answer": {"label": "cat"}}, headers=worker
        )
        assert r.status_code == 409
        assert r.json()["type"].endswith("lease-expired")
        assert lease(client, project["id"], other).status_code == 201  # the slot came back

    def test_release_gives_task_back_and_not_to_same_worker(self, client: TestClient) -> None:
        requester, w1, w2 = (
            signup(client, "requester"),
            signup(client, "worker"),
            signup(client, "worker"),
        )
        project = make_project(client, requester, overlap={"min": 1, "max": 1})
        open_batch(client, requester, project["id"], n_images=1)
        a = lease(client, project["id"], w1).json()
        assert (
            client.post(f"/v1/assignments/{a['id']}/release", headers=w1).json()["status"]
            == "released"
        )
        assert lease(client, project["id"], w1).status_code == 204
        assert lease(client, project["id"], w2).status_code == 201
        assert client.post(f"/v1/assignments/{a['id']}/release", headers=w1).status_code == 409


class TestSubmit:
    def test_repeated_submit_is_409_and_counts_once(self, client: TestClient) -> None:
        requester, worker = signup(client, "requester"), signup(client, "worker")
        project = make_project(client, requester)
        batch = open_batch(client, requester, project["id"], n_images=1)
        a = lease(client, project["id"], worker).json()
        ok = client.post(
            f"/v1/assignments/{a['id']}/submit", json={"answer": {"label": "dog"}}, headers=worker
        )
        assert ok.status_code == 200
        assert ok.json()["status"] == "submitted"
        again = client.post(
            f"/v1/assignments/{a['id']}/submit", json={"answer": {"label": "cat"}}, headers=worker
        )
        assert again.status_code == 409
        counts = client.get(f"/v1/batches/{batch['id']}", headers=requester).json()["counts"]
        assert counts["answers"] == 1

    def test_answer_outside_schema_is_422_and_lease_stays_open(self, client: TestClient) -> None:
        requester, worker = signup(client, "requester"), signup(client, "worker")
        project = make_project(client, requester)
        open_batch(client, requester, project["id"], n_images=1)
        a = lease(client, project["id"], worker).json()
        bad = client.post(
            f"/v1/assignments/{a['id']}/submit", json={"answer": {"label": "horse"}}, headers=worker
        )
        assert bad.status_code == 422
        assert bad.json()["errors"][0]["loc"][:3] == ["body", "answer", "label"]
        good = client.post(
            f"/v1/assignments/{a['id']}/submit", json={"answer": {"label": "cat"}}, headers=worker
        )
        assert good.status_code == 200

    def test_someone_elses_assignment_is_404(self, client: TestClient) -> None:
        requester, worker, thief = (
            signup(client, "requester"),
            signup(client, "worker"),
            signup(client, "worker"),
        )
        project = make_project(client, requester)
        open_batch(client, requester, project["id"], n_images=1)
        a = lease(client, project["id"], worker).json()
        r = client.post(
            f"/v1/assignments/{a['id']}/submit", json={"answer": {"label": "cat"}}, headers=thief
        )
        assert r.status_code == 404

    def test_task_completes_at_max_overlap_and_batch_once_verdicts_are_final(
        self, client: TestClient, clock: FakeClock
    ) -> None:
        requester = signup(client, "requester")
        project = make_project(client, requester, overlap={"min": 1, "max": 2})
        batch = open_batch(client, requester, project["id"], n_images=1)
        for _ in range(2):
            worker = signup(client, "worker")
            a = lease(client, project["id"], worker).json()
            client.post(
                f"/v1/assignments/{a['id']}/submit",
                json={"answer": {"label": "cat"}},
                headers=worker,
            )
        body = client.get(f"/v1/batches/{batch['id']}", headers=requester).json()
        assert body["status"] == "open"  # two answers still wait for their verdicts
        assert body["counts"]["completed_tasks"] == 1
        clock.advance(3 * 86_400)
        run_pass(client.app.state.sessionmaker, default_reconcilers(), clock())  # type: ignore[attr-defined]
        assert (
            client.get(f"/v1/batches/{batch['id']}", headers=requester).json()["status"]
            == "completed"
        )
        results = client.get(
            f"/v1/batches/{batch['id']}/results?include=answers", headers=requester
        ).json()
        item = results["items"][0]
        assert item["status"] == "completed"
        assert item["answer_count"] == 2
        assert [a["answer"] for a in item["answers"]] == [{"label": "cat"}, {"label": "cat"}]
        assert {a["status"] for a in item["answers"]} == {"accepted"}
        assert {a["reason"] for a in item["answers"]} == {"label cat matches the consensus"}
        assert (item["answer"], round(item["confidence"], 2)) == ({"label": "cat"}, 0.84)


class TestImageAccess:
    def test_only_owner_and_live_lease_holder_see_the_image(
        self, client: TestClient, clock: FakeClock
    ) -> None:
        requester, other_requester = signup(client, "requester"), signup(client, "requester")
        worker, idle_worker = signup(client, "worker"), signup(client, "worker")
        project = make_project(client, requester, assignment_duration_s=60)
        open_batch(client, requester, project["id"], n_images=1)
        url = lease(client, project["id"], worker).json()["task"]["image_url"]
        assert client.get(url, headers=requester).status_code == 200
        assert client.get(url, headers=worker).status_code == 200
        assert client.get(url, headers=idle_worker).status_code == 404
        assert client.get(url, headers=other_requester).status_code == 404
        assert client.get(url).status_code == 200  # the signed URL needs no header
        assert client.get(url.split("?")[0]).status_code == 401  # the bare URL does
        tampered = url.replace("sig=", "sig=A")
        assert client.get(tampered).status_code == 404
        assert client.get(tampered, headers=worker).status_code == 404
        clock.advance(61)
        assert client.get(url, headers=worker).status_code == 404
        assert client.get(url).status_code == 404


def _workers(engine: Engine, n: int) -> list[Account]:
    session = make_sessionmaker(engine)()
    accounts = []
    for i in range(n):
        accounts.append(
            Account(id=new_id("acc"), role=Role.worker, name=f"w{i}", created_at=FakeClock().now)
        )
    session.add_all(accounts)
    session.commit()
    session.close()
    return accounts


def test_concurrent_leases_grant_exactly_the_overlap(
    client: TestClient, engine: Engine, clock: FakeClock
) -> None:
    """200 simultaneous lease calls from 100 workers on 10 tasks with overlap 3: exactly 30 leases."""
    requester = signup(client, "requester")
    project = make_project(client, requester, overlap={"min": 3, "max": 3})
    open_batch(client, requester, project["id"], n_images=10)
    workers = _workers(engine, 100)
    make_session = make_sessionmaker(engine)

    def attempt(worker: Account) -> str | None:
        with make_session() as session:
            lease = work_service.lease_next(session, worker, project["id"], now=clock())
            return lease.task.id if lease else None

    with ThreadPoolExecutor(max_workers=32) as pool:
        granted = [
            t for t in pool.map(attempt, [w for w in workers for _ in range(2)]) if t is not None
        ]

    assert len(granted) == 30
    assert set(Counter(granted).values()) == {3}
    with make_session() as session:
        pairs = session.execute(select(Assignment.task_id, Assignment.worker_id)).all()
        assert len(pairs) == len(set(pairs)) == 30
        assert session.scalar(select(func.sum(TaskQueueEntry.open_slots))) == 0
    assert account_id(requester).startswith("acc_")
