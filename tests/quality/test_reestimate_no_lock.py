"""Re-estimation fits holding no transaction: a submit during the fit goes through at once (on
SQLite too, where a transaction holds the one writer connection), and a fit whose input changed
meanwhile is not written; the project stays due and the next pass fits it again."""

from __future__ import annotations

import random
import threading
import time
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from app.models import ProjectModel
from app.quality import reestimate
from consensus import Auto
from tests.conftest import FakeClock
from tests.factories import deposit, make_project, png, signup
from tests.quality import crowd
from tests.quality.test_end_to_end import LABELS, run_crowd
from workers.quality import Reestimate
from workers.runner import run_pass


@pytest.mark.parametrize("submitted_later", [False, True], ids=["same-time", "after-snapshot"])
def test_a_submit_during_the_fit_is_not_blocked(
    client: TestClient, clock: FakeClock, monkeypatch: pytest.MonkeyPatch, submitted_later: bool
) -> None:
    rng = random.Random(11)
    requester = signup(client, "requester")
    project = make_project(
        client,
        requester,
        annotation={"type": "classification", "labels": LABELS},
        overlap={"min": 3, "max": 3},
        ban_below_accuracy=0.0,
    )
    files = [("files", (f"i{i}.png", png(20, 20, (i, 3, 4)))) for i in range(30)]
    batch = client.post(
        f"/v1/projects/{project['id']}/batches", files=files, headers=requester
    ).json()
    deposit(client, requester, "10")
    client.post(f"/v1/batches/{batch['id']}/launch", headers=requester)
    late = signup(client, "worker")
    held = client.post(f"/v1/projects/{project['id']}/assignments", headers=late).json()
    workers = [
        crowd.SimWorker(
            "good", "good", crowd.answer_classification("good", LABELS), signup(client, "worker")
        )
        for _ in range(3)
    ]
    truth = {t: {"label": "cat"} for t in _task_ids(client, requester, batch["id"])}
    run_crowd(client, project["id"], workers, truth, rng)

    during: dict[str, Any] = {}

    class Watched(Auto):
        def fit(self, *args: Any, **kwargs: Any) -> Watched:
            if not during:  # the first fit only
                if submitted_later:
                    clock.advance(1)  # submitted after the fit's snapshot: not part of its input
                started = time.monotonic()
                thread = threading.Thread(target=submit)
                thread.start()
                thread.join(timeout=5)
                during["seconds"] = time.monotonic() - started
                during["finished"] = not thread.is_alive()
                thread.join()  # (only reached late when the submit was blocked: the test fails)
            super().fit(*args, **kwargs)
            return self

    def submit() -> None:
        r = client.post(
            f"/v1/assignments/{held['id']}/submit", json={"answer": {"label": "cat"}}, headers=late
        )
        during["status"] = r.status_code

    monkeypatch.setattr(reestimate, "Auto", Watched)
    sessionmaker = client.app.state.sessionmaker  # type: ignore[attr-defined]
    pass_at = clock()
    written = run_pass(sessionmaker, [Reestimate()], pass_at)["quality.reestimate"]
    assert during["finished"], "the submit waited for the fit"
    assert during["status"] == 200
    assert during["seconds"] < 5

    with sessionmaker() as session:
        model = session.scalar(select(ProjectModel).where(ProjectModel.project_id == project["id"]))
    assert model is not None
    if submitted_later:
        # Its input did not change (the new answer is for the next fit): written.
        assert written == 1
        assert model.state is not None
        assert model.fitted_at == pass_at
        return
    # The answer joined what the fit read: the stale fit is dropped, the project stays due ...
    assert written == 0
    assert model.state is None
    assert model.fitted_at is None
    assert model.answers_at_fit == 0
    # ... and the next pass fits it, with the new answer.
    assert run_pass(sessionmaker, [Reestimate()], clock())["quality.reestimate"] == 1
    with sessionmaker() as session:
        model = session.scalar(select(ProjectModel).where(ProjectModel.project_id == project["id"]))
    assert model is not None
    assert model.state is not None
    assert late["X-Test-Account-Id"] in model.state["workers"]


def _task_ids(client: TestClient, requester: dict[str, str], batch_id: str) -> list[str]:
    body = client.get(f"/v1/batches/{batch_id}/results?limit=500", headers=requester).json()
    return [t["task_id"] for t in body["items"]]
