"""``verify()``: every invariant of the ledger, checked by one function that the tests, the
admin endpoint and ``tessera verify-ledger`` share.

Checked with aggregate queries (no row is loaded one by one), each returning violations as
human-readable strings:

1. every transaction has two or more entries and sums to zero;
2. all balances sum to zero (money is only moved, never made);
3. no account breaks its sign rule (only ``world`` may be negative), every account's sign rule
   is the one its kind demands, and only the sharded kinds (fee income, world) have shards
   other than 0 (an account's balance is the sum of its shards; each shard is checked alone);
4. cached balances equal balances recomputed from entries;
5. each batch escrow = escrowed − spent − refunded ≥ 0, and only those kinds touch an escrow;
6. each accepted answer is paid exactly once and no unaccepted answer is paid (when the caller
   passes the accepted assignment ids: payments cannot read the app's tables);
7. a worker's pending balance equals their unreleased holds;
8. each payout has exactly the postings its status implies, and a worker's in-flight balance
   equals their open payouts; one idempotency key maps to one payout;
9. any ``extra_checks`` the caller adds (the app's stored HTTP responses per Idempotency-Key).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from payments.accounts import SHARDED_KINDS, AccountKind, TxKind, allows_negative
from payments.models import (
    Escrow,
    LedgerAccount,
    LedgerEntry,
    LedgerHold,
    LedgerTransaction,
    Payout,
)
from payments.payouts import OPEN

Check = Callable[[Session], list[str]]


@dataclass
class VerifyReport:
    ok: bool
    accounts: int
    total: int
    """Sum of all balances, in micro-dollars: 0 when the ledger is sound."""
    violations: list[str] = field(default_factory=list)


def verify(
    session: Session,
    *,
    accepted: Iterable[str] | Callable[[], Iterable[str]] | None = None,
    extra_checks: Sequence[Check] = (),
) -> VerifyReport:
    checks: list[Check] = [
        _transactions_balance,
        _sign_rules,
        _cache_matches,
        _escrows,
        _holds,
        _payouts,
    ]
    if accepted is not None:
        ids = set(accepted() if callable(accepted) else accepted)
        checks.append(lambda s: _rewards_match(s, ids))
    violations = [v for check in (*checks, *extra_checks) for v in check(session)]
    total = int(session.scalar(select(func.coalesce(func.sum(LedgerAccount.balance), 0))) or 0)
    if total != 0:
        violations.append(f"balances sum to {total}, not 0")
    count = session.scalar(select(func.count()).select_from(LedgerAccount)) or 0
    return VerifyReport(not violations, count, total, violations)


def _transactions_balance(session: Session) -> list[str]:
    sums = (
        select(
            LedgerTransaction.id,
            LedgerTransaction.kind,
            LedgerTransaction.reference,
            func.coalesce(func.sum(LedgerEntry.amount), 0),
            func.count(LedgerEntry.id),
        )
        .outerjoin(LedgerEntry, LedgerEntry.transaction_id == LedgerTransaction.id)
        .group_by(LedgerTransaction.id, LedgerTransaction.kind, LedgerTransaction.reference)
        .having(
            (func.coalesce(func.sum(LedgerEntry.amount), 0) != 0) | (func.count(LedgerEntry.id) < 2)
        )
    )
    return [
        f"transaction {tx} ({kind} {ref}) sums to {total} over {n} entries"
        for tx, kind, ref, total, n in session.execute(sums)
    ]


def _sign_rules(session: Session) -> list[str]:
    out = []
    for kind, owner, shard, bal, allow in session.execute(
        select(
            LedgerAccount.kind,
            LedgerAccount.owner,
            LedgerAccount.shard,
            LedgerAccount.balance,
            LedgerAccount.allow_negative,
        )
    ):
        name = f"{kind} of {owner}" + (f" (shard {shard})" if shard else "")
        if allow != allows_negative(kind):
            out.append(f"{name} has the wrong sign rule")
        if bal < 0 and not allows_negative(kind):
            out.append(f"{name} is negative: {bal}")
        if shard < 0 or (shard and kind not in SHARDED_KINDS):
            out.append(f"{name}: only {sorted(SHARDED_KINDS)} are sharded")
    return out


def _cache_matches(session: Session) -> list[str]:
    sums = (
        select(LedgerEntry.account_id, func.sum(LedgerEntry.amount).label("total"))
        .group_by(LedgerEntry.account_id)
        .subquery()
    )
    rows = session.execute(
        select(
            LedgerAccount.kind,
            LedgerAccount.owner,
            LedgerAccount.balance,
            func.coalesce(sums.c.total, 0),
        )
        .outerjoin(sums, sums.c.account_id == LedgerAccount.id)
        .where(LedgerAccount.balance != func.coalesce(sums.c.total, 0))
    )
    return [
        f"{kind} of {owner} caches {cached} but its entries sum to {real}"
        for kind, owner, cached, real in rows
    ]


def _escrows(session: Session) -> list[str]:
    """escrow balance = escrowed − spent − refunded ≥ 0, per batch, from entries by transaction kind."""
    rows = session.execute(
        select(
            LedgerAccount.owner,
            LedgerAccount.balance,
            LedgerTransaction.kind,
            func.sum(LedgerEntry.amount),
        )
        .join(LedgerEntry, LedgerEntry.account_id == LedgerAccount.id)
        .join(LedgerTransaction, LedgerTransaction.id == LedgerEntry.transaction_id)
        .where(LedgerAccount.kind == AccountKind.REQUESTER_ESCROW)
        .group_by(LedgerAccount.owner, LedgerAccount.balance, LedgerTransaction.kind)
    )
    flows: dict[str, dict[str, int]] = {}
    cached: dict[str, int] = {}
    for batch, bal, kind, total in rows:
        flows.setdefault(batch, {})[kind] = int(total)
        cached[batch] = bal
    terms = _pairs(session.execute(select(Escrow.batch_ref, Escrow.amount)))
    out = []
    for batch, by_kind in flows.items():
        escrowed, spent, refunded = (
            by_kind.pop(TxKind.ESCROW, 0),
            -by_kind.pop(TxKind.REWARD, 0),
            -by_kind.pop(TxKind.REFUND, 0),
        )
        if by_kind:
            out.append(f"escrow of {batch} moved by {sorted(by_kind)}")
        if cached[batch] != escrowed - spent - refunded or cached[batch] < 0:
            out.append(
                f"escrow of {batch}: {cached[batch]} != escrowed {escrowed} − spent {spent} − refunded {refunded}"
            )
        if terms.get(batch) != escrowed:
            out.append(f"escrow of {batch}: terms say {terms.get(batch)}, escrowed {escrowed}")
    out += [
        f"escrow of {batch}: terms say {amount} but nothing was escrowed"
        for batch, amount in terms.items()
        if amount and batch not in flows
    ]
    return out


def _rewards_match(session: Session, accepted: set[str]) -> list[str]:
    paid = set(
        session.scalars(
            select(LedgerTransaction.reference).where(LedgerTransaction.kind == TxKind.REWARD)
        )
    )
    return [f"accepted answer {a} was not paid" for a in sorted(accepted - paid)] + [
        f"answer {a} was paid but is not accepted" for a in sorted(paid - accepted)
    ]


def _holds(session: Session) -> list[str]:
    held = _pairs(
        session.execute(
            select(LedgerHold.worker_ref, func.sum(LedgerHold.amount))
            .where(LedgerHold.released_at.is_(None))
            .group_by(LedgerHold.worker_ref)
        )
    )
    pending = _pairs(
        session.execute(
            select(LedgerAccount.owner, LedgerAccount.balance).where(
                LedgerAccount.kind == AccountKind.WORKER_PENDING
            )
        )
    )
    return [
        f"worker {w} pending {pending.get(w, 0)} but holds {held.get(w, 0)}"
        for w in sorted(held.keys() | pending.keys())
        if int(held.get(w, 0)) != pending.get(w, 0)
    ]


# The postings each payout status implies.
_EXPECTED = {
    "requested": {TxKind.PAYOUT},
    "pending": {TxKind.PAYOUT},
    "paid": {TxKind.PAYOUT, TxKind.PAYOUT_PAID},
    "failed": {TxKind.PAYOUT, TxKind.PAYOUT_FAILED},
}


def _payouts(session: Session) -> list[str]:
    kinds = [TxKind.PAYOUT, TxKind.PAYOUT_PAID, TxKind.PAYOUT_FAILED]
    posted: dict[str, set[str]] = {}
    for kind, ref in session.execute(
        select(LedgerTransaction.kind, LedgerTransaction.reference).where(
            LedgerTransaction.kind.in_(kinds)
        )
    ):
        posted.setdefault(ref, set()).add(kind)
    out, open_sum = [], dict[str, int]()
    for pid, worker, amount, status in session.execute(
        select(Payout.id, Payout.worker_ref, Payout.amount, Payout.status)
    ):
        if posted.pop(pid, set()) != _EXPECTED.get(status):
            out.append(f"payout {pid} is {status} but its postings do not say so")
        if status in OPEN:
            open_sum[worker] = open_sum.get(worker, 0) + amount
    out += [f"postings for unknown payout {ref}" for ref in sorted(posted)]
    in_flight = _pairs(
        session.execute(
            select(LedgerAccount.owner, LedgerAccount.balance).where(
                LedgerAccount.kind == AccountKind.WORKER_IN_FLIGHT
            )
        )
    )
    out += [
        f"worker {w} has {in_flight.get(w, 0)} in flight but open payouts of {open_sum.get(w, 0)}"
        for w in sorted(in_flight.keys() | open_sum.keys())
        if in_flight.get(w, 0) != open_sum.get(w, 0)
    ]
    dupes = session.execute(
        select(Payout.worker_ref, Payout.idempotency_key)
        .where(Payout.idempotency_key.is_not(None))
        .group_by(Payout.worker_ref, Payout.idempotency_key)
        .having(func.count() > 1)
    )
    out += [f"idempotency key {key!r} of {w} maps to several payouts" for w, key in dupes]
    return out


def _pairs(rows: Iterable[Any]) -> dict[str, int]:
    return {key: int(value) for key, value in rows}
