"""What things cost, and the postings that pay for them: escrow, rewards, bonuses, refunds, holds.

Every function here only flushes; the app calls it inside its own use-case transaction (accepting
an answer and paying for it commit together or not at all).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from payments import accounts as acct
from payments.accounts import TxKind, shard_for
from payments.errors import InvalidAmount, UnknownEscrow
from payments.ids import new_id
from payments.ledger import (
    Entry,
    Posted,
    call_pg,
    is_postgresql,
    lock_balances,
    net_deltas,
    pg_outcome,
    post,
)
from payments.models import Escrow, LedgerHold, LedgerTransaction
from payments.money import MAX_MICROS, fee_for
from payments.settings import DEFAULTS, read_payment_settings


@dataclass(frozen=True)
class EscrowCost:
    answers: int
    per_answer: int
    """Reward + fee for one answer, in micro-dollars."""
    fee_per_answer: int
    total: int
    """In micro-dollars: answers × per_answer."""


def escrow_cost(tasks: int, max_overlap: int, reward: int, fee_ppm: int) -> EscrowCost:
    """The most a batch can cost: tasks × max overlap answers, each paid reward + fee.

    The fee is rounded per answer (money.fee_for), so paying every answer spends the escrow to
    exactly zero, and a task with 10 answers costs 10 × (reward + fee): no redundancy penalty.
    """
    if tasks < 0 or max_overlap < 1 or reward < 0:
        raise InvalidAmount("tasks, overlap and reward must be non-negative (overlap at least 1)")
    fee, _remainder = fee_for(reward, fee_ppm)  # remainder never charged: stays with the requester
    answers = tasks * max_overlap
    total = answers * (reward + fee)
    if total > MAX_MICROS:
        raise InvalidAmount("batch cost is too large")
    return EscrowCost(answers, reward + fee, fee, total)


def launch_escrow(
    session: Session,
    *,
    batch_ref: str,
    requester_ref: str,
    tasks: int,
    max_overlap: int,
    reward: int,
    now: datetime,
    fee_ppm: int | None = None,
) -> Escrow:
    """Move a batch's maximum cost from the requester's available balance into its escrow.

    Fixes the batch's reward and fee (``fee_ppm`` defaults to the current platform fee). Once per
    batch: launching again returns the first escrow. Raises InsufficientFunds (the app's 402).
    """
    rate = read_payment_settings(session).fee_ppm if fee_ppm is None else fee_ppm
    cost = escrow_cost(tasks, max_overlap, reward, rate)
    if cost.total > 0:  # an empty batch moves nothing: only its terms are recorded
        entries: list[Entry] = [
            (acct.requester_available(requester_ref), -cost.total),
            (acct.escrow(batch_ref), cost.total),
        ]
        if not post(session, TxKind.ESCROW, batch_ref, entries, now=now).created:
            return session.get_one(Escrow, batch_ref)  # launched before (or by a racing request)
    existing = session.get(Escrow, batch_ref)
    if existing is not None:
        return existing
    escrow = Escrow(
        batch_ref=batch_ref,
        requester_ref=requester_ref,
        reward=reward,
        fee_ppm=rate,
        max_answers=cost.answers,
        amount=cost.total,
        created_at=now,
    )
    session.add(escrow)
    session.flush()
    return escrow


def pay_accepted(
    session: Session, *, assignment_ref: str, batch_ref: str, worker_ref: str, now: datetime
) -> Posted:
    """Pay one accepted answer out of its batch's escrow: reward to the worker (on hold), fee to
    the platform, one balanced transaction with reference = the assignment id.

    Paying the same assignment again moves nothing (``created`` is False). Raises UnknownEscrow
    for a batch never launched and InsufficientFunds when the escrow is spent or refunded.
    """
    return _pay(session, TxKind.REWARD, assignment_ref, batch_ref, worker_ref, None, now=now)


def pay_bonus(
    session: Session, *, reference: str, batch_ref: str, worker_ref: str, amount: int, now: datetime
) -> Posted:
    """A bonus from the requester's available balance (not the escrow), plus the batch's fee.

    ``reference`` names this bonus (the app's bonus id); the same reference pays once.
    """
    if amount <= 0:
        raise InvalidAmount("a bonus must be positive")
    return _pay(session, TxKind.BONUS, reference, batch_ref, worker_ref, amount, now=now)


def _escrow(session: Session, batch_ref: str) -> Escrow:
    escrow = session.get(Escrow, batch_ref)
    if escrow is None:
        raise UnknownEscrow(f"batch {batch_ref} has not been launched")
    return escrow


def _pay(
    session: Session,
    kind: str,
    reference: str,
    batch_ref: str,
    worker_ref: str,
    amount: int | None,
    *,
    now: datetime,
) -> Posted:
    """A reward (``amount`` None: the batch's reward, from its escrow) or a bonus (from the
    requester's available balance), its fee, and the worker's hold, posted together.

    On PostgreSQL that is one call of ``payments_pay`` (it reads the escrow's terms and the hold
    period itself); the rare outcomes (a replay, an error) are sorted out here afterwards.
    """
    if is_postgresql(session):
        tx_id = new_id("ltx")
        params = {
            "tx": tx_id,
            "kind": kind,
            "reference": reference,
            "now": now,
            "batch": batch_ref,
            "worker": worker_ref,
            "amount": amount,
            "from_escrow": amount is None,
            "fee_shard": shard_for(acct.AccountKind.PLATFORM_FEES, tx_id),
            "hold_default": DEFAULTS.payout_hold_seconds,
        }
        result = call_pg(session, "payments_pay", params)
        if result[0] == "created":
            return Posted(tx_id, True)
        if result[0] not in ("unknown_escrow", "zero"):
            entries = _pay_entries(session, batch_ref, worker_ref, amount)
            return pg_outcome(session, result, kind, reference, net_deltas(entries))
    entries = _pay_entries(session, batch_ref, worker_ref, amount)
    posted = post(session, kind, reference, entries, now=now)
    if posted.created:
        hold = timedelta(seconds=read_payment_settings(session).payout_hold_seconds)
        session.add(
            LedgerHold(
                transaction_id=posted.transaction_id,
                worker_ref=worker_ref,
                amount=entries[1][1],
                release_at=now + hold,
            )
        )
        session.flush()
    return posted


def _pay_entries(
    session: Session, batch_ref: str, worker_ref: str, amount: int | None
) -> list[Entry]:
    """What a reward (amount None) or a bonus moves: source → worker pending + platform fee."""
    escrow = _escrow(session, batch_ref)
    if amount is None:
        source, paid = acct.escrow(batch_ref), escrow.reward
    else:
        source, paid = acct.requester_available(escrow.requester_ref), amount
    if paid == 0:
        raise InvalidAmount("nothing to pay: the reward is zero")
    fee, _remainder = fee_for(paid, escrow.fee_ppm)
    entries: list[Entry] = [(source, -(paid + fee)), (acct.worker_pending(worker_ref), paid)]
    if fee:
        entries.append((acct.platform_fees(), fee))
    return entries


def refund_escrow(session: Session, *, batch_ref: str, now: datetime) -> Posted | None:
    """Return a batch's unspent escrow to the requester (reference = the batch id), once.

    Call it when the batch completes or is cancelled and no open assignment can still be paid;
    a later ``pay_accepted`` for the batch gets InsufficientFunds. None when nothing was left.
    """
    escrow = _escrow(session, batch_ref)
    done = session.scalar(
        select(LedgerTransaction.id).where(
            LedgerTransaction.kind == TxKind.REFUND, LedgerTransaction.reference == batch_ref
        )
    )
    if done is not None:
        return Posted(done, False)
    # Read the remainder under the escrow's row lock, so a concurrent payment cannot spend it
    # between our read and our posting.
    source, target = acct.escrow(batch_ref), acct.requester_available(escrow.requester_ref)
    remaining = lock_balances(session, [source, target], now=now)[source]
    if remaining == 0:
        return None
    entries: list[Entry] = [(source, -remaining), (target, remaining)]
    return post(session, TxKind.REFUND, batch_ref, entries, now=now)


def release_due_holds(session: Session, *, now: datetime, limit: int = 100) -> int:
    """Move held earnings whose hold has ended from pending to available; returns how many.

    The reconciler calls it in its own transaction. Rows are claimed with SKIP LOCKED, so two
    workers share the work; the release posting's unique reference keeps it once regardless.
    """
    holds = session.scalars(
        select(LedgerHold)
        .where(LedgerHold.released_at.is_(None), LedgerHold.release_at <= now)
        .order_by(LedgerHold.release_at)
        .limit(limit)
        .with_for_update(skip_locked=True)
    ).all()
    for hold in holds:
        entries: list[Entry] = [
            (acct.worker_pending(hold.worker_ref), -hold.amount),
            (acct.worker_available(hold.worker_ref), hold.amount),
        ]
        post(session, TxKind.RELEASE, hold.transaction_id, entries, now=now)
        hold.released_at = now
    session.flush()
    return len(holds)
