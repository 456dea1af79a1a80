from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query
from sqlalchemy.orm import Session

import payments
from app.auth.deps import Operator
from app.core.deps import Now, SessionDep
from app.core.pagination import PageParams, next_cursor, page_params
from app.core.schemas import DateTimeIn
from app.operator import money as operator_money
from app.operator import service as operator_service
from app.operator import stats as operator_stats
from app.operator.schemas import (
    AdminPayoutOut,
    AdminPayoutPage,
    BanIn,
    ProjectSkill,
    SettingsChangeOut,
    SettingsHistoryPage,
    SettingsOut,
    SettingsPatch,
    StatsOut,
    UnbanIn,
    VerifyOut,
    WorkerPage,
    WorkerRow,
)
from app.quality.settings import Thresholds
from payments.money import format_rate

router = APIRouter(prefix="/v1/admin", tags=["operator"])


@router.get("/workers", response_model=WorkerPage)
def list_workers(
    _: Operator, session: SessionDep, page: Annotated[PageParams, Depends(page_params)]
) -> WorkerPage:
    """Workers with their answer counts."""
    rows = operator_service.workers(session, page)
    shown = rows[: page.limit]
    skills = operator_service.skills_by_worker(session, [a.id for a, _, _ in shown])
    items = [
        WorkerRow(
            id=a.id,
            name=a.name,
            created_at=a.created_at,
            answers=n,
            accepted=k,
            earnings=operator_service.earnings(session, a.id),
            banned=a.banned_at is not None,
            ban_reason=a.ban_reason,
            projects=[ProjectSkill(**s) for s in skills.get(a.id, [])],
        )
        for a, n, k in shown
    ]
    return WorkerPage(items=items, next_cursor=next_cursor([a.id for a, _, _ in rows], page.limit))


def settings_out(settings: tuple[payments.PaymentSettings, Thresholds]) -> SettingsOut:
    money, quality = settings
    return SettingsOut(
        platform_fee=format_rate(money.fee_ppm),
        min_payout=money.min_payout,
        payout_hold_s=money.payout_hold_seconds,
        benefit_of_doubt_below=quality.benefit_of_doubt_below,
        qualification_retry_s=quality.qualification_retry_s,
    )


@router.get("/settings", response_model=SettingsOut)
def read_settings(_: Operator, session: SessionDep) -> SettingsOut:
    """Platform fee, minimum payout and payout hold."""
    return settings_out(operator_money.marketplace_settings(session))


@router.patch("/settings", response_model=SettingsOut)
def patch_settings(
    body: SettingsPatch, operator: Operator, session: SessionDep, now: Now
) -> SettingsOut:
    """Change settings; the fee of a batch is fixed when it launches, so only later launches see it.
    Each changed value is recorded in the audit trail (`/v1/admin/settings/history`)."""
    return settings_out(
        operator_money.update_settings(
            session,
            actor=operator,
            now=now,
            platform_fee=body.platform_fee,
            min_payout=body.min_payout,
            payout_hold_s=body.payout_hold_s,
            benefit_of_doubt_below=body.benefit_of_doubt_below,
            qualification_retry_s=body.qualification_retry_s,
        )
    )


@router.get("/ledger/verify", response_model=VerifyOut)
def verify_ledger(_: Operator, session: SessionDep) -> VerifyOut:
    """Check every ledger invariant; `ok` is false with the violations listed when one breaks."""
    report = operator_money.verify_ledger(session)
    return VerifyOut(
        ok=report.ok, accounts=report.accounts, total=report.total, violations=report.violations
    )


@router.post("/workers/{worker_id}/ban", response_model=WorkerRow)
def ban_worker(
    worker_id: str, body: BanIn, _: Operator, session: SessionDep, now: Now
) -> WorkerRow:
    """Ban a worker on one project or everywhere; open leases are released and unfinished
    tasks collect replacement answers."""
    operator_service.ban(session, worker_id, body.reason, body.project_id, now=now)
    return _worker_row(session, worker_id)


