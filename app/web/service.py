"""What the web app reads before it draws anything."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from app.core.db import transaction
from payments import settings as payment_settings
from payments.money import format_usd


def web_config(session: Session) -> dict[str, Any]:
    with transaction(session):
        payments = payment_settings.read_payment_settings(session)
    return {"min_payout": format_usd(payments.min_payout)}
