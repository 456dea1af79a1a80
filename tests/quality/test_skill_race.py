"""A worker's first skill row in a project is made by an upsert: concurrent submits that create
it for the same worker (each completed task grades all its answerers) never collide."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from app.core.config import Settings
from app.core.db import make_engine, make_sessionmaker
from app.core.ids import new_id
from app.models import Account, Assignment, Role, Task, TaskStatus, WorkerSkill
from app.work import service as work_service
from tests.conftest import FakeClock
from tests.factories import make_project, open_batch, signup

N = 64


@pytest.mark.postgres_only
def test_64_concurrent_first_gradings_of_64_new_workers(
    client: TestClient, settings: Settings, clock: FakeClock
) -> None:
    """64 new workers in a ring: task k is leased by workers k and k+1. The 64 first answers go
    in at once, then the 64 second ones, which complete all 64 tasks at once: every completion
    creates the skill rows of both its workers, so each worker's first row is made by two
    concurrent transactions. No submit may fail, and every row counts exactly two grades."""
    requester = signup(client, "requester")
    project = make_project(client, requester, overlap={"min": 2, "max": 2})
    open_batch(client, requester, project["id"], n_images=N, fund="1000")
    engine = make_engine(settings.database_url, pool_size=N // 2)  # 2 × pool_size connections
    make_session = make_sessionmaker(engine)
    with make_session() as session:
        workers = [
            Account(id=new_id("acc"), role=Role.worker, name=f"w{i}", created_at=clock())
            for i in range(N)
        ]
        session.add_all(workers)
        session.commit()

    # Leasing in this order hands out the ring: w0 → t0; wk → t(k-1), tk; w0 → t63.
    held: dict[str, list[str]] = {}
    with make_session() as session:
        for worker in [workers[0], *[w for w in workers[1:] for _ in range(2)], workers[0]]:
            lease = work_service.lease_next(session, worker, project["id"], now=clock())
            assert lease is not None
            held.setdefault(lease.task.id, []).append(lease.assignment.id)
    assert len(held) == N
    assert all(len(a) == 2 for a in held.values())
    owner = {a: w for w in workers for a in _ids_of(make_session, w)}

    clock.advance(30)
    for phase in (0, 1):
        barrier = threading.Barrier(N)

        def submit(assignment_id: str, barrier: threading.Barrier = barrier) -> str | None:
            barrier.wait(timeout=60)
            try:
                with make_session() as session:
                    work_service.submit(
                        session, owner[assignment_id], assignment_id, {"label": "cat"}, now=clock()
                    )
            except Exception as exc:  # any failure is the bug under test
                return f"{type(exc).__name__}: {exc}"
            return None

        with ThreadPoolExecutor(max_workers=N) as pool:
            errors = [e for e in pool.map(submit, [a[phase] for a in held.values()]) if e]
        assert errors == [], errors[:3]

    with make_session() as session:
        statuses = session.scalars(select(Task.status).where(Task.id.in_(held))).all()
        assert set(statuses) == {TaskStatus.completed}
        rows = session.scalars(
            select(WorkerSkill).where(WorkerSkill.project_id == project["id"])
        ).all()
        assert sorted(r.worker_id for r in rows) == sorted(w.id for w in workers)
        assert {r.graded for r in rows} == {2}
    engine.dispose()


def _ids_of(make_session: sessionmaker[Session], worker: Account) -> list[str]:
    with make_session() as session:
        return list(session.scalars(select(Assignment.id).where(Assignment.worker_id == worker.id)))
