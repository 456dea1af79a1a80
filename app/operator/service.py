"""What operators see across the marketplace."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.core.db import transaction
from app.core.pagination import PageParams
from app.models import (
    Account,
    Assignment,
    AssignmentStatus,
    Project,
    Role,
    WorkerSkill,
)
from app.money import service as money_service
from app.operator.errors import WorkerNotFound
from app.projects.errors import ProjectNotFound
from app.quality import service as quality_service
from app.quality.skills import describe

ANSWERED = (AssignmentStatus.submitted, AssignmentStatus.accepted, AssignmentStatus.rejected)


def workers(session: Session, page: PageParams) -> Sequence[tuple[Account, int, int]]:
    """Workers, newest first, with answers given and answers accepted."""
    answers = (
        select(
            Assignment.worker_id,
            func.count().filter(Assignment.status.in_(ANSWERED)).label("answers"),
            func.count().filter(Assignment.status == AssignmentStatus.accepted).label("accepted"),
        )
        .group_by(Assignment.worker_id)
        .subquery()
    )
    stmt = (
        select(Account, func.coalesce(answers.c.answers, 0), func.coalesce(answers.c.accepted, 0))
        .outerjoin(answers, answers.c.worker_id == Account.id)
        .where(Account.role == Role.worker)
    )
    if page.after:
        stmt = stmt.where(Account.id < page.after)
    rows = session.execute(stmt.order_by(Account.id.desc()).limit(page.limit + 1)).all()
    return [(a, int(n), int(k)) for a, n, k in rows]


def worker(session: Session, worker_id: str) -> tuple[Account, int, int]:
    answers = func.count().filter(Assignment.status.in_(ANSWERED))
    accepted = func.count().filter(Assignment.status == AssignmentStatus.accepted)
    account = session.scalar(
        select(Account).where(Account.id == worker_id, Account.role == Role.worker)
    )
    if account is None:
        raise WorkerNotFound(f"No worker {worker_id}.")
    row = session.execute(select(answers, accepted).where(Assignment.worker_id == worker_id)).one()
    return account, int(row[0]), int(row[1])


def skills_by_worker(session: Session, worker_ids: list[str]) -> dict[str, list[dict[str, Any]]]:
    rows = session.scalars(select(WorkerSkill).where(WorkerSkill.worker_id.in_(worker_ids))).all()
    out: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        out.setdefault(row.worker_id, []).append(describe(row))
    return out


def earnings(session: Session, worker_id: str) -> int:
    """Everything the worker has earned: pending, available, in flight and paid out."""
    balance = money_service.balance_of(session, session.get_one(Account, worker_id))
    return (
        balance.get("pending", 0)
        + balance.get("available", 0)
        + balance.get("in_flight", 0)
        + balance.get("paid_out", 0)
    )


def ban(
    session: Session, worker_id: str, reason: str, project_id: str | None, *, now: datetime
) -> None:
    with transaction(session):
        account, _, _ = worker(session, worker_id)
        if project_id is not None and session.get(Project, project_id) is None:
            raise ProjectNotFound(f"No project {project_id}.")
        quality_service.operator_ban(session, account, reason, project_id, now=now)


def unban(session: Session, worker_id: str, project_id: str | None) -> None:
    with transaction(session):
        account, _, _ = worker(session, worker_id)
        quality_service.operator_unban(session, account, project_id)
