"""The ledger on PostgreSQL: balanced postings per second, and what paying an answer costs.

Two parts, on a fresh database made for the run (``tessera`` migrations) and dropped after:

1. **Postings per second.** Threads each post one balanced transaction per database transaction
   (``payments.post`` then COMMIT), as fast as they can, for ``--seconds``; 1, 4 and 16 threads,
   each with its own connection. Two shapes:

   * ``transfer``: A → B between two of 2,000 funded accounts picked at random (no shared row:
     the shape of pgledger's own benchmark);
   * ``reward``: what an accepted answer posts, one batch's escrow (of 200) → a worker's pending
     (of 2,000) + the platform's fee. Every one of them touches the single ``platform_fees`` row
     (as every deposit and settled payout touches the single ``world`` row).

   Next to them, ``commit``: one single-row INSERT per transaction, the floor any durable
   one-transaction-per-posting design pays on this server. Then ``transfer`` and ``reward`` again
   with ``synchronous_commit = off`` for the benchmark's own connections only (the COMMIT then
   does not wait for the WAL flush: what the code costs apart from the disk; not a setting to
   run money on). Reported: transactions/s (median of ``--rounds``, each round in brackets);
   CPU milliseconds per transaction, in the client (the threads share one Python process and
   its GIL) and in the database backends (from /proc): unlike the rate, these hardly depend on
   what else the machine is running; and how many threads were waiting on a row lock on
   average (sampled from ``pg_stat_activity`` every 50 ms).

2. **The cost of paying one accepted answer.** A batch is seeded through the HTTP API (in
   process, ``TestClient``), then submitted answers are accepted two ways, interleaved call by
   call in one run: the real accept (verdict + ``payments.pay_accepted``, one transaction) and
   the same accept with ``pay_accepted`` replaced by a no-op. Measured at two levels: the
   ``POST /v1/assignments/{id}/accept`` call, and the accept use case
   (``app.answers.service.accept``, one transaction). Also ``pay_accepted``'s own time inside it.

    .venv/bin/python benchmarks/ledger.py                    # under 3 minutes
    .venv/bin/python benchmarks/ledger.py --rounds 5 --seconds 3 --accepts 200

Traffic goes only to the local server (``--admin-url``); ``payments.verify`` checks the ledger
of part 1 at the end (part 2 leaves answers accepted unpaid on purpose: it is not checked).
"""

from __future__ import annotations

import argparse
import io
import os
import random
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psycopg
from sqlalchemy import Engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import payments
from app.core.clock import utc_now
from app.core.config import normalize_database_url
from app.core.db import make_engine
from app.core.migrate import upgrade
from payments import accounts as acct
from payments.ledger import post

N_ACCOUNTS = 2_000
N_ESCROWS = 200
FUNDS = 10**12  # micro-dollars in each funded account: never runs dry during a run


# --- the database ----------------------------------------------------------------------------------


@contextmanager
def fresh_database(admin_url: str) -> Iterator[str]:
    url = make_url(normalize_database_url(admin_url))
    name = f"tessera_bench_ledger_{os.getpid()}"
    admin = url.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def server_facts(engine: Engine) -> str:
    with engine.connect() as conn:
        version = conn.scalar(text("SHOW server_version"))
        sync = conn.scalar(text("SHOW synchronous_commit"))
        fsync = conn.scalar(text("SHOW fsync"))
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    return (
        f"PostgreSQL {version} (synchronous_commit={sync}, fsync={fsync}) on 127.0.0.1; "
        f"{os.cpu_count()} CPUs shared by client and server; load average {load}"
    )


# --- part 1: postings per second -------------------------------------------------------------------


def seed(engine: Engine) -> None:
    now = utc_now()
    with Session(engine) as session:
        funded = [(acct.worker_available(f"bench:{i}"), FUNDS) for i in range(N_ACCOUNTS)]
        escrows = [(acct.escrow(f"bench:bat:{i}"), FUNDS) for i in range(N_ESCROWS)]
        for kind, entries in (("bench_seed_accounts", funded), ("bench_seed_escrows", escrows)):
            total = sum(amount for _, amount in entries)
            post(session, kind, kind, [(acct.world(), -total), *entries], now=now)
        # The accounts the reward shape credits exist already, as they would after a first answer.
        post(
            session,
            "bench_seed_pending",
            "pending",
            [(acct.escrow("bench:bat:0"), -(N_ACCOUNTS + 1)), (acct.platform_fees(), 1)]
            + [(acct.worker_pending(f"bench:{i}"), 1) for i in range(N_ACCOUNTS)],
            now=now,
        )
        session.execute(
            text("CREATE TABLE bench_commit (id bigserial PRIMARY KEY, ref text NOT NULL)")
        )
        session.commit()
        session.execute(text("ANALYZE"))
        session.commit()


