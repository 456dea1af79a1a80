"""A worker's own standing per project, as the worker sees it (``GET /v1/me/skills``).

Gold must not be told apart from a real task, so the figures shown to the worker move only when
one of its answers gets a *final* verdict (the requester's, or the review window's end), which
happens the same way for gold and real tasks. The internal skill row moves earlier (a gold
answer is graded at submit, a real one when its task completes) and drives the consensus and
the ban rule; showing it would tell the worker which submit was gold. The count of gold answers
is kept for operators (``/v1/admin/workers``) and never shown to the worker.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from app.core.db import read_only
from app.models import Account, Assignment, AssignmentStatus, Project, WorkerSkill
from app.quality.skills import Skill, estimate_from

FINAL = (AssignmentStatus.accepted, AssignmentStatus.rejected)


def of_worker(session: Session, worker: Account) -> list[dict[str, Any]]:
    """The worker's standing on each project it has worked in (or been banned from).

    The list is keyed on the worker's assignments, not on its skill rows: a skill row is made
    by a gold answer's grading at submit, so its appearance would mark that submit as gold."""
    clipped = case(
        (Assignment.agreement > 1.0, 1.0),
        (Assignment.agreement < 0.0, 0.0),
        else_=Assignment.agreement,
    )
    graded = (
        select(
            Assignment.project_id,
            func.count(Assignment.agreement).label("graded"),
            func.coalesce(func.sum(clipped), 0.0).label("right"),
        )
        .where(Assignment.worker_id == worker.id, Assignment.status.in_(FINAL))
        .group_by(Assignment.project_id)
        .subquery()
    )
    worked = (
        select(Assignment.project_id.label("project_id"))
        .where(Assignment.worker_id == worker.id)
        .union(select(WorkerSkill.project_id).where(WorkerSkill.worker_id == worker.id))
        .subquery()
    )
    with read_only(session):
        rows = session.execute(
            select(Project, WorkerSkill, graded.c.graded, graded.c.right)
            .join(worked, worked.c.project_id == Project.id)
            .outerjoin(
                WorkerSkill,
                (WorkerSkill.project_id == Project.id) & (WorkerSkill.worker_id == worker.id),
            )
            .outerjoin(graded, graded.c.project_id == Project.id)
            .order_by(Project.id)
        ).all()
    return [
        _shown(project, row, estimate_from(int(n or 0), float(right or 0.0)))
        for project, row, n, right in rows
    ]


def _shown(project: Project, row: WorkerSkill | None, skill: Skill) -> dict[str, Any]:
    # A project without a qualification test has every worker qualified from the start (the
    # skill row's own stamp is set by the first gold answer, so it must not show here).
    qualified = project.qualification_gold_tasks == 0 or (
        row is not None and row.qualified_at is not None
    )
    return {
        "project_id": project.id,
        "accuracy": round(skill.accuracy, 4),
        "accuracy_upper": round(skill.upper, 4),
        "graded_answers": skill.graded,
        "qualified": qualified,
        "qualification_retry_at": None if qualified or row is None else row.qualification_retry_at,
        "banned": row is not None and row.banned_at is not None,
        "ban_reason": row.ban_reason if row else None,
    }
