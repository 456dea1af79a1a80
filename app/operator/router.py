from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends

import payments
from app.auth.deps import Operator
from app.core.deps import Now, SessionDep
from app.core.pagination import PageParams, next_cursor, page_params
from app.core.schemas import OutputModel, Timestamp
from app.operator import money as operator_money
from app.operator import service as operator_service
from app.operator.schemas import SettingsOut, SettingsPatch, VerifyOut
from payments.money import format_rate

router = APIRouter(prefix="/v1/admin", tags=["operator"])


class WorkerRow(OutputModel):
    id: str
    name: str
    created_at: Timestamp
    answers: int
    accepted: int


class WorkerPage(OutputModel):
    items: list[WorkerRow]
    next_cursor: str | None


@router.get("/workers", response_model=WorkerPage)
def list_workers(
    _: Operator, session: SessionDep, page: Annotated[PageParams, Depends(page_params)]
) -> WorkerPage:
    """Workers with their answer counts."""
    rows = operator_service.workers(session, page)
    items = [
        WorkerRow(id=a.id, name=a.name, created_at=a.created_at, answers=n, accepted=k)
        for a, n, k in rows[: page.limit]
    ]
    return WorkerPage(items=items, next_cursor=next_cursor([a.id for a, _, _ in rows], page.limit))


def settings_out(settings: payments.PaymentSettings) -> SettingsOut:
    return SettingsOut(platform_fee=format_rate(settings.fee_ppm), min_payout=settings.min_payout,
                       payout_hold_s=settings.payout_hold_seconds)


@router.get("/settings", response_model=SettingsOut)
def get_settings(_: Operator, session: SessionDep) -> SettingsOut:
    """Platform fee, minimum payout and payout hold."""
    return settings_out(operator_money.get_settings(session))


@router.patch("/settings", response_model=SettingsOut)
def patch_settings(body: SettingsPatch, _: Operator, session: SessionDep, now: Now) -> SettingsOut:
    """Change settings; the fee of a batch is fixed when it launches, so only later launches see it."""
    return settings_out(operator_money.update_settings(
        session, now=now, platform_fee=body.platform_fee, min_payout=body.min_payout, payout_hold_s=body.payout_hold_s,
    ))


@router.get("/ledger/verify", response_model=VerifyOut)
def verify_ledger(_: Operator, session: SessionDep) -> VerifyOut:
    """Check every ledger invariant; `ok` is false with the violations listed when one breaks."""
    report = operator_money.verify_ledger(session)
    return VerifyOut(ok=report.ok, accounts=report.accounts, total=report.total, violations=report.violations)


@router.get("/stats")
def stats(_: Operator, session: SessionDep) -> dict[str, Any]:
    """Counts across the marketplace."""
    return operator_service.stats(session)
