"""Which payment and payout providers this deployment uses, chosen by settings."""

from __future__ import annotations

from app.core.config import Settings
from payments import (
    EmbeddedPaymentProvider,
    EmbeddedPayoutProvider,
    HttpPayoutProvider,
    PaymentProvider,
    PayoutProvider,
)


def payment_provider() -> PaymentProvider:
    # The embedded provider accepts any positive amount: deposits in embedded mode are a
    # bookkeeping entry, as the contract (API.md) says. A card processor plugs in here.
    return EmbeddedPaymentProvider()


def payout_provider(settings: Settings) -> PayoutProvider:
    if settings.payout_provider_url:
        return HttpPayoutProvider(settings.payout_provider_url, timeout=settings.payout_timeout_s)
    return EmbeddedPayoutProvider()


def payout_provider_name(settings: Settings) -> str:
    return "http" if settings.payout_provider_url else "embedded"
