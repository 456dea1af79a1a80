"""The ledger on PostgreSQL: balanced postings per second, and what paying an answer costs —
this code and, side by side in the same run, an older copy of it (``--baseline DIR``).

Each variant runs in its own child process (its own ``app``/``payments`` from its code root, its
own fresh database migrated by that code's migrations, dropped at the end); the parent sends both
children the same measurements in alternating order, round by round, so the machine's load falls
on both alike.

1. **Postings per second.** Threads each make one posting per database transaction, as fast as
   they can, for ``--seconds``; 1, 4 and 16 threads, each with its own connection. Shapes:

   * ``commit``: one single-row INSERT per transaction: the floor of any durable
     one-transaction-per-posting design on this server;
   * ``transfer``: ``payments.post`` A → B between two of 2,000 funded accounts (no shared row);
   * ``reward-1``: ``payments.pay_accepted`` (reward + fee + hold, what accepting an answer
     pays) on **one** batch, for one of 2,000 workers: every posting debits that batch's escrow;
   * ``reward-64``: the same spread over 64 batches;
   * ``deposit``: ``payments.deposit`` for one of 2,000 requesters (the ``world`` account).

   Reported: postings/s (median of ``--rounds``, each round in brackets); CPU ms per posting in
   the client process (its threads share one GIL) and in the database backends (/proc), which
   hardly depend on what else the machine runs; threads found waiting on a lock
   (``pg_stat_activity``, sampled every 50 ms); errors (deadlocks, serialisation failures).

2. **The cost of paying one accepted answer.** A batch is seeded through the HTTP API (in
   process, ``TestClient``), then answers are accepted two ways, interleaved call by call: the
   real accept (verdict + ``payments.pay_accepted``, one transaction) and the same accept with
   ``pay_accepted`` replaced by a no-op; at two levels, ``POST /v1/assignments/{id}/accept`` and
   the accept use case (``app.answers.service.accept``). Also ``pay_accepted``'s own time.

    git archive e5dda3a | (mkdir -p /tmp/ledger-old && tar -x -C /tmp/ledger-old)
    .venv/bin/python benchmarks/ledger.py --baseline /tmp/ledger-old     # ~6 minutes
    .venv/bin/python benchmarks/ledger.py                                # this code only

Traffic goes only to the local server (``--admin-url``). ``payments.verify`` checks each
variant's ledger at the end (every invariant, the escrows' terms and the holds included).
"""

from __future__ import annotations

import argparse
import io
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parents[1]


def _code_root() -> Path:
    """``--code-root`` (a child's), read before the project's modules are imported."""
    if "--code-root" in sys.argv:
        return Path(sys.argv[sys.argv.index("--code-root") + 1]).resolve()
    return HERE


sys.path.insert(0, str(_code_root()))

import psycopg  # noqa: E402
from sqlalchemy import Engine, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

import payments  # noqa: E402
from app.core.clock import utc_now  # noqa: E402
from app.core.config import normalize_database_url  # noqa: E402
from app.core.db import make_engine  # noqa: E402
from app.core.migrate import upgrade  # noqa: E402
from payments import accounts as acct  # noqa: E402
from payments.ledger import post  # noqa: E402

N_ACCOUNTS = 2_000
N_BATCHES = 64
FUNDS = 10**12  # micro-dollars in each funded account: never runs dry during a run
REWARD, FEE_PPM = 20_000, 100_000
TASKS_PER_BATCH = 2_000_000  # escrow room for every reward a run can post
SHAPES = ["commit", "transfer", "reward-1", "reward-64", "deposit"]


# --- the database ----------------------------------------------------------------------------------


@contextmanager
def fresh_database(admin_url: str, tag: str) -> Iterator[str]:
    url = make_url(normalize_database_url(admin_url))
    name = f"tessera_bench_ledger_{tag}_{os.getpid()}"
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
    return (
        f"PostgreSQL {version} (synchronous_commit={sync}, fsync={fsync}) on 127.0.0.1; "
        f"{os.cpu_count()} CPUs shared by client, server and whatever else runs"
    )


# --- part 1: postings per second (child side) ------------------------------------------------------


