"""Double-entry postings and balances.

``post`` is the only writer of ledger rows and cached balances. Its order of work is the point:

1. refuse entries that do not sum to zero (before anything touches the database);
2. claim ``UNIQUE(kind, reference)`` with INSERT … ON CONFLICT DO NOTHING: a concurrent poster of
   the same fact blocks on our uncommitted row and then finds it, so a fact is posted once;
3. lock the touched accounts with ``SELECT … FOR UPDATE`` in ascending id order — every poster
   locks in the same order, so two postings sharing accounts cannot deadlock;
4. check sign rules against the locked balances, then write entries and new balances.

It only flushes: the caller's transaction decides when the posting commits.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Insert, and_, delete, insert, inspect, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from payments.accounts import AccountRef, allows_negative
from payments.errors import DuplicateTransaction, InsufficientFunds, UnbalancedTransaction
from payments.ids import new_id
from payments.models import LedgerAccount, LedgerEntry, LedgerTransaction

Entry = tuple[AccountRef, int]


@dataclass(frozen=True)
class Posted:
    transaction_id: str
    created: bool
    """False when this (kind, reference) was already posted: nothing moved this time."""


@dataclass(frozen=True)
class EntryView:
    id: int
    transaction_id: str
    kind: str
    reference: str
    account_kind: str
    owner: str
    amount: int
    """Signed, in micro-dollars."""
    created_at: datetime


def post(
    session: Session, kind: str, reference: str, entries: Sequence[Entry], *, now: datetime
) -> Posted:
    """Post one balanced transaction, at most once per ``(kind, reference)``.

    Raises UnbalancedTransaction (entries do not sum to zero, or fewer than two), InsufficientFunds
    (a no-negative account would go below zero; nothing is written), DuplicateTransaction (the
    reference was already posted with different entries).
    """
    deltas = _net(entries)
    _check_balanced(kind, reference, entries)
    tx_id = new_id("ltx")
    values = {"id": tx_id, "kind": kind, "reference": reference, "created_at": now}
    if not insert_ignore(session, LedgerTransaction, values, ["kind", "reference"]):
        return _replayed(session, kind, reference, deltas)
    ids = account_ids(session, deltas, now=now)
    try:
        _apply(session, {ids[ref]: (ref, delta) for ref, delta in deltas.items()})
    except InsufficientFunds:
        # Give the reference back, so a caller that catches this and commits leaves no trace.
        session.execute(delete(LedgerTransaction).where(LedgerTransaction.id == tx_id))
        raise
    session.execute(
        insert(LedgerEntry),
        [
            {"transaction_id": tx_id, "account_id": ids[ref], "amount": amount}
            for ref, amount in entries
        ],
    )
    return Posted(tx_id, True)


def _net(entries: Sequence[Entry]) -> dict[AccountRef, int]:
    deltas: dict[AccountRef, int] = defaultdict(int)
    for ref, amount in entries:
        deltas[AccountRef(*ref)] += amount
    return dict(deltas)


def _check_balanced(kind: str, reference: str, entries: Sequence[Entry]) -> None:
    if len(entries) < 2 or sum(amount for _, amount in entries) != 0:
        raise UnbalancedTransaction(
            f"{kind} {reference}: entries must be two or more and sum to zero"
        )
    if any(
        not isinstance(amount, int) or isinstance(amount, bool) or amount == 0
        for _, amount in entries
    ):
        raise UnbalancedTransaction(f"{kind} {reference}: every amount must be a non-zero int")


def _replayed(session: Session, kind: str, reference: str, deltas: dict[AccountRef, int]) -> Posted:
    tx_id = session.scalar(
        select(LedgerTransaction.id).where(
            LedgerTransaction.kind == kind, LedgerTransaction.reference == reference
        )
    )
    assert tx_id is not None  # the conflicting row is committed (or ours): it is visible
    rows = session.execute(
        select(LedgerAccount.kind, LedgerAccount.owner, LedgerEntry.amount)
        .join(LedgerAccount, LedgerAccount.id == LedgerEntry.account_id)
        .where(LedgerEntry.transaction_id == tx_id)
    )
    stored: Counter[AccountRef] = Counter()
    for account_kind, owner, amount in rows:
        stored[AccountRef(account_kind, owner)] += amount
    if {k: v for k, v in stored.items() if v} != {k: v for k, v in deltas.items() if v}:
        raise DuplicateTransaction(f"{kind} {reference} was already posted with other entries")
    return Posted(tx_id, False)


def _apply(session: Session, changes: dict[int, tuple[AccountRef, int]]) -> None:
    """Lock the accounts in id order, check sign rules, write the new balances."""
    locked = session.execute(
        select(LedgerAccount.id, LedgerAccount.balance, LedgerAccount.allow_negative)
        .where(LedgerAccount.id.in_(changes))
        .order_by(LedgerAccount.id)
        .with_for_update()
    ).all()
    for account_id, balance, allow_negative in locked:
        ref, delta = changes[account_id]
        if not allow_negative and balance + delta < 0:
            raise InsufficientFunds(ref.kind, ref.owner, balance, -delta)
    for account_id, balance, _ in locked:
        delta = changes[account_id][1]
        if delta:
            session.execute(
                update(LedgerAccount)
                .where(LedgerAccount.id == account_id)
                .values(balance=balance + delta)
            )


def account_ids(
    session: Session, refs: Iterable[AccountRef], *, now: datetime
) -> dict[AccountRef, int]:
    """Ids of the accounts, creating missing ones (race-free: ON CONFLICT DO NOTHING)."""
    wanted = {AccountRef(*ref) for ref in refs}
    found = _find_accounts(session, wanted)
    for ref in wanted - found.keys():
        values = {
            "kind": ref.kind,
            "owner": ref.owner,
            "allow_negative": allows_negative(ref.kind),
            "balance": 0,
            "created_at": now,
        }
        insert_ignore(session, LedgerAccount, values, ["kind", "owner"])
    if len(found) < len(wanted):
        found = _find_accounts(session, wanted)
    return found


def _find_accounts(session: Session, refs: set[AccountRef]) -> dict[AccountRef, int]:
    match = or_(*(and_(LedgerAccount.kind == r.kind, LedgerAccount.owner == r.owner) for r in refs))
    rows = session.execute(
        select(LedgerAccount.kind, LedgerAccount.owner, LedgerAccount.id).where(match)
    )
    return {AccountRef(kind, owner): account_id for kind, owner, account_id in rows}


def insert_ignore(
    session: Session, model: Any, values: dict[str, Any], conflict: list[str]
) -> bool:
    """INSERT … ON CONFLICT DO NOTHING on both backends; True when the row was inserted."""
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    stmt: Insert = (
        dialect.insert(model).values(**values).on_conflict_do_nothing(index_elements=conflict)
    )
    # RETURNING rather than rowcount: psycopg reports -1 for an ORM-enabled INSERT's rowcount.
    primary_key = inspect(model).primary_key
    return session.execute(stmt.returning(*primary_key)).first() is not None


def balance(session: Session, ref: AccountRef) -> int:
    """The cached balance of one account, in micro-dollars (0 when it has no entries yet)."""
    value = session.scalar(
        select(LedgerAccount.balance).where(
            LedgerAccount.kind == ref.kind, LedgerAccount.owner == ref.owner
        )
    )
    return value or 0


def lock_balances(
    session: Session, refs: Sequence[AccountRef], *, now: datetime
) -> dict[AccountRef, int]:
    """Balances under row locks held to the end of the caller's transaction.

    Locks in ascending id order, as post() does, and must cover every account the caller's later
    post() touches that is locked ahead of it: a lock taken out of that order could deadlock.
    """
    ids = account_ids(session, refs, now=now)
    rows = session.execute(
        select(LedgerAccount.id, LedgerAccount.balance)
        .where(LedgerAccount.id.in_(ids.values()))
        .order_by(LedgerAccount.id)
        .with_for_update()
    )
    by_id = {account_id: int(amount) for account_id, amount in rows}
    return {ref: by_id[account_id] for ref, account_id in ids.items()}


def balances(session: Session, owner: str) -> dict[str, int]:
    """Every balance an owner has, by account kind (``{"requester_available": 1_000_000, …}``)."""
    rows = session.execute(
        select(LedgerAccount.kind, LedgerAccount.balance).where(LedgerAccount.owner == owner)
    )
    return {kind: int(amount) for kind, amount in rows}


def entries(
    session: Session, owners: str | Sequence[str], *, before_id: int | None = None, limit: int = 50
) -> list[EntryView]:
    """An owner's entries, newest first; pass the last ``id`` seen as ``before_id`` for the next page."""
    owner_list = [owners] if isinstance(owners, str) else list(owners)
    stmt = (
        select(
            LedgerEntry.id,
            LedgerEntry.transaction_id,
            LedgerTransaction.kind,
            LedgerTransaction.reference,
            LedgerAccount.kind,
            LedgerAccount.owner,
            LedgerEntry.amount,
            LedgerTransaction.created_at,
        )
        .join(LedgerAccount, LedgerAccount.id == LedgerEntry.account_id)
        .join(LedgerTransaction, LedgerTransaction.id == LedgerEntry.transaction_id)
        .where(LedgerAccount.owner.in_(owner_list))
        .order_by(LedgerEntry.id.desc())
        .limit(limit)
    )
    if before_id is not None:
        stmt = stmt.where(LedgerEntry.id < before_id)
    return [EntryView(*row) for row in session.execute(stmt)]
