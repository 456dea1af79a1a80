"""PostgreSQL drops every connection (``pg_terminate_backend`` on each backend of the service's
database, three times) while 32 clients lease and submit through a live ``tessera serve``:
requests get 2xx, 4xx or a 503 problem with ``Retry-After`` (never a 500, never a hang past
10 s), the service recovers by itself within 5 s of each cut, and afterwards every acknowledged
answer is stored exactly once, no task was leased twice and the ledger verifies.

The cluster itself is never restarted (other test runs share it): killing every backend is what
a restart does to the service's connections, and the database is back at once, which makes the
recovery bound the service's own.
"""

from __future__ import annotations

import io
import logging
import os
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import psycopg
import pytest
from PIL import Image
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from app.core.config import normalize_database_url
from app.core.db import make_engine, make_sessionmaker
from app.core.migrate import upgrade
from app.models import Assignment, AssignmentStatus
from app.operator.money import verify_ledger
from tests.conftest import PG_URL
from tests.faults.serve import Processes, tessera_env

pytestmark = pytest.mark.postgres_only

CLIENTS = 32
CUTS = (1.5, 3.5, 5.5)  # seconds into the load
LOAD_S = 8.0
HANG_S = 10.0
RECOVER_S = 5.0
H = dict[str, str]


@pytest.fixture
def outage_db() -> Iterator[tuple[str, str]]:
    """A database of its own (its backends are the ones the test kills): (url, admin url)."""
    url = make_url(normalize_database_url(PG_URL))
    name = f"{url.database}_outage_{os.getpid()}"
    admin = url.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    db_url = url.set(database=name).render_as_string(hide_password=False)
    upgrade(db_url)
    yield db_url, admin
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def tiny_png(i: int) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (8, 8), (i % 256, (i // 256) % 256, 7)).save(buf, format="PNG")
    return buf.getvalue()


def seed(url: str, n_tasks: int) -> tuple[str, list[H]]:
    with httpx.Client(base_url=url, timeout=30) as c:

        def signup(role: str) -> H:
            r = c.post("/v1/accounts", json={"role": role, "name": f"a {role}"})
            assert r.status_code == 201, r.text
            return {"Authorization": f"Bearer {r.json()['api_key']}"}

        requester = signup("requester")
        project = c.post(
            "/v1/projects",
            json={
                "name": "Outage",
                "annotation": {"type": "classification", "labels": ["cat", "dog"]},
                "reward": "0.01",
                "overlap": {"min": 1, "max": 1},
            },
            headers=requester,
        ).json()
        files = [("files", (f"i{i}.png", tiny_png(i), "image/png")) for i in range(n_tasks)]
        r = c.post(f"/v1/projects/{project['id']}/batches", files=files, headers=requester)
        assert r.status_code == 201, r.text
        batch = r.json()
        assert c.post("/v1/deposits", json={"amount": "100"}, headers=requester).status_code == 201
        assert c.post(f"/v1/batches/{batch['id']}/launch", headers=requester).status_code == 200
        return project["id"], [signup("worker") for _ in range(CLIENTS)]


@dataclass
class Log:
    """Every request: (started, ended, route, status or the exception's name)."""

    t0: float = field(default_factory=time.monotonic)
    rows: list[tuple[float, float, str, int | str]] = field(default_factory=list)
    acked: list[str] = field(default_factory=list)  # assignments whose submit answered 200
    lock: threading.Lock = field(default_factory=threading.Lock)

    def call(self, c: httpx.Client, route: str, path: str, **kw: object) -> httpx.Response | None:
        started = time.monotonic() - self.t0
        try:
            r: httpx.Response | None = c.post(path, **kw)  # type: ignore[arg-type]
            outcome: int | str = r.status_code if r is not None else "none"
        except httpx.HTTPError as exc:
            r, outcome = None, type(exc).__name__
        with self.lock:
            self.rows.append((started, time.monotonic() - self.t0, route, outcome))
        if r is not None and r.status_code == 503:
            assert r.headers.get("Retry-After"), "a 503 without Retry-After"
            assert r.headers["content-type"] == "application/problem+json"
        return r


def client_loop(url: str, project_id: str, worker: H, log: Log, stop: threading.Event) -> None:
    with httpx.Client(base_url=url, headers=worker, timeout=HANG_S + 2) as c:
        while not stop.is_set():
            lease = log.call(c, "lease", f"/v1/projects/{project_id}/assignments")
            if lease is None or lease.status_code != 201:
                time.sleep(0.05)
                continue
            lease_id = lease.json()["id"]
            submit = log.call(
                c, "submit", f"/v1/assignments/{lease_id}/submit", json={"answer": {"label": "cat"}}
            )
            if submit is not None and submit.status_code == 200:
                with log.lock:
                    log.acked.append(lease_id)


def cut(admin: str, database: str) -> int:
    with psycopg.connect(admin, autocommit=True) as conn:
        rows = conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = %s AND pid <> pg_backend_pid()",
            (database,),
        ).fetchall()
    return len(rows)


def test_every_backend_killed_under_load(
    outage_db: tuple[str, str], processes: Processes, tmp_path: Path
) -> None:
    db_url, admin = outage_db
    setup_started = time.monotonic()
    env = tessera_env(db_url, tmp_path / "data", TESSERA_RUN_RECONCILERS="false")
    _, url = processes.serve(env)
    project_id, workers = seed(url, n_tasks=300)
    setup_s = time.monotonic() - setup_started

    log, stop = Log(), threading.Event()
    threads = [
        threading.Thread(target=client_loop, args=(url, project_id, w, log, stop), daemon=True)
        for w in workers
    ]
    for t in threads:
        t.start()
    database = make_url(db_url).database
    assert database is not None
    cuts: list[tuple[float, int]] = []
    for at in CUTS:
        time.sleep(max(0.0, at - (time.monotonic() - log.t0)))
        cuts.append((time.monotonic() - log.t0, cut(admin, database)))
    time.sleep(max(0.0, LOAD_S - (time.monotonic() - log.t0)))
    stop.set()
    for t in threads:
        t.join(timeout=HANG_S + 5)
    assert not any(t.is_alive() for t in threads), "a client is stuck"

    outcomes = Counter(o for *_, o in log.rows)
    summary = f"outcomes {dict(outcomes)}; cuts (s, backends) {cuts}; acked {len(log.acked)}"
    logging.getLogger("tests.faults").warning("%s; setup %.1f s", summary, setup_s)
    assert all(n > 0 for _, n in cuts), "a cut found no backend to kill"
    bad = {o: n for o, n in outcomes.items() if not (isinstance(o, int) and (o < 500 or o == 503))}
    assert not bad, f"responses other than 2xx/4xx/503: {bad}"
    slowest = max(end - start for start, end, *_ in log.rows)
    assert slowest < HANG_S, f"a request took {slowest:.1f} s"
    for at, _ in cuts:
        recovered = [end for start, end, _, o in log.rows if start >= at and o in (200, 201, 204)]
        assert recovered, f"nothing succeeded after the cut at {at:.1f} s"
        assert min(recovered) - at < RECOVER_S, f"recovery took {min(recovered) - at:.1f} s"
    assert len(log.acked) > 30, summary  # the load did run between the cuts

    engine = make_engine(normalize_database_url(db_url), pool_size=1)
    try:
        with make_sessionmaker(engine)() as session:
            answered = (
                AssignmentStatus.submitted,
                AssignmentStatus.accepted,
                AssignmentStatus.rejected,
            )
            stored = session.scalars(
                select(Assignment.id).where(
                    Assignment.id.in_(log.acked),
                    Assignment.status.in_(answered),
                    Assignment.answer.is_not(None),
                )
            ).all()
            assert len(log.acked) == len(set(log.acked)) == len(stored)  # each stored, once
            live = (AssignmentStatus.leased, *answered)
            held_twice = session.execute(
                select(Assignment.task_id, func.count())
                .where(Assignment.status.in_(live))
                .group_by(Assignment.task_id)
                .having(func.count() > 1)
            ).all()
            assert not held_twice, f"tasks leased or answered twice (overlap 1): {held_twice[:5]}"
            report = verify_ledger(session)
            assert report.ok, report.violations
    finally:
        engine.dispose()
