"""``tessera aggregate`` end to end on 1M answers beside crowd-kit's DawidSkene, in one run.

Whole processes, as a user runs them (start, read the CSV, fit DS, write task,label,confidence),
interleaved so each sees the same background load; wall time, CPU time (user + sys) and peak
RSS of each child from ``os.wait4``. With ``--before DIR`` (run from that folder: a copy of an older
``consensus`` and ``app``, e.g. ``git archive e5dda3a consensus app | tar -x -C DIR``) the old CLI runs too;
``--ours DIR`` runs "ours" from such a copy as well (a snapshot, so the tree can change meanwhile).

.venv/bin/python benchmarks/consensus/e2e_cli.py --repeats 3 --before /tmp/cons_before
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
CK = str(ROOT / ".venv-crowdkit" / "bin" / "python")


def run(cmd: list[str], cwd: Path, env: dict[str, str]) -> tuple[float, float, float]:
    """(wall s, CPU s, peak RSS MB) of one child process."""
    start = time.perf_counter()
    proc = subprocess.Popen(
        cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=cwd, env=env
    )
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    if status != 0:
        raise SystemExit(f"{cmd} failed: {proc.stderr.read().decode() if proc.stderr else ''}")
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--csv", type=Path, default=Path("/tmp/tessera_1m.csv"))
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--before", type=Path, help="folder with an older consensus/ and app/")
    ap.add_argument("--ours", type=Path, default=ROOT, help="folder to run ours from")
    ap.add_argument("--before-label", default="before (e5dda3a)")
    ap.add_argument(
        "--no-bytecode-cache",
        action="store_true",
        help="run as with PYTHONDONTWRITEBYTECODE and no .pyc files (every import compiled)",
    )
    args = ap.parse_args()
    if not args.csv.exists():
        truth = args.csv.with_name(args.csv.stem + "_truth.csv")
        subprocess.run(
            [sys.executable, str(HERE / "synth.py"), str(args.csv), str(truth)], check=True
        )
    out = str(args.csv.with_name(args.csv.stem + "_e2e_out.csv"))
    ck_out = str(args.csv.with_name(args.csv.stem + "_ck_out.csv"))
    contenders: dict[str, tuple[list[str], Path]] = {
        "ours: `tessera aggregate --method ds` (python -m app.cli)": (
            [
                sys.executable,
                "-m",
                "app.cli",
                "aggregate",
                str(args.csv),
                "--method",
                "ds",
                "-o",
                out,
            ],
            args.ours,
        ),
        "crowd-kit 1.4.2 DawidSkene (pandas read_csv, fit_predict, to_csv)": (
            [CK, str(HERE / "crowdkit_runner.py"), "e2e-ds", str(args.csv), ck_out],
            ROOT,
        ),
    }
    if args.before:
        contenders[f"{args.before_label}: same command"] = (
            [
                sys.executable,
                "-m",
                "app.cli",
                "aggregate",
                str(args.csv),
                "--method",
                "ds",
                "-o",
                out,
            ],
            args.before,
        )
    # As a user runs them: an installed package has its bytecode cached (pip writes .pyc files
    # for site-packages; a project's own modules get theirs on first run). One untimed run
    # per contender writes the caches (and warms the page cache). --no-bytecode-cache sets
    # PYTHONDONTWRITEBYTECODE, which only stops writing: it measures "no cache" only on trees
    # and venvs that have none yet.
    env = dict(os.environ)
    if args.no_bytecode_cache:
        env["PYTHONDONTWRITEBYTECODE"] = "1"
    else:
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        for cmd, cwd in contenders.values():
            run(cmd, cwd, env)
    results: dict[str, list[tuple[float, float, float]]] = {k: [] for k in contenders}
    for _ in range(args.repeats):
        for name, (cmd, cwd) in contenders.items():
            results[name].append(run(cmd, cwd, env))
    print("| | median wall s | median CPU s | runs (wall) | peak RSS MB |")
    print("|---|---:|---:|---|---:|")
    for name, rs in results.items():
        print(
            f"| {name} | {statistics.median(r[0] for r in rs):.2f} | {statistics.median(r[1] for r in rs):.2f} "
            f"| {', '.join(f'{r[0]:.2f}' for r in rs)} | {max(r[2] for r in rs):.0f} |"
        )
    ours, ck = list(results.values())[:2]
    wall = statistics.median(r[0] for r in ck) / statistics.median(r[0] for r in ours)
    cpu = statistics.median(r[1] for r in ck) / statistics.median(r[1] for r in ours)
    print(f"\ncrowd-kit / ours: {wall:.1f}x wall, {cpu:.1f}x CPU")
    print(f"load average at the end: {os.getloadavg()[0]:.1f}")
    print("bytecode cache:", "none" if args.no_bytecode_cache else "warm (one untimed run each)")


if __name__ == "__main__":
    main()
