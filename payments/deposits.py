"""Deposits: a requester's money comes in through a payment provider."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from payments import accounts as acct
from payments.accounts import TxKind
from payments.errors import InvalidAmount
from payments.ledger import Posted, post
from payments.models import LedgerTransaction
from payments.money import MAX_MICROS
from payments.providers import ChargeOrder, PaymentProvider


def deposit(
    session: Session,
    provider: PaymentProvider,
    *,
    requester_ref: str,
    amount: int,
    reference: str,
    now: datetime,
) -> Posted:
    """Charge ``amount`` through ``provider`` and credit the requester's available balance.

    ``reference`` names this deposit (the app passes a new id, or one derived from the request's
    Idempotency-Key): the same reference charges with the same provider key and posts once.
    Only flushes. Raises InvalidAmount, PaymentDeclined (402), ProviderUnavailable (503).
    """
    if not 0 < amount <= MAX_MICROS:
        raise InvalidAmount("a deposit must be positive")
    entries = [(acct.world(), -amount), (acct.requester_available(requester_ref), amount)]
    seen = session.scalar(
        select(LedgerTransaction.id).where(
            LedgerTransaction.kind == TxKind.DEPOSIT, LedgerTransaction.reference == reference
        )
    )
    if seen is None:
        # The provider dedupes on the key, so a retry after a crash between this call and the
        # commit charges once and posts then.
        provider.charge(ChargeOrder(f"tessera:deposit:{reference}", requester_ref, amount))
    return post(session, TxKind.DEPOSIT, reference, entries, now=now)
