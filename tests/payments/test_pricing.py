from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy.orm import Session

import payments
from payments import accounts as acct
from payments.errors import InsufficientFunds, UnknownEscrow
from tests.payments.conftest import DOLLAR, REQ, T0, WORKER, assert_sound, fund

BATCH = "bat_1"
REWARD = 40_000  # 0.04


def _launch(
    session: Session, *, tasks: int = 10, overlap: int = 3, fee_ppm: int = 200_000
) -> payments.models.Escrow:
    escrow = payments.launch_escrow(
        session,
        batch_ref=BATCH,
        requester_ref=REQ,
        tasks=tasks,
        max_overlap=overlap,
        reward=REWARD,
        fee_ppm=fee_ppm,
        now=T0,
    )
    session.commit()
    return escrow


def _bal(session: Session, ref: acct.AccountRef) -> int:
    return payments.balance(session, ref)


class TestEscrowCost:
    def test_tasks_times_overlap_times_reward_plus_fee(self) -> None:
        cost = payments.escrow_cost(10, 3, REWARD, 200_000)
        assert (cost.answers, cost.fee_per_answer, cost.per_answer, cost.total) == (
            30,
            8_000,
            48_000,
            1_440_000,
        )

    def test_no_redundancy_penalty(self) -> None:
        one = payments.escrow_cost(1, 1, REWARD, 200_000).total
        assert payments.escrow_cost(1, 10, REWARD, 200_000).total == 10 * one


class TestLaunch:
    def test_moves_the_cost_into_escrow(self, db: Session) -> None:
        fund(db, REQ, 2 * DOLLAR)
        escrow = _launch(db)
        assert escrow.amount == 1_440_000
        assert escrow.fee_ppm == 200_000
        assert _bal(db, acct.escrow(BATCH)) == 1_440_000
        assert _bal(db, acct.requester_available(REQ)) == 2 * DOLLAR - 1_440_000

    def test_short_funds_move_nothing(self, db: Session) -> None:
        fund(db, REQ, DOLLAR)
        with pytest.raises(InsufficientFunds):
            _launch(db)
        db.rollback()
        assert _bal(db, acct.requester_available(REQ)) == DOLLAR
        assert db.get(payments.models.Escrow, BATCH) is None

    def test_launching_twice_escrows_once(self, db: Session) -> None:
        fund(db, REQ, 5 * DOLLAR)
        _launch(db)
        _launch(db)
        assert _bal(db, acct.escrow(BATCH)) == 1_440_000

    def test_uses_the_platform_fee_by_default_and_keeps_it(self, db: Session) -> None:
        fund(db, REQ, 5 * DOLLAR)
        payments.update_settings(db, fee_ppm=250_000, now=T0)
        escrow = payments.launch_escrow(
            db, batch_ref=BATCH, requester_ref=REQ, tasks=1, max_overlap=1, reward=REWARD, now=T0
        )
        payments.update_settings(db, fee_ppm=500_000, now=T0)  # too late for this batch
        payments.pay_accepted(
            db, assignment_ref="asg_1", batch_ref=BATCH, worker_ref=WORKER, now=T0
        )
        db.commit()
        assert escrow.fee_ppm == 250_000
        assert _bal(db, acct.platform_fees()) == 10_000
        assert _bal(db, acct.escrow(BATCH)) == 0


class TestPayAccepted:
    def test_reward_to_worker_pending_and_fee_to_platform(self, db: Session) -> None:
        fund(db, REQ, 2 * DOLLAR)
        _launch(db)
        posted = payments.pay_accepted(
            db, assignment_ref="asg_1", batch_ref=BATCH, worker_ref=WORKER, now=T0
        )
        again = payments.pay_accepted(
            db, assignment_ref="asg_1", batch_ref=BATCH, worker_ref=WORKER, now=T0
        )
        db.commit()
        assert posted.created
        assert not again.created
        assert _bal(db, acct.worker_pending(WORKER)) == REWARD
        assert _bal(db, acct.platform_fees()) == 8_000
        assert _bal(db, acct.escrow(BATCH)) == 1_440_000 - 48_000
        assert_sound(db, accepted={"asg_1"})

    def test_every_answer_paid_spends_the_escrow_exactly(self, db: Session) -> None:
        fund(db, REQ, DOLLAR)
        payments.launch_escrow(
            db,
            batch_ref=BATCH,
            requester_ref=REQ,
            tasks=3,
            max_overlap=2,
            reward=33_333,
            fee_ppm=333_333,
            now=T0,
        )
        for i in range(6):
            payments.pay_accepted(
                db, assignment_ref=f"asg_{i}", batch_ref=BATCH, worker_ref=WORKER, now=T0
            )
        assert _bal(db, acct.escrow(BATCH)) == 0
        with pytest.raises(InsufficientFunds):
            payments.pay_accepted(
                db, assignment_ref="asg_6", batch_ref=BATCH, worker_ref=WORKER, now=T0
            )
        db.commit()
        assert_sound(db, accepted={f"asg_{i}" for i in range(6)})

    def test_unlaunched_batch(self, db: Session) -> None:
        with pytest.raises(UnknownEscrow):
            payments.pay_accepted(
                db, assignment_ref="asg_1", batch_ref="bat_x", worker_ref=WORKER, now=T0
            )


class TestBonusAndRefund:
    def test_bonus_comes_from_available_with_the_batch_fee(self, db: Session) -> None:
        fund(db, REQ, 2 * DOLLAR)
        _launch(db)
        payments.pay_bonus(
            db, reference="bonus_1", batch_ref=BATCH, worker_ref=WORKER, amount=100_000, now=T0
        )
        db.commit()
        assert _bal(db, acct.requester_available(REQ)) == 2 * DOLLAR - 1_440_000 - 120_000
        assert _bal(db, acct.worker_pending(WORKER)) == 100_000
        assert _bal(db, acct.escrow(BATCH)) == 1_440_000

    def test_refund_returns_the_unspent_escrow_once(self, db: Session) -> None:
        fund(db, REQ, 2 * DOLLAR)
        _launch(db)
        payments.pay_accepted(
            db, assignment_ref="asg_1", batch_ref=BATCH, worker_ref=WORKER, now=T0
        )
        first = payments.refund_escrow(db, batch_ref=BATCH, now=T0)
        again = payments.refund_escrow(db, batch_ref=BATCH, now=T0)
        db.commit()
        assert first is not None
        assert first.created
        assert again is not None
        assert not again.created
        assert _bal(db, acct.escrow(BATCH)) == 0
        assert _bal(db, acct.requester_available(REQ)) == 2 * DOLLAR - 48_000
        with pytest.raises(InsufficientFunds):
            payments.pay_accepted(
                db, assignment_ref="asg_2", batch_ref=BATCH, worker_ref=WORKER, now=T0
            )


class TestHolds:
    def test_pending_becomes_available_when_the_hold_ends(self, db: Session) -> None:
        payments.update_settings(db, payout_hold_seconds=3600, now=T0)
        fund(db, REQ, 2 * DOLLAR)
        _launch(db)
        payments.pay_accepted(
            db, assignment_ref="asg_1", batch_ref=BATCH, worker_ref=WORKER, now=T0
        )
        db.commit()
        assert payments.release_due_holds(db, now=T0 + timedelta(seconds=3599)) == 0
        assert payments.release_due_holds(db, now=T0 + timedelta(seconds=3600)) == 1
        assert payments.release_due_holds(db, now=T0 + timedelta(days=9)) == 0
        db.commit()
        assert payments.balances(db, WORKER) == {"worker_pending": 0, "worker_available": REWARD}
