"""Full re-estimation of one project with 1,000,000 answers, as the reconciler runs it.

Builds a classification project on a fresh PostgreSQL database (200,000 tasks x 5 answers from
2,000 simulated workers of mixed reliability, 4 labels, 2% gold), then times
``app.quality.reestimate.refit``: reading every answer and gold from the database, fitting
``consensus.Auto`` (Dawid-Skene with calibration), storing the model.

    .venv/bin/python benchmarks/quality_reestimate.py [--answers 1000000]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import tracemalloc
from datetime import UTC, datetime
from pathlib import Path

# Run as a script, this folder comes first on sys.path, and its consensus/ (the benchmarks of
# the consensus library) would shadow the library itself.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

import numpy as np  # noqa: E402
import psycopg  # noqa: E402
from sqlalchemy import insert, select  # noqa: E402

from app.core.db import make_engine, make_sessionmaker  # noqa: E402
from app.core.migrate import upgrade  # noqa: E402
from app.models import Account, Assignment, Batch, Image, Project, ProjectModel, Task  # noqa: E402
from app.quality.reestimate import ModelSeen, refit  # noqa: E402

ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
LABELS = ["a", "b", "c", "d"]
NOW = datetime(2026, 1, 1, tzinfo=UTC)


def simulate(
    n_answers: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    n_tasks, n_workers = n_answers // 5, 2_000
    truth = rng.integers(0, 4, n_tasks)
    skill = rng.choice([0.9, 0.75, 0.55, 0.25], n_workers, p=[0.4, 0.3, 0.2, 0.1])
    tasks = np.repeat(np.arange(n_tasks), 5)
    workers = np.concatenate([rng.choice(n_workers, 5, replace=False) for _ in range(n_tasks)])
    right = rng.random(n_answers) < skill[workers]
    labels = np.where(right, truth[tasks], (truth[tasks] + rng.integers(1, 4, n_answers)) % 4)
    return truth, tasks, workers, labels


def seed(url: str, n_answers: int) -> str:
    rng = np.random.default_rng(0)
    truth, tasks, workers, labels = simulate(n_answers, rng)
    engine = make_engine(url, pool_size=1)
    with engine.begin() as conn:
        conn.execute(
            insert(Account),
            [
                {
                    "id": "acc_req",
                    "role": "requester",
                    "name": "r",
                    "created_at": NOW,
                }
            ],
        )
        conn.execute(
            insert(Account),
            [
                {
                    "id": f"acc_w{w}",
                    "role": "worker",
                    "name": "w",
                    "created_at": NOW,
                }
                for w in range(2_000)
            ],
        )
        conn.execute(
            insert(Project),
            [
                {
                    "id": "prj_bench",
                    "requester_id": "acc_req",
                    "name": "bench",
                    "instructions": "",
                    "annotation_type": "classification",
                    "annotation": {"type": "classification", "labels": LABELS},
                    "reward_micros": 1,
                    "overlap_min": 5,
                    "overlap_max": 5,
                    "confidence": 0.9,
                    "gold_rate": 0,
                    "qualification_gold_tasks": 0,
                    "qualification_min_accuracy": 0.8,
                    "ban_below_accuracy": 0,
                    "assignment_duration_s": 60,
                    "auto_accept_s": 60,
                    "status": "active",
                    "created_at": NOW,
                    "updated_at": NOW,
                }
            ],
        )
        conn.execute(
            insert(Batch),
            [
                {
                    "id": "bat_bench",
                    "project_id": "prj_bench",
                    "requester_id": "acc_req",
                    "status": "open",
                    "task_count": len(truth),
                    "completed_tasks": len(truth),
                    "upload_report": {},
                    "created_at": NOW,
                }
            ],
        )
        conn.execute(
            insert(Image),
            [
                {
                    "id": "img_bench",
                    "owner_id": "acc_req",
                    "sha256": "0" * 64,
                    "media_type": "image/png",
                    "width": 8,
                    "height": 8,
                    "size_bytes": 1,
                    "created_at": NOW,
                }
            ],
        )
    gold = rng.random(len(truth)) < 0.02
    with engine.begin() as conn:
        for start in range(0, len(truth), 20_000):
            conn.execute(
                insert(Task),
                [
                    {
                        "id": f"tsk_{t:08d}",
                        "batch_id": "bat_bench",
                        "project_id": "prj_bench",
                        "image_id": "img_bench",
                        "image_name": "x.png",
                        "status": "completed",
                        "answer_count": 5,
                        "is_gold": bool(gold[t]),
                        "gold_answer": {"label": LABELS[truth[t]]} if gold[t] else None,
                        "created_at": NOW,
                    }
                    for t in range(start, min(start + 20_000, len(truth)))
                ],
            )
    with engine.begin() as conn:
        for start in range(0, n_answers, 50_000):
            conn.execute(
                insert(Assignment),
                [
                    {
                        "id": f"asg_{i:09d}",
                        "task_id": f"tsk_{tasks[i]:08d}",
                        "worker_id": f"acc_w{workers[i]}",
                        "project_id": "prj_bench",
                        "batch_id": "bat_bench",
                        "status": "accepted",
                        "reward_micros": 1,
                        "leased_at": NOW,
                        "expires_at": NOW,
                        "submitted_at": NOW,
                        "answer": {"label": LABELS[labels[i]]},
                        "agreement": 1.0,
                    }
                    for i in range(start, min(start + 50_000, n_answers))
                ],
            )
    engine.dispose()
    return "prj_bench"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--answers", type=int, default=1_000_000)
    args = parser.parse_args()
    name = f"tessera_bench_reestimate_{os.getpid()}"
    with psycopg.connect(ADMIN, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = f"postgresql://postgres@127.0.0.1:5432/{name}"
    try:
        upgrade(url)
        started = time.perf_counter()
        project_id = seed(url, args.answers)
        print(f"seeded {args.answers:,} answers in {time.perf_counter() - started:.0f} s")
        engine = make_engine(url, pool_size=1)
        with make_sessionmaker(engine)() as session:
            model = ProjectModel(project_id=project_id, answers_at_fit=0, requested_at=NOW)
            session.add(model)
            session.flush()
            tracemalloc.start()
            started = time.perf_counter()
            session.commit()
            refit(session, project_id, args.answers, ModelSeen(0, None), now=NOW)
            elapsed = time.perf_counter() - started
            peak = tracemalloc.get_traced_memory()[1] / 1e6
            tracemalloc.stop()
            session.commit()
            state = session.scalar(
                select(ProjectModel.state).where(ProjectModel.project_id == project_id)
            )
        engine.dispose()
        print(
            f"refit: {elapsed:.1f} s wall, Python peak {peak:.0f} MB, {len(state['workers']):,} workers in the model"
        )
    finally:
        with psycopg.connect(ADMIN, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


if __name__ == "__main__":
    main()
