"""The operator's money knobs, as data in the database (not process settings)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from payments.errors import InvalidAmount
from payments.ledger import insert_ignore
from payments.models import PlatformSettings
from payments.money import PPM

DEFAULT_FEE_PPM = (
    100_000  # 10% of each reward or bonus, the same rate however many answers a task gets
)
DEFAULT_MIN_PAYOUT = 1_000_000  # one dollar
DEFAULT_PAYOUT_HOLD_SECONDS = 86_400  # a day to catch fraud before earnings can leave


@dataclass(frozen=True)
class PaymentSettings:
    fee_ppm: int
    """Platform fee in parts per million; the API shows it as a fraction string."""
    min_payout: int
    """In micro-dollars."""
    payout_hold_seconds: int


DEFAULTS = PaymentSettings(DEFAULT_FEE_PPM, DEFAULT_MIN_PAYOUT, DEFAULT_PAYOUT_HOLD_SECONDS)


def read_payment_settings(session: Session) -> PaymentSettings:
    row = session.get(PlatformSettings, 1, populate_existing=True)
    if row is None:
        return DEFAULTS
    return PaymentSettings(row.fee_ppm, row.min_payout, row.payout_hold_seconds)


def update_settings(
    session: Session,
    *,
    now: datetime,
    fee_ppm: int | None = None,
    min_payout: int | None = None,
    payout_hold_seconds: int | None = None,
) -> PaymentSettings:
    """Change some knobs; a batch already launched keeps the fee it launched with. Only flushes."""
    if fee_ppm is not None and not 0 <= fee_ppm < PPM:
        raise InvalidAmount("platform fee must be at least 0 and below 1")
    if min_payout is not None and min_payout <= 0:
        raise InvalidAmount("minimum payout must be positive")
    if payout_hold_seconds is not None and payout_hold_seconds < 0:
        raise InvalidAmount("payout hold must not be negative")
    defaults = {
        "id": 1,
        "fee_ppm": DEFAULTS.fee_ppm,
        "min_payout": DEFAULTS.min_payout,
        "payout_hold_seconds": DEFAULTS.payout_hold_seconds,
        "updated_at": now,
    }
    insert_ignore(session, PlatformSettings, defaults, ["id"])
    row = session.get_one(PlatformSettings, 1, with_for_update=True, populate_existing=True)
    if fee_ppm is not None:
        row.fee_ppm = fee_ppm
    if min_payout is not None:
        row.min_payout = min_payout
    if payout_hold_seconds is not None:
        row.payout_hold_seconds = payout_hold_seconds
    row.updated_at = now
    session.flush()
    return PaymentSettings(row.fee_ppm, row.min_payout, row.payout_hold_seconds)
