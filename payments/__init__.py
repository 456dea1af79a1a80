"""Tessera's money: a double-entry ledger, escrow, rewards, fees, bonuses, refunds and payouts.

Knows nothing of HTTP or of ``app``; refers to app objects by their ID strings. Amounts are
integer micro-dollars (``payments.money``). Functions that take a session only flush, except
the settlement functions in ``payments.payouts``, which commit between their steps.
"""

from payments.accounts import AccountKind, AccountRef, TxKind
from payments.deposits import deposit
from payments.errors import (
    BelowMinimumPayout,
    DuplicateTransaction,
    IdempotencyConflict,
    InsufficientFunds,
    InvalidAmount,
    LedgerError,
    PaymentDeclined,
    PaymentsError,
    ProviderUnavailable,
    UnbalancedTransaction,
    UnknownEscrow,
)
from payments.ledger import EntryView, Posted, balance, balances, entries, post
from payments.models import metadata
from payments.payouts import (
    due_elsewhere,
    get_payout,
    paid_out,
    request_payout,
    settle_due_payouts,
    settle_payout,
)
from payments.pricing import (
    EscrowCost,
    escrow_cost,
    launch_escrow,
    pay_accepted,
    pay_bonus,
    refund_escrow,
    release_due_holds,
)
from payments.providers import (
    EmbeddedPaymentProvider,
    EmbeddedPayoutProvider,
    HttpPayoutProvider,
    PaymentProvider,
    PayoutProvider,
)
from payments.reports import FLOWS, Flow, flows
from payments.settings import PaymentSettings, read_payment_settings, update_settings
from payments.verify import VerifyReport, verify

__all__ = [
    "FLOWS",
    "AccountKind",
    "AccountRef",
    "BelowMinimumPayout",
    "DuplicateTransaction",
    "EmbeddedPaymentProvider",
    "EmbeddedPayoutProvider",
    "EntryView",
    "EscrowCost",
    "Flow",
    "HttpPayoutProvider",
    "IdempotencyConflict",
    "InsufficientFunds",
    "InvalidAmount",
    "LedgerError",
    "PaymentDeclined",
    "PaymentProvider",
    "PaymentSettings",
    "PaymentsError",
    "PayoutProvider",
    "Posted",
    "ProviderUnavailable",
    "TxKind",
    "UnbalancedTransaction",
    "UnknownEscrow",
    "VerifyReport",
    "balance",
    "balances",
    "deposit",
    "due_elsewhere",
    "entries",
    "escrow_cost",
    "flows",
    "get_payout",
    "launch_escrow",
    "metadata",
    "paid_out",
    "pay_accepted",
    "pay_bonus",
    "post",
    "read_payment_settings",
    "refund_escrow",
    "release_due_holds",
    "request_payout",
    "settle_due_payouts",
    "settle_payout",
    "update_settings",
    "verify",
]
