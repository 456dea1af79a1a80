"""Issue 13 item 2: the two crowds through the service, seed by seed (the seeds table of
benchmarks/consensus/README.md). The crowds and the runner are tests/quality/confusion_crowd.py,
the same the ``crowd`` tests assert on.

.venv/bin/python benchmarks/consensus/quality_seeds.py --seeds 20                 # SQLite
.venv/bin/python benchmarks/consensus/quality_seeds.py --seeds 20 \
    --database postgresql://postgres@127.0.0.1:5432/quality_seeds                 # PostgreSQL (dropped and made)
.venv/bin/python benchmarks/consensus/quality_seeds.py --first 100 --crowd A --errors  # tuning seeds,
    each wrong task's answers and the workers' standing
.venv/bin/python benchmarks/consensus/quality_seeds.py --oracle                   # crowd B's ceiling
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from fastapi.testclient import TestClient  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from app.core.config import Settings  # noqa: E402
from app.core.migrate import upgrade  # noqa: E402
from app.main import create_app  # noqa: E402
from app.quality.skills import ConfusionSkill  # noqa: E402
from tests.conftest import FakeClock  # noqa: E402
from tests.quality import confusion_crowd as cc  # noqa: E402


def _fresh(url: str | None, tmp: Path) -> str:
    if url is None:
        db = f"sqlite:///{tmp / 'seeds.db'}"
        upgrade(db)
        return db
    import psycopg

    u = make_url(url)
    admin = u.set(drivername="postgresql", database="postgres").render_as_string(
        hide_password=False
    )
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{u.database}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{u.database}"')
    upgrade(url)
    return url


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", type=int, default=20)
    ap.add_argument(
        "--first", type=int, default=0, help="first seed (100: the tuning seeds 100-119)"
    )
    ap.add_argument("--crowd", choices=["A", "B", "both"], default="both")
    ap.add_argument(
        "--oracle",
        action="store_true",
        help="crowd B's bound: an oracle with all three good answers per task, no service",
    )
    ap.add_argument(
        "--errors", action="store_true", help="print each wrong task and each survivor's counts"
    )
    ap.add_argument("--database", default=None, help="PostgreSQL URL (default: a SQLite file)")
    args = ap.parse_args()
    if args.oracle:
        oracle(args.first, args.seeds)
        return
    with tempfile.TemporaryDirectory() as tmp:
        url = _fresh(args.database, Path(tmp))
        settings = Settings(
            env="test",
            data_dir=Path(tmp) / "data",
            database_url=url,
            run_reconcilers=False,
            migrate_on_start=False,
            db_pool_size=5,
        )
        app = create_app(settings)
        app.state.clock = FakeClock()
        with TestClient(app) as client:
            crowds = [("A", cc.CROWD_A), ("B", cc.CROWD_B)]
            for name, kinds in [c for c in crowds if args.crowd in (c[0], "both")]:
                rows = []
                print(f"\nCrowd {name}: {', '.join(sorted(set(kinds)))}\n")
                bad = sorted(set(kinds) - set(cc.GOOD))
                print(
                    "| seed | accuracy | answers / task | open tasks | good banned | good failed qualification | "
                    + " | ".join(f"{k} (answers, stopped by)" for k in bad)
                    + " | s |"
                )
                print("|---:|---:|---:|---:|---:|---:|" + "---|" * len(bad) + "---:|")
                for seed in range(args.first, args.first + args.seeds):
                    t0 = time.perf_counter()
                    o = cc.run(client, kinds, seed)
                    rows.append(o)
                    good_banned = sum(w.stopped == "banned" for w in o.workers if w.kind in cc.GOOD)
                    good_failed = sum(
                        w.stopped == "qualification" for w in o.workers if w.kind in cc.GOOD
                    )
                    cells = [
                        ", ".join(
                            f"{w.answered} {w.stopped or 'working'}"
                            for w in o.workers
                            if w.kind == k
                        )
                        for k in bad
                    ]
                    print(
                        f"| {seed} | {o.accuracy:.3f} | {o.answers_per_task:.2f} | {o.open_tasks} | "
                        f"{good_banned} | {good_failed} | "
                        + " | ".join(cells)
                        + f" | {time.perf_counter() - t0:.1f} |",
                        flush=True,
                    )
                    if args.errors:
                        _errors(o, bad)
                acc = [o.accuracy for o in rows]
                print(
                    f"\nCrowd {name}: accuracy mean {np.mean(acc):.3f}, min {min(acc):.3f}, "
                    f"seeds ≥ 0.95: {sum(a >= 0.95 for a in acc)}/{len(acc)}; answers per task "
                    f"{np.mean([o.answers_per_task for o in rows]):.2f}; good workers banned: "
                    f"{sum(w.stopped == 'banned' for o in rows for w in o.workers if w.kind in cc.GOOD)}"
                )
                for k in bad:
                    stopped = sum(all(s is not None for s in o.stopped(k)) for o in rows)
                    banned = sum(all(s == "banned" for s in o.stopped(k)) for o in rows)
                    print(
                        f"- {k}: stopped in {stopped}/{len(rows)} seeds "
                        f"(banned by the rule in {banned}, the rest refused at qualification)"
                    )


def oracle(first: int, seeds: int) -> None:
    """Crowd B's ceiling: its only informative workers are three at 85% (the colluders' and the
    spammer's labels are independent of the truth, so no method learns anything from them). An
    oracle that knows who the three are and has all three answers on every task takes the
    posterior's argmax: the majority, or, on a three-way split (all three labels equally
    likely), one of them at random. No method does better per task."""
    p, k, n = 0.85, len(cc.LABELS), cc.N_TASKS
    right = p**3 + 3 * p**2 * (1 - p)  # two or three right
    split = 3 * p * (1 - p) ** 2 * (1 / (k - 1))  # one right, the two wrong ones differ
    per_task = right + split / k
    from scipy.stats import binom

    need = int(np.ceil(0.95 * n))
    p_seed = float(binom.sf(need - 1, n, per_task))
    print(
        f"exact: a task right with {per_task:.4f}; a seed of {n} tasks >= 0.95 (>= {need} right) "
        f"with {p_seed:.3f}; all of 20 seeds with {p_seed**20:.1e}\n"
    )
    print("| seed | oracle accuracy | three-way splits | >= 0.95 |")
    print("|---:|---:|---:|---|")
    hits, accs = 0, []
    for seed in range(first, first + seeds):
        rng = np.random.default_rng(seed)
        truth = rng.integers(k, size=n)
        wrong = (truth[:, None] + rng.integers(1, k, size=(n, 3))) % k
        answers = np.where(rng.random((n, 3)) < p, truth[:, None], wrong)
        correct, splits = 0, 0
        for t, row in zip(truth, answers, strict=True):
            votes = np.bincount(row, minlength=k)
            best = np.flatnonzero(votes == votes.max())
            splits += len(best) > 1
            correct += int(rng.choice(best) == t)
        acc = correct / n
        accs.append(acc)
        hits += acc >= 0.95
        print(f"| {seed} | {acc:.3f} | {splits} | {'yes' if acc >= 0.95 else 'no'} |")
    print(f"\noracle: mean {np.mean(accs):.3f}, min {min(accs):.3f}, seeds >= 0.95: {hits}/{seeds}")


def _errors(o: cc.Outcome, bad: list[str]) -> None:
    for t in o.wrong:
        said = ", ".join(
            f"{k} {lab}{'' if counts else ' (excluded)'}" for k, lab, counts in t["answers"]
        )
        print(f"    wrong ({t['status']}): truth {t['truth']}, result {t['result']}: {said}")
    k = len(cc.LABELS)
    for w in o.workers:
        s = o.skills.get(w.name, {})
        conf = s.get("confusion") or {}
        skill = ConfusionSkill(
            np.asarray(conf.get("gold") or [0.0] * k * k).reshape(k, k),
            np.asarray(conf.get("crowd") or [0.0] * k * k).reshape(k, k),
            conf.get("gold_upper"),
        )
        survivor = w.kind in bad and w.stopped is None
        if survivor or (o.wrong and w.kind in cc.GOOD):
            print(
                f"    {'survivor ' if survivor else ''}{w.name}: {w.answered} answers, "
                f"gold {s.get('gold')}, crowd {'trusted' if skill.crowd_trusted else 'set aside'}, "
                f"gold upper {skill.gold_upper}, per label {skill.accuracy:.2f} "
                f"(upper {skill.upper:.2f}), plain {np.trace(skill.counts) / skill.evidence:.2f}, "
                f"gold {skill.gold.ravel().tolist()}"
            )


if __name__ == "__main__":
    main()
