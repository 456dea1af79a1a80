"""Abuse limits: sign-ups per address, leases and answers per worker (429 with Retry-After),
counted by the one database rate limiter, exact under concurrency; body size per route (413
before the body is read); old counters pruned by a reconciler."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import anyio
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select

from app.core import ratelimit
from app.core.config import Settings
from app.core.db import make_sessionmaker
from app.core.errors import TooManyRequests
from app.core.limits import BodySizeLimit
from app.main import body_caps, create_app
from app.models import RateCounter
from tests.conftest import FakeClock
from tests.factories import make_project, open_batch, signup
from workers.ratelimits import PruneRateCounters
from workers.runner import run_pass

H = dict[str, str]


@pytest.fixture
def limited(settings: Settings, clock: FakeClock) -> Iterator[TestClient]:
    tight = settings.model_copy(
        update={
            "signups_per_address_per_hour": 4,
            "leases_per_worker_per_minute": 3,
            "answers_per_worker_per_minute": 2,
            "max_json_bytes": 2_000,
            "max_answer_bytes": 20_000,
        }
    )
    app = create_app(tight)
    app.state.clock = clock
    with TestClient(app) as client:
        yield client


def assert_429(r: Any, *, at_most_s: int) -> int:
    assert r.status_code == 429, r.text
    assert r.headers["content-type"] == "application/problem+json"
    wait = int(r.headers["Retry-After"])
    assert 1 <= wait <= at_most_s
    body = r.json()
    assert body["type"].endswith("/too-many-requests")
    assert body["retry_after"] == wait
    assert "try again in" in body["detail"]
    return wait


def test_sign_ups_per_address(limited: TestClient, clock: FakeClock) -> None:
    for _ in range(4):
        signup(limited, "worker")
    r = limited.post("/v1/accounts", json={"role": "worker", "name": "one more"})
    wait = assert_429(r, at_most_s=3600)
    assert "sign-ups" in r.json()["detail"]
    # Another address is not affected.
    other = TestClient(limited.app, client=("203.0.113.9", 4000))
    assert other.post("/v1/accounts", json={"role": "worker", "name": "x"}).status_code == 201
    clock.advance(wait)
    signup(limited, "worker")


def test_leases_per_worker(limited: TestClient, clock: FakeClock) -> None:
    requester = signup(limited, "requester")
    project = make_project(limited, requester, overlap={"min": 1, "max": 1})
    open_batch(limited, requester, project["id"], n_images=2, fund="10")
    worker, other = signup(limited, "worker"), signup(limited, "worker")
    url = f"/v1/projects/{project['id']}/assignments"
    # Polling counts too (a 204 "nothing for you" is a lease request all the same).
    assert [limited.post(url, headers=worker).status_code for _ in range(3)] == [201, 201, 204]
    wait = assert_429(limited.post(url, headers=worker), at_most_s=60)
    assert limited.post(url, headers=other).status_code == 204  # its own count
    clock.advance(wait)
    assert limited.post(url, headers=worker).status_code == 204


def test_answers_per_worker(limited: TestClient, clock: FakeClock) -> None:
    requester = signup(limited, "requester")
    project = make_project(limited, requester, overlap={"min": 1, "max": 1})
    open_batch(limited, requester, project["id"], n_images=3, fund="10")
    worker = signup(limited, "worker")
    leases = [
        limited.post(f"/v1/projects/{project['id']}/assignments", headers=worker).json()["id"]
        for _ in range(3)
    ]

    def submit(lease_id: str) -> Any:
        return limited.post(
            f"/v1/assignments/{lease_id}/submit", json={"answer": {"label": "cat"}}, headers=worker
        )

    assert [submit(i).status_code for i in leases[:2]] == [200, 200]
    wait = assert_429(submit(leases[2]), at_most_s=60)
    assert "answers" in submit(leases[2]).json()["detail"]
    clock.advance(wait)
    assert submit(leases[2]).status_code == 200  # the refused answer changed nothing


def test_refused_requests_count_too(limited: TestClient) -> None:
    """The count is taken in the use case's transaction; a request the use case refuses (an
    answer of the wrong shape, a lease in a project that is not there) is counted all the same,
    so a flood of bad requests meets the limit as a flood of good ones does."""
    requester = signup(limited, "requester")
    project = make_project(limited, requester, overlap={"min": 1, "max": 1})
    open_batch(limited, requester, project["id"], n_images=1, fund="10")
    worker = signup(limited, "worker")
    lease = limited.post(f"/v1/projects/{project['id']}/assignments", headers=worker).json()["id"]
    bad = {"answer": {"label": "not a label"}}
    url = f"/v1/assignments/{lease}/submit"
    assert [limited.post(url, json=bad, headers=worker).status_code for _ in range(2)] == [422, 422]
    assert_429(limited.post(url, json={"answer": {"label": "cat"}}, headers=worker), at_most_s=60)

    other = signup(limited, "worker")
    missing = "/v1/projects/prj_01M8S5V1J6C7FCMBJZ528P4T75/assignments"
    assert [limited.post(missing, headers=other).status_code for _ in range(3)] == [404] * 3
    assert_429(limited.post(missing, headers=other), at_most_s=60)


def test_the_count_is_exact_under_concurrency(engine: Engine, clock: FakeClock) -> None:
    """32 threads, a limit of 10: exactly 10 are let through, whatever the interleaving (an
    atomic upsert per hit; on PostgreSQL the threads really run at once)."""
    limit = ratelimit.Limit("test:race", 10, 60)
    maker = make_sessionmaker(engine)
    barrier = threading.Barrier(32)

    def one(_: int) -> bool:
        with maker() as session:
            barrier.wait()
            try:
                ratelimit.take(session, limit, "k", now=clock(), what="tests")
            except TooManyRequests:
                return False
            return True

    with ThreadPoolExecutor(32) as pool:
        allowed = list(pool.map(one, range(32)))
    assert sum(allowed) == 10
    with maker() as session:
        assert session.scalar(select(RateCounter.hits)) == 32


def test_body_size_per_route(limited: TestClient) -> None:
    requester = signup(limited, "requester")
    big_name = {"name": "x" * 3_000, "annotation": {"type": "classification", "labels": ["a"]}}
    r = limited.post("/v1/projects", json=big_name, headers=requester)
    assert r.status_code == 413
    assert r.headers["content-type"] == "application/problem+json"
    assert "2000 bytes" in r.json()["detail"]
    # A submit may be larger than small JSON (masks), up to its own cap.
    project = make_project(limited, requester, overlap={"min": 1, "max": 1})
    open_batch(limited, requester, project["id"], n_images=1, fund="10")
    worker = signup(limited, "worker")
    lease = limited.post(f"/v1/projects/{project['id']}/assignments", headers=worker).json()
    submit = f"/v1/assignments/{lease['id']}/submit"
    padded = {"answer": {"label": "cat"}, "pad": "y" * 5_000}
    assert limited.post(submit, json=padded, headers=worker).status_code == 422  # read, refused
    padded["pad"] = "y" * 25_000
    assert limited.post(submit, json=padded, headers=worker).status_code == 413


def test_every_capped_route_exists(client: TestClient, settings: Settings) -> None:
    document = client.get("/openapi.json").json()
    paths = {(method.upper(), path) for path, ops in document["paths"].items() for method in ops}
    assert set(body_caps(settings)) <= paths


def test_a_declared_length_over_the_cap_is_refused_unread() -> None:
    async def app(*_: Any) -> None:
        raise AssertionError("the app must not be called")

    async def receive() -> dict[str, Any]:
        raise AssertionError("the body must not be read")

    sent: list[dict[str, Any]] = []

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    limit = BodySizeLimit(app, default=100, routes={("POST", "/v1/x/{id}"): 1000})
    scope = {
        "type": "http",
        "method": "POST",
        "path": "/v1/projects",
        "headers": [(b"content-length", b"101")],
    }
    anyio.run(limit, scope, receive, send)  # type: ignore[arg-type]
    assert sent[0]["status"] == 413
    assert limit.cap_for("POST", "/v1/x/abc") == 1000
    assert limit.cap_for("GET", "/v1/x/abc") == 100


def test_old_counters_are_pruned(limited: TestClient, clock: FakeClock, engine: Engine) -> None:
    signup(limited, "worker")  # a sign-up counter in this hour
    maker = make_sessionmaker(engine)

    def counters() -> int:
        with maker() as session:
            return int(session.scalar(select(func.count()).select_from(RateCounter)) or 0)

    assert counters() == 1
    assert run_pass(maker, [PruneRateCounters()], clock())["ratelimits.prune"] == 0
    assert counters() == 1  # its window is still open
    clock.advance(3600)
    assert run_pass(maker, [PruneRateCounters()], clock())["ratelimits.prune"] == 1
    assert counters() == 0
