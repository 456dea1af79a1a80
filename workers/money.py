"""Reconcilers that move money: verdicts by deadline, batch settlement, holds and payouts."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from sqlalchemy.orm import Session

import payments
from app.answers import service as answer_service
from app.batches import service as batch_service
from app.core.db import transaction
from app.webhooks import events as webhook_events
from payments.models import Payout
from payments.money import format_usd
from payments.payouts import OnPaid

log = logging.getLogger("tessera.workers.payouts")

# How many postings one reconciler transaction makes, and how many per ``run_once``.
#
# A posting locks balance rows that requests need too (a payout, the worker's available
# balance; a launch, the requester's), until its transaction commits. One transaction of 100
# releases held every worker's available row for seconds on a loaded machine (payouts waited up
# to 2.9 s behind it in the soak, benchmarks/README.md), and two worker processes' transactions,
# each locking many rows in the order their items came, deadlocked (PostgreSQL broke the cycle
# after its 1 s deadlock_timeout). One posting per transaction locks its rows in one order (the
# posting's own) and for one posting's time: no cycle between reconcilers, and a request waits
# for one posting at most. (Each claim is an index probe: holds due have their own partial
# index, answers due the (status, auto_accept_at) one.)
PER_TRANSACTION = 1
PER_RUN = 200


def in_short_transactions(step: Callable[[int], int], *, each: int, most: int = PER_RUN) -> int:
    """``step(limit)`` (one transaction doing up to ``limit`` items) again until it finds nothing
    left or ``most`` items are done; how many were done."""
    done = 0
    while done < most:
        n = step(min(each, most - done))
        done += n
        if n == 0:
            break
    return done


class AutoAccept:
    """Answers whose review window ended without a verdict are accepted and paid."""

    name = "answers.auto_accept"
    interval_s = 5.0

    def run_once(self, session: Session, now: datetime) -> int:
        return in_short_transactions(
            lambda limit: answer_service.auto_accept_due(session, now=now, limit=limit),
            each=PER_TRANSACTION,
        )


class GrantOverdueAppeals:
    """Appeals the requester did not answer by their deadline are granted and paid."""

    name = "appeals.grant_overdue"
    interval_s = 30.0

    def run_once(self, session: Session, now: datetime) -> int:
        return in_short_transactions(
            lambda limit: answer_service.grant_overdue_appeals(session, now=now, limit=limit),
            each=PER_TRANSACTION,
        )


class SettleBatches:
    """Finished or cancelled batches complete and return their unspent escrow."""

    name = "batches.settle"
    interval_s = 5.0

    def run_once(self, session: Session, now: datetime) -> int:
        return in_short_transactions(
            lambda limit: batch_service.settle_due(session, now=now, limit=limit),
            each=PER_TRANSACTION,
            most=50,
        )


class ReleaseHolds:
    """Earnings past the hold period move from pending to available."""

    name = "earnings.release"
    interval_s = 10.0

    def run_once(self, session: Session, now: datetime) -> int:
        def release(limit: int) -> int:
            with transaction(session):
                return payments.release_due_holds(session, now=now, limit=limit)

        return in_short_transactions(release, each=PER_TRANSACTION)


class SendPayouts:
    """Requested payouts go to the payout provider recorded on each; each is settled exactly once.

    Payouts recorded for a provider this process lacks (requested while ``serve`` had a payout
    URL, settled by a ``tessera worker`` started without one) are left for a worker that has
    it, and the log says so, once each time their number changes."""

    name = "payouts.send"
    interval_s = 5.0

    def __init__(self, provider: payments.PayoutProvider) -> None:
        self.provider = provider
        self._reported: dict[str, int] = {}

    def run_once(self, session: Session, now: datetime) -> int:
        elsewhere = payments.due_elsewhere(session, self.provider, now=now)
        if elsewhere != self._reported:
            for name, n in sorted(elsewhere.items()):
                log.warning(
                    "%d due payout(s) recorded for the %r payout provider left alone: this "
                    "process has the %r provider (set TESSERA_PAYOUT_PROVIDER_URL to settle them)",
                    n,
                    name,
                    self.provider.name,
                )
            self._reported = elsewhere
        # Commits between its steps itself: the provider is never called under a lock.
        return payments.settle_due_payouts(
            session, self.provider, now=now, on_paid=_payout_paid(now)
        )


def _payout_paid(now: datetime) -> OnPaid:
    def queue_event(session: Session, payout: Payout) -> None:
        webhook_events.payout_paid(
            session,
            payout_id=payout.id,
            worker_id=payout.worker_ref,
            amount=format_usd(payout.amount),
            now=now,
        )

    return queue_event
