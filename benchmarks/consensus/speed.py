"""Speed on 1,000,000 synthetic answers: our DS vs crowd-kit's, fit alone and end to end.

    .venv/bin/python benchmarks/consensus/speed.py [--repeats 3] [--ck-repeats 2]

Each contender runs in its own subprocess (crowd-kit in .venv-crowdkit), so peak RSS is per
contender. Fit time is the median of the repeats; end to end is the wall time of a fresh
process reading the CSV, fitting DS and writing task,label,confidence.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
PY = sys.executable
CK = str(ROOT / ".venv-crowdkit" / "bin" / "python")


def _json(cmd: list[str]) -> dict[str, object]:
    out: dict[str, object] = json.loads(
        subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    )
    return out


def _wall_cpu(cmd: list[str]) -> tuple[float, float]:
    """Wall time and CPU time (user + sys) of one subprocess run."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(cmd, check=True, capture_output=True)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def bandwidth_gbs() -> float:
    """Rough single-thread memory bandwidth: copy of a 256 MB array (read + write)."""
    src = np.ones(32 * 2**20)
    dst = np.empty_like(src)
    best = min(_timed_copy(src, dst) for _ in range(5))
    return 2 * src.nbytes / best / 1e9


def _timed_copy(src: np.ndarray, dst: np.ndarray) -> float:
    start = time.perf_counter()
    np.copyto(dst, src)
    return time.perf_counter() - start


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--csv", type=Path, default=Path("/tmp/tessera_1m.csv"))
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--ck-repeats", type=int, default=2)
    args = ap.parse_args()
    truth = args.csv.with_name(args.csv.stem + "_truth.csv")
    if not args.csv.exists():
        subprocess.run([PY, str(HERE / "synth.py"), str(args.csv), str(truth)], check=True)

    ours = _json([PY, str(HERE / "_ours_ds.py"), str(args.csv), str(truth), str(args.repeats)])
    ck_runs = [
        _json([CK, str(HERE / "crowdkit_runner.py"), "fit-ds", str(args.csv)])
        for _ in range(args.ck_repeats)
    ]
    ck_t = statistics.median(float(r["seconds"]) for r in ck_runs)  # type: ignore[arg-type]
    ck_labels = ck_runs[0]["labels"]
    gold = dict(line.split(",") for line in truth.read_text().splitlines()[1:])
    ck_acc = np.mean([str(ck_labels[t]) == lab for t, lab in gold.items()])  # type: ignore[index]
    ck_cpu = statistics.median(float(r["cpu_seconds"]) for r in ck_runs)  # type: ignore[arg-type]
    ck_secs = ", ".join(f"{float(r['seconds']):.2f}" for r in ck_runs)  # type: ignore[arg-type]
    ck_rss = max(float(r["peak_rss_mb"]) for r in ck_runs)  # type: ignore[arg-type]
    our_secs = ", ".join(f"{x:.3f}" for x in ours["seconds"])  # type: ignore[attr-defined]
    print("## fit only (DS, 1,000,000 answers)")
    print(
        "| | median wall s | median CPU s | runs (wall) | EM iterations | accuracy vs truth | peak RSS MB (process) | fit peak traced MB |"
    )
    print("|---|---|---|---|---|---|---|---|")
    print(
        f"| ours DawidSkene | {ours['median']:.3f} | {ours['cpu_median']:.3f} | {our_secs} | {ours['n_iter']} "
        f"| {ours['accuracy']:.4f} | {ours['peak_rss_mb']:.0f} | {ours['fit_peak_traced_mb']:.0f} |"
    )
    print(
        f"| crowd-kit DawidSkene | {ck_t:.2f} | {ck_cpu:.2f} | {ck_secs} | {ck_runs[0]['n_iter']} "
        f"| {ck_acc:.4f} | {ck_rss:.0f} | – |"
    )
    wall_ratio = ck_t / float(ours["median"])  # type: ignore[arg-type]
    cpu_ratio = ck_cpu / float(ours["cpu_median"])  # type: ignore[arg-type]
    print(f"\nspeed-up: {wall_ratio:.1f}x wall, {cpu_ratio:.1f}x CPU")

    # Interleaved, so both see the same background load; whole processes, as a user runs them.
    ours_cmd = [
        PY,
        "-m",
        "consensus.cli",
        "aggregate",
        str(args.csv),
        "--method",
        "ds",
        "-o",
        "/tmp/tessera_out.csv",
    ]
    ck_cmd = [CK, str(HERE / "crowdkit_runner.py"), "e2e-ds", str(args.csv), "/tmp/ck_out.csv"]
    e2e_ours, e2e_ck = [], []
    for _ in range(args.ck_repeats):
        e2e_ours.append(_wall_cpu(ours_cmd))
        e2e_ck.append(_wall_cpu(ck_cmd))
    print("\n## end to end (fresh process: read CSV, fit DS, write task,label,confidence CSV)")
    print("| | median wall s | median CPU s | runs (wall) |")
    print("|---|---|---|---|")
    for name, runs in (
        ("ours `python -m consensus.cli aggregate --method ds`", e2e_ours),
        ("crowd-kit script (pandas read_csv, DawidSkene, to_csv)", e2e_ck),
    ):
        walls, cpus = [r[0] for r in runs], [r[1] for r in runs]
        print(
            f"| {name} | {statistics.median(walls):.2f} | {statistics.median(cpus):.2f} | {', '.join(f'{w:.2f}' for w in walls)} |"
        )
    ratio_wall = statistics.median(r[0] for r in e2e_ck) / statistics.median(r[0] for r in e2e_ours)
    ratio_cpu = statistics.median(r[1] for r in e2e_ck) / statistics.median(r[1] for r in e2e_ours)
    print(f"\nspeed-up: {ratio_wall:.1f}x wall, {ratio_cpu:.1f}x CPU")
    bw = bandwidth_gbs()
    print(f"\nmeasured copy bandwidth: {bw:.1f} GB/s")


if __name__ == "__main__":
    main()
