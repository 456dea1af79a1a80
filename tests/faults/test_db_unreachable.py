"""An unreachable database is a 503 problem with Retry-After, quickly (both suites: the app is
pointed at a PostgreSQL port where nothing listens)."""

from __future__ import annotations

import time

from fastapi.testclient import TestClient

from app.core.db import make_engine, make_sessionmaker
from tests.factories import signup
from tests.faults.serve import free_port


def test_unreachable_database_is_503_with_retry_after(client: TestClient) -> None:
    worker = signup(client, "worker")
    dead = make_engine(f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/x", pool_size=1)
    client.app.state.sessionmaker = make_sessionmaker(dead)  # type: ignore[attr-defined]
    try:
        started = time.monotonic()
        r = client.get("/v1/me", headers=worker)
        assert time.monotonic() - started < 10
    finally:
        dead.dispose()
    assert r.status_code == 503
    assert r.headers["content-type"] == "application/problem+json"
    assert int(r.headers["Retry-After"]) >= 1
    body = r.json()
    assert body["type"].endswith("/database-unavailable")
    assert "retry" in body["detail"]
