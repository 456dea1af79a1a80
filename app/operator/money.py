"""Operator-side money: platform settings and the ledger check."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

import payments
from app.core.db import read_only, transaction
from app.core.ids import new_id
from app.core.pagination import PageParams
from app.models import Account, Assignment, AssignmentStatus, IdempotencyKey, SettingsChange
from app.quality import settings as quality_settings
from payments.models import Payout
from payments.money import format_rate, format_usd, parse_rate

Settings = tuple[payments.PaymentSettings, quality_settings.Thresholds]


def marketplace_settings(
    session: Session,
) -> tuple[payments.PaymentSettings, quality_settings.Thresholds]:
    with read_only(session):
        return payments.read_payment_settings(session), quality_settings.current(session)


def shown(settings: Settings) -> dict[str, str]:
    """Every setting as the API writes it: the values the audit trail records."""
    money, quality = settings
    return {
        "platform_fee": format_rate(money.fee_ppm),
        "min_payout": format_usd(money.min_payout),
        "payout_hold_s": str(money.payout_hold_seconds),
        "benefit_of_doubt_below": repr(float(quality.benefit_of_doubt_below)),
        "qualification_retry_s": str(quality.qualification_retry_s),
    }


def update_settings(
    session: Session,
    *,
    actor: Account,
    now: datetime,
    platform_fee: str | None,
    min_payout: int | None,
    payout_hold_s: int | None,
    benefit_of_doubt_below: float | None,
    qualification_retry_s: int | None,
) -> tuple[payments.PaymentSettings, quality_settings.Thresholds]:
    with transaction(session):
        before = shown((payments.read_payment_settings(session), quality_settings.current(session)))
        money = payments.update_settings(
            session,
            now=now,
            fee_ppm=parse_rate(platform_fee) if platform_fee is not None else None,
            min_payout=min_payout,
            payout_hold_seconds=payout_hold_s,
        )
        quality = quality_settings.update(
            session,
            now=now,
            benefit_of_doubt_below=benefit_of_doubt_below,
            qualification_retry_s=qualification_retry_s,
        )
        after = shown((money, quality))
        for setting, value in after.items():
            if value != before[setting]:
                session.add(
                    SettingsChange(
                        id=new_id("set"),
                        actor_id=actor.id,
                        setting=setting,
                        old_value=before[setting],
                        new_value=value,
                        changed_at=now,
                    )
                )
    return money, quality


def settings_history(session: Session, page: PageParams) -> Sequence[tuple[SettingsChange, str]]:
    """Changes newest first, with the name of the operator who made each."""
    stmt = select(SettingsChange, Account.name).join(Account, Account.id == SettingsChange.actor_id)
    if page.after:
        stmt = stmt.where(SettingsChange.id < page.after)
    with read_only(session):
        rows = session.execute(stmt.order_by(SettingsChange.id.desc()).limit(page.limit + 1)).all()
    return [(change, name) for change, name in rows]


PAYOUT_FILTERS: dict[str, tuple[str, ...]] = {
    "open": ("requested", "pending"),
    "requested": ("requested",),
    "pending": ("pending",),
    "paid": ("paid",),
    "failed": ("failed",),
}
"""The payout queue's filters: ``open`` is every payout not settled yet."""


def payouts(
    session: Session, page: PageParams, status: str | None
) -> tuple[Sequence[tuple[Payout, str | None]], dict[str, int]]:
    """Payouts newest first (``page.limit + 1`` rows) with each worker's name, and how many
    payouts there are in each status."""
    stmt = select(Payout, Account.name).outerjoin(Account, Account.id == Payout.worker_ref)
    if status is not None:
        stmt = stmt.where(Payout.status.in_(PAYOUT_FILTERS[status]))
    if page.after:
        stmt = stmt.where(Payout.id < page.after)
    with read_only(session):
        rows = session.execute(stmt.order_by(Payout.id.desc()).limit(page.limit + 1)).all()
        counts = dict(
            session.execute(select(Payout.status, func.count()).group_by(Payout.status)).all()
        )
    every = dict.fromkeys(("requested", "pending", "paid", "failed"), 0)
    return [(p, name) for p, name in rows], {**every, **counts}


def _accepted_ids(session: Session) -> Sequence[str]:
    return session.scalars(
        select(Assignment.id).where(Assignment.status == AssignmentStatus.accepted)
    ).all()


def _one_response_per_key(session: Session) -> list[str]:
    """The unique constraint makes this hold; checking it keeps verify honest if it is dropped."""
    rows = session.execute(
        select(IdempotencyKey.account_id, IdempotencyKey.key, func.count())
        .group_by(IdempotencyKey.account_id, IdempotencyKey.key)
        .having(func.count() > 1)
    ).all()
    return [
        f"idempotency key {key!r} of {account} has {n} stored responses" for account, key, n in rows
    ]


def verify_ledger(session: Session) -> payments.VerifyReport:
    """Every money invariant, with the app's facts (accepted answers, stored responses)."""
    with read_only(session):
        return payments.verify(
            session, accepted=lambda: _accepted_ids(session), extra_checks=[_one_response_per_key]
        )
