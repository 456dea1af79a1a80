"""Lease latency under churn on PostgreSQL: does it drift as task_queue takes updates and deletes?

Service level (Tessera's own ``app.work.service`` functions, in this process), on a fresh
database per variant, migrated by ``tessera migrate``'s code. Seeds a classification project
(overlap max 3) with ``--tasks`` launched tasks and 240 worker accounts (plus one that never
leases, on whose behalf an ``EXPLAIN (ANALYZE, BUFFERS)`` of the claim query runs at each window's
end: its buffer count is how much of task_queue's index and heap a lease has to walk), then runs ``--threads``
worker threads, each looping: lease the next task, then

* submit an answer (70%) — the slot is used; at 3 answers the task completes and its
  task_queue row is deleted;
* release it (20%) — the slot goes back (an UPDATE of the task_queue row);
* abandon it (10%) — leased with a back-dated clock so it is already past ``expires_at``; an
  expirer thread runs ``expire_due`` every 0.5 s and gives the slot back (an UPDATE).

Every ``--window`` leases it reports the lease latency p50/p99 of that window and task_queue's
``pg_stat_user_tables`` counters (n_dead_tup, n_tup_upd, n_tup_hot_upd, n_tup_del, vacuums) and
size (heap and indexes), then the first window against the last.

Variants, each on its own fresh database, in one run:

* ``tuned``: task_queue as the migration makes it (fillfactor 50, autovacuum after 500 dead rows);
* ``reset``: ``ALTER TABLE task_queue RESET (...)`` before seeding: PostgreSQL's defaults
  (fillfactor 100, autovacuum after 50 + 20% of the rows);
* ``no-vacuum``: the tuned table but nothing ever vacuums it (``autovacuum_enabled = false``).

If the server runs with ``autovacuum = off`` (this shared dev server does), per-table settings
cannot take effect, so the script stands in for the autovacuum launcher: after each 250 leases it
runs ``VACUUM task_queue`` when n_dead_tup exceeds the table's own trigger
(threshold + scale_factor × reltuples, from its reloptions or the server defaults), exactly the
rule autovacuum applies. It says so in the output (``vacuum: emulated``).

    .venv/bin/python benchmarks/lease_soak.py                 # tuned vs reset, ~4 minutes
    .venv/bin/python benchmarks/lease_soak.py --variants tuned,reset,no-vacuum --leases 40000

Creates and drops its own databases (``--admin-url``); no network traffic beyond 127.0.0.1.
"""

from __future__ import annotations

import argparse
import io
import os
import random
import shutil
import statistics
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import psycopg
from PIL import Image
from sqlalchemy import event

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.append(str(HERE.parent))  # last: a PYTHONPATH copy of the service (a candidate fix) wins

import _loadgen as lg  # noqa: E402

from app.accounts import service as account_service  # noqa: E402
from app.batches import service as batch_service  # noqa: E402
from app.batches.intake import Upload  # noqa: E402
from app.core.clock import utc_now  # noqa: E402
from app.core.config import normalize_database_url  # noqa: E402
from app.core.db import make_engine, make_sessionmaker  # noqa: E402
from app.core.migrate import upgrade  # noqa: E402
from app.images import ImageLimits, LocalImageStore  # noqa: E402
from app.models import Role  # noqa: E402
from app.projects import service as project_service  # noqa: E402
from app.projects.schemas import ProjectCreate  # noqa: E402
from app.work import service as work_service  # noqa: E402

WORKERS = 240
RESET = (
    "fillfactor",
    "autovacuum_vacuum_scale_factor",
    "autovacuum_vacuum_threshold",
    "autovacuum_vacuum_cost_delay",
    "autovacuum_analyze_scale_factor",
)
STATS_SQL = """
SELECT s.n_live_tup, s.n_dead_tup, s.n_tup_upd, s.n_tup_hot_upd, s.n_tup_del,
       s.vacuum_count + s.autovacuum_count,
       pg_relation_size('task_queue'), pg_indexes_size('task_queue'),
       c.reltuples, c.reloptions
FROM pg_stat_user_tables s JOIN pg_class c ON c.oid = s.relid
WHERE s.relname = 'task_queue'
"""
PROBE_SQL = """
EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON)
SELECT q.task_id FROM task_queue q
WHERE q.project_id = %s AND q.open_slots > 0
  AND NOT EXISTS (SELECT 1 FROM assignments a WHERE a.task_id = q.task_id AND a.worker_id = %s)
ORDER BY q.task_id LIMIT 1 FOR UPDATE SKIP LOCKED
"""


