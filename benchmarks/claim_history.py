"""Does a lease's claim cost depend on the worker's history? EXPLAIN (ANALYZE, BUFFERS) numbers.

On a fresh PostgreSQL database (``tessera migrate``), seeded through the service in-process (a
requester, a classification project, one launched batch of ``--tasks`` images, one worker with
an API key from the ``api_keys`` table like any account), the worker's history is grown to 0,
50,000 and 300,000 past assignments (each on its own completed task, cloned from a real row;
``--histories``). At each size, after ``ANALYZE``, the claim statement runs ``--runs`` times
under ``EXPLAIN (ANALYZE, BUFFERS)`` inside a transaction that is rolled back (so the queue does
not drain), in two forms alternating:

* ``before``: the statement of main at e5dda3a — ``NOT EXISTS (SELECT * FROM assignments …)``
  and a bound ``LIMIT``;
* ``after``: ``app.work.queue.claim_statement`` — fenced ``NOT EXISTS (… OFFSET 0)`` and a
  literal ``LIMIT 1``.

Both are sent with a server-side prepared statement (psycopg ``prepare=True``), as the service
would after a few calls. Reported: buffers touched (shared hit + read), execution time p50/p90,
planning time p50, and the after/before ratio per history size.

    .venv/bin/python benchmarks/claim_history.py            # ~2 minutes
    .venv/bin/python benchmarks/claim_history.py --histories 0 50000 300000 --runs 60
"""

from __future__ import annotations

import argparse
import io
import json
import statistics
import sys
import tempfile
from pathlib import Path

import psycopg
from fastapi.testclient import TestClient
from PIL import Image
from sqlalchemy import and_, exists, select, update
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import aliased

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app.core.config import Settings
from app.core.migrate import upgrade
from app.main import create_app
from app.models import Assignment, TaskQueueEntry
from app.work.queue import claim_statement

DB = "tessera_claim_bench"


def before_statement(project_id: str, worker_id: str) -> object:
    """The claim as main had it (e5dda3a): unfenced anti-join, bound LIMIT."""
    free = aliased(TaskQueueEntry)
    touched = exists().where(
        and_(Assignment.task_id == free.task_id, Assignment.worker_id == worker_id)
    )
    candidate = (
        select(free.task_id)
        .where(free.project_id == project_id, free.open_slots > 0, ~touched)
        .order_by(free.task_id)
        .limit(1)
        .with_for_update(skip_locked=True)
        .scalar_subquery()
    )
    return (
        update(TaskQueueEntry)
        .where(TaskQueueEntry.task_id == candidate)
        .values(open_slots=TaskQueueEntry.open_slots - 1)
        .returning(TaskQueueEntry.task_id, TaskQueueEntry.batch_id)
    )


def compiled(stmt: object) -> tuple[str, dict[str, object]]:
    c = stmt.compile(dialect=postgresql.psycopg.dialect())  # type: ignore[attr-defined]
    return str(c), dict(c.params)


def png(i: int) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (8 + i % 7, 8 + i % 3), (i & 255, (i >> 8) & 255, 9)).save(buf, format="PNG")
    return buf.getvalue()


def seed(url: str, tasks: int) -> tuple[str, str]:
    """Requester, project, one launched batch, one worker — through the service's own API."""
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(
            env="test",
            data_dir=Path(tmp),
            database_url=url,
            run_reconcilers=False,
            migrate_on_start=False,
        )
        with TestClient(create_app(settings)) as c:
            r = c.post("/v1/accounts", json={"role": "requester", "name": "req"})
            req = {"Authorization": f"Bearer {r.json()['api_key']}"}
            r = c.post(
                "/v1/projects",
                headers=req,
                json={
                    "name": "claim",
                    "annotation": {"type": "classification", "labels": ["a", "b"]},
                    "reward": "0.01",
                    "overlap": {"min": 1, "max": 3},
                },
            )
            project_id = r.json()["id"]
            files = [("files", (f"{i}.png", png(i), "image/png")) for i in range(tasks)]
            batch = c.post(f"/v1/projects/{project_id}/batches", files=files, headers=req).json()
            c.post("/v1/deposits", json={"amount": "1000"}, headers=req).raise_for_status()
            c.post(f"/v1/batches/{batch['id']}/launch", headers=req).raise_for_status()
            r = c.post("/v1/accounts", json={"role": "worker", "name": "w"})
            worker_id = r.json()["id"]
            w = {"Authorization": f"Bearer {r.json()['api_key']}"}
            # One real lease and answer: a template assignment row to clone the history from.
            lease = c.post(f"/v1/projects/{project_id}/assignments", headers=w).json()
            c.post(
                f"/v1/assignments/{lease['id']}/submit", json={"answer": {"label": "a"}}, headers=w
            ).raise_for_status()
    return project_id, worker_id


