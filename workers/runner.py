"""The reconciler loop behind ``tessera worker`` and embedded ``serve``."""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable, Sequence
from datetime import datetime

from sqlalchemy.orm import Session, sessionmaker

from app.batches.intake import limits_from
from app.core.clock import utc_now
from app.core.config import Settings, get_settings
from app.images import LocalImageStore
from app.money.providers import payout_provider
from workers.base import Reconciler
from workers.images import FetchImages
from workers.lease_expiry import LeaseExpiry
from workers.money import AutoAccept, GrantOverdueAppeals, ReleaseHolds, SendPayouts, SettleBatches
from workers.quality import GradeGold, Reestimate

log = logging.getLogger("tessera.workers")


def default_reconcilers(settings: Settings | None = None) -> list[Reconciler]:
    settings = settings or get_settings()
    return [
        LeaseExpiry(),
        GradeGold(),
        AutoAccept(),
        GrantOverdueAppeals(),
        SettleBatches(),
        ReleaseHolds(),
        SendPayouts(payout_provider(settings)),
        Reestimate(),
        FetchImages(LocalImageStore(settings.images_dir), limits_from(settings)),
    ]


def run_pass(
    make_session: sessionmaker[Session],
    reconcilers: Sequence[Reconciler],
    now: datetime | None = None,
    *,
    clock: Callable[[], datetime] = utc_now,
) -> dict[str, int]:
    """Run each reconciler until it finds nothing more due; return how much each did.

    The time is read afresh for every step (a slow payout provider must not make later claims
    in the same pass use a stale ``now``); tests pin it with ``now``."""
    done: dict[str, int] = {}
    for reconciler in reconcilers:
        total = 0
        while True:
            with make_session() as session:
                try:
                    n = reconciler.run_once(session, now or clock())
                except Exception:
                    # One failing reconciler must not stop the others; the state it left is
                    # still in the database and the next pass retries it.
                    log.exception("reconciler %s failed", reconciler.name)
                    break
            total += n
            if n == 0:
                break
        done[reconciler.name] = total
    return done


def run_forever(
    make_session: sessionmaker[Session],
    stop: threading.Event,
    *,
    interval_s: float = 2.0,
    reconcilers: Sequence[Reconciler] | None = None,
    clock: Callable[[], datetime] = utc_now,
) -> None:
    reconcilers = list(reconcilers or default_reconcilers())
    log.info("reconcilers running: %s", ", ".join(r.name for r in reconcilers))
    while not stop.is_set():
        started = time.monotonic()
        run_pass(make_session, reconcilers, clock=clock)
        # Jitter spreads several worker processes apart so they do not wake in lock-step.
        delay = max(0.0, interval_s * random.uniform(0.8, 1.2) - (time.monotonic() - started))
        stop.wait(delay)


def start_in_thread(
    make_session: sessionmaker[Session], settings: Settings
) -> tuple[threading.Thread, threading.Event]:
    stop = threading.Event()
    thread = threading.Thread(
        target=run_forever,
        args=(make_session, stop),
        kwargs={
            "interval_s": settings.reconcile_interval_s,
            "reconcilers": default_reconcilers(settings),
        },
        name="tessera-reconcilers",
        daemon=True,
    )
    thread.start()
    return thread, stop
