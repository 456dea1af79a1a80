"""Subprocess body for speed.py: time our DawidSkene on a CSV; print JSON."""

from __future__ import annotations

import json
import resource
import sys
import time
import tracemalloc
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from consensus import DawidSkene, read_csv, read_gold_csv

a = read_csv(sys.argv[1])
truth = read_gold_csv(sys.argv[2])
repeats = int(sys.argv[3])
times, cpu = [], []
for _ in range(repeats):
    start, start_cpu = time.perf_counter(), time.process_time()
    m = DawidSkene().fit(a)
    times.append(time.perf_counter() - start)
    cpu.append(time.process_time() - start_cpu)
tracemalloc.start()
DawidSkene().fit(a)
_, peak = tracemalloc.get_traced_memory()
tracemalloc.stop()
gt, gl = a.gold_codes(truth)
json.dump(
    {
        "seconds": times,
        "median": float(np.median(times)),
        "cpu_median": float(np.median(cpu)),
        "n_iter": m.n_iter_,
        "accuracy": float((m.label_codes_[gt] == gl).mean()),
        "fit_peak_traced_mb": peak / 2**20,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    },
    sys.stdout,
)
