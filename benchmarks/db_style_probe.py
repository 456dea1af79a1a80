"""Sync psycopg vs async asyncpg for the lease transaction, behind FastAPI + uvicorn.

A self-contained minimal app (below) with four routes:

* ``GET  /trivial``        — ``async def`` returning a constant (the ceiling of the stack);
* ``POST /lease/sync``     — ``def`` route, sync SQLAlchemy ORM session on psycopg 3 (run in
  Starlette's thread pool, as Tessera's routes are);
* ``POST /lease/asyncpg``  — ``async def`` route, async SQLAlchemy ORM session on asyncpg;
* ``POST /lease/apsycopg`` — ``async def`` route, async SQLAlchemy on psycopg 3's async mode.

Each lease route does the same transaction as Tessera's lease: ``SELECT … ORDER BY id LIMIT 1
FOR UPDATE SKIP LOCKED`` on a narrow queue row with a free slot, decrement the slot, INSERT an
assignment row, COMMIT. Every engine has the same pool (10 connections per process).

The app is served by uvicorn with 2 processes and loaded by one closed-loop client at 64
concurrency; the variants run side by side in one run, in rounds of a few seconds each with the
order rotated every round, so a neighbour's load on this shared machine hits them all alike.
Reported: req/s and p50/p99 latency per variant (medians over rounds) and the ratio of each
variant's req/s to the trivial endpoint's in the same round.

    .venv/bin/python benchmarks/db_style_probe.py            # ~1.5 minutes
    .venv/bin/python benchmarks/db_style_probe.py --rounds 5 --seconds 8

Needs asyncpg and greenlet (``pip install -e '.[bench]'``). Creates and drops its own database
on the local PostgreSQL server (``--admin-url``); traffic goes only to 127.0.0.1.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import psycopg
from sqlalchemy import BigInteger, DateTime, Integer, create_engine, select, text
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import _loadgen as lg  # noqa: E402

POOL = 10
QUEUE_ROWS = 1000
VARIANTS = ["trivial", "sync-psycopg", "async-asyncpg", "async-psycopg"]
PATHS = {
    "trivial": ("GET", "/trivial"),
    "sync-psycopg": ("POST", "/lease/sync"),
    "async-asyncpg": ("POST", "/lease/asyncpg"),
    "async-psycopg": ("POST", "/lease/apsycopg"),
}


class Base(DeclarativeBase):
    pass


class QueueRow(Base):
    __tablename__ = "probe_queue"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    open_slots: Mapped[int] = mapped_column(Integer)


class AssignmentRow(Base):
    __tablename__ = "probe_assignment"
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    queue_id: Mapped[int] = mapped_column(Integer)
    worker: Mapped[int] = mapped_column(Integer)
    leased_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


def _claim():  # type: ignore[no-untyped-def]
    return (
        select(QueueRow)
        .where(QueueRow.open_slots > 0)
        .order_by(QueueRow.id)
        .limit(1)
        .with_for_update(skip_locked=True)
    )


def create_app():  # type: ignore[no-untyped-def]  # uvicorn factory, in each server process
    from fastapi import FastAPI
    from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine

    rest = os.environ["PROBE_DB"].split("://", 1)[1]
    sync_session = sessionmaker(
        create_engine(f"postgresql+psycopg://{rest}", pool_size=POOL, max_overflow=0),
        expire_on_commit=False,
    )
    asyncpg_session = async_sessionmaker(
        create_async_engine(f"postgresql+asyncpg://{rest}", pool_size=POOL, max_overflow=0),
        expire_on_commit=False,
    )
    apsycopg_session = async_sessionmaker(
        create_async_engine(f"postgresql+psycopg://{rest}", pool_size=POOL, max_overflow=0),
        expire_on_commit=False,
    )
    app = FastAPI()

    @app.get("/trivial")
    async def trivial() -> dict[str, str]:
        return {"pong": "ok"}

    @app.post("/lease/sync")
    def lease_sync(worker: int = 0) -> dict[str, int]:
        with sync_session() as s:
            row = s.scalar(_claim())
            if row is None:
                return {"id": 0}
            row.open_slots -= 1
            a = AssignmentRow(queue_id=row.id, worker=worker, leased_at=datetime.now(UTC))
            s.add(a)
            s.commit()
            return {"id": a.id, "queue_id": row.id}

    async def lease_async(maker, worker: int) -> dict[str, int]:  # type: ignore[no-untyped-def]
        async with maker() as s:
            row = await s.scalar(_claim())
            if row is None:
                return {"id": 0}
            row.open_slots -= 1
            a = AssignmentRow(queue_id=row.id, worker=worker, leased_at=datetime.now(UTC))
            s.add(a)
            await s.commit()
            return {"id": a.id, "queue_id": row.id}

    @app.post("/lease/asyncpg")
    async def lease_asyncpg(worker: int = 0) -> dict[str, int]:
        return await lease_async(asyncpg_session, worker)

    @app.post("/lease/apsycopg")
    async def lease_apsycopg(worker: int = 0) -> dict[str, int]:
        return await lease_async(apsycopg_session, worker)

    return app


def _serve(port: int, workers: int) -> None:
    import uvicorn

    uvicorn.run(
        "db_style_probe:create_app",
        factory=True,
        host="127.0.0.1",
        port=port,
        workers=workers,
        app_dir=str(HERE),
        log_level="warning",
        access_log=False,
    )


def _setup_db(admin_url: str, name: str) -> str:
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    url = admin_url.rsplit("/", 1)[0] + "/" + name
    engine = create_engine("postgresql+psycopg://" + url.split("://", 1)[1])
    Base.metadata.create_all(engine)
    with Session(engine) as s:
        s.execute(text("ALTER TABLE probe_queue SET (fillfactor = 50)"))  # as Tessera's task_queue
        s.add_all(QueueRow(id=i, open_slots=1_000_000_000) for i in range(1, QUEUE_ROWS + 1))
        s.commit()
    engine.dispose()
    return url


def _drop_db(admin_url: str, name: str) -> None:
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _assignments(url: str) -> int:
    with psycopg.connect(url) as conn:
        row = conn.execute("SELECT count(*) FROM probe_assignment").fetchone()
        return int(row[0]) if row else 0


def _scenario(variant: str) -> lg.Scenario:
    method, path = PATHS[variant]
    if method == "GET":
        return lg.get_scenario(variant, path)
    raws = [lg.Conn.encode(method, f"{path}?worker={i}") for i in range(1024)]

    async def scenario(conn: lg.Conn, rec: lg.Recorder, index: int) -> None:
        t0 = time.perf_counter()
        status, body = await conn.send(raws[index % len(raws)])
        t1 = time.perf_counter()
        if status != 200 or body.startswith(b'{"id":0'):
            rec.error(variant, status)
        elif rec.ok(variant, t0, t1):
            rec.units += 1

    return scenario


async def _bench(port: int, args: argparse.Namespace) -> list[list[lg.Phase]]:
    rounds: list[list[lg.Phase]] = []
    for r in range(args.rounds):
        order = VARIANTS[r % len(VARIANTS) :] + VARIANTS[: r % len(VARIANTS)]
        phases = []
        for v in order:
            p = await lg.run_phase(
                v, port, args.clients, _scenario(v), seconds=args.seconds, warmup=1.0
            )
            phases.append(p)
            print(
                f"  round {r + 1} {v:14} {p.rps:8,.0f} req/s  p50 {p.pct(v, 0.5):6.1f} ms"
                f"  p99 {p.pct(v, 0.99):6.1f} ms  client cpu {p.client_cpu:.2f}"
                + (f"  errors {p.errors}" if p.errors else ""),
                flush=True,
            )
        rounds.append(sorted(phases, key=lambda p: VARIANTS.index(p.name)))
    return rounds


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--admin-url", default="postgresql://postgres@127.0.0.1:5432/test")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=6.0, help="measured seconds per phase")
    parser.add_argument("--clients", type=int, default=64)
    parser.add_argument("--workers", type=int, default=2, help="uvicorn processes")
    parser.add_argument("--serve", type=int, metavar="PORT", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        _serve(args.serve, args.workers)
        return 0

    name = f"tessera_probe_{os.getpid()}"
    url = _setup_db(args.admin_url, name)
    port = lg.free_port()
    env = {**os.environ, "PROBE_DB": url}
    server = subprocess.Popen(
        [
            sys.executable,
            str(Path(__file__).resolve()),
            "--serve",
            str(port),
            "--workers",
            str(args.workers),
        ],
        env=env,
        cwd=str(HERE),
    )
    try:
        lg.wait_http(port, "/trivial")
        print(
            f"db_style_probe: {args.workers} uvicorn processes, {args.clients} clients, "
            f"{args.rounds} rounds x {len(VARIANTS)} variants x {args.seconds:.0f} s; {lg.machine_note()}"
        )
        rounds = lg.run(_bench(port, args))
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
    made = _assignments(url)
    _drop_db(args.admin_url, name)

    rows = []
    for i, v in enumerate(VARIANTS):
        ph = [rnd[i] for rnd in rounds]
        ratio = lg.median(p.rps / rnd[0].rps for p, rnd in zip(ph, rounds, strict=True))
        rows.append(
            [
                v,
                lg.median(p.rps for p in ph),
                f"{100 * ratio:.0f}%",
                lg.median(p.pct(v, 0.5) for p in ph),
                lg.median(p.pct(v, 0.99) for p in ph),
                sum(sum(p.errors.values()) for p in ph),
                lg.median(p.client_cpu for p in ph),
            ]
        )
    print()
    print(
        lg.table(
            [
                "variant",
                "req/s (median)",
                "vs trivial (median of per-round ratios)",
                "p50 ms",
                "p99 ms",
                "errors",
                "client CPU (cores)",
            ],
            rows,
        )
    )
    sync_rps = [rnd[1].rps for rnd in rounds]
    apg_rps = [rnd[2].rps for rnd in rounds]
    speedup = lg.median(s / a for s, a in zip(sync_rps, apg_rps, strict=True))
    print(
        f"\nsync psycopg / async asyncpg req/s: {speedup:.2f}x (median of per-round ratios); "
        f"{made:,} assignment rows written; {lg.machine_note()}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
