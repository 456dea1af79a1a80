"""Money problems, in the user's words: amounts in dollars, balances by what they are to the
user ("your available balance"), never a ledger account's internal name.

``payments`` raises plain exceptions that carry the ledger's figures; ``problem_for`` turns each
into the problem below. Each problem is built from those figures and words its own detail.
"""

from __future__ import annotations

import logging

import payments
from app.core.errors import (
    Conflict,
    InternalError,
    NotFound,
    PaymentRequired,
    ProblemError,
    ServiceUnavailable,
    Unprocessable,
)
from app.core.idempotency import IdempotencyKeyReused
from payments.accounts import AccountKind
from payments.money import format_usd

log = logging.getLogger("tessera.money")


def dollars(micros: int) -> str:
    """Micro-dollars as a reader writes dollars: "$0.00", "$5.00", "$0.0642" (cents at least)."""
    whole, _, fraction = format_usd(micros).partition(".")
    return f"${whole}.{fraction.ljust(2, '0')}"


_BALANCE_WORDS = {
    AccountKind.REQUESTER_AVAILABLE: "your available balance",
    AccountKind.REQUESTER_ESCROW: "the batch's escrow",
    AccountKind.WORKER_AVAILABLE: "your available balance",
    AccountKind.WORKER_PENDING: "your pending earnings",
}


class InsufficientFunds(PaymentRequired):
    type, title = "insufficient-funds", "Insufficient funds"

    def __init__(self, account_kind: str, balance: int, needed: int) -> None:
        kind = AccountKind(account_kind)
        where = _BALANCE_WORDS.get(kind, "the balance").capitalize()
        # Only a payout draws on a worker's available balance; the requester's pays for
        # launches and bonuses alike, so it says what is needed without naming the call.
        need = (
            f"this payout needs {dollars(needed)}"
            if kind == AccountKind.WORKER_AVAILABLE
            else f"{dollars(needed)} is needed"
        )
        super().__init__(f"{where} is {dollars(balance)}; {need}.")


class PaymentDeclined(PaymentRequired):
    type, title = "payment-declined", "The payment was declined"

    def __init__(self, reason: str) -> None:
        super().__init__(f"The payment provider declined the deposit: {reason}.")


class BelowMinimumPayout(Unprocessable):
    type, title = "below-minimum-payout", "Below the minimum payout"

    def __init__(self, amount: int, minimum: int) -> None:
        super().__init__(
            f"A payout must be at least {dollars(minimum)}; this one would be {dollars(amount)}."
        )


class InvalidAmount(Unprocessable):
    type, title = "invalid-amount", "The amount is not valid"


class BatchNotLaunched(Conflict):
    type, title = "batch-not-launched", "The batch has not been launched"


class PaymentProviderUnavailable(ServiceUnavailable):
    type, title = "provider-unavailable", "The payment provider is unavailable"


def problem_for(exc: Exception) -> ProblemError:
    """A payments error as the user's problem; ledger bugs (unbalanced, duplicate) stay 500s."""
    if isinstance(exc, payments.InsufficientFunds):
        return InsufficientFunds(exc.account_kind, exc.balance, exc.needed)
    if isinstance(exc, payments.BelowMinimumPayout):
        return BelowMinimumPayout(exc.amount, exc.minimum)
    if isinstance(exc, payments.PaymentDeclined):
        return PaymentDeclined(str(exc))
    if isinstance(exc, payments.InvalidAmount):
        return InvalidAmount(f"{str(exc)[:1].upper()}{str(exc)[1:]}.")
    if isinstance(exc, payments.IdempotencyConflict):
        return IdempotencyKeyReused(f"{str(exc)[:1].upper()}{str(exc)[1:]}.")
    if isinstance(exc, payments.UnknownEscrow):
        return BatchNotLaunched(
            "The batch has not been launched, so it holds no escrow to pay from."
        )
    if isinstance(exc, payments.ProviderUnavailable):
        return PaymentProviderUnavailable("The payment provider did not answer; retry later.")
    log.error("ledger error: %s", exc)
    return InternalError()


class PayoutNotFound(NotFound):
    type, title = "payout-not-found", "Payout not found"
