"""Soak: mixed traffic from 64 clients for a long while against two ``tessera serve`` and two
``tessera worker`` processes on PostgreSQL; latency per route per minute, RSS per process, 5xx,
and the invariants at the end.

Clients (threads with keep-alive ``httpx`` clients, spread over both servers):

* 56 workers: lease, submit (``Idempotency-Key``), and every 25 answers a payout request;
* 4 requesters: upload a batch of 20 images and launch it, read its results (JSON) and export
  it (CSV), then pause a second;
* 4 readers: ``GET /v1/me`` five times a second each.

Projects accept answers at once (``auto_accept_s`` 0) and the operator sets no payout hold, so
the workers' reconcilers (auto-accept, settlement, hold release, payouts) carry real work the
whole time. At the end: the ledger verifies (``tessera verify-ledger``'s check), no answer was
paid twice (a ledger invariant the check includes) and no task holds more answers than its
overlap.

    .venv/bin/python benchmarks/soak.py --minutes 15          # the full soak
    .venv/bin/python benchmarks/soak.py --minutes 3           # what benchmarks/README.md records

The report (stdout and ``report.json``) has, per route, the p50/p99 of every minute, and for an
early and a late window (minutes 2-6 and 10-14 of 15) both the median of the per-minute
figures and the pooled ones (every call of the window), with their drift; the slowest calls of
``--slow-routes`` with the VACUUM they overlapped and the lock waits sampled on their server's
sessions meanwhile (``pg_stat_activity`` every ``--sample-waits`` s; each process connects with
its own ``application_name``). ``calls.csv`` holds every call, ``waits.jsonl`` every lock
sample, next to the processes' logs in ``--out``.

Makes and drops its own database on the local server (``--admin-url``) and a temporary data
folder; kills every process it started (process groups) on any exit.
"""

from __future__ import annotations

import argparse
import io
import json
import math
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != HERE]
sys.path.insert(0, str(REPO))

import httpx  # noqa: E402
import psycopg  # noqa: E402
from PIL import Image  # noqa: E402
from sqlalchemy import func, select  # noqa: E402

from app.core.db import make_engine, make_sessionmaker  # noqa: E402
from app.core.migrate import upgrade  # noqa: E402
from app.models import Assignment, AssignmentStatus  # noqa: E402
from app.operator.money import verify_ledger  # noqa: E402

