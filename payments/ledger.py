"""Double-entry postings and balances.

``post`` is the only writer of ledger rows and cached balances. Its order of work is the point:

1. refuse entries that do not sum to zero (before anything touches the database);
2. claim ``UNIQUE(kind, reference)`` with INSERT … ON CONFLICT DO NOTHING: a concurrent poster of
   the same fact blocks on our uncommitted row and then finds it, so a fact is posted once;
3. lock the touched account rows in ``lock_order`` (their key: unsharded kinds first, then kind,
   owner and shard, byte-wise) — every poster locks in the same order, so two postings sharing
   accounts cannot deadlock;
4. check sign rules against the locked balances, then write entries and new balances.

The platform's fee income and the world account are sharded (``accounts.SHARDED_KINDS``): a
posting writes the one shard its transaction id hashes to, so rewards, deposits and settled
payouts do not all queue on one row lock. An account's balance is the sum of its shards.

On PostgreSQL steps 2–4 are one call of the ``payments_post`` function (migrations 0017, 0026),
one round trip: per account row one ``UPDATE … WHERE <sign rule> RETURNING id`` locks, checks
and writes it. On SQLite (one writer, no row locks to wait on) they are plain statements.

It only flushes: the caller's transaction decides when the posting commits.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple

import psycopg
from sqlalchemy import (
    ColumnElement,
    Insert,
    and_,
    delete,
    func,
    insert,
    inspect,
    or_,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from payments.accounts import SHARDED_KINDS, AccountRef, allows_negative, shard_for
from payments.errors import DuplicateTransaction, InsufficientFunds, UnbalancedTransaction
from payments.ids import new_id
from payments.models import LedgerAccount, LedgerEntry, LedgerTransaction

Entry = tuple[AccountRef, int]


class AccountRow(NamedTuple):
    """One row of an account: (kind, owner) and the shard (0 unless the kind is sharded)."""

    kind: str
    owner: str
    shard: int

    @property
    def ref(self) -> AccountRef:
        return AccountRef(self.kind, self.owner)


def lock_order(row: AccountRow) -> tuple[bool, str, str, int]:
    """The order every poster locks account rows in: unsharded kinds first, then by kind, owner
    and shard. Python compares strings by code point, which is UTF-8's byte order, so SQL that
    locks in this order sorts with ``COLLATE "C"`` (``lock_balances``)."""
    return (row.kind in SHARDED_KINDS, row.kind, row.owner, row.shard)


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
    deltas = net_deltas(entries)
    _check_balanced(kind, reference, entries)
    tx_id = new_id("ltx")
    rows = [(row_of(ref, tx_id), amount) for ref, amount in entries]
    if is_postgresql(session):
        result = call_pg(
            session, "payments_post", pg_post_params(tx_id, kind, reference, rows, now)
        )
        return pg_outcome(session, result, kind, reference, deltas)
    values = {"id": tx_id, "kind": kind, "reference": reference, "created_at": now}
    if not insert_ignore(session, LedgerTransaction, values, ["kind", "reference"]):
        return _replayed(session, kind, reference, deltas)
    net_rows: dict[AccountRow, int] = defaultdict(int)
    for row, amount in rows:
        net_rows[row] += amount
    try:
        ids = _apply(session, net_rows, now=now)
    except InsufficientFunds:
        # Give the reference back, so a caller that catches this and commits leaves no trace.
        session.execute(delete(LedgerTransaction).where(LedgerTransaction.id == tx_id))
        raise
    session.execute(
        insert(LedgerEntry),
        [
            {"transaction_id": tx_id, "account_id": ids[row], "amount": amount}
            for row, amount in rows
        ],
    )
    return Posted(tx_id, True)


def row_of(ref: AccountRef, tx_id: str) -> AccountRow:
    """The account row a posting with this transaction id writes for ``ref``."""
    return AccountRow(ref[0], ref[1], shard_for(ref[0], tx_id))


def is_postgresql(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def pg_post_params(
    tx_id: str, kind: str, reference: str, rows: Sequence[tuple[AccountRow, int]], now: datetime
) -> dict[str, Any]:
    """``payments_post``'s arguments: the distinct account rows in lock order with their net
    deltas, then the entries in their order as (1-based row number, amount)."""
    net: dict[AccountRow, int] = defaultdict(int)
    for row, amount in rows:
        net[row] += amount
    order = sorted(net, key=lock_order)
    number = {row: i for i, row in enumerate(order, 1)}
    return {
        "tx": tx_id,
        "kind": kind,
        "reference": reference,
        "now": now,
        "kinds": [row.kind for row in order],
        "owners": [row.owner for row in order],
        "shards": [row.shard for row in order],
        "deltas": [net[row] for row in order],
        "negative": [allows_negative(row.kind) for row in order],
        "rows": [number[row] for row, _ in rows],
        "amounts": [amount for _, amount in rows],
    }


# psycopg's own placeholders: these run on the session's connection through the driver (one
# server-side prepared statement per connection), not through SQLAlchemy's text() path.
_PG_CALLS = {
    "payments_post": (
        "SELECT * FROM payments_post(%(tx)s, %(kind)s, %(reference)s, %(now)s, "
        "%(kinds)s::text[], %(owners)s::text[], %(shards)s::integer[], %(deltas)s::bigint[], "
        "%(negative)s::boolean[], %(rows)s::integer[], %(amounts)s::bigint[])"
    ),
    "payments_pay": (
        "SELECT * FROM payments_pay(%(tx)s, %(kind)s, %(reference)s, %(now)s, %(batch)s, "
        "%(worker)s, %(amount)s::bigint, %(from_escrow)s, %(fee_shard)s::integer, "
        "%(hold_default)s::integer)"
    ),
}


def call_pg(session: Session, function: str, params: dict[str, Any]) -> tuple[Any, ...]:
    """One call of a posting function (migrations 0017, 0026), in the session's transaction;
    returns its one result row (status, tx, kind, owner, balance, needed).

    Flushes first: the function may read rows the caller's session has pending (an escrow's
    terms, an account). Then the call goes straight to the session's psycopg connection, as a
    prepared statement: SQLAlchemy's statement path costs more client CPU than the call itself.
    """
    session.flush()
    driver = session.connection().connection.driver_connection
    assert driver is not None
    sql = _PG_CALLS[function]
    try:
        row = driver.execute(sql, params, prepare=True).fetchone()
    except psycopg.Error as exc:
        # As SQLAlchemy would have raised it (IntegrityError, OperationalError, …), so callers
        # and the app's error handlers see the same exceptions as on any other statement.
        raise DBAPIError.instance(sql, params, exc, psycopg.Error) from exc
    assert row is not None
    return tuple(row)


def pg_outcome(
    session: Session,
    result: tuple[Any, ...],
    kind: str,
    reference: str,
    deltas: dict[AccountRef, int],
) -> Posted:
    """Posted, or the error, from a posting function's row (status, tx, kind, owner, balance, needed)."""
    status, tx_id, account_kind, owner, held, needed = result
    if status == "created":
        return Posted(tx_id, True)
    if status == "replayed":
        return _replayed(session, kind, reference, deltas)
    if status == "insufficient":
        raise InsufficientFunds(account_kind, owner, int(held), int(needed))
    raise AssertionError(f"payments_post answered {status!r}")