def seed(engine: Engine) -> None:
    now = utc_now()
    with Session(engine) as session:
        funded = [(acct.worker_available(f"bench:{i}"), FUNDS) for i in range(N_ACCOUNTS)]
        total = sum(amount for _, amount in funded)
        post(session, "bench_seed", "accounts", [(acct.world(), -total), *funded], now=now)
        payments.deposit(
            session,
            payments.EmbeddedPaymentProvider(),
            requester_ref="bench:req",
            amount=10**15,
            reference="bench:funds",
            now=now,
        )
        for b in range(N_BATCHES):
            payments.launch_escrow(
                session,
                batch_ref=f"bench:bat:{b}",
                requester_ref="bench:req",
                tasks=TASKS_PER_BATCH,
                max_overlap=1,
                reward=REWARD,
                fee_ppm=FEE_PPM,
                now=now,
            )
        # The accounts the shapes credit exist already, as they would after a first answer.
        for i in range(N_ACCOUNTS):
            payments.pay_accepted(
                session,
                assignment_ref=f"bench:seed:{i}",
                batch_ref=f"bench:bat:{i % N_BATCHES}",
                worker_ref=f"bench:{i}",
                now=now,
            )
            payments.deposit(
                session,
                payments.EmbeddedPaymentProvider(),
                requester_ref=f"bench:req:{i}",
                amount=1,
                reference=f"bench:seed:{i}",
                now=now,
            )
        session.execute(
            text("CREATE TABLE bench_commit (id bigserial PRIMARY KEY, ref text NOT NULL)")
        )
        session.commit()
        session.execute(text("ANALYZE"))
        session.commit()


def one_posting(session: Session, shape: str, ref: str, rng: random.Random) -> None:
    now = utc_now()
    if shape == "commit":
        session.execute(text("INSERT INTO bench_commit (ref) VALUES (:ref)"), {"ref": ref})
    elif shape == "transfer":
        a, b = rng.sample(range(N_ACCOUNTS), 2)
        amount = rng.randint(1, 1_000)
        entries = [
            (acct.worker_available(f"bench:{a}"), -amount),
            (acct.worker_available(f"bench:{b}"), amount),
        ]
        post(session, "bench_transfer", ref, entries, now=now)
    elif shape.startswith("reward-"):
        batches = int(shape.split("-")[1])
        payments.pay_accepted(
            session,
            assignment_ref=ref,
            batch_ref=f"bench:bat:{rng.randrange(batches)}",
            worker_ref=f"bench:{rng.randrange(N_ACCOUNTS)}",
            now=now,
        )
    elif shape == "deposit":
        payments.deposit(
            session,
            payments.EmbeddedPaymentProvider(),
            requester_ref=f"bench:req:{rng.randrange(N_ACCOUNTS)}",
            amount=rng.randint(1, 1_000),
            reference=ref,
            now=now,
        )
    else:
        raise ValueError(shape)


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
    engine: Engine, db_name: str, shape: str, threads: int, seconds: float, tag: str
) -> dict[str, float]:
    stop, ready = threading.Event(), threading.Barrier(threads + 1)
    counts, errors, pids = [0] * threads, [0] * threads, [0] * threads

    def run(i: int) -> None:
        rng = random.Random(f"{tag}:{i}")
        with engine.connect() as conn:
            pids[i] = int(conn.scalar(text("SELECT pg_backend_pid()")) or 0)
            conn.commit()
            with Session(bind=conn) as session:
                ready.wait()
                n = 0
                while not stop.is_set():
                    try:
                        one_posting(session, shape, f"{tag}:{i}:{n}", rng)
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
        while time.perf_counter() - t0 < seconds:
            waiting.append(
                int(
                    probe.scalar(
                        text(
                            "SELECT count(*) FROM pg_stat_activity "
                            "WHERE datname = :db AND wait_event_type = 'Lock'"
                        ),
                        {"db": db_name},
                    )
                    or 0
                )
            )
            probe.commit()
            time.sleep(0.05)
        done = sum(counts)
        elapsed = time.perf_counter() - t0
        cpu, server = time.process_time() - cpu0, backend_cpu(pids) - server0
        stop.set()
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


# --- part 2: paying one accepted answer (child side) -----------------------------------------------


def tiny_png(i: int) -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (8 + i % 7, 8 + i // 7 % 7), (i & 255, (i >> 8) & 255, 77)).save(
        buf, format="PNG"
    )
    return buf.getvalue()


def seed_answers(
    client: Any, n_answers: int, n_workers: int = 20
) -> tuple[dict[str, str], list[str]]:
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
    return requester, answered


