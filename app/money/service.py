"""Money as the app sees it: balances, ledgers, deposits and payouts for accounts and batches.

The ledger itself lives in ``payments``; this module maps accounts and batches onto its
account references and owns the transaction of each use case.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

import payments
from app.core.db import read_only, transaction
from app.core.ids import new_id
from app.models import Account, Batch, Role
from app.money.errors import PayoutNotFound
from payments.accounts import AccountKind, TxKind
from payments.models import Escrow, LedgerAccount, LedgerEntry, LedgerTransaction, Payout

LEDGER_REFERENCE_LENGTH = 128
"""``payments`` ledger transactions' ``reference`` column is a varchar(128)."""


@dataclass(frozen=True)
class BatchMoney:
    escrowed: int
    spent: int
    refunded: int


def balance_of(session: Session, account: Account) -> dict[str, int]:
    """API.md's balance: a requester's available and escrowed, a worker's pending, available,
    paid out (all in micro-dollars)."""
    own = payments.balances(session, account.id)
    if account.role == Role.requester:
        escrowed = session.scalar(
            select(func.coalesce(func.sum(LedgerAccount.balance), 0))
            .join(Batch, Batch.id == LedgerAccount.owner)
            .where(
                LedgerAccount.kind == AccountKind.REQUESTER_ESCROW, Batch.requester_id == account.id
            )
        )
        return {
            "available": own.get(AccountKind.REQUESTER_AVAILABLE, 0),
            "escrowed": int(escrowed or 0),
        }
    if account.role == Role.worker:
        return {
            "pending": own.get(AccountKind.WORKER_PENDING, 0),
            "available": own.get(AccountKind.WORKER_AVAILABLE, 0),
            "in_flight": own.get(AccountKind.WORKER_IN_FLIGHT, 0),
            "paid_out": payments.paid_out(session, account.id),
        }
    return {}


def ledger_owners(session: Session, account: Account) -> list[str]:
    """A requester's ledger spans its own account and the escrow of each of its batches."""
    if account.role != Role.requester:
        return [account.id]
    batch_ids = session.scalars(select(Batch.id).where(Batch.requester_id == account.id)).all()
    return [account.id, *batch_ids]


def ledger_page(
    session: Session, account: Account, *, before_id: int | None, limit: int
) -> list[payments.EntryView]:
    return payments.entries(
        session, ledger_owners(session, account), before_id=before_id, limit=limit
    )


def deposit_reference(requester: Account, idempotency_key: str | None) -> str | None:
    """The ledger reference of a keyed deposit: the key itself when it fits the ledger's
    128-character reference, else its digest, so every key the API allows (255 characters)
    maps to one reference and a retry finds the first deposit."""
    if not idempotency_key:
        return None
    reference = f"{requester.id}:{idempotency_key}"
    if len(reference) <= LEDGER_REFERENCE_LENGTH:
        return reference
    return f"{requester.id}:sha256:{hashlib.sha256(idempotency_key.encode()).hexdigest()}"


def deposit(
    session: Session,
    provider: payments.PaymentProvider,
    requester: Account,
    amount: int,
    *,
    reference: str | None,
    now: datetime,
) -> payments.Posted:
    with transaction(session):
        return payments.deposit(
            session,
            provider,
            requester_ref=requester.id,
            amount=amount,
            reference=reference or new_id("dep"),
            now=now,
        )


def request_payout(
    session: Session,
    worker: Account,
    amount: int | None,
    *,
    idempotency_key: str | None,
    provider: str,
    now: datetime,
) -> Payout:
    with transaction(session):
        return payments.request_payout(
            session,
            worker_ref=worker.id,
            now=now,
            amount=amount,
            idempotency_key=idempotency_key,
            provider=provider,
        )


def get_payout(session: Session, worker: Account, payout_id: str) -> Payout:
    with read_only(session):
        payout = payments.get_payout(session, payout_id, worker_ref=worker.id)
    if payout is None:
        raise PayoutNotFound(f"No payout {payout_id} among yours.")
    return payout


def batch_money(session: Session, batch_id: str) -> BatchMoney:
    """What the batch's escrow took in, paid out (rewards and fees) and gave back."""
    escrowed = session.scalar(select(Escrow.amount).where(Escrow.batch_ref == batch_id)) or 0
    moved = session.execute(
        select(
            func.coalesce(
                func.sum(
                    case((LedgerTransaction.kind == TxKind.REWARD, -LedgerEntry.amount), else_=0)
                ),
                0,
            ),
            func.coalesce(
                func.sum(
                    case((LedgerTransaction.kind == TxKind.REFUND, -LedgerEntry.amount), else_=0)
                ),
                0,
            ),
        )
        .join(LedgerAccount, LedgerAccount.id == LedgerEntry.account_id)
        .join(LedgerTransaction, LedgerTransaction.id == LedgerEntry.transaction_id)
        .where(LedgerAccount.kind == AccountKind.REQUESTER_ESCROW, LedgerAccount.owner == batch_id)
    ).one()
    return BatchMoney(escrowed=int(escrowed), spent=int(moved[0]), refunded=int(moved[1]))
