from __future__ import annotations

from fastapi import APIRouter, Request, status
from fastapi.responses import JSONResponse

from app.answers import service as answer_service
from app.answers.schemas import AppealAnswerIn, AppealIn, BonusIn, BonusOut, RejectIn
from app.auth.deps import Requester, Worker
from app.core import idempotency
from app.core.deps import Now, SessionDep
from app.core.openapi import problems
from app.money.errors import InsufficientFunds
from app.work.errors import AssignmentClosed
from app.work.schemas import AssignmentOut

router = APIRouter(prefix="/v1/assignments", tags=["review"])

IdempotencyKey = idempotency.KeyHeader


@router.post(
    "/{assignment_id}/accept", response_model=AssignmentOut, responses=problems(AssignmentClosed)
)
def accept(
    assignment_id: str, requester: Requester, session: SessionDep, now: Now
) -> AssignmentOut:
    """Accept a submitted answer: final at once, and its reward is paid from the batch's escrow."""
    return AssignmentOut.of(answer_service.accept(session, requester, assignment_id, now=now))


@router.post(
    "/{assignment_id}/reject", response_model=AssignmentOut, responses=problems(AssignmentClosed)
)
def reject(
    assignment_id: str, body: RejectIn, requester: Requester, session: SessionDep, now: Now
) -> AssignmentOut:
    """Reject a submitted answer with a reason the worker sees; nothing is paid."""
    return AssignmentOut.of(
        answer_service.reject(session, requester, assignment_id, body.reason, now=now)
    )


@router.post(
    "/{assignment_id}/appeal", response_model=AssignmentOut, responses=problems(AssignmentClosed)
)
def appeal(
    assignment_id: str, body: AppealIn, worker: Worker, session: SessionDep, now: Now
) -> AssignmentOut:
    """Appeal a rejection, once, within the project's review window."""
    return AssignmentOut.of(
        answer_service.appeal(session, worker, assignment_id, body.message, now=now)
    )


@router.post(
    "/{assignment_id}/appeal/grant",
    response_model=AssignmentOut,
    responses=problems(AssignmentClosed),
)
def grant_appeal(
    assignment_id: str, body: AppealAnswerIn, requester: Requester, session: SessionDep, now: Now
) -> AssignmentOut:
    """Grant an appeal: the answer is accepted and paid."""
    return AssignmentOut.of(
        answer_service.resolve_appeal(
            session, requester, assignment_id, grant=True, reason=body.reason, now=now
        )
    )


@router.post(
    "/{assignment_id}/appeal/deny",
    response_model=AssignmentOut,
    responses=problems(AssignmentClosed),
)
def deny_appeal(
    assignment_id: str, body: AppealAnswerIn, requester: Requester, session: SessionDep, now: Now
) -> AssignmentOut:
    """Deny an appeal with a reason; the rejection stands."""
    return AssignmentOut.of(
        answer_service.resolve_appeal(
            session, requester, assignment_id, grant=False, reason=body.reason, now=now
        )
    )


@router.post(
    "/{assignment_id}/bonus",
    status_code=status.HTTP_201_CREATED,
    response_model=BonusOut,
    responses=problems(InsufficientFunds, AssignmentClosed),
)
def bonus(
    assignment_id: str,
    body: BonusIn,
    request: Request,
    requester: Requester,
    session: SessionDep,
    now: Now,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """Send the answer's worker a bonus from your available balance (the platform fee applies)."""

    def action() -> tuple[int, BonusOut]:
        row = answer_service.bonus(
            session, requester, assignment_id, body.amount, body.reason, now=now
        )
        return status.HTTP_201_CREATED, BonusOut(
            id=row.id,
            assignment_id=row.assignment_id,
            worker_id=row.worker_id,
            amount=row.amount_micros,
            reason=row.reason,
            created_at=row.created_at,
        )

    request_hash = idempotency.fingerprint("POST", request.url.path, body.model_dump())
    return idempotency.run_once(session, requester, idempotency_key, request_hash, action, now=now)
