"""The floor of lease+submit on PostgreSQL: pgbench calling exactly the service's two functions
(``tessera_lease``, ``tessera_submit``, app/work/hotpath.py) with the same number of clients,
on the same database, in the same run — what the HTTP path could reach if Python cost nothing.

Each pgbench transaction is one pair: the lease (with the worker's API key id and hash, looked up
by pgbench's client number in a two-column table made for the run: one index probe, the only
statement the service does not also run) and the submit of the assignment it made. The
assignment id is made from a random number in pgbench (``asg_`` + 26 digits, a valid id), as
the service makes one in Python. Pairs are counted in the database afterwards (assignments with
the floor's prefix that reached ``submitted``), so a lease that found no task is not a pair.
"""

from __future__ import annotations

import os
import re
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg

# Not app.work.hotpath: run from benchmarks/, its consensus/ folder would shadow the library.
from app.core.security import hash_secret, split_api_key

# The rate-limit arguments the service passes (app/core/ratelimit.py), with a window that has
# not ended and a limit no run reaches: the functions still count every call, as in HTTP.
_WINDOW = "0, 4102444800, 1000000000"

# The submit's last two arguments are the ids of the webhook events it may cause (written only
# when a webhook subscribes: none does here), as app/work/hotpath.py passes them.
# Text holding a colon goes in as a pgbench variable (-D): pgbench reads ":worker" inside a
# literal as a variable reference.
SCRIPT = f"""\\set r random(1, 9000000000000000000)
SELECT tessera_lease(k.key_id, k.key_hash, :pid::text, now(), 100,
       'asg_F' || lpad(:r::text, 25, '0'), :lease_limit::text, {_WINDOW})
  FROM bench_floor_keys k WHERE k.n = :client_id::int;
SELECT tessera_submit(k.key_id, k.key_hash, 'asg_F' || lpad(:r::text, 25, '0'),
       :answer::jsonb, now(), :answer_limit::text, {_WINDOW},
       'evt_Fs' || lpad(:r::text, 24, '0'), 'evt_Fc' || lpad(:r::text, 24, '0'))
  FROM bench_floor_keys k WHERE k.n = :client_id::int;
"""

_COUNT = "SELECT count(*) FROM assignments WHERE id LIKE 'asg_F%' AND status <> 'leased'"


@dataclass(frozen=True)
class Floor:
    clients: int
    """Fewer than asked when the server had no more connections to give."""
    pairs_per_s: float
    transactions_per_s: float
    """pgbench's own figure: includes leases that found no task."""
    db_cpu_per_req_ms: float


def _figure(pattern: str, text: str) -> str:
    found = re.search(pattern, text)
    if found is None:
        raise RuntimeError(f"pgbench printed no {pattern!r}:\n{text}")
    return found.group(1)


def prepare(db_url: str, api_keys: list[str]) -> None:
    """The table pgbench reads each client's key from (client n uses ``api_keys[n]``)."""
    rows = []
    for n, key in enumerate(api_keys):
        parts = split_api_key(key)
        assert parts is not None, "seeded keys are API keys"
        rows.append((n, parts[0], hash_secret(parts[1])))
    with psycopg.connect(db_url, autocommit=True) as conn:
        conn.execute(
            "CREATE TABLE IF NOT EXISTS bench_floor_keys"
            " (n int PRIMARY KEY, key_id text NOT NULL, key_hash text NOT NULL)"
        )
        conn.execute("TRUNCATE bench_floor_keys")
        with conn.cursor() as cur:
            cur.executemany("INSERT INTO bench_floor_keys VALUES (%s, %s, %s)", rows)


def _pairs(db_url: str) -> int:
    with psycopg.connect(db_url, autocommit=True) as conn:
        row = conn.execute(_COUNT).fetchone()
    return int(row[0]) if row else 0


def _free_connections(admin_url: str) -> int:
    """Connections the server can still accept (the benchmarked server keeps a pool of its own
    open), less a few for this script and superusers."""
    with psycopg.connect(admin_url, autocommit=True) as conn:
        row = conn.execute(
            "SELECT current_setting('max_connections')::int"
            " - current_setting('superuser_reserved_connections')::int"
            " - (SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend')"
        ).fetchone()
    return max(1, int(row[0]) - 4) if row else 1


_TICK = os.sysconf("SC_CLK_TCK")


def _cpu_s(pid: int) -> float:
    """User+system CPU seconds of one process so far (0 once it has exited)."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0.0
    fields = raw[raw.rfind(")") + 2 :].split()
    return (int(fields[11]) + int(fields[12])) / _TICK


def _backend_cpus(conn: psycopg.Connection[Any], db_name: str) -> dict[int, float]:
    rows = conn.execute(
        "SELECT pid FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
        (db_name,),
    ).fetchall()
    return {pid: _cpu_s(pid) for (pid,) in rows}


def run(
    admin_url: str,
    db_name: str,
    project_id: str,
    clients: int,
    seconds: float,
) -> Floor:
    """One timed pgbench run. The database CPU is sampled while it runs (pgbench's backends
    exit with it, taking their /proc figures along): the last sample misses at most 0.2 s of
    each, and their start-ups are counted in."""
    db_url = admin_url.rsplit("/", 1)[0] + "/" + db_name
    clients = min(clients, _free_connections(admin_url))
    with tempfile.NamedTemporaryFile("w", suffix=".sql", delete=False) as f:
        f.write(SCRIPT)
        script = Path(f.name)
    last: dict[int, float] = {}
    watch = psycopg.connect(admin_url, autocommit=True)
    try:
        before = _pairs(db_url)
        base = _backend_cpus(watch, db_name)  # the server's own idle pool
        bench = subprocess.Popen(
            [
                "pgbench",
                "--no-vacuum",
                "--protocol=prepared",
                f"--client={clients}",
                "--jobs=2",
                f"--time={max(1, round(seconds))}",
                f"--file={script}",
                f"--define=pid={project_id}",
                "--define=lease_limit=lease:worker",
                "--define=answer_limit=answer:worker",
                '--define=answer={"label": "cat"}',
                db_url,
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        while bench.poll() is None:
            for pid, cpu in _backend_cpus(watch, db_name).items():
                if pid not in base:
                    last[pid] = cpu
            time.sleep(0.2)
        out, err = bench.communicate()
        if bench.returncode != 0:
            raise RuntimeError(f"pgbench failed: {err.strip()[-500:]}")
        pairs = _pairs(db_url) - before
    finally:
        watch.close()
        script.unlink()
    tps = float(_figure(r"tps = ([0-9.]+)", out))
    done = int(_figure(r"actually processed: (\d+)", out))
    # Each pgbench backend's whole life: its start-up (a few ms each) is counted with the work.
    cpu = sum(last.values())
    # pgbench's rate leaves out its connection start-up; a transaction whose lease found no task
    # is not a pair.
    return Floor(
        clients=clients,
        pairs_per_s=tps * pairs / max(1, done),
        transactions_per_s=tps,
        db_cpu_per_req_ms=1000 * cpu / max(1.0, 2 * pairs),
    )