def transfer(rng: random.Random) -> tuple[str, list[tuple[acct.AccountRef, int]]]:
    a, b = rng.sample(range(N_ACCOUNTS), 2)
    amount = rng.randint(1, 1_000)
    return "bench_transfer", [
        (acct.worker_available(f"bench:{a}"), -amount),
        (acct.worker_available(f"bench:{b}"), amount),
    ]


def reward(rng: random.Random) -> tuple[str, list[tuple[acct.AccountRef, int]]]:
    batch, worker = rng.randrange(N_ESCROWS), rng.randrange(N_ACCOUNTS)
    return payments.TxKind.REWARD, [
        (acct.escrow(f"bench:bat:{batch}"), -22_000),
        (acct.worker_pending(f"bench:{worker}"), 20_000),
        (acct.platform_fees(), 2_000),
    ]


def commit_only(_: random.Random) -> tuple[str, list[tuple[acct.AccountRef, int]]]:
    return "", []  # marker: insert one row into bench_commit instead of posting


SHAPES: dict[str, Callable[[random.Random], tuple[str, list[tuple[acct.AccountRef, int]]]]] = {
    "commit": commit_only,
    "transfer": transfer,
    "reward": reward,
}
# (shape, synchronous_commit) in the order they run
RUNS = [
    ("commit", "on"),
    ("transfer", "on"),
    ("reward", "on"),
    ("transfer", "off"),
    ("reward", "off"),
]


def backend_cpu(pids: list[int]) -> float:
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for pid in pids:
        try:
            raw = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            continue
        fields = raw[raw.rfind(")") + 2 :].split()
        total += (int(fields[11]) + int(fields[12])) / tick
    return total


def one_round(
    engine: Engine, db_name: str, shape: str, sync: str, threads: int, seconds: float, round_no: int
) -> dict[str, float]:
    make_entries = SHAPES[shape]
    stop, ready = threading.Event(), threading.Barrier(threads + 1)
    counts, errors, pids = [0] * threads, [0] * threads, [0] * threads

    def run(i: int) -> None:
        rng = random.Random(f"{shape}:{threads}:{round_no}:{i}")
        with engine.connect() as conn:
            pids[i] = int(conn.scalar(text("SELECT pg_backend_pid()")) or 0)
            conn.execute(text(f"SET synchronous_commit = {sync}"))  # this session only
            conn.commit()
            with Session(bind=conn) as session:
                ready.wait()
                n = 0
                while not stop.is_set():
                    ref = f"{shape}:{threads}:{round_no}:{i}:{n}"
                    kind, entries = make_entries(rng)
                    try:
                        if entries:
                            post(session, kind, ref, entries, now=utc_now())
                        else:
                            session.execute(
                                text("INSERT INTO bench_commit (ref) VALUES (:ref)"), {"ref": ref}
                            )
                        session.commit()
                        counts[i] += 1
                    except Exception:  # a deadlock or serialization failure would show here
                        session.rollback()
                        errors[i] += 1
                    n += 1

    workers = [threading.Thread(target=run, args=(i,)) for i in range(threads)]
    for t in workers:
        t.start()
    waiting: list[int] = []
    ready.wait()
    cpu0, server0, t0 = time.process_time(), backend_cpu(pids), time.perf_counter()
    with engine.connect() as probe:
        while (elapsed := time.perf_counter() - t0) < seconds:
            waiting.append(
                int(
                    probe.scalar(
                        text(
                            "SELECT count(*) FROM pg_stat_activity WHERE datname = :db AND wait_event_type = 'Lock'"
                        ),
                        {"db": db_name},
                    )
                    or 0
                )
            )
            probe.commit()
            time.sleep(0.05)
        done = sum(counts)
        stop.set()
    elapsed = time.perf_counter() - t0
    cpu, server = time.process_time() - cpu0, backend_cpu(pids) - server0
    for t in workers:
        t.join()
    total = max(1, done)
    return {
        "rate": done / elapsed,
        "client_ms": 1000 * cpu / total,
        "server_ms": 1000 * server / total,
        "lock_waiters": statistics.fmean(waiting) if waiting else 0.0,
        "errors": float(sum(errors)),
    }


