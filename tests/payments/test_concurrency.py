"""Races with real commits on separate connections (PostgreSQL only; SQLite's single writer
serialises everything, which the other tests already exercise).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, sessionmaker

import payments
from app.core.db import make_sessionmaker
from payments import accounts as acct
from payments.errors import InsufficientFunds, PaymentsError
from payments.ledger import post
from payments.models import Payout
from payments.providers import PayoutOrder, PayoutResult
from tests.payments.conftest import DOLLAR, REQ, T0, WORKER, FakePayoutProvider, assert_sound, fund

pytestmark = [pytest.mark.postgres_only, pytest.mark.concurrency]


def race(maker: sessionmaker[Session], n: int, action: Callable[[Session, int], Any]) -> list[Any]:
    """Run ``action(session, i)`` in ``n`` threads released together; each commits on its own."""
    barrier = threading.Barrier(n)

    def one(i: int) -> Any:
        with maker() as session:
            barrier.wait()
            try:
                result = action(session, i)
                session.commit()
                return result
            except PaymentsError as exc:
                session.rollback()
                return exc

    with ThreadPoolExecutor(n) as pool:
        return list(pool.map(one, range(n)))


def _earn(session: Session, amount: int) -> None:
    post(
        session,
        "test_earn",
        "seed",
        [(acct.world(), -amount), (acct.worker_available(WORKER), amount)],
        now=T0,
    )
    session.commit()


def test_fifty_payouts_with_one_key_make_one(wide_engine: Engine, session: Session) -> None:
    _earn(session, 100 * DOLLAR)
    results = race(
        make_sessionmaker(wide_engine),
        50,
        lambda s, _i: (
            payments.request_payout(
                s, worker_ref=WORKER, amount=DOLLAR, idempotency_key="one", now=T0
            ).id
        ),
    )
    assert len(set(results)) == 1
    assert session.scalar(select(func.count()).select_from(Payout)) == 1
    assert payments.balance(session, acct.worker_available(WORKER)) == 99 * DOLLAR
    assert_sound(session)


def test_fifty_payouts_against_ten_dollars_pay_ten(wide_engine: Engine, session: Session) -> None:
    _earn(session, 10 * DOLLAR)
    results = race(
        make_sessionmaker(wide_engine),
        50,
        lambda s, i: (
            payments.request_payout(
                s, worker_ref=WORKER, amount=DOLLAR, idempotency_key=f"k{i}", now=T0
            ).id
        ),
    )
    assert sum(isinstance(r, str) for r in results) == 10
    assert all(isinstance(r, str | InsufficientFunds) for r in results)
    assert payments.balance(session, acct.worker_available(WORKER)) == 0
    assert_sound(session)


def test_twenty_launches_against_one_balance_never_overdraw(
    wide_engine: Engine, session: Session
) -> None:
    cost = payments.escrow_cost(10, 2, 45_000, 111_111).total
    fund(session, REQ, 7 * cost + cost // 2)
    results = race(
        make_sessionmaker(wide_engine),
        20,
        lambda s, i: (
            payments.launch_escrow(
                s,
                batch_ref=f"bat_{i}",
                requester_ref=REQ,
                tasks=10,
                max_overlap=2,
                reward=45_000,
                fee_ppm=111_111,
                now=T0,
            ).batch_ref
        ),
    )
    assert sum(isinstance(r, str) for r in results) == 7
    assert payments.balance(session, acct.requester_available(REQ)) == cost // 2
    assert_sound(session)


def test_racing_accepts_pay_one_answer_once(wide_engine: Engine, session: Session) -> None:
    fund(session, REQ, DOLLAR)
    payments.launch_escrow(
        session,
        batch_ref="bat_1",
        requester_ref=REQ,
        tasks=1,
        max_overlap=3,
        reward=100_000,
        fee_ppm=0,
        now=T0,
    )
    session.commit()
    results = race(
        make_sessionmaker(wide_engine),
        20,
        lambda s, _i: (
            payments.pay_accepted(
                s, assignment_ref="asg_1", batch_ref="bat_1", worker_ref=WORKER, now=T0
            ).created
        ),
    )
    assert sorted(results) == [False] * 19 + [True]
    assert payments.balance(session, acct.worker_pending(WORKER)) == 100_000
    assert_sound(session, accepted={"asg_1"})


def test_opposite_transfers_do_not_deadlock(wide_engine: Engine, session: Session) -> None:
    fund(session, "acc_a", 100 * DOLLAR)
    fund(session, "acc_b", 100 * DOLLAR)
    a, b = acct.requester_available("acc_a"), acct.requester_available("acc_b")

    def transfer(s: Session, i: int) -> bool:
        src, dst = (a, b) if i % 2 else (b, a)
        return post(s, "test_transfer", f"t{i}", [(src, -DOLLAR), (dst, DOLLAR)], now=T0).created

    assert all(race(make_sessionmaker(wide_engine), 40, transfer))
    assert payments.balance(session, a) == payments.balance(session, b) == 100 * DOLLAR
    assert_sound(session)


class SlowProvider(FakePayoutProvider):
    """Holds each call a moment, so the two settlers overlap."""

    def pay(self, order: PayoutOrder) -> PayoutResult:
        time.sleep(0.002)
        return super().pay(order)


def test_two_settlers_settle_each_payout_once(wide_engine: Engine, session: Session) -> None:
    _earn(session, 30 * DOLLAR)
    for i in range(30):
        payments.request_payout(
            session, worker_ref=WORKER, amount=DOLLAR, idempotency_key=f"k{i}", now=T0
        )
    session.commit()
    provider = SlowProvider()
    maker = make_sessionmaker(wide_engine)

    def settler(s: Session, _i: int) -> int:
        return payments.settle_due_payouts(s, provider, now=T0, limit=100)

    attempted = race(maker, 2, settler)
    assert sum(attempted) == 30  # every payout claimed by exactly one settler
    assert provider.calls == 30
    assert len(provider.paid) == 30
    assert session.scalar(select(func.count()).where(Payout.status == "paid")) == 30
    assert payments.paid_out(session, WORKER) == 30 * DOLLAR
    assert_sound(session)