@router.post("/workers/{worker_id}/unban", response_model=WorkerRow)
def unban_worker(
    worker_id: str, _: Operator, session: SessionDep, body: UnbanIn | None = None
) -> WorkerRow:
    """Lift a ban (on one project, or every ban of the worker)."""
    operator_service.unban(session, worker_id, body.project_id if body else None)
    return _worker_row(session, worker_id)


def _worker_row(session: Session, worker_id: str) -> WorkerRow:
    account, answers, accepted = operator_service.worker(session, worker_id)
    skills = operator_service.skills_by_worker(session, [worker_id]).get(worker_id, [])
    return WorkerRow(
        id=account.id,
        name=account.name,
        created_at=account.created_at,
        answers=answers,
        accepted=accepted,
        earnings=operator_service.earnings(session, account.id),
        banned=account.banned_at is not None,
        ban_reason=account.ban_reason,
        projects=[ProjectSkill(**s) for s in skills],
    )


@router.get("/stats", response_model=StatsOut)
def stats(
    _: Operator,
    session: SessionDep,
    now: Now,
    window_s: Annotated[
        int, Query(ge=60, le=operator_stats.MAX_WINDOW_S, description="The window, in seconds.")
    ] = 86_400,
    bucket_s: Annotated[
        int | None,
        Query(
            ge=60, le=operator_stats.MAX_WINDOW_S, description="One point per this many seconds."
        ),
    ] = None,
    until: Annotated[
        DateTimeIn | None, Query(description="End of the window; now if omitted.")
    ] = None,
) -> StatsOut:
    """Counts of everything now, and the market over a window ending `until`: answers and
    leases per minute, spend, fee income, refunds, deposits, payouts sent and failed, average
    confidence of completed tasks and the rejection rate, in totals and per bucket."""
    end = now if until is None else _aware(until)
    figures = operator_stats.market(session, until=end, window_s=window_s, bucket_s=bucket_s)
    return StatsOut(**operator_stats.marketplace_counts(session), **figures)


def _aware(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


PayoutFilter = Literal["open", "requested", "pending", "paid", "failed"]


@router.get("/payouts", response_model=AdminPayoutPage)
def list_payouts(
    _: Operator,
    session: SessionDep,
    page: Annotated[PageParams, Depends(page_params)],
    status: Annotated[
        PayoutFilter | None,
        Query(description="Only payouts in this status; `open` is requested and pending."),
    ] = None,
) -> AdminPayoutPage:
    """The payout queue: every worker's payouts, newest first, with how many there are in each
    status; failed ones say why (their money went back to the worker's available balance)."""
    rows, counts = operator_money.payouts(session, page, status)
    items = [
        AdminPayoutOut(
            id=p.id,
            worker_id=p.worker_ref,
            worker_name=name,
            amount=p.amount,
            status=p.status,
            provider=p.provider,
            attempts=p.attempts,
            failure_reason=p.failure_reason,
            created_at=p.created_at,
            next_attempt_at=p.next_attempt_at if p.status in ("requested", "pending") else None,
            settled_at=p.settled_at,
        )
        for p, name in rows[: page.limit]
    ]
    return AdminPayoutPage(
        items=items, next_cursor=next_cursor([p.id for p, _ in rows], page.limit), counts=counts
    )


@router.get("/settings/history", response_model=SettingsHistoryPage)
def settings_history(
    _: Operator, session: SessionDep, page: Annotated[PageParams, Depends(page_params)]
) -> SettingsHistoryPage:
    """The audit trail of settings: who changed which setting, when, from what to what;
    newest first."""
    rows = operator_money.settings_history(session, page)
    items = [
        SettingsChangeOut(
            id=c.id,
            setting=c.setting,
            old_value=c.old_value,
            new_value=c.new_value,
            changed_at=c.changed_at,
            actor_id=c.actor_id,
            actor_name=name,
        )
        for c, name in rows[: page.limit]
    ]
    return SettingsHistoryPage(
        items=items, next_cursor=next_cursor([c.id for c, _ in rows], page.limit)
    )