def postings(engine: Engine, db_name: str, levels: list[int], rounds: int, seconds: float) -> None:
    print(
        f"\n## Balanced postings per second (one posting per transaction; median of {rounds} "
        f"rounds of {seconds:g} s)\n"
    )
    print(
        "| shape | synchronous_commit | threads | transactions/s | client CPU ms/tx | DB backend CPU ms/tx "
        "| threads waiting on a row lock | errors |"
    )
    print("|---|---|---:|---:|---:|---:|---:|---:|")
    for shape, sync in RUNS:
        for threads in levels:
            one_round(engine, db_name, shape, sync, threads, min(0.5, seconds), -1)  # warm up
            results = [
                one_round(engine, db_name, shape, sync, threads, seconds, r) for r in range(rounds)
            ]
            med = {k: statistics.median(r[k] for r in results) for k in results[0]}
            spread = ", ".join(f"{r['rate']:.0f}" for r in results)
            print(
                f"| {shape} | {sync} | {threads} | {med['rate']:,.0f} ({spread}) | {med['client_ms']:.2f} | "
                f"{med['server_ms']:.2f} | {med['lock_waiters']:.1f} | {sum(r['errors'] for r in results):.0f} |",
                flush=True,
            )


# --- part 2: paying one accepted answer ------------------------------------------------------------


def tiny_png(i: int) -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (8 + i % 7, 8 + i // 7 % 7), (i & 255, (i >> 8) & 255, 77)).save(
        buf, format="PNG"
    )
    return buf.getvalue()


