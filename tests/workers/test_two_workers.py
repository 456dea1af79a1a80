"""Two ``tessera worker`` processes on one database at once: every reconciler step runs once
(claims are SKIP LOCKED on PostgreSQL, serialised writers on SQLite; money moves are unique per
business reference), and one of them killed mid-way and restarted leaves nothing undone."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select

from app.core.config import Settings
from app.core.db import make_sessionmaker
from app.models import Assignment, AssignmentStatus, Batch, BatchStatus
from app.operator.money import verify_ledger
from payments.accounts import TxKind
from payments.models import LedgerTransaction, Payout
from tests.factories import make_operator, make_project, open_batch, signup

REPO = Path(__file__).resolve().parents[2]
N_BATCHES, N_WORKERS = 4, 6


def start_worker(settings: Settings) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "TESSERA_DATABASE_URL": settings.database_url,
        "TESSERA_DATA_DIR": str(settings.data_dir),
    }
    env.pop("TESSERA_PAYOUT_PROVIDER_URL", None)
    return subprocess.Popen(
        [sys.executable, "-m", "app.cli", "worker", "--interval", "0.2"],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )


def build_work(client: TestClient, settings: Settings) -> list[dict[str, str]]:
    """Answers waiting for auto-accept, batches to settle, earnings to release; returns the workers."""
    op = make_operator(settings)
    client.patch("/v1/admin/settings", json={"payout_hold_s": 0, "min_payout": "0.01"}, headers=op)
    requester = signup(client, "requester")
    workers = [signup(client, "worker") for _ in range(N_WORKERS)]
    for _ in range(N_BATCHES):
        # One confident answer completes a task; the escrow held two, so half comes back.
        project = make_project(
            client,
            requester,
            reward="0.5",
            overlap={"min": 1, "max": 2},
            confidence=0.6,
            auto_accept_s=0,
        )
        open_batch(client, requester, project["id"], n_images=N_WORKERS, fund="10")
        for worker in workers:
            lease = client.post(f"/v1/projects/{project['id']}/assignments", headers=worker).json()
            r = client.post(
                f"/v1/assignments/{lease['id']}/submit",
                json={"answer": {"label": "cat"}},
                headers=worker,
            )
            assert r.status_code == 200
    return workers


def wait_until(check: Callable[[], bool], seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, "the workers did not finish in time"
        time.sleep(0.3)


def test_two_workers_share_the_work_and_survive_a_kill(
    client: TestClient, settings: Settings, engine: Engine
) -> None:
    workers = build_work(client, settings)
    answers = N_BATCHES * N_WORKERS
    make_session = make_sessionmaker(engine)

    def count(stmt: Any) -> int:
        with make_session() as session:
            return int(session.scalar(stmt) or 0)

    procs = [start_worker(settings), start_worker(settings)]
    try:
        time.sleep(0.6)
        procs[0].send_signal(signal.SIGKILL)  # killed wherever it is, perhaps mid-step
        procs[0].wait(10)
        procs.append(start_worker(settings))
        wait_until(
            lambda: (
                count(select(func.count()).where(Assignment.status == AssignmentStatus.accepted))
                == answers
                and count(select(func.count()).where(Batch.status == BatchStatus.completed))
                == N_BATCHES
            )
        )
        # Earnings are available at once (hold 0); every worker withdraws and both processes race to pay.
        wait_until(
            lambda: (
                count(select(func.count()).where(LedgerTransaction.kind == TxKind.RELEASE))
                == answers
            )
        )
        for worker in workers:
            assert client.post("/v1/payouts", headers=worker).status_code == 201
        wait_until(lambda: count(select(func.count()).where(Payout.status == "paid")) == N_WORKERS)
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                proc.wait(10)
    logs = b""
    for proc in procs:
        if proc.stdout is not None:
            logs += proc.stdout.read() if proc is not procs[0] else b""
            proc.stdout.close()
    assert b"Traceback" not in logs, logs.decode()[-2000:]

    with make_session() as session:
        per_kind = dict(
            session.execute(
                select(LedgerTransaction.kind, func.count()).group_by(LedgerTransaction.kind)
            ).all()
        )
        report = verify_ledger(session)
    # One reward per answer, one refund per batch, one payout and one settlement per worker.
    assert per_kind[TxKind.REWARD] == answers
    assert per_kind[TxKind.REFUND] == N_BATCHES
    assert per_kind[TxKind.PAYOUT] == per_kind[TxKind.PAYOUT_PAID] == N_WORKERS
    assert report.ok, report.violations
    for worker in workers:
        assert client.get("/v1/me", headers=worker).json()["balance"]["paid_out"] == "2"
