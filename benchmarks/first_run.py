"""Fresh clone → ``scripts/serve`` answering: the README's run command, timed three times.

    .venv/bin/python benchmarks/first_run.py                 # clones HEAD of this work tree
    .venv/bin/python benchmarks/first_run.py --runs 3 --repo /work/main

Each run clones the repository into a new temporary folder, starts ``scripts/serve --port P``
(P free, 127.0.0.1) and polls until ``/healthz`` answers and ``/`` serves the built web app with
its script; the time from the start of ``scripts/serve`` to that moment is reported, with the
lines the command printed. The machine's caches stay as they are (uv, pip and npm caches, uv
itself in ~/.local once per machine), as they would for a developer's second clone.
"""

from __future__ import annotations

import argparse
import os
import re
import signal
import socket
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def one_run(repo: Path) -> tuple[float, str]:
    with tempfile.TemporaryDirectory() as tmp:
        clone = Path(tmp) / "tessera"
        subprocess.run(["git", "clone", "-q", str(repo), str(clone)], check=True)
        port = free_port()
        env = {**os.environ, "TESSERA_DATA_DIR": str(Path(tmp) / "data")}
        env.pop("VIRTUAL_ENV", None)
        start = time.monotonic()
        proc = subprocess.Popen(
            ["scripts/serve", "--port", str(port)], cwd=clone, env=env,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True,
        )  # fmt: skip
        elapsed = None
        try:
            while time.monotonic() - start < 600:
                try:
                    health = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1)
                    page = httpx.get(f"http://127.0.0.1:{port}/", timeout=1)
                    script = re.search(r'src="(/assets/[^"]+\.js)"', page.text)
                    if health.status_code == 200 and page.status_code == 200 and script:
                        asset = httpx.get(f"http://127.0.0.1:{port}{script.group(1)}", timeout=5)
                        if asset.status_code == 200:
                            elapsed = time.monotonic() - start
                            break
                except httpx.HTTPError:
                    pass
                if proc.poll() is not None:
                    break
                time.sleep(0.2)
        finally:
            os.killpg(proc.pid, signal.SIGTERM)
            out, _ = proc.communicate(timeout=30)
        if elapsed is None:
            raise SystemExit(f"scripts/serve did not come up:\n{out}")
        return elapsed, out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repo", type=Path, default=ROOT)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    times = []
    for i in range(args.runs):
        elapsed, out = one_run(args.repo)
        times.append(elapsed)
        print(f"run {i + 1}: {elapsed:.1f} s")
        print("  " + "\n  ".join(out.strip().splitlines()))
    print(f"median of {len(times)}: {statistics.median(times):.1f} s")


if __name__ == "__main__":
    main()