class AcceptBench:
    """An app on the child's database with answers waiting; ``step`` accepts one per arm."""

    def __init__(self, url: str, answers: int, stack: Any) -> None:
        from fastapi.testclient import TestClient

        from app.answers import service as answer_service
        from app.core.config import Settings
        from app.main import create_app
        from app.models import Account

        data_dir = stack.enter_context(tempfile.TemporaryDirectory())
        settings = Settings(
            env="test",
            data_dir=Path(data_dir),
            database_url=url,
            run_reconcilers=False,
            migrate_on_start=False,
            db_pool_size=2,
        )
        self.client = stack.enter_context(TestClient(create_app(settings)))
        t0 = time.perf_counter()
        requester, self.todo = seed_answers(self.client, answers)
        self.seed_seconds = time.perf_counter() - t0
        self.headers = {"Authorization": requester["Authorization"]}
        self.make_session = self.client.app.state.sessionmaker  # type: ignore[attr-defined]
        with self.make_session() as session:
            self.account = session.get_one(Account, requester["X-Id"])
            session.expunge(self.account)
        self.service = answer_service
        self.real_pay = payments.pay_accepted
        self.pay_ms: list[float] = []

    def _call(self, level: str, asg: str) -> None:
        if level == "http":
            r = self.client.post(f"/v1/assignments/{asg}/accept", headers=self.headers)
            assert r.status_code == 200, r.text
        else:
            with self.make_session() as session:
                self.service.accept(session, self.account, asg, now=utc_now())

    def step(self, level: str, order: list[str]) -> dict[str, list[float]]:
        """One accept per arm in ``order``; wall and CPU ms of each."""
        real = self.real_pay

        def timed_pay(*args: Any, **kwargs: Any) -> Any:
            t = time.perf_counter()
            try:
                return real(*args, **kwargs)
            finally:
                self.pay_ms.append(1000 * (time.perf_counter() - t))

        def no_pay(*_: Any, **__: Any) -> None:
            return None

        out: dict[str, list[float]] = {}
        for arm in order:
            asg = self.todo.pop()
            payments.pay_accepted = timed_pay if arm == "with payment" else no_pay  # type: ignore[assignment]
            try:
                t, c = time.perf_counter(), time.process_time()
                self._call(level, asg)
                out[arm] = [1000 * (time.perf_counter() - t), 1000 * (time.process_time() - c)]
            finally:
                payments.pay_accepted = real
        return out


def table_stats(engine: Engine) -> dict[str, Any]:
    """What the run did to the ledger's tables: updates that were HOT, and each index's scans
    (an index no query scans is there only for its constraint, or for nothing)."""
    tables = ("ledger_accounts", "ledger_transactions", "ledger_entries", "ledger_holds", "escrows")
    with engine.connect() as conn:
        conn.execute(text("SELECT pg_stat_force_next_flush()"))
        updates = [
            list(r)
            for r in conn.execute(
                text(
                    "SELECT relname, n_tup_ins, n_tup_upd, n_tup_hot_upd FROM pg_stat_user_tables "
                    "WHERE relname = ANY(:t) ORDER BY relname"
                ),
                {"t": list(tables)},
            )
        ]
        indexes = [
            list(r)
            for r in conn.execute(
                text(
                    "SELECT s.relname, s.indexrelname, s.idx_scan, "
                    "coalesce(c.contype::text, '') AS constraint_kind "
                    "FROM pg_stat_user_indexes s "
                    "LEFT JOIN pg_constraint c ON c.conindid = s.indexrelid AND c.contype IN ('p', 'u') "
                    "WHERE s.relname = ANY(:t) ORDER BY s.relname, s.indexrelname"
                ),
                {"t": list(tables)},
            )
        ]
    return {"updates": updates, "indexes": indexes}


# --- the child: one variant, driven over stdin/stdout ---------------------------------------------