WORKERS, REQUESTERS, READERS = 56, 4, 4
H = dict[str, str]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def png(i: int) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (16, 16), (i % 256, (i // 256) % 256, (i // 65536) % 256)).save(buf, "PNG")
    return buf.getvalue()


class Stats:
    def __init__(self) -> None:
        self.t0 = time.monotonic()
        self.lock = threading.Lock()
        self.lat: dict[tuple[str, int], list[float]] = defaultdict(list)
        self.codes: dict[str, dict[int, int]] = defaultdict(lambda: defaultdict(int))
        self.errors: dict[str, int] = defaultdict(int)
        self.calls: list[tuple[float, str, float, int, str]] = []
        """Every call: (start s since t0, route, ms, status, server's port)."""

    def call(self, c: httpx.Client, route: str, method: str, url: str, **kw: Any) -> Any:
        started = time.monotonic()
        try:
            r = c.request(method, url, **kw)
        except httpx.HTTPError as exc:
            with self.lock:
                self.errors[f"{route}:{type(exc).__name__}"] += 1
            return None
        ms = (time.monotonic() - started) * 1000
        with self.lock:
            self.lat[(route, int((started - self.t0) // 60))].append(ms)
            self.codes[route][r.status_code] += 1
            self.calls.append((started - self.t0, route, ms, r.status_code, str(c.base_url.port)))
        return r


class Procs:
    def __init__(self, log_dir: Path) -> None:
        self.log_dir, self.children = log_dir, []  # type: ignore[var-annotated]

    def start(self, name: str, args: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
        with (self.log_dir / f"{name}.log").open("ab") as log:
            child = subprocess.Popen(
                [sys.executable, "-m", "app.cli", *args],
                cwd=REPO,
                env={**env, "PGAPPNAME": name},  # who waits and who blocks, in the lock samples
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.children.append((name, child))
        return child

    def stop(self) -> None:
        for _, child in self.children:
            try:
                os.killpg(child.pid, signal.SIGTERM)
            except ProcessLookupError:
                continue
        for _, child in self.children:
            try:
                child.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(child.pid, signal.SIGKILL)


def rss_mb(pid: int) -> float:
    """Resident memory of the process and its children (uvicorn may fork), in MB."""
    total = 0
    pids = [pid]
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        pids += [int(p) for p in children]
    except OSError:
        pass
    for p in pids:
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            pass
    return total / 1024


def wait_healthy(url: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{url} did not come up")


def seed(url: str, env: dict[str, str]) -> tuple[list[H], list[tuple[H, str, str]], list[H]]:
    op = subprocess.run(
        [sys.executable, "-m", "app.cli", "create-operator", "ops"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    ops = {"Authorization": f"Bearer {op}"}
    c = httpx.Client(base_url=url, timeout=120)
    r = c.patch("/v1/admin/settings", json={"payout_hold_s": 0, "min_payout": "0.05"}, headers=ops)
    assert r.status_code == 200, r.text

    def signup(role: str) -> H:
        r = c.post("/v1/accounts", json={"role": role, "name": f"soak {role}"})
        assert r.status_code == 201, r.text
        return {"Authorization": f"Bearer {r.json()['api_key']}"}

    requesters = []
    for k in range(REQUESTERS):
        who = signup("requester")
        project = c.post(
            "/v1/projects",
            json={
                "name": f"Soak {k}",
                "annotation": {"type": "classification", "labels": ["cat", "dog", "bird"]},
                "reward": "0.01",
                "overlap": {"min": 1, "max": 1},
                "auto_accept_s": 0,
            },
            headers=who,
        ).json()
        assert c.post("/v1/deposits", json={"amount": "5000"}, headers=who).status_code == 201
        files = [("files", (f"s{i}.png", png(k * 100_000 + i), "image/png")) for i in range(1500)]
        batch = c.post(f"/v1/projects/{project['id']}/batches", files=files, headers=who).json()
        assert c.post(f"/v1/batches/{batch['id']}/launch", headers=who).status_code == 200
        requesters.append((who, project["id"], batch["id"]))
    workers = [signup("worker") for _ in range(WORKERS)]
    readers = [signup("worker") for _ in range(READERS)]
    return workers, requesters, readers


def worker_loop(url: str, me: H, projects: list[str], stats: Stats, stop: threading.Event) -> None:
    rng = random.Random(hash(me["Authorization"]))
    answered = 0
    with httpx.Client(base_url=url, headers=me, timeout=30) as c:
        while not stop.is_set():
            project = rng.choice(projects)
            lease = stats.call(c, "lease", "POST", f"/v1/projects/{project}/assignments")
            if lease is None or lease.status_code != 201:
                time.sleep(0.2)
                continue
            lease_id = lease.json()["id"]
            stats.call(
                c,
                "submit",
                "POST",
                f"/v1/assignments/{lease_id}/submit",
                json={"answer": {"label": rng.choice(["cat", "dog", "bird"])}},
                headers={"Idempotency-Key": f"soak-{lease_id}"},
            )
            answered += 1
            if answered % 25 == 0:
                stats.call(c, "payout", "POST", "/v1/payouts", json={})


def requester_loop(
    url: str, me: H, project: str, batch: str, k: int, stats: Stats, stop: threading.Event
) -> None:
    n = 0
    with httpx.Client(base_url=url, headers=me, timeout=60) as c:
        while not stop.is_set():
            n += 1
            files = [
                (
                    "files",
                    (f"u{n}-{i}.png", png(10_000_000 + k * 1_000_000 + n * 100 + i), "image/png"),
                )
                for i in range(20)
            ]
            r = stats.call(c, "upload", "POST", f"/v1/projects/{project}/batches", files=files)
            if r is not None and r.status_code == 201:
                stats.call(c, "launch", "POST", f"/v1/batches/{r.json()['id']}/launch")
            stats.call(c, "results", "GET", f"/v1/batches/{batch}/results?limit=200")
            stats.call(c, "export", "GET", f"/v1/batches/{batch}/results?format=csv")
            stop.wait(1.0)


def reader_loop(url: str, me: H, stats: Stats, stop: threading.Event) -> None:
    with httpx.Client(base_url=url, headers=me, timeout=30) as c:
        while not stop.is_set():
            stats.call(c, "me", "GET", "/v1/me")
            stop.wait(0.2)


def pct(xs: list[float], q: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(q * len(xs)))] if xs else float("nan")


def vacuum_loop(
    db_url: str, every_s: float, stop: threading.Event, t0: float, runs: list[tuple[float, float]]
) -> None:
    """What autovacuum does on a server that has it on: dead rows of the churning tables
    (task queue, leases, balances, rate counters) reclaimed and statistics kept fresh. Each
    run's (start, end) in seconds since ``t0`` goes to ``runs``."""
    with psycopg.connect(db_url, autocommit=True) as conn:
        while not stop.wait(every_s):
            started = time.monotonic() - t0
            conn.execute("VACUUM (ANALYZE)")
            runs.append((started, time.monotonic() - t0))


# Sessions of the soak's database waiting for a lock, with whoever holds them up.
WAITS_SQL = r"""
SELECT a.application_name, a.pid, a.wait_event,
       extract(epoch FROM clock_timestamp() - a.query_start) AS waited_s,
       left(regexp_replace(a.query, '\s+', ' ', 'g'), 140) AS query,
       b.application_name AS blocker, b.state AS blocker_state,
       extract(epoch FROM clock_timestamp() - b.xact_start) AS blocker_xact_s,
       left(regexp_replace(b.query, '\s+', ' ', 'g'), 140) AS blocker_query
FROM pg_stat_activity a
LEFT JOIN LATERAL unnest(pg_blocking_pids(a.pid)) AS bp(pid) ON true
LEFT JOIN pg_stat_activity b ON b.pid = bp.pid
WHERE a.datname = current_database() AND a.pid <> pg_backend_pid()
  AND a.wait_event_type = 'Lock'
"""


def wait_sampler(
    db_url: str, every_s: float, stop: threading.Event, t0: float, out: list[dict[str, Any]]
) -> None:
    """Every ``every_s``: the lock waits of the moment (``WAITS_SQL``), stamped with seconds
    since ``t0``; a slow call is then matched with what its server's sessions waited for."""
    with psycopg.connect(db_url, autocommit=True) as conn:
        conn.execute("SET application_name = 'soak-sampler'")
        while not stop.wait(every_s):
            at = time.monotonic() - t0
            cur = conn.execute(WAITS_SQL)
            names = [d.name for d in cur.description or ()]
            for row in cur.fetchall():
                out.append({"t": round(at, 2), **dict(zip(names, row, strict=True))})


def window_bounds(minutes: float) -> tuple[tuple[int, int], tuple[int, int]]:
    """The early and late windows (first and last minute, inclusive) compared for drift:
    minutes 2-6 and 10-14 of a 15-minute run; of a shorter one, the halves of its full minutes
    after the first (minute 0 is the warm-up, the last one a few seconds)."""
    if minutes >= 15:
        return (2, 6), (10, 14)
    full = list(range(1, int(minutes)))
    half = max(1, len(full) // 2)
    return (full[0], full[half - 1]), (full[-half], full[-1])


def window_report(
    stats: Stats, early: tuple[int, int], late: tuple[int, int]
) -> dict[str, dict[str, Any]]:
    """Per route and window: the median of the per-minute p50 and p99 (what the tables of
    benchmarks/README.md showed first) and the pooled p50 and p99 (every call of the window in
    one sample: for a route with ~120 calls a minute, a per-minute p99 is its second-slowest
    call, a pooled one over 5 minutes its sixth-slowest); and the drift late / early of each."""
    out: dict[str, dict[str, Any]] = {}
    for route in sorted({r for r, _ in stats.lat}):
        row: dict[str, Any] = {}
        for name, (first, last) in (("early", early), ("late", late)):
            per_minute = [stats.lat.get((route, m), []) for m in range(first, last + 1)]
            pooled = [ms for xs in per_minute for ms in xs]
            row[name] = {
                "n": len(pooled),
                "p50_median_of_minutes": round(_median([pct(xs, 0.5) for xs in per_minute]), 1),
                "p99_median_of_minutes": round(_median([pct(xs, 0.99) for xs in per_minute]), 1),
                "p50_pooled": round(pct(pooled, 0.5), 1),
                "p99_pooled": round(pct(pooled, 0.99), 1),
            }
        for key in ("p50_median_of_minutes", "p99_median_of_minutes", "p50_pooled", "p99_pooled"):
            row[f"drift_{key}"] = round(row["late"][key] / row["early"][key], 2)
        out[route] = row
    return out


def _median(xs: list[float]) -> float:
    xs = sorted(x for x in xs if not math.isnan(x))  # NaN: a minute without calls
    if not xs:
        return float("nan")
    mid = len(xs) // 2
    return xs[mid] if len(xs) % 2 else (xs[mid - 1] + xs[mid]) / 2


def slowest_calls(
    stats: Stats,
    waits: list[dict[str, Any]],
    vacuums: list[tuple[float, float]],
    ports: dict[str, str],
    routes: tuple[str, ...],
    top: int = 8,
) -> dict[str, list[dict[str, Any]]]:
    """The ``top`` slowest calls of each of ``routes``, each with the VACUUM it overlapped (if
    any) and the lock waits sampled on its server's sessions while it ran."""
    out: dict[str, list[dict[str, Any]]] = {}
    for route in routes:
        calls = sorted((c for c in stats.calls if c[1] == route), key=lambda c: -c[2])[:top]
        rows = []
        for start, _, ms, status, port in calls:
            end = start + ms / 1000
            server = ports.get(port, port)
            seen = [
                {
                    k: w[k]
                    for k in ("t", "wait_event", "waited_s", "query", "blocker", "blocker_query")
                }
                for w in waits
                if start <= w["t"] <= end and w["application_name"] == server
            ]
            rows.append(
                {
                    "start_s": round(start, 2),
                    "ms": round(ms, 1),
                    "status": status,
                    "server": server,
                    "during_vacuum": any(a < end and start < b for a, b in vacuums),
                    "lock_waits": seen[:6],
                }
            )
        out[route] = rows
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--minutes", type=float, default=15)
    parser.add_argument("--admin-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument(
        "--vacuum-every",
        type=float,
        default=0,
        help="seconds between VACUUM (ANALYZE) runs of the soak's database (0: none). The local "
        "server runs with autovacuum off; this stands in for it, as on any production server",
    )
    parser.add_argument(
        "--sample-waits",
        type=float,
        default=0.1,
        help="seconds between samples of the lock waits in pg_stat_activity (0: none)",
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=None,
        help="folder for report.json, calls.csv (every call), waits.jsonl (the lock samples) "
        "and the processes' logs (default: a new temporary folder, printed at the end)",
    )
    parser.add_argument(
        "--slow-routes",
        default="launch,payout,submit,lease",
        help="routes whose slowest calls the report lists with what they overlapped",
    )
    args = parser.parse_args()
    name = f"tessera_soak_{os.getpid()}"
    admin = args.admin_url
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    base = admin.rsplit("/", 1)[0]
    db_url = f"{base}/{name}"
    tmp = Path(tempfile.mkdtemp(prefix="tessera-soak-"))
    out_dir = args.out or tmp
    out_dir.mkdir(parents=True, exist_ok=True)
    procs = Procs(out_dir)
    try:
        upgrade(db_url)
        env = {k: v for k, v in os.environ.items() if not k.startswith("TESSERA_")}
        env.update(
            TESSERA_DATABASE_URL=db_url,
            TESSERA_DATA_DIR=str(tmp / "data"),
            TESSERA_MIGRATE_ON_START="false",
            TESSERA_RUN_RECONCILERS="false",
        )
        urls, pids = [], {}
        for i in range(2):
            port = free_port()
            child = procs.start(
                f"serve{i}",
                ["serve", "--port", str(port), "--no-access-log", "--log-level", "warning"],
                env,
            )
            urls.append(f"http://127.0.0.1:{port}")
            pids[f"serve{i}"] = child.pid
        for url in urls:
            wait_healthy(url)
        workers, requesters, readers = seed(urls[0], env)
        for i in range(2):
            pids[f"worker{i}"] = procs.start(f"worker{i}", ["worker"], env).pid

        stats, stop = Stats(), threading.Event()
        projects = [p for _, p, _ in requesters]
        threads = [
            threading.Thread(target=worker_loop, args=(urls[i % 2], w, projects, stats, stop))
            for i, w in enumerate(workers)
        ]
        threads += [
            threading.Thread(target=requester_loop, args=(urls[k % 2], who, p, b, k, stats, stop))
            for k, (who, p, b) in enumerate(requesters)
        ]
        threads += [
            threading.Thread(target=reader_loop, args=(urls[i % 2], r, stats, stop))
            for i, r in enumerate(readers)
        ]
        vacuums: list[tuple[float, float]] = []
        waits: list[dict[str, Any]] = []
        if args.vacuum_every > 0:
            threads.append(
                threading.Thread(
                    target=vacuum_loop, args=(db_url, args.vacuum_every, stop, stats.t0, vacuums)
                )
            )
        if args.sample_waits > 0:
            threads.append(
                threading.Thread(
                    target=wait_sampler, args=(db_url, args.sample_waits, stop, stats.t0, waits)
                )
            )
        for t in threads:
            t.start()
        rss: dict[str, list[tuple[float, float]]] = defaultdict(list)
        end = time.monotonic() + args.minutes * 60
        while time.monotonic() < end:
            for proc, pid in pids.items():
                rss[proc].append((time.monotonic() - stats.t0, rss_mb(pid)))
            time.sleep(10)
        stop.set()
        for t in threads:
            t.join(timeout=60)
        time.sleep(15)  # let the reconcilers finish what the last answers started

        engine = make_engine(db_url, pool_size=1)
        with make_sessionmaker(engine)() as session:
            report = verify_ledger(session)
            answered = (
                AssignmentStatus.submitted,
                AssignmentStatus.accepted,
                AssignmentStatus.rejected,
            )
            over = session.execute(
                select(Assignment.task_id, func.count())
                .where(Assignment.status.in_(answered))
                .group_by(Assignment.task_id)
                .having(func.count() > 1)
            ).all()
            accepted = session.scalar(
                select(func.count()).where(Assignment.status == AssignmentStatus.accepted)
            )
        engine.dispose()

        minutes = sorted({m for _, m in stats.lat})
        routes = sorted({r for r, _ in stats.lat})
        table = {
            route: {
                m: {
                    "n": len(stats.lat[(route, m)]),
                    "p50_ms": round(pct(stats.lat[(route, m)], 0.5), 1),
                    "p99_ms": round(pct(stats.lat[(route, m)], 0.99), 1),
                }
                for m in minutes
                if stats.lat.get((route, m))
            }
            for route in routes
        }
        five_xx = {
            route: sum(n for code, n in codes.items() if code >= 500)
            for route, codes in stats.codes.items()
        }
        early, late = window_bounds(args.minutes)
        ports = {url.rsplit(":", 1)[1]: f"serve{i}" for i, url in enumerate(urls)}
        out = {
            "minutes": args.minutes,
            "vacuum_every_s": args.vacuum_every,
            "windows": {"early": early, "late": late},
            "per_route_windows": window_report(stats, early, late),
            "slowest_calls": slowest_calls(
                stats, waits, vacuums, ports, tuple(args.slow_routes.split(","))
            ),
            "vacuum_runs_s": [round(b - a, 2) for a, b in vacuums],
            "lock_wait_samples": len(waits),
            "load": os.getloadavg(),
            "per_route_per_minute": table,
            "status_codes": {r: dict(c) for r, c in stats.codes.items()},
            "client_errors": dict(stats.errors),
            "5xx": five_xx,
            "rss_mb": {p: [round(v, 1) for _, v in series] for p, series in rss.items()},
            "ledger_ok": report.ok,
            "ledger_violations": report.violations[:10],
            "tasks_over_overlap": len(over),
            "accepted_answers": accepted,
        }
        (out_dir / "report.json").write_text(json.dumps(out, indent=1, default=str))
        with (out_dir / "calls.csv").open("w") as f:
            f.write("start_s,route,ms,status,server\n")
            for start, route, ms, code, server_port in stats.calls:
                f.write(
                    f"{start:.3f},{route},{ms:.1f},{code},{ports.get(server_port, server_port)}\n"
                )
        with (out_dir / "waits.jsonl").open("w") as f:
            for w in waits:
                f.write(json.dumps(w, default=str) + "\n")
        print(json.dumps(out, indent=1, default=str))
        print(f"report, calls, lock samples and logs in {out_dir}", file=sys.stderr)
    finally:
        procs.stop()
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


if __name__ == "__main__":
    main()
