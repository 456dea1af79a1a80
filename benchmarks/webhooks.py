"""Submit latency with a hanging webhook receiver registered, beside none, in one run.

Starts ``tessera serve`` (a subprocess, its reconcilers running inside it as in the embedded
setup, the webhook deliverer among them) on a fresh PostgreSQL database made for the run (or on
SQLite with ``--backend sqlite``), with ``TESSERA_WEBHOOK_PRIVATE_HOSTS=1`` so a receiver on
127.0.0.1 may be registered. The receiver is a TCP server in this process that accepts every
connection, reads the request and never answers: each delivery attempt waits out the
deliverer's read timeout.

Seeds two requesters through the public API, each with a classification project (overlap 1, so
every submit completes its task) and ``--images`` tasks: requester A has no webhook; requester
B has one, on the hanging receiver, for ``assignment.submitted`` and ``task.completed`` (two
outbox rows per submit, written by the submit itself). Then ``--clients`` concurrent keep-alive
clients (one worker account each) lease and submit, every client alternating between A's
project and B's, so both sides run in the same seconds under the same load. Reported: p50, p90,
p99 of submit (and lease) for each side, the ratio of p99s (goal: B within 10% of A), and what the
deliverer did meanwhile (attempts made, the receiver's connections, rows still pending).

    .venv/bin/python benchmarks/webhooks.py                      # PostgreSQL, ~1 minute
    .venv/bin/python benchmarks/webhooks.py --backend sqlite --seconds 20

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
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
import psycopg
from PIL import Image

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import _loadgen as lg  # noqa: E402


def tessera_cmd() -> list[str]:
    script = Path(sys.executable).with_name("tessera")
    return [str(script)] if script.exists() else [sys.executable, "-m", "app.cli"]


def tiny_png(i: int, tint: int) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (8 + i % 5, 8), (i & 255, (i >> 8) & 255, tint)).save(buf, format="PNG")
    return buf.getvalue()


class HangingReceiver:
    """Accepts connections, reads what comes, never answers; counts the connections."""

    def __init__(self) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.connections = 0
        self.held: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.connections += 1
            self.held.append(conn)  # kept open, never answered

    def close(self) -> None:
        self.sock.close()
        for conn in self.held:
            conn.close()


@dataclass
class Side:
    name: str
    project_id: str


def make_requester(
    c: httpx.Client, name: str, images: int, tint: int
) -> tuple[dict[str, str], str]:
    r = c.post("/v1/accounts", json={"role": "requester", "name": name})
    r.raise_for_status()
    req = {"Authorization": f"Bearer {r.json()['api_key']}"}
    r = c.post(
        "/v1/projects",
        headers=req,
        json={
            "name": name,
            "annotation": {"type": "classification", "labels": ["cat", "dog"]},
            "reward": "0.02",
            "overlap": {"min": 1, "max": 1},
            "gold_rate": 0,
        },
    )
    r.raise_for_status()
    project_id = r.json()["id"]
    for start in range(0, images, 1000):
        files = [
            ("files", (f"i{i}.png", tiny_png(i, tint), "image/png"))
            for i in range(start, min(images, start + 1000))
        ]
        r = c.post(f"/v1/projects/{project_id}/batches", headers=req, files=files)
        r.raise_for_status()
        batch_id = r.json()["id"]
        amount = f"{len(files) * 0.02 * 2:.2f}"
        c.post("/v1/deposits", headers=req, json={"amount": amount}).raise_for_status()
        c.post(f"/v1/batches/{batch_id}/launch", headers=req).raise_for_status()
    return req, project_id


def seed(
    port: int, images: int, clients: int, receiver: HangingReceiver
) -> tuple[Side, Side, list[str], str]:
    with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=300, trust_env=False) as c:
        _, plain = make_requester(c, "no webhook", images, 11)
        hooked_req, hooked = make_requester(c, "hanging webhook", images, 99)
        r = c.post(
            "/v1/webhooks",
            headers=hooked_req,
            json={
                "url": f"http://127.0.0.1:{receiver.port}/hook",
                "events": ["assignment.submitted", "task.completed"],
            },
        )
        r.raise_for_status()
        webhook_id = r.json()["id"]
        keys = []
        for i in range(clients):
            r = c.post("/v1/accounts", json={"role": "worker", "name": f"bench worker {i}"})
            r.raise_for_status()
            keys.append(r.json()["api_key"])
    return Side("none", plain), Side("hanging", hooked), keys, webhook_id


def scenario(sides: tuple[Side, Side], keys: list[str]) -> lg.Scenario:
    auth = [{"Authorization": f"Bearer {k}"} for k in keys]
    leases = {
        s.name: [
            lg.Conn.encode("POST", f"/v1/projects/{s.project_id}/assignments", a) for a in auth
        ]
        for s in sides
    }
    turn = [0] * len(keys)
    answer = {"answer": {"label": "cat"}}

    async def run(conn: lg.Conn, rec: lg.Recorder, index: int) -> None:
        side = sides[turn[index] % 2]
        turn[index] += 1
        t0 = time.perf_counter()
        status, body = await conn.send(leases[side.name][index])
        t1 = time.perf_counter()
        if status == 204:
            rec.exhausted = True
            return
        if status != 201:
            rec.error(f"lease {side.name}", status)
            return
        rec.ok(f"lease {side.name}", t0, t1)
        asg = json.loads(body)["id"]
        raw = lg.Conn.encode("POST", f"/v1/assignments/{asg}/submit", auth[index], answer)
        status, _ = await conn.send(raw)
        t2 = time.perf_counter()
        if status != 200:
            rec.error(f"submit {side.name}", status)
        elif rec.ok(f"submit {side.name}", t1, t2):
            rec.units += 1

    return run


def outbox(database_url: str | None, data_dir: Path) -> str:
    """The deliveries by status, with the attempts made."""
    sql = (
        "SELECT status, count(*), coalesce(sum(attempts), 0) FROM webhook_deliveries "
        "GROUP BY status ORDER BY status"
    )
    if database_url is None:
        import sqlite3

        with sqlite3.connect(data_dir / "tessera.db") as lite:
            rows = lite.execute(sql).fetchall()
    else:
        with psycopg.connect(database_url) as conn:
            rows = conn.execute(sql).fetchall()
    return ", ".join(f"{s}: {n} rows, {a} attempts" for s, n, a in rows) or "empty"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--backend", choices=["postgres", "sqlite"], default="postgres")
    parser.add_argument("--admin-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--images", type=int, default=6000, help="tasks per side")
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--workers", type=int, default=2, help="server processes")
    args = parser.parse_args()

    data_dir = Path(tempfile.mkdtemp(prefix="tessera-hooks-bench-"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("TESSERA_")}
    env.update(
        TESSERA_DATA_DIR=str(data_dir),
        TESSERA_WEBHOOK_PRIVATE_HOSTS="1",
        TESSERA_RUN_RECONCILERS="1",  # the deliverer inside serve, as in the embedded setup
        TESSERA_LEASES_PER_WORKER_PER_MINUTE="100000",
        TESSERA_ANSWERS_PER_WORKER_PER_MINUTE="100000",
    )
    db_name = f"tessera_hooks_bench_{os.getpid()}"
    database_url = None
    workers = args.workers
    if args.backend == "postgres":
        with psycopg.connect(args.admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{db_name}"')
        database_url = args.admin_url.rsplit("/", 1)[0] + "/" + db_name
        env["TESSERA_DATABASE_URL"] = database_url
        subprocess.run(
            [*tessera_cmd(), "migrate"], env=env, cwd=data_dir, check=True, capture_output=True
        )
    else:
        workers = 1
    receiver = HangingReceiver()
    port = lg.free_port()
    log_path = data_dir / "server.log"
    server = subprocess.Popen(
        [
            *tessera_cmd(),
            "serve",
            "--port",
            str(port),
            "--workers",
            str(workers),
            "--no-access-log",
            "--log-level",
            "warning",
        ],
        env=env,
        cwd=data_dir,
        start_new_session=True,
        stdout=log_path.open("w"),
        stderr=subprocess.STDOUT,
    )
    try:
        lg.wait_http(port, "/readyz")
        t = time.perf_counter()
        plain, hooked, keys, _ = seed(port, args.images, args.clients, receiver)
        if database_url is not None:
            with psycopg.connect(database_url, autocommit=True) as conn:
                conn.execute("ANALYZE")
        print(
            f"{args.backend}: {workers} server process(es), seeded 2 x {args.images:,} tasks and "
            f"{len(keys)} workers in {time.perf_counter() - t:.0f} s; {lg.machine_note()}; "
            f"code {lg.code_version()}",
            flush=True,
        )
        phase = lg.run(
            lg.run_phase(
                "interleaved",
                port,
                args.clients,
                scenario((plain, hooked), keys),
                seconds=args.seconds,
                warmup=2.0,
            )
        )
        rows = []
        for side in ("none", "hanging"):
            n = len(phase.lat.get(f"submit {side}", []))
            rows.append(
                [
                    "no webhook" if side == "none" else "hanging receiver registered",
                    n,
                    phase.pct(f"submit {side}", 0.50),
                    phase.pct(f"submit {side}", 0.90),
                    phase.pct(f"submit {side}", 0.99),
                    phase.pct(f"lease {side}", 0.99),
                ]
            )
        print(
            lg.table(["side", "submits", "submit p50 ms", "p90 ms", "p99 ms", "lease p99 ms"], rows)
        )
        ratio = phase.pct("submit hanging", 0.99) / phase.pct("submit none", 0.99)
        print(f"submit p99 hanging / none = {ratio:.3f} (goal <= 1.10); errors: {phase.errors}")
        print(f"client CPU {phase.client_cpu:.2f} cores; exhausted={phase.exhausted}")
        print(
            f"deliverer meanwhile: receiver accepted {receiver.connections} connections "
            f"(none answered); outbox: {outbox(database_url, data_dir)}",
            flush=True,
        )
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
        receiver.close()
        if args.backend == "postgres":
            with psycopg.connect(args.admin_url, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)')
        errors = [ln for ln in log_path.read_text().splitlines() if "Traceback" in ln]
        if errors:
            print(f"server log: {len(errors)} tracebacks ({log_path})")
        else:
            shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
