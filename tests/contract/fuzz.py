"""schemathesis against a live ``tessera serve``: ``--checks all``, a fixed seed and example count.

``run(database_url, workdir, ...)`` migrates the database, starts the server, makes the three
roles (a requester with funds, a worker, an operator; a low minimum payout so an accepted answer
can be paid out), and runs ``st run`` with ``tests/contract/st_hooks.py``, which authenticates
each operation as the role it is for (``role="auto"``, the stateful run that follows the links
create-project -> upload -> launch -> lease -> submit -> accept, deposit -> payout) or every
operation as one role. Returns schemathesis's exit code and its output.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _env(database_url: str, workdir: Path, *, reconcilers: bool = False) -> dict[str, str]:
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("TESSERA_")},
        "TESSERA_DATABASE_URL": database_url,
        "TESSERA_DATA_DIR": str(workdir / "data"),
        "TESSERA_MIGRATE_ON_START": "true",
        "TESSERA_RUN_RECONCILERS": "true" if reconcilers else "false",
        "TESSERA_ENV": "test",
    }
    if reconcilers:
        # The service's reconcilers at their own intervals, but these every second: an accepted
        # answer's earnings are released (payout hold 0) and a payout sent while the run goes on.
        env["TESSERA_RECONCILE_INTERVALS"] = json.dumps(
            {"earnings.release": 1, "payouts.send": 1, "answers.auto_accept": 1}
        )
    return env


def _setup_accounts(base: str, env: dict[str, str]) -> dict[str, str]:
    keys: dict[str, str] = {}
    with httpx.Client(base_url=base, timeout=30) as http:
        for role in ("requester", "worker"):
            r = http.post("/v1/accounts", json={"role": role, "name": f"fuzz {role}"})
            r.raise_for_status()
            keys[role] = r.json()["api_key"]
        out = subprocess.run(
            [sys.executable, "-m", "app.cli", "create-operator", "fuzz ops"],
            env=env,
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        )
        keys["operator"] = out.stdout.strip().splitlines()[-1]
        bearer = {k: {"Authorization": f"Bearer {v}"} for k, v in keys.items()}
        http.post(
            "/v1/deposits", json={"amount": "100000"}, headers=bearer["requester"]
        ).raise_for_status()
        http.patch(
            "/v1/admin/settings",
            # A micro-dollar minimum: a fuzzed project's reward may be below a cent, and the
            # stateful run must still be able to pay an accepted answer out.
            json={"min_payout": "0.000001", "payout_hold_s": 0},
            headers=bearer["operator"],
        ).raise_for_status()
    return keys


def run(
    database_url: str,
    workdir: Path,
    *,
    role: str = "auto",
    phases: str = "examples,coverage,fuzzing,stateful",
    max_examples: int = 10,
    seed: int = 8,
    reconcilers: bool = False,
    extra: tuple[str, ...] = (),
) -> tuple[int, str]:
    env = _env(database_url, workdir, reconcilers=reconcilers)
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    log = (workdir / "server.log").open("w")
    server = subprocess.Popen(
        [sys.executable, "-m", "app.cli", "serve", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=log,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline or server.poll() is not None:
                raise RuntimeError("tessera serve did not start: see server.log")
            time.sleep(0.3)
        keys = _setup_accounts(base, env)
        hook_env = {
            **env,
            "SCHEMATHESIS_HOOKS": "tests.contract.st_hooks",
            "TESSERA_FUZZ_KEYS": json.dumps(keys),
            "TESSERA_FUZZ_ROLE": role,
            "TESSERA_FUZZ_BASE": base,
            "TESSERA_FUZZ_REACHED": str(workdir / "reached.txt"),
            "PYTHONPATH": str(ROOT),
        }
        st = Path(sys.executable).with_name("st")
        cmd = [
            str(st),
            "--config-file",
            str(ROOT / "tests" / "contract" / "schemathesis.toml"),
            "run",
            f"{base}/openapi.json",
            "--checks",
            "all",
            "--phases",
            phases,
            "--max-examples",
            str(max_examples),
            "--seed",
            str(seed),
            "--workers",
            "1",
            "--no-color",
            "--generation-database",
            "none",
            *extra,
        ]
        done = subprocess.run(
            cmd, env=hook_env, cwd=workdir, capture_output=True, text=True, timeout=900
        )
        return done.returncode, done.stdout + done.stderr
    finally:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        log.close()


if __name__ == "__main__":
    import argparse
    import tempfile

    parser = argparse.ArgumentParser()
    parser.add_argument("--database-url")
    parser.add_argument("--role", default="auto")
    parser.add_argument("--phases", default="examples,coverage,fuzzing,stateful")
    parser.add_argument("--max-examples", type=int, default=10)
    parser.add_argument("--seed", type=int, default=8)
    args, rest = parser.parse_known_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = args.database_url or f"sqlite:///{tmp}/fuzz.db"
        code, output = run(
            url,
            Path(tmp),
            role=args.role,
            phases=args.phases,
            max_examples=args.max_examples,
            seed=args.seed,
            extra=tuple(rest),
        )
        sys.stdout.write(output)
        sys.stdout.write((Path(tmp) / "server.log").read_text()[-3000:])
        raise SystemExit(code)
