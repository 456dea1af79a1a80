"""The reconciler loop behind ``tessera worker`` and embedded ``serve``."""

from __future__ import annotations

import logging
import random
import threading
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta

from sqlalchemy.orm import Session, sessionmaker

from app.batches.intake import limits_from
from app.core.clock import utc_now
from app.core.config import Settings, get_settings
from app.images.store import open_image_store
from app.money.providers import payout_provider
from app.webhooks.delivery import any_host_guard, public_guard
from workers.annotators import BuiltinModels, CallModels
from workers.base import Reconciler
from workers.images import FetchImages
from workers.lease_expiry import LeaseExpiry
from workers.money import AutoAccept, GrantOverdueAppeals, ReleaseHolds, SendPayouts, SettleBatches
from workers.quality import GradeGold, Reestimate
from workers.ratelimits import PruneRateCounters
from workers.webhooks import DeliverWebhooks

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
        FetchImages(
            open_image_store(settings.image_store, images_dir=settings.images_dir),
            limits_from(settings),
        ),
        PruneRateCounters(),
        CallModels(settings),
        BuiltinModels(settings),
        DeliverWebhooks(guard=any_host_guard if settings.webhook_private_hosts else public_guard),
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


class Schedule:
    """When each reconciler is next due: its own ``interval_s`` after its last pass (jittered
    ±20% so several worker processes drift apart rather than wake in lock-step).

    Only *when to look* lives here; what to do is still read from the tables by the
    reconciler itself (level-triggered), so a process that restarts and forgets its schedule
    only looks once more than it needed to. ``intervals`` overrides ``interval_s`` by name.
    """

    def __init__(
        self,
        reconcilers: Sequence[Reconciler],
        *,
        intervals: Mapping[str, float] | None = None,
        jitter: Callable[[], float] = lambda: random.uniform(0.8, 1.2),
    ) -> None:
        self.reconcilers = list(reconcilers)
        self.intervals = {
            r.name: float((intervals or {}).get(r.name, r.interval_s)) for r in self.reconcilers
        }
        self.jitter = jitter
        self.next_at: dict[str, datetime] = {}  # absent: due now (never run by this process)

    def due(self, now: datetime) -> list[Reconciler]:
        return [r for r in self.reconcilers if self._next(r, now) <= now]

    def ran(self, reconciler: Reconciler, now: datetime) -> None:
        interval = self.intervals[reconciler.name] * self.jitter()
        self.next_at[reconciler.name] = now + timedelta(seconds=interval)

    def wait_s(self, now: datetime) -> float:
        """Seconds until the next reconciler is due (0 if one is due now)."""
        nearest = min(self._next(r, now) for r in self.reconcilers)
        return max(0.0, (nearest - now).total_seconds())

    def _next(self, reconciler: Reconciler, now: datetime) -> datetime:
        at = self.next_at.get(reconciler.name)
        if at is None:
            return now
        # The wall clock stepped back (NTP): never wait longer than one jittered interval.
        return min(at, now + timedelta(seconds=self.intervals[reconciler.name] * 1.2))


def run_forever(
    make_session: sessionmaker[Session],
    stop: threading.Event,
    *,
    reconcilers: Sequence[Reconciler] | None = None,
    intervals: Mapping[str, float] | None = None,
    clock: Callable[[], datetime] = utc_now,
    wait: Callable[[float], object] | None = None,
) -> None:
    """Run each reconciler at its own interval until ``stop`` is set.

    ``wait(seconds)`` sleeps (default: ``stop.wait``); a test passes one that moves its fake
    clock instead."""
    schedule = Schedule(reconcilers or default_reconcilers(), intervals=intervals)
    sleep = wait or stop.wait
    log.info(
        "reconcilers running: %s",
        ", ".join(f"{name} every {s:g}s" for name, s in schedule.intervals.items()),
    )
    while not stop.is_set():
        due = schedule.due(clock())
        if due:
            run_pass(make_session, due, clock=clock)
            finished = clock()
            for reconciler in due:
                schedule.ran(reconciler, finished)
        sleep(schedule.wait_s(clock()))


def intervals_from(
    settings: Settings, reconcilers: Sequence[Reconciler], *, every_s: float | None = None
) -> dict[str, float]:
    """Per-reconciler intervals: ``every_s`` (``tessera worker --interval``) or
    ``reconcile_interval_s`` sets all of them (tests, demos), ``reconcile_intervals`` single
    ones by name; unset, each its own ``interval_s``."""
    every = every_s if every_s is not None else settings.reconcile_interval_s
    base = {r.name: every if every is not None else r.interval_s for r in reconcilers}
    return {**base, **settings.reconcile_intervals}


def start_in_thread(
    make_session: sessionmaker[Session], settings: Settings
) -> tuple[threading.Thread, threading.Event]:
    stop = threading.Event()
    reconcilers = default_reconcilers(settings)
    thread = threading.Thread(
        target=run_forever,
        args=(make_session, stop),
        kwargs={"reconcilers": reconcilers, "intervals": intervals_from(settings, reconcilers)},
        name="tessera-reconcilers",
        daemon=True,
    )
    thread.start()
    return thread, stop
