"""Reconcilers that move money: verdicts by deadline, batch settlement, holds and payouts."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

import payments
from app.answers import service as answer_service
from app.batches import service as batch_service
from app.core.db import transaction


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
    """Requested payouts go to the payout provider; each is settled exactly once."""

    name = "payouts.send"
    interval_s = 5.0

    def __init__(self, provider: payments.PayoutProvider) -> None:
        self.provider = provider

    def run_once(self, session: Session, now: datetime) -> int:
        # Commits between its steps itself: the provider is never called under a lock.
        return payments.settle_due_payouts(session, self.provider, now=now)
