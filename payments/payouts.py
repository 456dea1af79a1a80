"""Worker payouts: request (intent, committed first) then settle (provider call, outcome after).

A payout's life: ``request_payout`` moves the money available → in flight and stores the payout
as ``requested`` in the caller's transaction. ``settle_payout`` then works in three short steps,
each safe to be killed after: (1) claim the row under ``FOR UPDATE SKIP LOCKED``, mark it
``pending`` and push ``next_attempt_at`` forward (a lease), commit; (2) call the provider with
the payout's own idempotency key, holding no lock and no transaction; (3) lock the row again and
record the outcome, commit: paid → money leaves to the world account; failed → it goes back to
available; unknown → stays pending for a later attempt with the same key. A settler killed
between (1) and (3) leaves a pending payout whose lease runs out; the next claim asks the
provider again with the same key and gets the first outcome, so it is never paid twice.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from payments import accounts as acct
from payments.accounts import TxKind
from payments.errors import (
    BelowMinimumPayout,
    IdempotencyConflict,
    InsufficientFunds,
    InvalidAmount,
    ProviderUnavailable,
)
from payments.ids import new_id
from payments.ledger import insert_ignore, lock_balances, post
from payments.models import Payout
from payments.providers import PayoutOrder, PayoutProvider, PayoutResult
from payments.settings import read_payment_settings

OPEN = ("requested", "pending")
# A claim's lease: longer than any provider timeout, so a live settler is not overtaken; a dead
# one's payouts are picked up again after it.
CLAIM_SECONDS = 120
MAX_BACKOFF_SECONDS = 3600


def payout_key(payout_id: str) -> str:
    """The idempotency key sent to the provider: one per payout, the same on every attempt."""
    return f"tessera:payout:{payout_id}"


def request_payout(
    session: Session,
    *,
    worker_ref: str,
    now: datetime,
    amount: int | None = None,
    idempotency_key: str | None = None,
    provider: str = "embedded",
) -> Payout:
    """Withdraw ``amount`` (all available when None). Only flushes: the caller's commit is the intent.

    The same ``idempotency_key`` returns the first payout (IdempotencyConflict if the amount
    differs). Raises BelowMinimumPayout (422), InsufficientFunds (more than available), InvalidAmount.
    """
    if amount is not None and amount <= 0:
        raise InvalidAmount("a payout must be positive")
    # Serialise a worker's payouts on their available balance; after the wait, a request with
    # the same key that got there first is committed and visible.
    source, in_flight = acct.worker_available(worker_ref), acct.worker_in_flight(worker_ref)
    available = lock_balances(session, [source, in_flight], now=now)[source]
    if idempotency_key is not None and (existing := _by_key(session, worker_ref, idempotency_key)):
        return _replay(existing, amount)
    target = available if amount is None else amount
    minimum = read_payment_settings(session).min_payout
    if target < minimum:
        raise BelowMinimumPayout(target, minimum)
    if target > available:
        raise InsufficientFunds(acct.AccountKind.WORKER_AVAILABLE, worker_ref, available, target)
    payout_id = new_id("pay")
    values = {
        "id": payout_id,
        "worker_ref": worker_ref,
        "amount": target,
        "status": "requested",
        "provider": provider,
        "idempotency_key": idempotency_key,
        "attempts": 0,
        "next_attempt_at": now,
        "created_at": now,
        "updated_at": now,
    }
    if not insert_ignore(session, Payout, values, ["worker_ref", "idempotency_key"]):
        assert idempotency_key is not None  # only a key can conflict
        return _replay(_by_key(session, worker_ref, idempotency_key), amount)
    entries = [(source, -target), (in_flight, target)]
    post(session, TxKind.PAYOUT, payout_id, entries, now=now)
    return session.get_one(Payout, payout_id)


def _by_key(session: Session, worker_ref: str, key: str) -> Payout | None:
    return session.scalar(
        select(Payout)
        .where(Payout.worker_ref == worker_ref, Payout.idempotency_key == key)
        .execution_options(populate_existing=True)
    )


def _replay(existing: Payout | None, amount: int | None) -> Payout:
    assert existing is not None
    if amount is not None and existing.amount != amount:
        raise IdempotencyConflict("this idempotency key was used for a payout of another amount")
    return existing


def get_payout(session: Session, payout_id: str, *, worker_ref: str) -> Payout | None:
    """A worker's own payout (None for another worker's: the app's 404)."""
    return session.scalar(
        select(Payout).where(Payout.id == payout_id, Payout.worker_ref == worker_ref)
    )


def paid_out(session: Session, worker_ref: str) -> int:
    """Everything paid out to a worker so far, in micro-dollars."""
    total = session.scalar(
        select(func.sum(Payout.amount)).where(
            Payout.worker_ref == worker_ref, Payout.status == "paid"
        )
    )
    return int(total or 0)


@dataclass(frozen=True)
class _Claim:
    id: str
    worker_ref: str
    amount: int
    attempts: int


