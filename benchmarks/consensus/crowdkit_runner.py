"""Run crowd-kit 1.4.2 (in .venv-crowdkit) on the shared data sets; print JSON results.

Called by compare.py and speed.py in a subprocess of the crowd-kit venv, so that crowd-kit's
pinned scikit-learn/pandas never meet ours.

    .venv-crowdkit/bin/python benchmarks/consensus/crowdkit_runner.py accuracy SETS_DIR
    .venv-crowdkit/bin/python benchmarks/consensus/crowdkit_runner.py fit-ds ANSWERS.csv
    .venv-crowdkit/bin/python benchmarks/consensus/crowdkit_runner.py e2e-ds ANSWERS.csv OUT.csv
"""

from __future__ import annotations

import json
import resource
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
from crowdkit.aggregation import GLAD, MMSR, DawidSkene, MajorityVote, OneCoinDawidSkene, Wawa

# GLAD and MMSR take minutes (or all memory) beyond ~10,000 answers (datasets README).
SLOW_LIMIT = 10_000


def _ece(conf: np.ndarray, correct: np.ndarray, n_bins: int = 10) -> float:
    bins = np.minimum((conf * n_bins).astype(int), n_bins - 1)
    total = 0.0
    for b in range(n_bins):
        m = bins == b
        if m.any():
            total += abs(correct[m].mean() - conf[m].mean()) * m.sum()
    return total / conf.size


def accuracy(sets_dir: str) -> dict[str, dict[str, float | None]]:
    out: dict[str, dict[str, float | None]] = {}
    for d in sorted(Path(sets_dir).iterdir()):
        df = pd.read_csv(d / "answers.csv", dtype=str)
        gold = pd.read_csv(d / "gold.csv", dtype=str).set_index("task")["true_label"]
        # Score only gold tasks that have answers (adult2's gold file lists 1,517, 333 answered).
        gold = gold[gold.index.isin(df["task"])]
        row: dict[str, float | None] = {}
        for name, make in [
            ("MV", MajorityVote),
            ("Wawa", Wawa),
            ("DS", lambda: DawidSkene(n_iter=100)),
            ("OneCoinDS", lambda: OneCoinDawidSkene(n_iter=100)),
            ("GLAD", GLAD),
            ("MMSR", MMSR),
        ]:
            if name in ("GLAD", "MMSR") and len(df) > SLOW_LIMIT:
                row[name] = None
                continue
            start = time.perf_counter()
            labels = make().fit_predict(df)
            row[name] = float((labels.reindex(gold.index) == gold).mean())
            row[name + "_s"] = time.perf_counter() - start
        probas = DawidSkene(n_iter=100).fit_predict_proba(df).reindex(gold.index).dropna()
        gold = gold.reindex(probas.index)
        conf = probas.max(axis=1).to_numpy()
        correct = (probas.idxmax(axis=1) == gold).to_numpy()
        row["DS_ECE"] = _ece(conf, correct)
        out[d.name] = row
    return out


def fit_ds(path: str) -> dict[str, float]:
    df = pd.read_csv(path, dtype={"task": str, "worker": str, "label": int})
    start, start_cpu = time.perf_counter(), time.process_time()
    ds = DawidSkene(n_iter=100).fit(df)
    elapsed = time.perf_counter() - start
    cpu = time.process_time() - start_cpu
    labels = ds.labels_
    return {
        "seconds": elapsed,
        "cpu_seconds": cpu,
        "n_iter": len(ds.loss_history_),
        "labels": labels.to_dict(),
    }


def labels_ds(path: str) -> dict[str, object]:
    """DS labels of a real set (labels read as strings, as our reader does)."""
    df = pd.read_csv(path, dtype=str)
    return {"labels": DawidSkene(n_iter=100).fit(df).labels_.to_dict()}


def e2e_ds(path: str, out: str) -> dict[str, float]:
    start = time.perf_counter()
    df = pd.read_csv(path)
    probas = DawidSkene(n_iter=100).fit_predict_proba(df)
    res = pd.DataFrame({"label": probas.idxmax(axis=1), "confidence": probas.max(axis=1)})
    res.to_csv(out, index_label="task")
    return {"seconds": time.perf_counter() - start}


def main() -> None:
    cmd = sys.argv[1]
    if cmd == "accuracy":
        result: dict[str, object] = {"sets": accuracy(sys.argv[2])}
    elif cmd == "labels-ds":
        result = labels_ds(sys.argv[2])
    elif cmd == "fit-ds":
        result = dict(fit_ds(sys.argv[2]))
    else:
        result = dict(e2e_ds(sys.argv[2], sys.argv[3]))
    result["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    json.dump(result, sys.stdout)


if __name__ == "__main__":
    main()
