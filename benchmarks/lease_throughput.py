"""Lease+submit pairs per second through HTTP against the real service, next to ``GET /v1/ping``.

Starts ``tessera serve --workers 2`` (a subprocess) on a fresh PostgreSQL database made for the
run (``tessera migrate`` first), seeds it through the public API — a requester, a classification
project with overlap max 3, several thousand distinct tiny PNGs uploaded in batches of 1,000 and
launched, 64 worker accounts — then loads it with 64 concurrent keep-alive clients (one per
worker account). Phases alternate in one run, order rotated each round:

* ``ping``: ``GET /v1/ping`` (the trivial ``async def`` endpoint of the same server);
* ``pairs``: each client leases its next task (``POST /v1/projects/{id}/assignments``) and
  submits an answer (``POST /v1/assignments/{id}/submit``), again and again.

Reported per backend: ping req/s; pairs/s and pair requests/s (a pair counts as 2 requests);
the ratio pair-req/s ÷ ping-req/s (goal: ≥ 40%); p50/p99 of lease and of submit; the client's
CPU (1.0 = one core) and the server processes' CPU per request. Medians over rounds. Then the
same on SQLite (embedded default, 1 server process) for reference.

    .venv/bin/python benchmarks/lease_throughput.py                  # both backends, ~4 minutes
    .venv/bin/python benchmarks/lease_throughput.py --backend postgres --rounds 5

After seeding, PostgreSQL runs ``ANALYZE`` (autovacuum's job, off on the local server;
``--no-analyze`` skips it). Also reported on PostgreSQL: the CPU of the database backends per
pair request, read from /proc for the backends serving the benchmark database.

Creates and drops its own database on the local server (``--admin-url``) and a temporary data
directory; traffic goes only to 127.0.0.1.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
import psycopg
from PIL import Image

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import _floor  # noqa: E402
import _loadgen as lg  # noqa: E402
from _invariants import INVARIANTS  # noqa: E402


def tessera_cmd() -> list[str]:
    script = Path(sys.executable).with_name("tessera")
    return [str(script)] if script.exists() else [sys.executable, "-m", "app.cli"]


# ``tessera serve`` of a copied-aside commit (``--variants main``) runs as ``python -c``. Started
# as the venv's ``tessera`` script, uvicorn's spawned ``--workers`` children re-run that script
# (multiprocessing's spawn re-imports the parent's ``__main__`` file), i.e. import the copy's
# ``app.cli``, which at e5dda3a imported ``consensus`` -> scikit-learn -> ``scipy.stats``, SQLAlchemy
# and alembic at module level: 9.3 s of CPU (``python -X importtime -c "import app.cli"``).
# uvicorn 0.54 gives a new child 5 s to answer its health-check ping before it kills it as hung
# and starts another, so the children "died" forever (reproduced by hand, 8 in 75 s; today's
# ``app.cli`` imports lazily and answers in time). With ``-c`` there is no ``__main__`` file to
# re-run: a child imports only uvicorn before its ping thread runs, then loads the copy's
# ``app.main:create_app`` as before (ready in 141 s at load 14). Same CLI, app and settings.
OLD_SERVE = "import sys; from app.cli import main; sys.exit(main(sys.argv[1:]))"


def tiny_png(i: int) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (8 + i % 5, 8), (i & 255, (i >> 8) & 255, 77)).save(buf, format="PNG")
    return buf.getvalue()


def proc_tree_cpu(root: int) -> float:
    """CPU seconds (user+system) used so far by a process and all its descendants."""
    tick = os.sysconf("SC_CLK_TCK")
    children: dict[int, list[int]] = {}
    stats: dict[int, list[str]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            raw = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        fields = raw[raw.rfind(")") + 2 :].split()
        stats[int(entry)] = fields
        children.setdefault(int(fields[1]), []).append(int(entry))
    total, todo = 0.0, [root]
    while todo:
        pid = todo.pop()
        if pid in stats:
            total += (int(stats[pid][11]) + int(stats[pid][12])) / tick
        todo.extend(children.get(pid, []))
    return total


def backend_cpu(admin_url: str, db_name: str | None) -> float:
    """CPU seconds used so far by the PostgreSQL backends serving the benchmark database (the
    server's pool keeps its connections, so the same backends serve a whole phase)."""
    if db_name is None:
        return 0.0
    with psycopg.connect(admin_url, autocommit=True) as conn:
        pids = [
            r[0]
            for r in conn.execute("SELECT pid FROM pg_stat_activity WHERE datname = %s", (db_name,))
        ]
    return sum(proc_tree_cpu(pid) for pid in pids)


def analyze(admin_url: str, db_name: str) -> None:
    """What autovacuum's ANALYZE does after a bulk load. This server runs with autovacuum = off,
    so without it the planner has no statistics and picks, for the lease query, a plan that
    sorts every open queue row of the project at each lease (benchmarks/README.md)."""
    url = admin_url.rsplit("/", 1)[0] + "/" + db_name
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("ANALYZE")


@dataclass
class Seeded:
    project_id: str
    worker_keys: list[str]
    tasks: int


def seed(port: int, images: int, workers: int) -> Seeded:
    base = f"http://127.0.0.1:{port}"
    with httpx.Client(base_url=base, timeout=300, trust_env=False) as c:
        r = c.post("/v1/accounts", json={"role": "requester", "name": "bench requester"})
        r.raise_for_status()
        req = {"Authorization": f"Bearer {r.json()['api_key']}"}
        r = c.post(
            "/v1/projects",
            headers=req,
            json={
                "name": "bench",
                "annotation": {"type": "classification", "labels": ["cat", "dog"]},
                "reward": "0.02",
                "overlap": {"min": 1, "max": 3},
            },
        )
        r.raise_for_status()
        project_id = r.json()["id"]
        tasks = 0
        for start in range(0, images, 1000):
            files = [
                ("files", (f"i{i}.png", tiny_png(i), "image/png"))
                for i in range(start, min(images, start + 1000))
            ]
            r = c.post(f"/v1/projects/{project_id}/batches", headers=req, files=files)
            r.raise_for_status()
            batch_id = r.json()["id"]
            # Launching escrows tasks x overlap.max x reward + fee: fund it (2x covers the fee).
            c.post(
                "/v1/deposits", headers=req, json={"amount": f"{len(files) * 3 * 0.02 * 2:.2f}"}
            ).raise_for_status()
            r = c.post(f"/v1/batches/{batch_id}/launch", headers=req)
            r.raise_for_status()
            tasks += len(files)
        keys = []
        for i in range(workers):
            r = c.post("/v1/accounts", json={"role": "worker", "name": f"bench worker {i}"})
            r.raise_for_status()
            keys.append(r.json()["api_key"])
    return Seeded(project_id, keys, tasks)


def pair_scenario(seeded: Seeded) -> lg.Scenario:
    leases = [
        lg.Conn.encode(
            "POST",
            f"/v1/projects/{seeded.project_id}/assignments",
            {"Authorization": f"Bearer {k}"},
        )
        for k in seeded.worker_keys
    ]
    answer = {"answer": {"label": "cat"}}

    async def scenario(conn: lg.Conn, rec: lg.Recorder, index: int) -> None:
        key = seeded.worker_keys[index]
        t0 = time.perf_counter()
        status, body = await conn.send(leases[index])
        t1 = time.perf_counter()
        if status == 204:
            rec.exhausted = True
            return
        if status != 201:
            rec.error("lease", status)
            return
        rec.ok("lease", t0, t1)
        asg = json.loads(body)["id"]
        raw = lg.Conn.encode(
            "POST", f"/v1/assignments/{asg}/submit", {"Authorization": f"Bearer {key}"}, answer
        )
        status, _ = await conn.send(raw)
        t2 = time.perf_counter()
        if status != 200:
            rec.error("submit", status)
        elif rec.ok("submit", t1, t2):
            rec.units += 1

    return scenario


@dataclass
class Measured:
    phase: lg.Phase
    server_cpu_per_req_ms: float
    db_cpu_per_req_ms: float


async def bench(
    port: int, server_pid: int, seeded: Seeded, args: argparse.Namespace, db_name: str | None
) -> tuple[list[dict[str, Measured]], list[_floor.Floor]]:
    scenarios = {"ping": lg.get_scenario("ping", "/v1/ping"), "pairs": pair_scenario(seeded)}
    # Warm both paths (connection pools, caches, statement preparation), unrecorded.
    for name in ("ping", "pairs"):
        await lg.run_phase(name, port, args.clients, scenarios[name], seconds=0.0, warmup=2.0)
    rounds, floors = [], []
    for r in range(args.rounds):
        if args.floor and db_name:
            # The floor first in even rounds and last in odd ones, as the phases alternate.
            if r % 2 == 0:
                floors.append(_run_floor(args, db_name, seeded, r))
        out: dict[str, Measured] = {}
        for name in ("ping", "pairs") if r % 2 == 0 else ("pairs", "ping"):
            db0 = backend_cpu(args.admin_url, db_name)
            cpu0, t0 = proc_tree_cpu(server_pid), time.perf_counter()
            p = await lg.run_phase(
                name, port, args.clients, scenarios[name], seconds=args.seconds, warmup=1.0
            )
            cpu, wall = proc_tree_cpu(server_pid) - cpu0, time.perf_counter() - t0
            db = backend_cpu(args.admin_url, db_name) - db0
            # CPU per request over the whole phase (warm-up included, at the same rate).
            out[name] = Measured(
                p, 1000 * cpu / max(1.0, p.rps * wall), 1000 * db / max(1.0, p.rps * wall)
            )
            extra = (
                f"{p.ups:7,.0f} pairs/s  lease p50 {p.pct('lease', 0.5):6.1f} p99 {p.pct('lease', 0.99):6.1f}"
                f"  submit p50 {p.pct('submit', 0.5):6.1f} p99 {p.pct('submit', 0.99):6.1f} ms"
                if name == "pairs"
                else f"p50 {p.pct('ping', 0.5):6.1f} p99 {p.pct('ping', 0.99):6.1f} ms"
            )
            print(
                f"  round {r + 1} {name:5} {p.rps:7,.0f} req/s  {extra}  client cpu {p.client_cpu:.2f}"
                f"  server cpu/req {out[name].server_cpu_per_req_ms:.2f} ms"
                + (f"  db cpu/req {out[name].db_cpu_per_req_ms:.2f} ms" if db_name else "")
                + (f"  errors {p.errors}" if p.errors else "")
                + ("  TASKS EXHAUSTED" if p.exhausted else ""),
                flush=True,
            )
        if args.floor and db_name and r % 2 == 1:
            floors.append(_run_floor(args, db_name, seeded, r))
        rounds.append(out)
    return rounds, floors


def _run_floor(args: argparse.Namespace, db_name: str, seeded: Seeded, r: int) -> _floor.Floor:
    f = _floor.run(args.admin_url, db_name, seeded.project_id, args.clients, args.seconds)
    print(
        f"  round {r + 1} floor {f.pairs_per_s:7,.0f} pairs/s (pgbench, the two functions alone, "
        f"{f.clients} clients; {f.transactions_per_s:,.0f} tps)  db cpu/req {f.db_cpu_per_req_ms:.2f} ms",
        flush=True,
    )
    return f


def summarize(
    backend: str, workers: int, rounds: list[dict[str, Measured]], floors: list[_floor.Floor]
) -> list[object]:
    ping = [r["ping"].phase for r in rounds]
    pairs = [r["pairs"].phase for r in rounds]
    ratio = lg.median(b.rps / a.rps for a, b in zip(ping, pairs, strict=True))
    floor = (
        f"{lg.median(f.pairs_per_s for f in floors):,.0f} "
        f"({100 * lg.median(p.ups / f.pairs_per_s for p, f in zip(pairs, floors, strict=True)):.0f}%)"
        if floors
        else "-"
    )
    return [
        f"{backend} ({workers} proc)",
        lg.median(p.rps for p in ping),
        lg.median(p.ups for p in pairs),
        lg.median(p.rps for p in pairs),
        f"{100 * ratio:.1f}%",
        lg.median(p.pct("lease", 0.5) for p in pairs),
        lg.median(p.pct("lease", 0.99) for p in pairs),
        lg.median(p.pct("submit", 0.5) for p in pairs),
        lg.median(p.pct("submit", 0.99) for p in pairs),
        lg.median(p.pct("ping", 0.5) for p in ping),
        lg.median(p.pct("ping", 0.99) for p in ping),
        f"{lg.median(p.client_cpu for p in ping):.2f} / {lg.median(p.client_cpu for p in pairs):.2f}",
        f"{lg.median(r['ping'].server_cpu_per_req_ms for r in rounds):.2f} / "
        f"{lg.median(r['pairs'].server_cpu_per_req_ms for r in rounds):.2f}",
        f"{lg.median(r['pairs'].db_cpu_per_req_ms for r in rounds):.2f}"
        if backend.startswith("postgres")
        else "-",
        floor,
        sum(sum(p.errors.values()) for p in [*ping, *pairs]),
    ]


def _report_server_log(backend: str, log_path: Path) -> None:
    """The server's own errors (e.g. deadlocks answered with 503): counted, one sample shown."""
    try:
        lines = log_path.read_text(errors="replace").splitlines()
    except OSError:
        return
    errors = [ln for ln in lines if " ERROR " in ln or "deadlock detected" in ln]
    deadlocks = sum("deadlock detected" in ln for ln in lines)
    if errors:
        print(f"{backend}: server logged {len(errors)} error lines ({deadlocks} deadlocks); first:")
        i = lines.index(errors[0])
        print("    " + "\n    ".join(lines[i : i + 6]))


def check_invariants(env: dict[str, str], db_url: str, data_dir: Path) -> str:
    """No duplicate (task, worker), no task over its overlap, answer counts exact, every
    completed task judged, and ``tessera verify-ledger``: after every run."""
    with psycopg.connect(db_url, autocommit=True) as conn:
        cur = conn.execute(INVARIANTS)
        names = [d.name for d in cur.description or []]
        row = cur.fetchone()
    found = dict(zip(names, row or (), strict=True))
    ledger = subprocess.run(
        [*tessera_cmd(), "verify-ledger"], env=env, cwd=data_dir, capture_output=True, timeout=300
    )
    bad = {k: v for k, v in found.items() if k != "answers_and_ends" and v}
    verdict = (
        "ok"
        if not bad and ledger.returncode == 0
        else f"VIOLATED {bad} ledger rc {ledger.returncode}"
    )
    return f"{verdict} ({found['answers_and_ends']:,} ended leases checked)"


def run_backend(backend: str, args: argparse.Namespace, variant: str = "hot") -> list[object]:
    """One server of ``variant``: ``hot`` the working tree, ``orm`` the same with the hot path
    off (``TESSERA_HOT_PATH=0``), ``main`` the code of ``--main-dir`` (a copy of main's commit,
    first on PYTHONPATH, migrated by its own migrations)."""
    workers = args.workers if backend == "postgres" else 1
    data_dir = Path(tempfile.mkdtemp(prefix=f"tessera_bench_{backend}_"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("TESSERA_")}
    env["TESSERA_DATA_DIR"] = str(data_dir)
    serve_env = dict(env)
    if variant == "orm":
        serve_env["TESSERA_HOT_PATH"] = "0"
    if variant == "main":
        serve_env["PYTHONPATH"] = str(Path(args.main_dir).resolve())
    db_name = f"tessera_bench_{args.tag}_{os.getpid()}"
    if backend == "postgres":
        with psycopg.connect(args.admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{db_name}"')
        env["TESSERA_DATABASE_URL"] = args.admin_url.rsplit("/", 1)[0] + "/" + db_name
        serve_env["TESSERA_DATABASE_URL"] = env["TESSERA_DATABASE_URL"]
        subprocess.run(
            [*tessera_cmd(), "migrate"],
            env=serve_env,  # main's code migrates with main's own migrations
            cwd=data_dir,
            check=True,
            capture_output=True,
            timeout=120,
        )
    port = lg.free_port()
    log_path = data_dir / "server.log"
    server = subprocess.Popen(
        [
            *([sys.executable, "-c", OLD_SERVE] if variant == "main" else tessera_cmd()),
            "serve",
            "--port",
            str(port),
            "--workers",
            str(workers),
            "--no-access-log",
            "--log-level",
            "warning",
        ],
        env=serve_env,
        cwd=data_dir,
        start_new_session=True,
        stdout=log_path.open("w"),
        stderr=subprocess.STDOUT,
    )
    try:
        # A loaded machine starts slowly: main's two children took 141 s at load 14 (importing
        # its scikit-learn and SciPy); today's code starts in a few seconds.
        lg.wait_http(port, "/readyz", timeout=600)
        t = time.perf_counter()
        seeded = seed(port, args.images, args.clients)
        if backend == "postgres" and not args.no_analyze:
            analyze(args.admin_url, db_name)
        print(
            f"{backend}: {workers} server process(es); seeded {seeded.tasks:,} tasks x overlap 3 and "
            f"{len(seeded.worker_keys)} workers in {time.perf_counter() - t:.0f} s; {lg.machine_note()}",
            flush=True,
        )
        # The floor calls this code's functions: main's schema does not have them.
        run_args = argparse.Namespace(**{**vars(args), "floor": args.floor and variant != "main"})
        if backend == "postgres" and run_args.floor:
            _floor.prepare(env["TESSERA_DATABASE_URL"], seeded.worker_keys)
        rounds, floors = lg.run(
            bench(port, server.pid, seeded, run_args, db_name if backend == "postgres" else None)
        )
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
        if backend == "postgres":
            print(
                f"{backend}/{variant} invariants: "
                + check_invariants(serve_env, env["TESSERA_DATABASE_URL"], data_dir),
                flush=True,
            )
            with psycopg.connect(args.admin_url, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)')
        _report_server_log(backend, log_path)
        shutil.rmtree(data_dir, ignore_errors=True)
    return summarize(f"{backend}/{variant}", workers, rounds, floors)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--backend", choices=["postgres", "sqlite", "both"], default="both")
    parser.add_argument("--admin-url", default="postgresql://postgres@127.0.0.1:5432/test")
    parser.add_argument(
        "--images", type=int, default=6000, help="distinct images = tasks (x3 lease slots)"
    )
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=8.0, help="measured seconds per phase")
    parser.add_argument(
        "--clients", type=int, default=64, help="concurrent clients = worker accounts"
    )
    parser.add_argument("--workers", type=int, default=2, help="server processes on PostgreSQL")
    parser.add_argument("--tag", default="lt", help="part of the benchmark database's name")
    parser.add_argument(
        "--no-analyze",
        action="store_true",
        help="skip the ANALYZE after seeding (the planner then has no statistics)",
    )
    parser.add_argument(
        "--variants",
        nargs="+",
        choices=["hot", "orm", "main"],
        default=["hot"],
        help="servers to run one after the other in this run (see run_backend; SQLite: hot, main)",
    )
    parser.add_argument(
        "--floor",
        action="store_true",
        help="PostgreSQL: also run pgbench on the two hot-path functions alone each round "
        "(benchmarks/_floor.py); the HTTP pairs/s is reported as a share of it",
    )
    parser.add_argument(
        "--main-dir",
        default="",
        help="for --variants main: a copy of main's code, e.g. "
        "`git worktree add /tmp/tessera-main e5dda3a`",
    )
    args = parser.parse_args()
    backends = ["postgres", "sqlite"] if args.backend == "both" else [args.backend]
    rows = []
    for b in backends:
        # SQLite has no hot path: its variants are the working tree and main's code.
        sqlite_variants = [v for v in args.variants if v != "orm"] or ["hot"]
        for variant in args.variants if b == "postgres" else sqlite_variants:
            rows.append(run_backend(b, args, variant))
    print()
    print(
        lg.table(
            [
                "backend",
                "ping req/s",
                "pairs/s",
                "pair req/s",
                "pair req/s ÷ ping req/s",
                "lease p50 ms",
                "lease p99 ms",
                "submit p50 ms",
                "submit p99 ms",
                "ping p50 ms",
                "ping p99 ms",
                "client CPU ping / pairs (cores)",
                "server CPU ms/req ping / pairs",
                "DB backend CPU ms/req pairs",
                "floor pairs/s (HTTP ÷ floor)",
                "errors",
            ],
            rows,
        )
    )
    print(
        f"\n{args.clients} clients, {args.rounds} rounds x {args.seconds:.0f} s per phase, medians over rounds; "
        f"{'no ANALYZE' if args.no_analyze else 'ANALYZE after seeding'}; "
        f"goal: pair req/s >= 40% of ping req/s; code {lg.code_version()}; {lg.machine_note()}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
