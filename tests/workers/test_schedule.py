"""Reconcilers run at their own ``interval_s`` (on a fake clock), and stay level-triggered."""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.orm import Session, sessionmaker

from app.core.config import Settings
from tests.conftest import FakeClock
from workers.runner import Schedule, default_reconcilers, intervals_from, run_forever


@dataclass
class Probe:
    """A reconciler that records when it ran and finds ``backlog`` items, one per call."""

    name: str
    interval_s: float
    backlog: int = 0
    runs: list[datetime] = field(default_factory=list)

    def run_once(self, session: Session, now: datetime) -> int:
        self.runs.append(now)
        if self.backlog:
            self.backlog -= 1
            return 1
        return 0


def run_for(
    seconds: float, probes: list[Probe], clock: FakeClock, sessions: sessionmaker[Session]
) -> Counter[str]:
    """``run_forever`` for ``seconds`` of fake time; returns how often each probe was *woken*
    (a pass that works through a backlog calls run_once several times in one wake-up)."""
    stop = threading.Event()
    end = clock.advance(seconds)
    clock.advance(-seconds)
    wakes: Counter[str] = Counter()
    seen = {p.name: 0 for p in probes}

    def wait(delay: float) -> None:
        for p in probes:
            if len(p.runs) > seen[p.name]:
                wakes[p.name] += 1
                seen[p.name] = len(p.runs)
        assert delay > 0, "the loop must sleep between passes"
        clock.advance(delay)
        if clock.now >= end:
            stop.set()

    run_forever(sessions, stop, reconcilers=probes, clock=clock, wait=wait)
    return wakes


def test_each_reconciler_runs_at_its_own_interval(clock: FakeClock) -> None:
    sessions: sessionmaker[Session] = sessionmaker()  # the probes never touch the database
    fast, slow, rare = Probe("fast", 2.0), Probe("slow", 10.0), Probe("rare", 60.0)
    wakes = run_for(600, [fast, slow, rare], clock, sessions)
    # ±20% jitter: 600 s / 2 s = 300 passes, between 600/2.4 and 600/1.6.
    assert 250 <= wakes["fast"] <= 376
    assert 50 <= wakes["slow"] <= 76
    assert 8 <= wakes["rare"] <= 13  # not every 2 s, as before the schedule existed


def test_schedule_without_jitter(clock: FakeClock) -> None:
    fast, rare = Probe("fast", 2.0), Probe("rare", 60.0)
    schedule = Schedule([fast, rare], jitter=lambda: 1.0)
    t0 = clock.now
    assert schedule.due(t0) == [fast, rare]  # a fresh process looks at once
    schedule.ran(fast, t0)
    schedule.ran(rare, t0)
    assert schedule.due(clock.advance(1.9)) == []
    assert abs(schedule.wait_s(clock.now) - 0.1) < 1e-6
    assert schedule.due(clock.advance(0.1)) == [fast]
    schedule.ran(fast, clock.now)
    assert schedule.due(clock.advance(58)) == [fast, rare]


def test_overrides_by_name_and_for_all(settings: Settings) -> None:
    reconcilers = default_reconcilers(settings)
    own = intervals_from(settings, reconcilers)
    assert own["quality.reestimate"] == 60.0
    assert own["leases.expire"] == 2.0
    assert set(intervals_from(settings, reconcilers, every_s=0.2).values()) == {0.2}
    named = settings.model_copy(update={"reconcile_intervals": {"quality.reestimate": 300.0}})
    assert intervals_from(named, reconcilers)["quality.reestimate"] == 300.0
    assert intervals_from(named, reconcilers)["leases.expire"] == 2.0


def test_a_backlog_is_worked_through_in_one_wake_up(clock: FakeClock) -> None:
    sessions: sessionmaker[Session] = sessionmaker()
    busy = Probe("busy", 60.0, backlog=3)
    wakes = run_for(30, [busy], clock, sessions)
    assert wakes["busy"] == 1
    assert len(busy.runs) == 4  # 3 items, then one call that finds nothing due
    # Level-triggered: the schedule only says when to look, the state says what is due; a
    # restarted process (a new schedule) looks at once and finds what the old one left.
    busy.backlog = 1
    wakes = run_for(30, [busy], clock, sessions)
    assert wakes["busy"] == 1
    assert len(busy.runs) == 6