def net_deltas(entries: Sequence[Entry]) -> dict[AccountRef, int]:
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
    """The first posting of (kind, reference), if it moved the same money (shards aside)."""
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


def _apply(
    session: Session, net_rows: dict[AccountRow, int], *, now: datetime
) -> dict[AccountRow, int]:
    """Check sign rules in lock order (the first refusal is the one PostgreSQL's function
    reports), then create missing rows and write the new balances; the rows' ids.

    A refused posting creates no account row, as on PostgreSQL. (SQLite: one writer, so the
    balances read here cannot change before they are written.)
    """
    current = {
        AccountRow(kind, owner, shard): (account_id, balance, allow_negative)
        for kind, owner, shard, account_id, balance, allow_negative in session.execute(
            select(
                LedgerAccount.kind,
                LedgerAccount.owner,
                LedgerAccount.shard,
                LedgerAccount.id,
                LedgerAccount.balance,
                LedgerAccount.allow_negative,
            ).where(_matching(set(net_rows)))
        )
    }
    for row in sorted(net_rows, key=lock_order):
        _, balance, allow_negative = current.get(row, (0, 0, allows_negative(row.kind)))
        if not allow_negative and balance + net_rows[row] < 0:
            raise InsufficientFunds(row.kind, row.owner, balance, -net_rows[row])
    ids = {row: found[0] for row, found in current.items()}
    if len(ids) < len(net_rows):
        ids.update(account_ids(session, net_rows.keys() - ids.keys(), now=now))
    for row, delta in net_rows.items():
        if delta:
            balance = current[row][1] if row in current else 0
            session.execute(
                update(LedgerAccount)
                .where(LedgerAccount.id == ids[row])
                .values(balance=balance + delta)
            )
    return ids