OnPaid = Callable[[Session, Payout], None]
"""Called with a payout just recorded as paid, inside the transaction that records it (the
app queues its ``payout.paid`` webhook event there: it exists if and only if that commits)."""


def settle_due_payouts(
    session: Session,
    provider: PayoutProvider,
    *,
    now: datetime,
    limit: int = 20,
    on_paid: OnPaid | None = None,
) -> int:
    """The reconciler's step: try every due payout of this provider once; returns how many it
    attempted. Payouts recorded for another provider are left alone (``due_elsewhere``).

    Commits the session: call it outside any use-case transaction. Safe in several processes at once.
    """
    ids = session.scalars(
        select(Payout.id)
        .where(
            Payout.status.in_(OPEN),
            Payout.next_attempt_at <= now,
            Payout.provider == provider.name,
        )
        .order_by(Payout.next_attempt_at)
        .limit(limit)
    ).all()
    session.rollback()  # end the read; each payout gets its own short transactions
    return sum(
        settle_payout(session, provider, payout_id, now=now, on_paid=on_paid) is not None
        for payout_id in ids
    )


def due_elsewhere(session: Session, provider: PayoutProvider, *, now: datetime) -> dict[str, int]:
    """Due payouts recorded for a provider other than this one, counted by provider name: a
    settler without their provider must leave them alone (and say so). Ends its read."""
    rows = session.execute(
        select(Payout.provider, func.count())
        .where(
            Payout.status.in_(OPEN),
            Payout.next_attempt_at <= now,
            Payout.provider != provider.name,
        )
        .group_by(Payout.provider)
    ).all()
    session.rollback()
    return {name: int(n) for name, n in rows}


def settle_payout(
    session: Session,
    provider: PayoutProvider,
    payout_id: str,
    *,
    now: datetime,
    on_paid: OnPaid | None = None,
) -> str | None:
    """One settlement attempt; returns the status after it, None if not due, claimed elsewhere
    or recorded for another provider (a payout is only ever sent through the provider it was
    requested with: another one would not know it, or would pay it a second time).

    Commits the session (the claim, then the outcome): call it outside any use-case transaction.
    """
    claim = _claim(session, payout_id, provider.name, now)
    if claim is None:
        return None
    order = PayoutOrder(payout_key(claim.id), claim.id, claim.worker_ref, claim.amount)
    try:
        result = provider.pay(order)  # no lock or transaction held across the call
    except ProviderUnavailable as exc:
        result = PayoutResult("pending", reason=str(exc))
    return _record(session, claim, result, now, on_paid)


def _claim(session: Session, payout_id: str, provider: str, now: datetime) -> _Claim | None:
    try:
        payout = session.scalar(
            select(Payout)
            .where(
                Payout.id == payout_id,
                Payout.status.in_(OPEN),
                Payout.next_attempt_at <= now,
                Payout.provider == provider,
            )
            .with_for_update(skip_locked=True)  # another settler has it: leave it
            .execution_options(populate_existing=True)
        )
        if payout is None:
            session.rollback()
            return None
        payout.status = "pending"
        payout.attempts += 1
        payout.next_attempt_at = now + timedelta(seconds=CLAIM_SECONDS)
        payout.updated_at = now
        claim = _Claim(payout.id, payout.worker_ref, payout.amount, payout.attempts)
        session.commit()
    except BaseException:
        session.rollback()
        raise
    return claim


def _record(
    session: Session, claim: _Claim, result: PayoutResult, now: datetime, on_paid: OnPaid | None
) -> str:
    try:
        payout = session.scalar(
            select(Payout)
            .where(Payout.id == claim.id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
        assert payout is not None
        if payout.status in OPEN:  # else a racing settler recorded the (same) outcome first
            _apply_outcome(session, payout, result, now)
            if payout.status == "paid" and on_paid is not None:
                on_paid(session, payout)
        status = payout.status
        session.commit()
    except BaseException:
        session.rollback()
        raise
    return status


def _apply_outcome(session: Session, payout: Payout, result: PayoutResult, now: datetime) -> None:
    in_flight = acct.worker_in_flight(payout.worker_ref)
    if result.status == "paid":
        entries = [(in_flight, -payout.amount), (acct.world(), payout.amount)]
        post(session, TxKind.PAYOUT_PAID, payout.id, entries, now=now)
        payout.status, payout.settled_at = "paid", now
        payout.provider_reference = result.provider_reference
    elif result.status == "failed":
        entries = [
            (in_flight, -payout.amount),
            (acct.worker_available(payout.worker_ref), payout.amount),
        ]
        post(session, TxKind.PAYOUT_FAILED, payout.id, entries, now=now)
        payout.status, payout.settled_at = "failed", now
    else:
        backoff = min(30 * 2 ** min(payout.attempts, 10), MAX_BACKOFF_SECONDS)
        payout.next_attempt_at = now + timedelta(seconds=backoff)
    payout.failure_reason = result.reason
    payout.provider_response = result.response or None
    payout.updated_at = now
