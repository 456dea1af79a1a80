from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends

from app.auth.deps import Operator
from app.core.deps import SessionDep
from app.core.pagination import PageParams, next_cursor, page_params
from app.core.schemas import OutputModel, Timestamp
from app.operator import service as operator_service

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


@router.get("/stats")
def stats(_: Operator, session: SessionDep) -> dict[str, Any]:
    """Counts across the marketplace."""
    return operator_service.stats(session)