def account_ids(
    session: Session, rows: Iterable[AccountRow], *, now: datetime
) -> dict[AccountRow, int]:
    """Ids of the account rows, creating missing ones (race-free: ON CONFLICT DO NOTHING)."""
    wanted = {AccountRow(*row) for row in rows}
    found = _find_accounts(session, wanted)
    for row in wanted - found.keys():
        values = {
            "kind": row.kind,
            "owner": row.owner,
            "shard": row.shard,
            "allow_negative": allows_negative(row.kind),
            "balance": 0,
            "created_at": now,
        }
        insert_ignore(session, LedgerAccount, values, ["kind", "owner", "shard"])
    if len(found) < len(wanted):
        found = _find_accounts(session, wanted)
    return found


def _matching(rows: set[AccountRow]) -> ColumnElement[bool]:
    return or_(
        *(
            and_(
                LedgerAccount.kind == r.kind,
                LedgerAccount.owner == r.owner,
                LedgerAccount.shard == r.shard,
            )
            for r in rows
        )
    )


def _find_accounts(session: Session, rows: set[AccountRow]) -> dict[AccountRow, int]:
    found = session.execute(
        select(
            LedgerAccount.kind, LedgerAccount.owner, LedgerAccount.shard, LedgerAccount.id
        ).where(_matching(rows))
    )
    return {AccountRow(kind, owner, shard): account_id for kind, owner, shard, account_id in found}


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
    """The balance of one account (the sum of its shards' cached balances), in micro-dollars
    (0 when it has no entries yet)."""
    value = session.scalar(
        select(func.sum(LedgerAccount.balance)).where(
            LedgerAccount.kind == ref.kind, LedgerAccount.owner == ref.owner
        )
    )
    return int(value or 0)


def lock_balances(
    session: Session, refs: Sequence[AccountRef], *, now: datetime
) -> dict[AccountRef, int]:
    """Balances under row locks held to the end of the caller's transaction.

    Locks in ``lock_order``, as post() does, and must cover every account the caller's later
    post() touches that is locked ahead of it: a lock taken out of that order could deadlock.
    Not for sharded kinds: their balance has no one row to lock.
    """
    if any(ref[0] in SHARDED_KINDS for ref in refs):
        raise ValueError("lock_balances cannot lock a sharded account")
    wanted = {AccountRow(ref[0], ref[1], 0): AccountRef(*ref) for ref in refs}
    ids = {wanted[row]: row_id for row, row_id in account_ids(session, wanted, now=now).items()}
    # Byte-wise, like lock_order's string comparison (SQLite's BINARY is memcmp too).
    collation = "C" if is_postgresql(session) else "BINARY"
    locked = session.execute(
        select(LedgerAccount.id, LedgerAccount.balance)
        .where(LedgerAccount.id.in_(ids.values()))
        .order_by(LedgerAccount.kind.collate(collation), LedgerAccount.owner.collate(collation))
        .with_for_update()
    )
    by_id = {account_id: int(amount) for account_id, amount in locked}
    return {ref: by_id[account_id] for ref, account_id in ids.items()}


def balances(session: Session, owner: str) -> dict[str, int]:
    """Every balance an owner has, by account kind (``{"requester_available": 1_000_000, …}``)."""
    rows = session.execute(
        select(LedgerAccount.kind, func.sum(LedgerAccount.balance))
        .where(LedgerAccount.owner == owner)
        .group_by(LedgerAccount.kind)
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
