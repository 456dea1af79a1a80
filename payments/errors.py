"""Errors raised by ``payments``: plain exceptions, no HTTP. The app maps them to problems.

Hierarchy::

    PaymentsError
    ├── InsufficientFunds        a no-negative account would go below zero (app: 402)
    ├── BelowMinimumPayout       a payout under the operator's minimum (app: 422)
    ├── InvalidAmount            zero, negative or out-of-range amount or rate (app: 422)
    ├── IdempotencyConflict      a payout key reused with a different amount (app: 409)
    ├── UnknownEscrow            paying from a batch that was never launched (app: 409)
    ├── PaymentDeclined          the payment provider refused a deposit (app: 402)
    ├── ProviderUnavailable      a provider timed out or failed transiently; outcome unknown (app: 503)
    └── LedgerError              a bug in the caller, never the user's fault (app: 500)
        ├── UnbalancedTransaction    entries do not sum to zero
        └── DuplicateTransaction     (kind, reference) reused for a different movement
"""

from __future__ import annotations


class PaymentsError(Exception):
    """Base class of every error raised by ``payments``."""


class InsufficientFunds(PaymentsError):
    """A posting would take an account that may not go negative below zero."""

    def __init__(self, account_kind: str, owner: str, balance: int, needed: int) -> None:
        self.account_kind, self.owner, self.balance, self.needed = (
            account_kind,
            owner,
            balance,
            needed,
        )
        super().__init__(
            f"{account_kind} of {owner} holds {balance} micro-dollars, {needed} needed"
        )


class BelowMinimumPayout(PaymentsError):
    def __init__(self, amount: int, minimum: int) -> None:
        self.amount, self.minimum = amount, minimum
        super().__init__(f"payout of {amount} micro-dollars is below the minimum of {minimum}")


class InvalidAmount(PaymentsError):
    pass


class IdempotencyConflict(PaymentsError):
    pass


class UnknownEscrow(PaymentsError):
    pass


class PaymentDeclined(PaymentsError):
    pass


class ProviderUnavailable(PaymentsError):
    """The provider did not answer usefully; the operation may or may not have happened."""


class LedgerError(PaymentsError):
    pass


class UnbalancedTransaction(LedgerError):
    pass


class DuplicateTransaction(LedgerError):
    pass
