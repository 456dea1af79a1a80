"""Money over time, for the operator's figures: what moved, by kind, in a window.

Each flow is one ledger entry seen from the side that names it: ``spend`` is what left
requesters for rewards and bonuses (fee included), ``fees`` what the platform kept, ``refunds``
what escrow gave back, ``deposits`` what came in, ``payouts_paid`` what left to workers' banks,
``payouts_failed`` what came back from a failed payout.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from payments.accounts import AccountKind, TxKind
from payments.models import LedgerAccount, LedgerEntry, LedgerTransaction

FLOWS = ("spend", "fees", "refunds", "deposits", "payouts_paid", "payouts_failed")

# (flow, transaction kind, account kind, sign of the entry that counts)
_RULES = (
    ("spend", TxKind.REWARD, AccountKind.REQUESTER_ESCROW, -1),
    ("spend", TxKind.BONUS, AccountKind.REQUESTER_AVAILABLE, -1),
    ("fees", TxKind.REWARD, AccountKind.PLATFORM_FEES, 1),
    ("fees", TxKind.BONUS, AccountKind.PLATFORM_FEES, 1),
    ("refunds", TxKind.REFUND, AccountKind.REQUESTER_AVAILABLE, 1),
    ("deposits", TxKind.DEPOSIT, AccountKind.REQUESTER_AVAILABLE, 1),
    ("payouts_paid", TxKind.PAYOUT_PAID, AccountKind.WORLD, 1),
    ("payouts_failed", TxKind.PAYOUT_FAILED, AccountKind.WORKER_AVAILABLE, 1),
)


@dataclass(frozen=True)
class Flow:
    at: datetime
    flow: str
    amount: int
    """Micro-dollars, positive."""


def flows(session: Session, since: datetime, until: datetime) -> Iterator[Flow]:
    """Every counted money movement with ``since <= created_at < until``, oldest first."""
    match = or_(
        *(
            and_(LedgerTransaction.kind == tx, LedgerAccount.kind == account)
            for _, tx, account, _ in _RULES
        )
    )
    rows = session.execute(
        select(
            LedgerTransaction.created_at,
            LedgerTransaction.kind,
            LedgerAccount.kind,
            LedgerEntry.amount,
        )
        .join(LedgerEntry, LedgerEntry.transaction_id == LedgerTransaction.id)
        .join(LedgerAccount, LedgerAccount.id == LedgerEntry.account_id)
        .where(LedgerTransaction.created_at >= since, LedgerTransaction.created_at < until, match)
        .order_by(LedgerTransaction.created_at)
    )
    rules = {(str(tx), str(account)): (flow, sign) for flow, tx, account, sign in _RULES}
    for at, tx_kind, account_kind, amount in rows:
        flow, sign = rules[(tx_kind, account_kind)]
        if amount * sign > 0:
            yield Flow(at, flow, abs(int(amount)))