def grow_history(conn: psycopg.Connection, worker_id: str, upto: int) -> None:
    """The worker's history to ``upto`` assignments, each on its own completed task (not in the
    queue), cloned from the worker's real assignment and its task."""
    have = conn.execute(
        "SELECT count(*) FROM assignments WHERE worker_id = %s", (worker_id,)
    ).fetchone()[0]  # type: ignore[index]
    n = upto - have
    if n <= 0:
        return
    conn.execute(
        """
        WITH tpl AS (SELECT a.*, t.id AS tid FROM assignments a JOIN tasks t ON t.id = a.task_id
                     WHERE a.worker_id = %(w)s ORDER BY a.id LIMIT 1),
        g AS (SELECT %(have)s + i AS i FROM generate_series(1, %(n)s) i),
        new_tasks AS (
          INSERT INTO tasks
          SELECT (jsonb_populate_record(NULL::tasks, to_jsonb(t) || jsonb_build_object(
                   'id', 'tsk_hist' || lpad(g.i::text, 22, '0'), 'status', 'completed'))).*
          FROM tasks t, g WHERE t.id = (SELECT tid FROM tpl) RETURNING id)
        INSERT INTO assignments
        SELECT (jsonb_populate_record(NULL::assignments, to_jsonb(tpl) - 'tid' || jsonb_build_object(
                 'id', 'asg_hist' || lpad(g.i::text, 22, '0'),
                 'task_id', 'tsk_hist' || lpad(g.i::text, 22, '0'),
                 'status', 'accepted'))).*
        FROM tpl, g
        """,
        {"w": worker_id, "have": have, "n": n},
    )


def explain(
    conn: psycopg.Connection, sql: str, params: dict[str, object]
) -> tuple[float, float, int]:
    """(execution ms, planning ms, buffers) of one run, rolled back."""
    with conn.transaction(force_rollback=True):
        plan = conn.execute(
            "EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) " + sql, params, prepare=True
        ).fetchone()[0][0]  # type: ignore[index]
    top = plan["Plan"]
    buffers = int(top.get("Shared Hit Blocks", 0)) + int(top.get("Shared Read Blocks", 0))
    return float(plan["Execution Time"]), float(plan.get("Planning Time", 0.0)), buffers


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--admin-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    ap.add_argument("--histories", type=int, nargs="+", default=[0, 50_000, 300_000])
    ap.add_argument("--tasks", type=int, default=300)
    ap.add_argument("--runs", type=int, default=40)
    args = ap.parse_args()
    with psycopg.connect(args.admin_url, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{DB}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{DB}"')
    url = args.admin_url.rsplit("/", 1)[0] + "/" + DB
    try:
        upgrade(url)
        project_id, worker_id = seed(url, args.tasks)
        forms = {
            "before": compiled(before_statement(project_id, worker_id)),
            "after": compiled(claim_statement(project_id, worker_id)),
        }
        rows = []
        with psycopg.connect(url, autocommit=True) as conn:
            for h in sorted(args.histories):
                grow_history(conn, worker_id, max(h, 1))
                conn.execute("ANALYZE")
                runs: dict[str, list[tuple[float, float, int]]] = {k: [] for k in forms}
                for i in range(args.runs + 5):
                    for name in list(forms) if i % 2 else list(forms)[::-1]:
                        r = explain(conn, *forms[name])
                        if i >= 5:  # warm-up: cache and prepared statement
                            runs[name].append(r)
                for name, rs in runs.items():
                    ex = sorted(r[0] for r in rs)
                    rows.append(
                        {
                            "history": h,
                            "form": name,
                            "buffers": statistics.median(r[2] for r in rs),
                            "exec_p50_ms": round(statistics.median(ex), 3),
                            "exec_p90_ms": round(ex[int(0.9 * (len(ex) - 1))], 3),
                            "plan_p50_ms": round(statistics.median(r[1] for r in rs), 3),
                        }
                    )
                    print(json.dumps(rows[-1]), flush=True)
        print("\n| history | form | buffers | exec p50 ms | exec p90 ms | planning p50 ms |")
        print("|---|---|---|---|---|---|")
        for r in rows:
            print(
                f"| {r['history']:,} | {r['form']} | {r['buffers']:g} | {r['exec_p50_ms']} |"
                f" {r['exec_p90_ms']} | {r['plan_p50_ms']} |"
            )
        after = {r["history"]: r["exec_p50_ms"] for r in rows if r["form"] == "after"}
        base = after[min(after)]
        print(
            "\nafter, p50 vs the smallest history: "
            + ", ".join(f"{h:,}: {v / base:.2f}×" for h, v in sorted(after.items()))
        )
    finally:
        with psycopg.connect(args.admin_url, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{DB}" WITH (FORCE)')


if __name__ == "__main__":
    main()
