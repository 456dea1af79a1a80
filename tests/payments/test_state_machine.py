"""A hypothesis state machine over the whole money flow, checked against a plain-Python model.

Deposits, launches (escrow), accepts (pay), repeated accepts, rejects, bonuses, cancels (refund),
fee changes, time passing (hold release), payouts and settlement with provider failures and
timeouts. After every step: ``verify()`` holds and every balance equals the model's.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import select
from sqlalchemy.orm import Session

import payments
from payments import accounts as acct
from payments.errors import BelowMinimumPayout, InsufficientFunds
from payments.models import Payout
from payments.money import fee_for
from payments.payouts import CLAIM_SECONDS, payout_key
from tests.payments.conftest import T0, FakePayoutProvider, clear_payments

REQUESTERS = ["acc_r0", "acc_r1"]
WORKERS = ["acc_w0", "acc_w1"]
HOLD, MIN_PAYOUT = 60, 50_000
BEHAVIOURS = st.sampled_from(["ok", "fail", "timeout_before", "timeout_after"])


@dataclass
class Batch:
    requester: str
    reward: int
    fee: int
    """Per answer, from the fee rate at launch."""
    fee_ppm: int


class LedgerMachine(RuleBasedStateMachine):
    def __init__(self, session: Session) -> None:
        super().__init__()
        self.s = session
        clear_payments(session)
        payments.update_settings(
            session, payout_hold_seconds=HOLD, min_payout=MIN_PAYOUT, fee_ppm=100_000, now=T0
        )
        session.commit()
        self.now, self.fee_ppm = T0, 100_000
        self.provider = FakePayoutProvider()
        self.bal: dict[acct.AccountRef, int] = defaultdict(int)
        self.batches: dict[str, Batch] = {}
        self.accepted: dict[str, tuple[str, str]] = {}  # assignment → (batch, worker)
        self.holds: list[tuple[str, int, datetime]] = []  # (worker, amount, release_at)
        self.keys: dict[tuple[str, str], str] = {}  # (worker, key) → payout id
        self.n = 0

    def _next(self, prefix: str) -> str:
        self.n += 1
        return f"{prefix}_{self.n}"

    def _move(self, src: acct.AccountRef, dst: acct.AccountRef, amount: int) -> None:
        self.bal[src] -= amount
        self.bal[dst] += amount

    @rule(requester=st.sampled_from(REQUESTERS), amount=st.integers(1, 2_000_000))
    def deposit(self, requester: str, amount: int) -> None:
        payments.deposit(
            self.s,
            payments.EmbeddedPaymentProvider(),
            requester_ref=requester,
            amount=amount,
            reference=self._next("dep"),
            now=self.now,
        )
        self.s.commit()
        self._move(acct.world(), acct.requester_available(requester), amount)

    @rule(
        requester=st.sampled_from(REQUESTERS),
        tasks=st.integers(1, 3),
        overlap=st.integers(1, 3),
        reward=st.integers(1, 200_000),
    )
    def launch(self, requester: str, tasks: int, overlap: int, reward: int) -> None:
        batch, cost = self._next("bat"), payments.escrow_cost(tasks, overlap, reward, self.fee_ppm)
        try:
            payments.launch_escrow(
                self.s,
                batch_ref=batch,
                requester_ref=requester,
                tasks=tasks,
                max_overlap=overlap,
                reward=reward,
                now=self.now,
            )
            self.s.commit()
        except InsufficientFunds:
            self.s.rollback()
            assert self.bal[acct.requester_available(requester)] < cost.total
            return
        self._move(acct.requester_available(requester), acct.escrow(batch), cost.total)
        self.batches[batch] = Batch(requester, reward, cost.fee_per_answer, self.fee_ppm)

    @precondition(lambda self: self.batches)
    @rule(data=st.data(), worker=st.sampled_from(WORKERS))
    def accept(self, data: st.DataObject, worker: str) -> None:
        batch = data.draw(st.sampled_from(sorted(self.batches)))
        b, assignment = self.batches[batch], self._next("asg")
        try:
            payments.pay_accepted(
                self.s, assignment_ref=assignment, batch_ref=batch, worker_ref=worker, now=self.now
            )
            self.s.commit()
        except InsufficientFunds:
            self.s.rollback()
            assert self.bal[acct.escrow(batch)] < b.reward + b.fee
            return
        self.bal[acct.escrow(batch)] -= b.reward + b.fee
        self.bal[acct.worker_pending(worker)] += b.reward
        self.bal[acct.platform_fees()] += b.fee
        self.accepted[assignment] = (batch, worker)
        self.holds.append((worker, b.reward, self.now + timedelta(seconds=HOLD)))

    @precondition(lambda self: self.accepted)
    @rule(data=st.data())
    def accept_again(self, data: st.DataObject) -> None:
        assignment = data.draw(st.sampled_from(sorted(self.accepted)))
        batch, worker = self.accepted[assignment]
        posted = payments.pay_accepted(
            self.s, assignment_ref=assignment, batch_ref=batch, worker_ref=worker, now=self.now
        )
        self.s.commit()
        assert not posted.created

    @rule()
    def reject(self) -> None:
        self._next("asg")  # a rejected answer: nothing is paid, and verify() must not find it paid

    @precondition(lambda self: self.batches)
    @rule(data=st.data(), worker=st.sampled_from(WORKERS), amount=st.integers(1, 300_000))
    def bonus(self, data: st.DataObject, worker: str, amount: int) -> None:
        batch = data.draw(st.sampled_from(sorted(self.batches)))
        b = self.batches[batch]
        fee = fee_for(amount, b.fee_ppm)[
            0
        ]  # the batch's launch rate, whatever the platform's is now
        try:
            payments.pay_bonus(
                self.s,
                reference=self._next("bon"),
                batch_ref=batch,
                worker_ref=worker,
                amount=amount,
                now=self.now,
            )
            self.s.commit()
        except InsufficientFunds:
            self.s.rollback()
            assert self.bal[acct.requester_available(b.requester)] < amount + fee
            return
        self.bal[acct.requester_available(b.requester)] -= amount + fee
        self.bal[acct.worker_pending(worker)] += amount
        self.bal[acct.platform_fees()] += fee
        self.holds.append((worker, amount, self.now + timedelta(seconds=HOLD)))

    @precondition(lambda self: self.batches)
    @rule(data=st.data())
    def cancel(self, data: st.DataObject) -> None:
        batch = data.draw(st.sampled_from(sorted(self.batches)))
        payments.refund_escrow(self.s, batch_ref=batch, now=self.now)
        self.s.commit()
        self._move(
            acct.escrow(batch),
            acct.requester_available(self.batches[batch].requester),
            self.bal[acct.escrow(batch)],
        )

    @rule(fee_ppm=st.sampled_from([0, 1, 100_000, 333_333, 999_999]))
    def change_fee(self, fee_ppm: int) -> None:
        payments.update_settings(self.s, fee_ppm=fee_ppm, now=self.now)
        self.s.commit()
        self.fee_ppm = fee_ppm

    @rule(seconds=st.integers(0, 200))
    def time_passes(self, seconds: int) -> None:
        self.now += timedelta(seconds=seconds)
        while payments.release_due_holds(self.s, now=self.now, limit=3):
            self.s.commit()
        self.s.commit()
        due = [h for h in self.holds if h[2] <= self.now]
        self.holds = [h for h in self.holds if h not in due]
        for worker, amount, _ in due:
            self._move(acct.worker_pending(worker), acct.worker_available(worker), amount)

    @rule(
        worker=st.sampled_from(WORKERS),
        amount=st.none() | st.integers(1, 500_000),
        key=st.sampled_from([None, "k1", "k2"]),
    )
    def request_payout(self, worker: str, amount: int | None, key: str | None) -> None:
        available = self.bal[acct.worker_available(worker)]
        try:
            payout = payments.request_payout(
                self.s, worker_ref=worker, amount=amount, idempotency_key=key, now=self.now
            )
            self.s.commit()
        except (BelowMinimumPayout, InsufficientFunds, payments.IdempotencyConflict):
            self.s.rollback()
            return
        if key is not None and (worker, key) in self.keys:
            assert payout.id == self.keys[(worker, key)]  # replayed: nothing moved
            return
        assert MIN_PAYOUT <= payout.amount <= available
        if key is not None:
            self.keys[(worker, key)] = payout.id
        self._move(acct.worker_available(worker), acct.worker_in_flight(worker), payout.amount)

    @rule(
        behaviours=st.lists(BEHAVIOURS, max_size=4), wait=st.sampled_from([0, CLAIM_SECONDS, 4000])
    )
    def settle(self, behaviours: list[str], wait: int) -> None:
        self.now += timedelta(seconds=wait)
        self.provider.script = list(behaviours)
        before = self._statuses()
        payments.settle_due_payouts(self.s, self.provider, now=self.now)
        for pid, (worker, amount, status) in self._statuses().items():
            if before[pid][2] in ("paid", "failed"):
                assert status == before[pid][2]
            elif status == "paid":
                self._move(acct.worker_in_flight(worker), acct.world(), amount)
            elif status == "failed":
                self._move(acct.worker_in_flight(worker), acct.worker_available(worker), amount)

    def _statuses(self) -> dict[str, tuple[str, int, str]]:
        rows = self.s.execute(
            select(Payout.id, Payout.worker_ref, Payout.amount, Payout.status).execution_options(
                populate_existing=True
            )
        )
        statuses = {pid: (worker, amount, status) for pid, worker, amount, status in rows}
        self.s.commit()
        return statuses

    @invariant()
    def ledger_is_sound(self) -> None:
        report = payments.verify(self.s, accepted=set(self.accepted))
        assert report.violations == []
        assert report.ok
        for ref, expected in self.bal.items():
            assert payments.balance(self.s, ref) == expected, ref
        # The provider paid a payout at most once, and only one it was asked to pay.
        for pid, (_, _, status) in self._statuses().items():
            outcome = self.provider.outcomes.get(payout_key(pid))
            if status == "paid":
                assert outcome is not None
                assert outcome.status == "paid"
            if status == "failed":
                assert outcome is not None
                assert outcome.status == "failed"
        self.s.commit()

    def teardown(self) -> None:
        self.s.rollback()


def test_money_flows_keep_every_invariant(session: Session) -> None:
    run_state_machine_as_test(
        lambda: LedgerMachine(session),  # type: ignore[arg-type]  # a factory works as well as the class
        settings=settings(
            max_examples=20,
            stateful_step_count=30,
            deadline=None,
            database=None,
            suppress_health_check=[HealthCheck.too_slow],
        ),
    )