def child(args: argparse.Namespace) -> int:
    from contextlib import ExitStack

    # Answers go to the parent on the original stdout; anything else printed goes to stderr.
    channel = os.fdopen(os.dup(1), "w")
    os.dup2(2, 1)

    def say(obj: Any) -> None:
        channel.write(json.dumps(obj) + "\n")
        channel.flush()

    with ExitStack() as stack:
        url = stack.enter_context(fresh_database(args.admin_url, args.tag))
        db_name = make_url(url).database or ""
        upgrade(url)
        engine = make_engine(normalize_database_url(url), pool_size=18)
        stack.callback(engine.dispose)
        t0 = time.perf_counter()
        seed(engine)
        accepts = AcceptBench(normalize_database_url(url), 4 * args.accepts, stack)
        say(
            {
                "facts": server_facts(engine),
                "payments": payments.__file__,
                "seed_seconds": time.perf_counter() - t0,
                "answers_seed_seconds": accepts.seed_seconds,
            }
        )
        for line in sys.stdin:
            cmd = json.loads(line)
            if cmd["op"] == "round":
                say(
                    one_round(
                        engine, db_name, cmd["shape"], cmd["threads"], cmd["seconds"], cmd["tag"]
                    )
                )
            elif cmd["op"] == "accept":
                say(accepts.step(cmd["level"], cmd["order"]))
            elif cmd["op"] == "pay_ms":
                say(accepts.pay_ms)
            elif cmd["op"] == "verify":
                with Session(engine) as session:
                    report = payments.verify(session)
                say(
                    {
                        "ok": report.ok,
                        "accounts": report.accounts,
                        "total": report.total,
                        "violations": report.violations[:5],
                    }
                )
            elif cmd["op"] == "stats":
                say(table_stats(engine))
            elif cmd["op"] == "quit":
                break
    return 0


class Variant:
    def __init__(self, name: str, root: Path, args: argparse.Namespace) -> None:
        self.name = name
        self.proc = subprocess.Popen(
            [
                sys.executable,
                str(Path(__file__).resolve()),
                "--child",
                "--code-root",
                str(root),
                "--tag",
                name,
                "--admin-url",
                args.admin_url,
                "--accepts",
                str(args.accepts),
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            cwd=root,
        )
        self.hello = self.read()

    def read(self) -> Any:
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError(f"{self.name}: the child process ended")
        return json.loads(line)

    def ask(self, **cmd: Any) -> Any:
        assert self.proc.stdin is not None
        self.proc.stdin.write(json.dumps(cmd) + "\n")
        self.proc.stdin.flush()
        return self.read()

    def close(self) -> None:
        try:
            self.ask(op="quit")
        except (RuntimeError, BrokenPipeError, json.JSONDecodeError):
            pass
        self.proc.wait(timeout=120)


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def parent(args: argparse.Namespace) -> int:
    levels = [int(x) for x in args.threads.split(",")]
    shapes = args.shapes.split(",")
    started = time.perf_counter()
    roots = [("new", HERE)] + ([("old", Path(args.baseline).resolve())] if args.baseline else [])
    variants: list[Variant] = []
    try:
        for name, root in roots:
            variants.append(Variant(name, root, args))
        load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
        print(
            f"# Ledger benchmark\n\n{variants[0].hello['facts']}; load average {load} at the start"
        )
        for v in variants:
            print(
                f"- {v.name}: `payments` from {v.hello['payments']}; seeded in {v.hello['seed_seconds']:.0f} s "
                f"({v.hello['answers_seed_seconds']:.0f} s of it answers through the API)"
            )
        print(
            f"\n## Postings per second (one posting per transaction; median of {args.rounds} rounds "
            f"of {args.seconds:g} s, variants alternating round by round)\n"
        )
        print(
            "| shape | threads | variant | postings/s | client CPU ms | DB backend CPU ms "
            "| waiting on a lock | errors |"
        )
        print("|---|---:|---|---:|---:|---:|---:|---:|")
        for shape in shapes:
            for threads in levels:
                results: dict[str, list[dict[str, float]]] = {v.name: [] for v in variants}
                for v in variants:  # warm up
                    v.ask(
                        op="round",
                        shape=shape,
                        threads=threads,
                        seconds=0.3,
                        tag=f"{shape}:{threads}:w",
                    )
                for r in range(args.rounds):
                    order = variants if r % 2 == 0 else variants[::-1]
                    for v in order:
                        results[v.name].append(
                            v.ask(
                                op="round",
                                shape=shape,
                                threads=threads,
                                seconds=args.seconds,
                                tag=f"{shape}:{threads}:{r}",
                            )
                        )
                for v in variants:
                    rs = results[v.name]
                    med = {k: statistics.median(x[k] for x in rs) for k in rs[0]}
                    spread = ", ".join(f"{x['rate']:.0f}" for x in rs)
                    print(
                        f"| {shape} | {threads} | {v.name} | {med['rate']:,.0f} ({spread}) | "
                        f"{med['client_ms']:.2f} | {med['server_ms']:.2f} | {med['lock_waiters']:.1f} | "
                        f"{sum(x['errors'] for x in rs):.0f} |",
                        flush=True,
                    )
        accept_part(variants, args.accepts)
        print()
        for v in variants:
            report = v.ask(op="verify")
            print(
                f"payments.verify ({v.name}): ok={report['ok']}, {report['accounts']} account rows, "
                f"balances sum to {report['total']}; violations: {report['violations'] or 'none'}"
            )
        print()
        for v in variants:
            stats = v.ask(op="stats")
            hot = ", ".join(
                f"{name} {ins:,} inserts, {upd:,} updates ({hot_upd / upd:.0%} HOT)"
                if upd
                else f"{name} {ins:,} inserts"
                for name, ins, upd, hot_upd in stats["updates"]
            )
            print(f"tables ({v.name}): {hot}")
            scans = ", ".join(
                f"{index} {scans:,}"
                + (f" ({'unique' if kind == 'u' else 'primary key'})" if kind in ("u", "p") else "")
                for _table, index, scans, kind in stats["indexes"]
            )
            print(f"index scans ({v.name}, whole run): {scans}")
    finally:
        for v in variants:
            v.close()
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"\ntotal {time.perf_counter() - started:.0f} s; load average at the end {load}")
    return 0