def tiny_png(i: int) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (8 + i % 5, 8), (i & 255, (i >> 8) & 255, 91)).save(buf, format="PNG")
    return buf.getvalue()


@dataclass
class Stats:
    live: int
    dead: int
    upd: int
    hot: int
    dele: int
    vacuums: int
    heap: int
    index: int
    reltuples: float
    reloptions: list[str]


def read_stats(conn: psycopg.Connection) -> Stats:
    row = conn.execute(STATS_SQL).fetchone()
    assert row is not None
    return Stats(*row[:9], reloptions=list(row[9] or []))


def vacuum_trigger(stats: Stats, server: dict[str, float]) -> float:
    opts = dict(o.split("=", 1) for o in stats.reloptions)
    threshold = float(opts.get("autovacuum_vacuum_threshold", server["threshold"]))
    scale = float(opts.get("autovacuum_vacuum_scale_factor", server["scale"]))
    return threshold + scale * max(stats.reltuples, 0)


@dataclass
class Window:
    index: int
    lat: list[float]
    claim: list[float]  # the claim statement's own time (ms), as the client sees it
    probe: tuple[float, int]  # EXPLAIN ANALYZE of the claim query: (ms, buffers touched)
    seconds: float
    stats: Stats
    vacuums_run: int


@dataclass
class Run:
    variant: str
    vacuum_mode: str
    windows: list[Window] = field(default_factory=list)
    outcomes: dict[str, int] = field(default_factory=dict)


