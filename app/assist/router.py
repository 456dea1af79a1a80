"""``POST /v1/assist/{tool}``: drawing help for a task the worker holds a live lease on."""

from __future__ import annotations

from fastapi import APIRouter, Request

from app.assist import service
from app.assist.errors import NothingFound, ToolNotForProject
from app.assist.schemas import AssistAnswer, BoxIn, PointIn, SnapIn, SnapOut
from app.auth.deps import Worker
from app.core import ratelimit
from app.core.deps import Now, SessionDep, SettingsDep
from app.core.openapi import problems
from app.work.errors import AssignmentClosed, AssignmentNotFound, ImageNotAvailable, LeaseExpired

router = APIRouter(prefix="/v1/assist", tags=["assist"])

_LEASE_PROBLEMS = (
    AssignmentNotFound,
    ImageNotAvailable,
    LeaseExpired,
    AssignmentClosed,
    ToolNotForProject,
    ratelimit.RateLimited,
)


@router.post(
    "/box_to_polygon",
    response_model=AssistAnswer,
    responses=problems(*_LEASE_PROBLEMS, NothingFound),
)
def box_to_polygon(
    body: BoxIn,
    request: Request,
    worker: Worker,
    session: SessionDep,
    now: Now,
    settings: SettingsDep,
) -> AssistAnswer:
    """Outline the object inside a box (GrabCut): a polygon answer with that one object.
    For a lease in a polygon project, with one of its labels (else 422)."""
    ratelimit.take(session, ratelimit.assists(settings), worker.id, now=now, what="assist calls")
    s = service.box_to_polygon(
        session,
        request.app.state.image_store,
        worker,
        body.assignment_id,
        body.box,
        body.label,
        now=now,
    )
    return AssistAnswer(tool="box_to_polygon", answer=s.answer, area=s.area)


@router.post(
    "/box_to_mask",
    response_model=AssistAnswer,
    responses=problems(*_LEASE_PROBLEMS, NothingFound),
)
def box_to_mask(
    body: BoxIn,
    request: Request,
    worker: Worker,
    session: SessionDep,
    now: Now,
    settings: SettingsDep,
) -> AssistAnswer:
    """The object inside a box (GrabCut) as a segmentation mask with the label's value.
    For a lease in a segmentation project, with one of its labels (else 422)."""
    ratelimit.take(session, ratelimit.assists(settings), worker.id, now=now, what="assist calls")
    s = service.box_to_mask(
        session,
        request.app.state.image_store,
        worker,
        body.assignment_id,
        body.box,
        body.label,
        now=now,
    )
    return AssistAnswer(tool="box_to_mask", answer=s.answer, area=s.area)


@router.post("/superpixel", response_model=AssistAnswer, responses=problems(*_LEASE_PROBLEMS))
def superpixel(
    body: PointIn,
    request: Request,
    worker: Worker,
    session: SessionDep,
    now: Now,
    settings: SettingsDep,
) -> AssistAnswer:
    """The superpixel (SLIC) under a click, as a segmentation mask with the label's value.
    For a lease in a segmentation project, with one of its labels (else 422)."""
    ratelimit.take(session, ratelimit.assists(settings), worker.id, now=now, what="assist calls")
    s = service.superpixel(
        session,
        request.app.state.image_store,
        worker,
        body.assignment_id,
        body.point,
        body.label,
        segments=body.segments,
        now=now,
    )
    return AssistAnswer(tool="superpixel", answer=s.answer, area=s.area)


@router.post("/snap", response_model=SnapOut, responses=problems(*_LEASE_PROBLEMS))
def snap(
    body: SnapIn,
    request: Request,
    worker: Worker,
    session: SessionDep,
    now: Now,
    settings: SettingsDep,
) -> SnapOut:
    """The nearest strong edge point (Canny) within `radius` of a point, or the point itself.
    For a lease in a project that draws (polygon, segmentation, bbox, points, keypoints; else
    422)."""
    ratelimit.take(session, ratelimit.assists(settings), worker.id, now=now, what="assist calls")
    point, snapped = service.snap(
        session,
        request.app.state.image_store,
        worker,
        body.assignment_id,
        body.point,
        body.radius,
        now=now,
    )
    return SnapOut(point=point, snapped=snapped)
