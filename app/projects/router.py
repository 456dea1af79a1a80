from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, status

from app.auth.deps import AnyAccount, Requester
from app.core.deps import Now, SessionDep
from app.core.errors import Conflict
from app.core.openapi import problems
from app.core.pagination import PageParams, next_cursor, page_params
from app.exports import formats_for
from app.models import Project, Role
from app.projects import service as project_service
from app.projects.errors import OperatorsUseAdmin
from app.projects.schemas import (
    OpenProjectOut,
    ProjectCreate,
    ProjectOut,
    ProjectPage,
    ProjectUpdate,
)

router = APIRouter(prefix="/v1/projects", tags=["projects"])

Page = Annotated[PageParams, Depends(page_params)]


def project_out(project: Project) -> ProjectOut:
    return ProjectOut(
        id=project.id,
        name=project.name,
        instructions=project.instructions,
        annotation=project.annotation,
        reward=project.reward_micros,
        overlap={"min": project.overlap_min, "max": project.overlap_max},
        confidence=project.confidence,
        gold_rate=project.gold_rate,
        qualification={
            "gold_tasks": project.qualification_gold_tasks,
            "min_accuracy": project.qualification_min_accuracy,
        },
        ban_below_accuracy=project.ban_below_accuracy,
        assignment_duration_s=project.assignment_duration_s,
        auto_accept_s=project.auto_accept_s,
        min_answer_s=project.min_answer_s,
        fast_answers_to_ban=project.fast_answers_to_ban,
        auto_label=project.auto_label,
        auto_label_audit=project.auto_label_audit,
        status=project.status,
        export_formats=list(formats_for(project.annotation["type"])),
        created_at=project.created_at,
        updated_at=project.updated_at,
    )


def open_project_out(project: Project, available: int) -> OpenProjectOut:
    return OpenProjectOut(
        id=project.id,
        name=project.name,
        instructions=project.instructions,
        annotation=project.annotation,
        reward=project.reward_micros,
        assignment_duration_s=project.assignment_duration_s,
        available_tasks=available,
        qualification_gold_tasks=project.qualification_gold_tasks,
    )


@router.post("", status_code=status.HTTP_201_CREATED, response_model=ProjectOut)
def create_project(
    body: ProjectCreate, requester: Requester, session: SessionDep, now: Now
) -> ProjectOut:
    """Create a project: annotation type and labels, reward, overlap and quality settings."""
    return project_out(project_service.create(session, requester, body, now=now))


@router.get("", response_model=ProjectPage)
def list_projects(account: AnyAccount, session: SessionDep, page: Page) -> ProjectPage:
    """A requester's own projects; for a worker, open projects with work available."""
    if account.role == Role.requester:
        projects = project_service.list_own(session, account, page)
        items = [project_out(p) for p in projects[: page.limit]]
        return ProjectPage(
            items=items, next_cursor=next_cursor([p.id for p in projects], page.limit)
        )
    if account.role == Role.worker:
        rows = project_service.list_open(session, page)
        open_items = [open_project_out(p, n) for p, n in rows[: page.limit]]
        return ProjectPage(
            items=open_items, next_cursor=next_cursor([p.id for p, _ in rows], page.limit)
        )
    raise OperatorsUseAdmin()


@router.get("/{project_id}", response_model=ProjectOut | OpenProjectOut)
def get_project(
    project_id: str, account: AnyAccount, session: SessionDep
) -> ProjectOut | OpenProjectOut:
    """One project: all of it for its requester, the worker-facing part for workers."""
    if account.role == Role.worker:
        project = project_service.get_active(session, project_id)
        return open_project_out(project, project_service.available_tasks(session, project.id))
    if account.role != Role.requester:
        raise OperatorsUseAdmin()
    return project_out(project_service.get_own(session, account, project_id))


@router.patch("/{project_id}", response_model=ProjectOut, responses=problems(Conflict))
def update_project(
    project_id: str, body: ProjectUpdate, requester: Requester, session: SessionDep, now: Now
) -> ProjectOut:
    """Change a project's settings; reward, overlap and confidence apply to later launches."""
    return project_out(project_service.update(session, requester, project_id, body, now=now))