def soak(variant: str, args: argparse.Namespace) -> Run:
    name = f"tessera_soak_{os.getpid()}"
    with psycopg.connect(args.admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
        server_av = conn.execute("SHOW autovacuum").fetchone()[0] == "on"  # type: ignore[index]
        server = {
            "threshold": float(conn.execute("SHOW autovacuum_vacuum_threshold").fetchone()[0]),  # type: ignore[index]
            "scale": float(conn.execute("SHOW autovacuum_vacuum_scale_factor").fetchone()[0]),
        }  # type: ignore[index]
    url = args.admin_url.rsplit("/", 1)[0] + "/" + name
    data_dir = Path(tempfile.mkdtemp(prefix="tessera_soak_"))
    engine = make_engine(normalize_database_url(url), pool_size=args.threads + 2)
    make_session = make_sessionmaker(engine)
    stats_conn = psycopg.connect(url, autocommit=True)
    emulate = variant != "no-vacuum" and (
        args.vacuum == "emulate" or (args.vacuum == "auto" and not server_av)
    )
    run = Run(
        variant,
        "none" if variant == "no-vacuum" else ("emulated" if emulate else "server autovacuum"),
    )
    try:
        upgrade(normalize_database_url(url))
        if variant == "reset":
            stats_conn.execute(f"ALTER TABLE task_queue RESET ({', '.join(RESET)})")
        elif variant == "no-vacuum":
            stats_conn.execute("ALTER TABLE task_queue SET (autovacuum_enabled = false)")
        project_id, workers = _seed(make_session, data_dir, args.tasks)
        stats_conn.execute("VACUUM ANALYZE task_queue")  # a clean start, as after a launch settles
        _churn(run, make_session, stats_conn, project_id, workers, args, emulate, server)
    finally:
        stats_conn.close()
        engine.dispose()
        shutil.rmtree(data_dir, ignore_errors=True)
        with psycopg.connect(args.admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    return run


def _fund(session, requester, micros: int, now) -> None:  # type: ignore[no-untyped-def]
    """Deposit through the money service (launch escrows the batch's most cost)."""
    try:
        from app.money import service as money_service
        from app.money.providers import payment_provider
    except ImportError:  # a service without money: nothing to fund
        return
    money_service.deposit(session, payment_provider(), requester, micros, reference=None, now=now)


def _seed(make_session, data_dir: Path, tasks: int):  # type: ignore[no-untyped-def]
    now = utc_now()
    store = LocalImageStore(data_dir / "images")
    with make_session() as s:
        requester, _ = account_service.create_account(s, role=Role.requester, name="soak", now=now)
        body = ProjectCreate.model_validate(
            {
                "name": "soak",
                "annotation": {"type": "classification", "labels": ["cat", "dog"]},
                "reward": "0.02",
                "overlap": {"min": 1, "max": 3},
            }
        )
        project = project_service.create(s, requester, body, now=now)
        for start in range(0, tasks, 2000):
            upload = Upload(
                images=[(f"i{i}.png", tiny_png(i)) for i in range(start, min(tasks, start + 2000))]
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
            _fund(
                s, requester, len(upload.images) * 3 * 20_000 * 2, now
            )  # escrow at launch, fee included
            batch_service.launch(s, requester, batch.id, now=now)
        # The last one never leases: the EXPLAIN probe asks for a task on its behalf.
        workers = [
            account_service.create_account(s, role=Role.worker, name=f"w{i}", now=now)[0]
            for i in range(WORKERS + 1)
        ]
    return project.id, workers


def _churn(
    run: Run,
    make_session,
    stats_conn: psycopg.Connection,
    project_id: str,
    workers: list,  # type: ignore[no-untyped-def]
    args: argparse.Namespace,
    emulate: bool,
    server: dict[str, float],
) -> None:
    lock = threading.Lock()
    stop = threading.Event()
    lat: list[float] = []
    claim: list[float] = []
    count = [0]
    vacuums = [0]
    outcomes: dict[str, int] = {}
    deadline = time.monotonic() + args.max_seconds
    window_start = [time.perf_counter()]
    answer = {"label": "dog"}

    engine = make_session.kw["bind"]

    @event.listens_for(engine, "before_cursor_execute")
    def _before(conn, _cursor, statement, *_args) -> None:  # type: ignore[no-untyped-def]
        if statement.startswith("SELECT task_queue."):
            conn.info["claim_t0"] = time.perf_counter()

    @event.listens_for(engine, "after_cursor_execute")
    def _after(conn, _cursor, _statement, *_args) -> None:  # type: ignore[no-untyped-def]
        t0 = conn.info.pop("claim_t0", None)
        if t0 is not None:
            ms = 1000 * (time.perf_counter() - t0)
            with lock:
                claim.append(ms)

    def note(k: str) -> None:
        with lock:
            outcomes[k] = outcomes.get(k, 0) + 1

    def close_window() -> None:  # called with lock held
        stats = read_stats(stats_conn)
        now = time.perf_counter()
        plan = stats_conn.execute(PROBE_SQL, (project_id, workers[-1].id)).fetchone()[0][0]  # type: ignore[index]
        top = plan["Plan"]
        probe = (
            float(plan["Execution Time"]),
            int(top["Shared Hit Blocks"]) + int(top["Shared Read Blocks"]),
        )
        run.windows.append(
            Window(
                len(run.windows) + 1,
                lat.copy(),
                claim.copy(),
                probe,
                now - window_start[0],
                stats,
                vacuums[0],
            )
        )
        w = run.windows[-1]
        print(
            f"  {run.variant:9} window {w.index}: lease p50 {_pct(w.lat, 0.5):6.2f} ms  p99 {_pct(w.lat, 0.99):6.2f} ms"
            f"  claim SQL p50 {_pct(w.claim, 0.5):5.2f} p99 {_pct(w.claim, 0.99):5.2f} ms"
            f"  probe {probe[0]:5.2f} ms/{probe[1]} buffers"
            f"  {len(w.lat) / w.seconds:5.0f} leases/s  dead {stats.dead:6}  live {stats.live:6}"
            f"  hot/upd {stats.hot}/{stats.upd}  del {stats.dele}  heap {stats.heap // 1024} KiB"
            f"  idx {stats.index // 1024} KiB  vacuums {stats.vacuums}",
            flush=True,
        )
        lat.clear()
        claim.clear()
        window_start[0] = now

    def maybe_vacuum() -> None:
        stats = read_stats(stats_conn)
        if stats.dead > vacuum_trigger(stats, server):
            stats_conn.execute("VACUUM task_queue")
            vacuums[0] += 1

    def worker_loop(tid: int) -> None:
        rng = random.Random(tid)
        mine = workers[:-1][tid :: args.threads]
        i = 0
        with make_session() as session:
            while not stop.is_set():
                worker = mine[i % len(mine)]
                i += 1
                roll = rng.random()
                now = utc_now()
                if roll >= 0.9:  # abandoned: already past its deadline when leased
                    now -= timedelta(hours=1)
                t0 = time.perf_counter()
                try:
                    lease = work_service.lease_next(session, worker, project_id, now=now)
                except (
                    Exception
                ) as exc:  # a refusal (e.g. too many live leases) is an outcome, not a crash
                    note(type(exc).__name__)
                    continue
                t1 = time.perf_counter()
                if lease is None:
                    note("none-available")
                    if stop.wait(0.01):
                        break
                    continue
                with lock:
                    lat.append(1000 * (t1 - t0))
                    count[0] += 1
                    if count[0] % args.window == 0:
                        close_window()
                    if emulate and count[0] % 250 == 0:
                        maybe_vacuum()
                    if count[0] >= args.leases or time.monotonic() > deadline:
                        stop.set()
                try:
                    if roll < 0.7:
                        work_service.submit(
                            session, worker, lease.assignment.id, answer, now=utc_now()
                        )
                        note("submitted")
                    elif roll < 0.9:
                        work_service.release(session, worker, lease.assignment.id, now=utc_now())
                        note("released")
                    else:
                        note("abandoned")
                except Exception as exc:
                    note(type(exc).__name__)

    def expirer() -> None:
        with make_session() as session:
            while not stop.wait(0.5):
                n = work_service.expire_due(session, now=utc_now())
                if n:
                    with lock:
                        outcomes["expired"] = outcomes.get("expired", 0) + n

    threads = [threading.Thread(target=worker_loop, args=(t,)) for t in range(args.threads)]
    threads.append(threading.Thread(target=expirer))
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if len(lat) >= 100 or not run.windows:  # the time cap came first: keep the partial window
        with lock:
            close_window()
    run.outcomes = outcomes


def _pct(xs: list[float], q: float) -> float:
    if not xs:
        return float("nan")
    s = sorted(xs)
    return s[min(len(s) - 1, int(q * len(s)))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--admin-url", default="postgresql://postgres@127.0.0.1:5432/test")
    parser.add_argument("--variants", default="tuned,reset", help="any of tuned,reset,no-vacuum")
    parser.add_argument("--tasks", type=int, default=6_000)
    parser.add_argument("--leases", type=int, default=12_000, help="leases per variant")
    parser.add_argument("--window", type=int, default=2_000, help="leases per reporting window")
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument(
        "--max-seconds", type=float, default=75.0, help="cap on the churn per variant"
    )
    parser.add_argument(
        "--vacuum",
        choices=["auto", "emulate", "server"],
        default="auto",
        help="auto: emulate autovacuum only if the server has it off",
    )
    args = parser.parse_args()
    print(
        f"lease_soak: {args.threads} threads, {args.tasks:,} tasks x overlap 3, up to {args.leases:,} leases"
        f" per variant, window {args.window:,}; {lg.machine_note()}",
        flush=True,
    )
    runs = [soak(v.strip(), args) for v in args.variants.split(",") if v.strip()]
    rows = []
    for run in runs:
        first, last = run.windows[0], run.windows[-1]
        all_lat = [x for w in run.windows for x in w.lat]
        rows.append(
            [
                run.variant,
                run.vacuum_mode,
                len(run.windows),
                _pct(first.lat, 0.5),
                _pct(last.lat, 0.5),
                f"{_pct(last.lat, 0.5) / _pct(first.lat, 0.5):.2f}x",
                _pct(first.lat, 0.99),
                _pct(last.lat, 0.99),
                f"{_pct(last.lat, 0.99) / _pct(first.lat, 0.99):.2f}x",
                statistics.median(all_lat),
                f"{_pct(first.claim, 0.5):.2f} → {_pct(last.claim, 0.5):.2f}",
                f"{first.probe[0]:.2f}/{first.probe[1]} → {last.probe[0]:.2f}/{last.probe[1]}",
                f"{first.stats.dead} → {last.stats.dead}",
                f"{100 * last.stats.hot / max(1, last.stats.upd):.0f}%",
                f"{first.stats.index // 1024} → {last.stats.index // 1024}",
                last.stats.vacuums,
            ]
        )
    print()
    print(
        lg.table(
            [
                "variant",
                "vacuum",
                "windows",
                "p50 first ms",
                "p50 last ms",
                "p50 last/first",
                "p99 first ms",
                "p99 last ms",
                "p99 last/first",
                "p50 all ms",
                "claim SQL p50 ms first → last",
                "EXPLAIN claim ms/buffers first → last",
                "n_dead_tup first → last",
                "HOT share of updates",
                "index KiB first → last",
                "vacuums",
            ],
            rows,
        )
    )
    for run in runs:
        print(f"{run.variant}: outcomes {dict(sorted(run.outcomes.items()))}")
    print(f"code {lg.code_version()}; {lg.machine_note()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