def seed_answers(
    client: Any, n_answers: int, n_workers: int = 20
) -> tuple[dict[str, str], str, list[str]]:
    """A requester, a launched batch of ``n_answers`` tasks (overlap 1), all answered."""

    def signup(role: str) -> dict[str, str]:
        r = client.post("/v1/accounts", json={"role": role, "name": f"bench {role}"})
        assert r.status_code == 201, r.text
        return {"Authorization": f"Bearer {r.json()['api_key']}", "X-Id": r.json()["id"]}

    requester = signup("requester")
    headers = {"Authorization": requester["Authorization"]}
    project = client.post(
        "/v1/projects",
        headers=headers,
        json={
            "name": "bench",
            "annotation": {"type": "classification", "labels": ["cat", "dog"]},
            "reward": "0.05",
            "overlap": {"min": 1, "max": 1},
        },
    ).json()
    files = [("files", (f"{i}.png", tiny_png(i), "image/png")) for i in range(n_answers)]
    batch = client.post(
        f"/v1/projects/{project['id']}/batches", files=files, headers=headers
    ).json()
    assert client.post("/v1/deposits", json={"amount": "1000"}, headers=headers).status_code == 201
    r = client.post(f"/v1/batches/{batch['id']}/launch", headers=headers)
    assert r.status_code == 200, r.text
    workers = [signup("worker") for _ in range(n_workers)]
    answered: list[str] = []
    while len(answered) < n_answers:
        worker = {"Authorization": workers[len(answered) % n_workers]["Authorization"]}
        lease = client.post(f"/v1/projects/{project['id']}/assignments", headers=worker)
        assert lease.status_code == 201, lease.text
        asg = lease.json()["id"]
        r = client.post(
            f"/v1/assignments/{asg}/submit", json={"answer": {"label": "cat"}}, headers=worker
        )
        assert r.status_code == 200, r.text
        answered.append(asg)
    return requester, batch["id"], answered


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def accept_cost(url: str, accepts: int) -> None:
    from fastapi.testclient import TestClient

    from app.answers import service as answer_service
    from app.core.config import Settings
    from app.main import create_app
    from app.models import Account

    real_pay = payments.pay_accepted
    pay_times: list[float] = []

    def timed_pay(*args: Any, **kwargs: Any) -> payments.Posted:
        t = time.perf_counter()
        try:
            return real_pay(*args, **kwargs)
        finally:
            pay_times.append(time.perf_counter() - t)

    def no_pay(*_: Any, **__: Any) -> None:
        return None

    with tempfile.TemporaryDirectory() as data_dir:
        settings = Settings(
            env="test",
            data_dir=Path(data_dir),
            database_url=url,
            run_reconcilers=False,
            migrate_on_start=False,
            db_pool_size=2,
        )
        with TestClient(create_app(settings)) as client:
            t0 = time.perf_counter()
            requester, _batch, answered = seed_answers(client, 4 * accepts)
            print(
                f"\n## Paying one accepted answer (seeded {len(answered)} answers through the API in "
                f"{time.perf_counter() - t0:.0f} s; {accepts} accepts per arm, arms interleaved)\n"
            )
            make_session = client.app.state.sessionmaker  # type: ignore[attr-defined]
            with make_session() as session:
                account = session.get_one(Account, requester["X-Id"])
                session.expunge(account)
            headers = {"Authorization": requester["Authorization"]}

            def via_http(asg: str) -> None:
                r = client.post(f"/v1/assignments/{asg}/accept", headers=headers)
                assert r.status_code == 200, r.text

            def via_service(asg: str) -> None:
                with make_session() as session:
                    answer_service.accept(session, account, asg, now=utc_now())

            times: dict[tuple[str, str], list[float]] = {}
            cpu: dict[tuple[str, str], list[float]] = {}
            todo = iter(answered)
            rng = random.Random(7)
            for level, call in (
                ("POST /accept (in-process HTTP)", via_http),
                ("accept use case (1 transaction)", via_service),
            ):
                for _ in range(accepts):
                    arms = [("with payment", timed_pay), ("without payment", no_pay)]
                    rng.shuffle(arms)
                    for arm, pay in arms:
                        asg = next(todo)
                        payments.pay_accepted = pay  # type: ignore[assignment]
                        try:
                            t, c = time.perf_counter(), time.process_time()
                            call(asg)
                            times.setdefault((level, arm), []).append(time.perf_counter() - t)
                            cpu.setdefault((level, arm), []).append(time.process_time() - c)
                        finally:
                            payments.pay_accepted = real_pay
    print("| level | arm | p50 ms | p90 ms | mean ms | client CPU ms (mean) |")
    print("|---|---|---:|---:|---:|---:|")
    for (level, arm), values in sorted(times.items()):
        ms = [v * 1000 for v in values]
        print(
            f"| {level} | {arm} | {pct(ms, 0.5):.2f} | {pct(ms, 0.9):.2f} | {statistics.fmean(ms):.2f} | "
            f"{1000 * statistics.fmean(cpu[(level, arm)]):.2f} |"
        )
    levels = dict.fromkeys(level for level, _ in times)
    for level in levels:
        with_p50 = pct(times[(level, "with payment")], 0.5) * 1000
        without_p50 = pct(times[(level, "without payment")], 0.5) * 1000
        print(
            f"\n{level}: paying adds {with_p50 - without_p50:.2f} ms at the median "
            f"({with_p50 / without_p50 - 1:+.0%})",
            end="",
        )
    pay_ms = [v * 1000 for v in pay_times]
    print(
        f"\n\npayments.pay_accepted itself (inside the with-payment accepts): p50 {pct(pay_ms, 0.5):.2f} ms, "
        f"p90 {pct(pay_ms, 0.9):.2f} ms"
    )


# --- main ------------------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--admin-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--threads", default="1,4,16")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=1.5)
    parser.add_argument("--accepts", type=int, default=60, help="accepts per arm and level")
    args = parser.parse_args()
    levels = [int(x) for x in args.threads.split(",")]
    started = time.perf_counter()
    with fresh_database(args.admin_url) as url:
        db_name = make_url(url).database or ""
        upgrade(url)
        engine = make_engine(normalize_database_url(url), pool_size=max(levels) + 2)
        try:
            print(f"# Ledger benchmark\n\n{server_facts(engine)}")
            seed(engine)
            postings(engine, db_name, levels, args.rounds, args.seconds)
            with Session(engine) as session:
                report = payments.verify(session)
            # The synthetic escrows have no batch terms and the synthetic rewards no holds: verify
            # says so for each; every other invariant (balanced, sums to zero, no negative
            # balance, cached = recomputed) must hold.
            synthetic = [
                v for v in report.violations if v.startswith(("escrow of bench:", "worker bench:"))
            ]
            other = [v for v in report.violations if v not in synthetic]
            print(
                f"\npayments.verify after part 1: {report.accounts} accounts, balances sum to {report.total}; "
                f"{len(synthetic)} notes about the synthetic escrows/holds; other violations: {other[:5] or 'none'}"
            )
        finally:
            engine.dispose()
        accept_cost(normalize_database_url(url), args.accepts)
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"\ntotal {time.perf_counter() - started:.0f} s; load average at the end {load}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
