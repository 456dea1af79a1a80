from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response, status

from app.auth.deps import AnyAccount, Worker
from app.core.deps import BaseURL, Now, SessionDep, SettingsDep
from app.core.pagination import PageParams, next_cursor, page_params
from app.images import ImageNotFound
from app.images.urls import image_url
from app.quality import standing
from app.work import service as work_service
from app.work.errors import ImageNotAvailable
from app.work.schemas import (
    AssignmentOut,
    AssignmentPage,
    LeasedTask,
    LeaseOut,
    StandingOut,
    StandingPage,
    SubmitIn,
)

router = APIRouter(prefix="/v1", tags=["work"])


@router.post(
    "/projects/{project_id}/assignments",
    status_code=status.HTTP_201_CREATED,
    response_model=LeaseOut,
    responses={204: {"description": "Nothing is available to this worker now."}},
)
def lease(
    project_id: str,
    worker: Worker,
    session: SessionDep,
    now: Now,
    base_url: BaseURL,
    settings: SettingsDep,
) -> LeaseOut | Response:
    """Lease the project's next task: exclusive until `expires_at`."""
    lease = work_service.lease_next(
        session, worker, project_id, now=now, max_live_leases=settings.max_live_leases_per_worker
    )
    if lease is None:
        return Response(status_code=status.HTTP_204_NO_CONTENT)
    task = LeasedTask(
        id=lease.task.id,
        image_url=image_url(base_url, lease.image.id),
        width=lease.image.width,
        height=lease.image.height,
        annotation=lease.project.annotation,
        instructions=lease.project.instructions,
        pre_annotation=lease.task.pre_annotation,
    )
    a = lease.assignment
    return LeaseOut(
        id=a.id, project_id=a.project_id, task=task, reward=a.reward_micros, expires_at=a.expires_at
    )


@router.post("/assignments/{assignment_id}/submit", response_model=AssignmentOut)
def submit(
    assignment_id: str, body: SubmitIn, worker: Worker, session: SessionDep, now: Now
) -> AssignmentOut:
    """Submit the answer for a leased task; it is checked against the project's schema."""
    return AssignmentOut.of(
        work_service.submit(session, worker, assignment_id, body.answer, now=now)
    )


@router.post("/assignments/{assignment_id}/release", response_model=AssignmentOut)
def release(assignment_id: str, worker: Worker, session: SessionDep, now: Now) -> AssignmentOut:
    """Give a leased task back, unpaid."""
    return AssignmentOut.of(work_service.release(session, worker, assignment_id, now=now))


@router.get("/me/assignments", response_model=AssignmentPage)
def my_assignments(
    worker: Worker, session: SessionDep, page: Annotated[PageParams, Depends(page_params)]
) -> AssignmentPage:
    """The worker's history, newest first."""
    rows = work_service.history(session, worker, page)
    return AssignmentPage(
        items=[AssignmentOut.of(a) for a in rows[: page.limit]],
        next_cursor=next_cursor([a.id for a in rows], page.limit),
    )


@router.get("/me/skills", response_model=StandingPage)
def my_skills(worker: Worker, session: SessionDep) -> StandingPage:
    """The worker's accuracy estimate per project (with its upper bound), qualification and bans.
    The figures move when an answer's verdict becomes final."""
    return StandingPage(items=[StandingOut(**s) for s in standing.of_worker(session, worker)])


@router.get(
    "/images/{image_id}", response_class=Response, responses={200: {"content": {"image/*": {}}}}
)
def get_image(
    image_id: str, account: AnyAccount, session: SessionDep, now: Now, request: Request
) -> Response:
    """Image bytes: for its requester, and for a worker holding a live lease on a task showing it."""
    image = work_service.image_for(session, account, image_id, now=now)
    try:
        data = request.app.state.image_store.get(image.sha256)
    except ImageNotFound:
        raise ImageNotAvailable(f"Image {image_id} is missing from the store.") from None
    headers = {"Cache-Control": "private, max-age=300", "ETag": f'"{image.sha256}"'}
    return Response(content=data, media_type=image.media_type, headers=headers)