def accept_part(variants: list[Variant], accepts: int) -> None:
    print(
        f"\n## Paying one accepted answer ({accepts} accepts per arm, level and variant; arms "
        "shuffled per pair, variants alternating)\n"
    )
    rng = random.Random(7)
    times: dict[tuple[str, str, str], list[list[float]]] = {}
    for level in ("http", "service"):
        for i in range(accepts):
            order = variants if i % 2 == 0 else variants[::-1]
            for v in order:
                arms = ["with payment", "without payment"]
                rng.shuffle(arms)
                for arm, sample in v.ask(op="accept", level=level, order=arms).items():
                    times.setdefault((v.name, level, arm), []).append(sample)
    names = {"http": "POST /accept (in-process HTTP)", "service": "accept use case (1 transaction)"}
    print("| variant | level | arm | p50 ms | p90 ms | mean ms | client CPU ms (mean) |")
    print("|---|---|---|---:|---:|---:|---:|")
    for (variant, level, arm), samples in sorted(times.items()):
        ms = [s[0] for s in samples]
        print(
            f"| {variant} | {names[level]} | {arm} | {pct(ms, 0.5):.2f} | {pct(ms, 0.9):.2f} | "
            f"{statistics.fmean(ms):.2f} | {statistics.fmean(s[1] for s in samples):.2f} |"
        )
    print()
    for v in variants:
        for level in ("http", "service"):
            with_p50 = pct([s[0] for s in times[(v.name, level, "with payment")]], 0.5)
            without_p50 = pct([s[0] for s in times[(v.name, level, "without payment")]], 0.5)
            cpu_with = statistics.fmean(s[1] for s in times[(v.name, level, "with payment")])
            cpu_without = statistics.fmean(s[1] for s in times[(v.name, level, "without payment")])
            print(
                f"- {v.name}, {names[level]}: paying adds {with_p50 - without_p50:.2f} ms at the median, "
                f"{cpu_with - cpu_without:.2f} ms of client CPU on average"
            )
        pay_ms = v.ask(op="pay_ms")
        print(
            f"- {v.name}: payments.pay_accepted itself: p50 {pct(pay_ms, 0.5):.2f} ms, "
            f"p90 {pct(pay_ms, 0.9):.2f} ms"
        )


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--admin-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--baseline", help="the code root of an older copy, measured alongside")
    parser.add_argument("--threads", default="1,4,16")
    parser.add_argument("--shapes", default=",".join(SHAPES))
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=1.5)
    parser.add_argument("--accepts", type=int, default=60, help="accepts per arm and level")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--code-root", help=argparse.SUPPRESS)
    parser.add_argument("--tag", default="new", help=argparse.SUPPRESS)
    args = parser.parse_args()
    return child(args) if args.child else parent(args)


if __name__ == "__main__":
    sys.exit(main())
