from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, status
from fastapi.responses import JSONResponse

from app.auth.deps import AnyAccount, Requester, Worker
from app.core import idempotency
from app.core.deps import Now, SessionDep, SettingsDep
from app.core.openapi import problems
from app.money import service as money_service
from app.money.errors import (
    BelowMinimumPayout,
    InsufficientFunds,
    PaymentDeclined,
    PaymentProviderUnavailable,
)
from app.money.providers import payment_provider, payout_provider_name
from app.money.schemas import DepositIn, DepositOut, LedgerEntryOut, LedgerPage, PayoutIn, PayoutOut
from payments.models import Payout

router = APIRouter(prefix="/v1", tags=["money"])

IdempotencyKey = idempotency.KeyHeader


def payout_out(payout: Payout) -> PayoutOut:
    # "requested" (intent recorded, provider not called yet) is "pending" to the worker.
    shown = "pending" if payout.status == "requested" else payout.status
    return PayoutOut(
        id=payout.id,
        amount=payout.amount,
        status=shown,
        failure_reason=payout.failure_reason,
        created_at=payout.created_at,
        settled_at=payout.settled_at,
    )


@router.post(
    "/deposits",
    status_code=status.HTTP_201_CREATED,
    response_model=DepositOut,
    responses=problems(PaymentDeclined, PaymentProviderUnavailable),
)
def create_deposit(
    body: DepositIn,
    request: Request,
    requester: Requester,
    session: SessionDep,
    now: Now,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """Add funds to the requester's available balance (Idempotency-Key honoured)."""
    reference = money_service.deposit_reference(requester, idempotency_key)

    def action() -> tuple[int, DepositOut]:
        posted = money_service.deposit(
            session, payment_provider(), requester, body.amount, reference=reference, now=now
        )
        balance = money_service.balance_of(session, requester)
        return status.HTTP_201_CREATED, DepositOut(
            id=posted.transaction_id, amount=body.amount, balance=balance
        )

    request_hash = idempotency.fingerprint("POST", request.url.path, {"amount": body.amount})
    return idempotency.run_once(session, requester, idempotency_key, request_hash, action, now=now)


@router.get("/me/ledger", response_model=LedgerPage)
def my_ledger(
    account: AnyAccount,
    session: SessionDep,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    cursor: Annotated[
        str | None,
        Query(pattern=r"^[0-9]{1,18}$", description="The `next_cursor` of the previous page."),
    ] = None,
) -> LedgerPage:
    """The caller's ledger entries, newest first (a requester's include its batches' escrow)."""
    rows = money_service.ledger_page(
        session, account, before_id=int(cursor) if cursor else None, limit=limit + 1
    )
    items = [
        LedgerEntryOut(
            id=e.id,
            transaction_id=e.transaction_id,
            kind=e.kind,
            reference=e.reference,
            account=e.account_kind,
            owner=e.owner,
            amount=e.amount,
            created_at=e.created_at,
        )
        for e in rows[:limit]
    ]
    return LedgerPage(
        items=items, next_cursor=str(rows[limit - 1].id) if len(rows) > limit else None
    )


@router.post(
    "/payouts",
    status_code=status.HTTP_201_CREATED,
    response_model=PayoutOut,
    responses=problems(InsufficientFunds, BelowMinimumPayout),
)
def create_payout(
    request: Request,
    worker: Worker,
    session: SessionDep,
    now: Now,
    settings: SettingsDep,
    body: PayoutIn | None = None,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """Withdraw available earnings (all of them without an amount); sent by the payout reconciler."""
    amount = body.amount if body else None

    def action() -> tuple[int, PayoutOut]:
        payout = money_service.request_payout(
            session,
            worker,
            amount,
            idempotency_key=idempotency_key,
            provider=payout_provider_name(settings),
            now=now,
        )
        return status.HTTP_201_CREATED, payout_out(payout)

    request_hash = idempotency.fingerprint("POST", request.url.path, {"amount": amount})
    return idempotency.run_once(session, worker, idempotency_key, request_hash, action, now=now)


@router.get("/payouts/{payout_id}", response_model=PayoutOut)
def get_payout(payout_id: str, worker: Worker, session: SessionDep) -> PayoutOut:
    """A payout's status: pending, then paid or failed (failed returns the money)."""
    return payout_out(money_service.get_payout(session, worker, payout_id))
