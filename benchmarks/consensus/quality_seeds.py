"""Issue 13 item 2: the two crowds through the service, seed by seed (the seeds table of
benchmarks/consensus/README.md). The crowds and the runner are tests/quality/confusion_crowd.py,
the same the ``crowd`` tests assert on.

.venv/bin/python benchmarks/consensus/quality_seeds.py --seeds 20                 # SQLite
.venv/bin/python benchmarks/consensus/quality_seeds.py --seeds 20 \
    --database postgresql://postgres@127.0.0.1:5432/quality_seeds                 # PostgreSQL (dropped and made)
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
    ap.add_argument("--database", default=None, help="PostgreSQL URL (default: a SQLite file)")
    args = ap.parse_args()
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
            for name, kinds in (("A", cc.CROWD_A), ("B", cc.CROWD_B)):
                rows = []
                print(f"\nCrowd {name}: {', '.join(sorted(set(kinds)))}\n")
                bad = sorted(set(kinds) - set(cc.GOOD))
                print(
                    "| seed | accuracy | answers / task | open tasks | good banned | good failed qualification | "
                    + " | ".join(f"{k} (answers, stopped by)" for k in bad)
                    + " | s |"
                )
                print("|---:|---:|---:|---:|---:|---:|" + "---|" * len(bad) + "---:|")
                for seed in range(args.seeds):
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


if __name__ == "__main__":
    main()
