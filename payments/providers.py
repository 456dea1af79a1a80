"""Payment (money in) and payout (money out) providers.

Both take an idempotency key and must honour it: the same key returns the first outcome again and
moves no more money. That is what lets settlement retry after a timeout or a crash without ever
paying twice. A provider that cannot tell what happened raises ProviderUnavailable; the caller
keeps the payout pending and asks again later with the same key.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal, Protocol, cast

import httpx

from payments.errors import PaymentDeclined, ProviderUnavailable
from payments.money import format_usd


@dataclass(frozen=True)
class PayoutOrder:
    idempotency_key: str
    payout_id: str
    worker_ref: str
    amount: int
    """In micro-dollars."""


Status = Literal["paid", "failed", "pending"]


@dataclass(frozen=True)
class PayoutResult:
    status: Status
    """``pending``: accepted but not final yet (the settler asks again later)."""
    provider_reference: str | None = None
    reason: str | None = None
    response: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ChargeOrder:
    idempotency_key: str
    payer_ref: str
    amount: int
    """In micro-dollars."""


class PayoutProvider(Protocol):
    name: str

    def pay(self, order: PayoutOrder) -> PayoutResult:
        """Send money out once per ``order.idempotency_key``; raise ProviderUnavailable if unsure."""
        ...


class PaymentProvider(Protocol):
    name: str

    def charge(self, order: ChargeOrder) -> str:
        """Take the money in once per key and return the provider's reference; raise PaymentDeclined."""
        ...


class EmbeddedPaymentProvider:
    """Embedded mode: accepts any positive amount (there is no real money to take)."""

    name = "embedded"

    def charge(self, order: ChargeOrder) -> str:
        if order.amount <= 0:
            raise PaymentDeclined("amount must be positive")
        return f"embedded:{order.idempotency_key}"


class EmbeddedPayoutProvider:
    """Embedded mode: every payout succeeds at once (idempotent trivially: nothing real moves)."""

    name = "embedded"

    def pay(self, order: PayoutOrder) -> PayoutResult:
        return PayoutResult("paid", provider_reference=f"embedded:{order.idempotency_key}")


# Statuses after which asking again may give another answer: rate limits, timeouts, and 409
# (Stripe's answer while a request with the same key is still being processed).
_RETRYABLE = {408, 409, 425, 429}


class HttpPayoutProvider:
    """POSTs each payout to a configured URL with an ``Idempotency-Key`` header.

    Request body: ``{"payout_id", "destination", "amount": "1.5", "currency": "USD"}``.
    Expected answer: 2xx with ``{"status": "paid" | "failed" | "pending", "id"?, "reason"?}``
    (202 without a status means pending). Other 4xx: a final failure, the money goes back.
    5xx, 408/409/425/429, timeouts and network errors: unknown, ProviderUnavailable.
    """

    name = "http"

    def __init__(
        self, url: str, *, client: httpx.Client | None = None, timeout: float = 10.0
    ) -> None:
        self.url = url
        self._client = client or httpx.Client(timeout=timeout, trust_env=False)

    def pay(self, order: PayoutOrder) -> PayoutResult:
        body = {
            "payout_id": order.payout_id,
            "destination": order.worker_ref,
            "amount": format_usd(order.amount),
            "currency": "USD",
        }
        try:
            response = self._client.post(
                self.url, json=body, headers={"Idempotency-Key": order.idempotency_key}
            )
        except httpx.HTTPError as exc:  # timeouts, connection errors: it may or may not have paid
            raise ProviderUnavailable(f"payout provider unreachable: {exc!r}") from exc
        return _result(response)

    def close(self) -> None:
        self._client.close()


def _result(response: httpx.Response) -> PayoutResult:
    code = response.status_code
    if code >= 500 or code in _RETRYABLE:
        raise ProviderUnavailable(f"payout provider answered {code}")
    data = _json(response)
    if code >= 400:
        return PayoutResult(
            "failed", reason=str(data.get("reason") or f"HTTP {code}")[:500], response=data
        )
    status = data.get("status") or ("pending" if code == 202 else "paid")
    if status not in ("paid", "failed", "pending"):
        raise ProviderUnavailable(f"payout provider answered an unknown status {status!r}")
    reference = data.get("id")
    reason = data.get("reason")
    return PayoutResult(
        cast(Status, status),
        provider_reference=None if reference is None else str(reference)[:255],
        reason=None if reason is None else str(reason)[:500],
        response=data,
    )


def _json(response: httpx.Response) -> dict[str, Any]:
    try:
        data = response.json()
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}
