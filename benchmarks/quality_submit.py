"""Submit latency with consensus at submit, per annotation type (service level, no HTTP).

For each of the six types: a project of 150 tasks answered by a simulated crowd (the one the
end-to-end tests use) through ``work_service.lease_next`` and ``work_service.submit``, each
submit recomputing the task's consensus, deciding dynamic overlap and, when the task completes,
judging every answer. Reports p50/p99 of submit beside lease in the same run, and the median
CPU time of each call in this process (``time.thread_time``: Python, SQLAlchemy, consensus;
the database's own CPU is not in it), which hardly depends on how loaded the machine is.

    .venv/bin/python benchmarks/quality_submit.py [--database sqlite|postgresql] [--tasks 150]
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
# Run as a script, this folder comes first on sys.path and its consensus/ would shadow the library.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != HERE]
sys.path.insert(0, str(HERE.parent))  # for tests.quality.crowd, the simulated crowd

import numpy as np  # noqa: E402
import psycopg  # noqa: E402
from sqlalchemy import text  # noqa: E402

from app.accounts import service as account_service  # noqa: E402
from app.batches import service as batch_service  # noqa: E402
from app.batches.intake import Upload  # noqa: E402
from app.core.clock import utc_now  # noqa: E402
from app.core.config import normalize_database_url  # noqa: E402
from app.core.db import make_engine, make_sessionmaker  # noqa: E402
from app.core.migrate import upgrade  # noqa: E402
from app.images import ImageLimits, LocalImageStore  # noqa: E402
from app.models import Role  # noqa: E402
from app.money import service as money_service  # noqa: E402
from app.money.providers import payment_provider  # noqa: E402
from app.operator.money import verify_ledger  # noqa: E402
from app.projects import service as project_service  # noqa: E402
from app.projects.schemas import ProjectCreate  # noqa: E402
from app.work import service as work_service  # noqa: E402
from benchmarks._invariants import INVARIANTS, MUST_BE_ZERO  # noqa: E402
from tests.factories import png  # noqa: E402
from tests.quality import crowd  # noqa: E402
from tests.quality.test_end_to_end import CASES  # noqa: E402

ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"


def run_type(
    make_session, store, kind: str, n_tasks: int, rng: random.Random
) -> dict[str, list[float]]:  # type: ignore[no-untyped-def]
    case = CASES[kind]
    labels = case.spec["labels"]
    now = utc_now()
    with make_session() as s:
        requester, _ = account_service.create_account(s, role=Role.requester, name="r", now=now)
        project = project_service.create(
            s,
            requester,
            ProjectCreate.model_validate(
                {
                    "name": kind,
                    "annotation": case.spec,
                    "reward": "0.01",
                    "overlap": {"min": 2, "max": 5},
                    "ban_below_accuracy": 0.0,
                }
            ),
            now=now,
        )
        upload = Upload(
            images=[
                (f"{i}.png", png(crowd.W, crowd.H, (i % 256, i // 256, 7))) for i in range(n_tasks)
            ]
        )
        batch = batch_service.create(
            s,
            store,
            requester,
            project.id,
            upload,
            pre_annotations=None,
            limits=ImageLimits(),
            max_images=10_000,
            now=now,
        )
        money_service.deposit(
            s, payment_provider(), requester, 100_000_000, reference=None, now=now
        )
        batch_service.launch(s, requester, batch.id, now=now)
        workers = [
            account_service.create_account(s, role=Role.worker, name=h, now=now)[0]
            for h in ["good"] * 5 + ["sloppy"] * 2 + ["spammer"]
        ]
    habits = {w.id: case.habit(w.name, labels) for w in workers}
    truth: dict[str, crowd.Truth] = {}
    ms: dict[str, list[float]] = {"lease": [], "submit": [], "lease_cpu": [], "submit_cpu": []}
    active = list(workers)
    while active:
        for worker in list(active):
            with make_session() as s:
                t0, c0 = time.perf_counter(), time.thread_time()
                lease = work_service.lease_next(
                    s, worker, project.id, now=utc_now(), max_live_leases=100
                )
                ms["lease"].append((time.perf_counter() - t0) * 1000)
                ms["lease_cpu"].append((time.thread_time() - c0) * 1000)
            if lease is None:
                active.remove(worker)
                continue
            answer = habits[worker.id](
                truth.setdefault(lease.task.id, case.truth(rng, labels)), rng
            )
            with make_session() as s:
                t0, c0 = time.perf_counter(), time.thread_time()
                work_service.submit(s, worker, lease.assignment.id, answer, now=utc_now())
                ms["submit"].append((time.perf_counter() - t0) * 1000)
                ms["submit_cpu"].append((time.thread_time() - c0) * 1000)
    return ms


def check_invariants(make_session) -> bool:  # type: ignore[no-untyped-def]
    """After the run: no duplicate (task, worker), no task over its overlap, answer counts
    exact, every completed task judged (``_invariants.INVARIANTS``), and the ledger verifies."""
    with make_session() as s:
        found = dict(s.execute(text(INVARIANTS)).mappings().one())
        report = verify_ledger(s)
    bad = {k: found[k] for k in MUST_BE_ZERO if found[k]}
    ok = not bad and report.ok
    print(
        f"\ninvariants: {'ok' if ok else 'VIOLATED'} ({found['answers_and_ends']:,} ended "
        f"assignments checked{'; ' + str(bad) if bad else ''}); ledger: ok={report.ok}, "
        f"{report.accounts} accounts, balances sum to {report.total}"
        + "".join(f"\n  violation: {v}" for v in report.violations),
        flush=True,
    )
    return ok


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--database", choices=["sqlite", "postgresql"], default="postgresql")
    parser.add_argument("--tasks", type=int, default=150)
    parser.add_argument("--tag", default="qs", help="part of the PostgreSQL database's name")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp())
    name = f"tessera_bench_submit_{args.tag}_{os.getpid()}"
    if args.database == "postgresql":
        with psycopg.connect(ADMIN, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        url = f"postgresql://postgres@127.0.0.1:5432/{name}"
    else:
        url = f"sqlite:///{tmp / 'bench.db'}"
    try:
        url = normalize_database_url(url)
        upgrade(url)
        engine = make_engine(url, pool_size=2)
        make_session = make_sessionmaker(engine)
        store = LocalImageStore(tmp / "images")
        rng = random.Random(1)
        print(f"{args.database}, {args.tasks} tasks per type, overlap 2..5")
        print(
            "| type | answers | lease p50 ms | lease p99 ms | submit p50 ms | submit p99 ms "
            "| lease CPU ms (median) | submit CPU ms (median) |"
        )
        print("|---|---:|---:|---:|---:|---:|---:|---:|")
        for kind in CASES:
            ms = run_type(make_session, store, kind, args.tasks, rng)
            lp, sp = np.percentile(ms["lease"], [50, 99]), np.percentile(ms["submit"], [50, 99])
            print(
                f"| {kind} | {len(ms['submit'])} | {lp[0]:.1f} | {lp[1]:.1f} | {sp[0]:.1f} "
                f"| {sp[1]:.1f} | {np.median(ms['lease_cpu']):.2f} | {np.median(ms['submit_cpu']):.2f} |",
                flush=True,
            )
        ok = check_invariants(make_session)
        engine.dispose()
    finally:
        if args.database == "postgresql":
            with psycopg.connect(ADMIN, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
