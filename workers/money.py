"""Reconcilers that move money: verdicts by deadline, batch settlement, holds and payouts."""

from __future__ import annotations

import logging
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


class AutoAccept:
    """Answers whose review window ended without a verdict are accepted and paid."""

    name = "answers.auto_accept"
    interval_s = 5.0

    def run_once(self, session: Session, now: datetime) -> int:
        return answer_service.auto_accept_due(session, now=now)


class GrantOverdueAppeals:
    """Appeals the requester did not answer by their deadline are granted and paid."""

    name = "appeals.grant_overdue"
    interval_s = 30.0

    def run_once(self, session: Session, now: datetime) -> int:
        return answer_service.grant_overdue_appeals(session, now=now)


class SettleBatches:
    """Finished or cancelled batches complete and return their unspent escrow."""

    name = "batches.settle"
    interval_s = 5.0

    def run_once(self, session: Session, now: datetime) -> int:
        return batch_service.settle_due(session, now=now)


class ReleaseHolds:
    """Earnings past the hold period move from pending to available."""

    name = "earnings.release"
    interval_s = 10.0

    def run_once(self, session: Session, now: datetime) -> int:
        with transaction(session):
            return payments.release_due_holds(session, now=now)


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
