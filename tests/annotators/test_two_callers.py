"""Two model-call reconcilers at once (two ``tessera worker`` processes): every task is sent to
the model exactly once, and both take part (SKIP LOCKED claims on PostgreSQL; SQLite's one
writer serialises the claims)."""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select

from app.annotators.delivery import CallSettings
from app.models import ModelCall
from tests.annotators.conftest import Server
from tests.conftest import FakeClock
from tests.factories import make_project, open_batch, signup
from workers.annotators import CallModels
from workers.runner import run_pass

N_TASKS = 12


def test_each_task_is_called_once(
    client: TestClient, clock: FakeClock, model_server: Callable[..., Server]
) -> None:
    state = client.app.state  # type: ignore[attr-defined]
    state.settings.model_private_hosts = True
    requester = signup(client, "requester")
    project = make_project(
        client, requester, annotation={"type": "classification", "labels": ["a", "b"]}, gold_rate=0
    )
    open_batch(client, requester, project["id"], N_TASKS)
    by_thread: Counter[str] = Counter()

    def slow(_task: dict[str, Any]) -> dict[str, Any]:
        time.sleep(0.05)
        return {"answer": {"label": "a"}, "score": 0.5}

    server = model_server(slow)
    made = client.post(
        f"/v1/projects/{project['id']}/models",
        headers=requester,
        json={"kind": "http", "name": "m", "url": server.url},
    ).json()
    server.knows(made["signing_secret"])
    start = threading.Barrier(2)

    def worker(name: str) -> None:
        reconciler = CallModels(
            state.settings,
            options=CallSettings(private_hosts=True),
            store=state.image_store,
            batch=2,
        )
        start.wait()
        by_thread[name] = run_pass(state.sessionmaker, [reconciler], clock())["models.call"]

    threads = [threading.Thread(target=worker, args=(n,)) for n in ("one", "two")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert Counter(r["task_id"] for r in server.requests) == Counter(
        dict.fromkeys({r["task_id"] for r in server.requests}, 1)
    )
    assert len(server.requests) == N_TASKS
    assert sum(by_thread.values()) == N_TASKS
    assert all(by_thread[n] > 0 for n in ("one", "two")), by_thread
    with state.sessionmaker() as s:
        assert {c.status for c in s.scalars(select(ModelCall))} == {"done"}
