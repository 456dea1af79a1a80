from __future__ import annotations

import contextlib
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response, status
from fastapi.responses import JSONResponse, RedirectResponse
from fastapi.security import HTTPAuthorizationCredentials
from starlette.concurrency import run_in_threadpool

from app.auth.deps import (
    BearerCredentials,
    SessionCookie,
    Worker,
    authenticated_inside,
    require_role,
    resolve_caller,
)
from app.core import idempotency, ratelimit
from app.core.config import Settings
from app.core.deps import Now, SessionDep, base_url_of, clock_of
from app.core.errors import Unauthorized
from app.core.openapi import problems
from app.core.pagination import PageParams, next_cursor, page_params
from app.images import ImageNotFound, requester_expiry
from app.images.s3 import S3ImageStore
from app.images.thumbnails import MEDIA_TYPE as THUMBNAIL_TYPE
from app.images.thumbnails import snap_width
from app.models import Role
from app.quality import standing
from app.work import service as work_service
from app.work.errors import AssignmentClosed, ImageNotAvailable, LeaseExpired, TooManyLeases
from app.work.hotpath import HotPath, bearer_key
from app.work.schemas import (
    AssignmentOut,
    AssignmentPage,
    LeasedTask,
    LeaseOut,
    ReleaseIn,
    StandingOut,
    StandingPage,
    SubmitIn,
)

IdempotencyKey = idempotency.KeyHeader

router = APIRouter(prefix="/v1", tags=["work"])


@router.post(
    "/projects/{project_id}/assignments",
    status_code=status.HTTP_201_CREATED,
    response_model=LeaseOut,
    responses={
        204: {"description": "Nothing is available to this worker now."},
        **problems(ratelimit.RateLimited, TooManyLeases),
    },
    dependencies=[Depends(authenticated_inside)],
)
async def lease(
    project_id: str, request: Request, credentials: BearerCredentials, cookie: SessionCookie
) -> Any:
    """Lease the project's next task: exclusive until `expires_at`."""
    # async, with one hop to the thread pool: the hot path (one database call) or the service.
    return await run_in_threadpool(_lease, request, project_id, credentials, cookie)


def _lease(
    request: Request,
    project_id: str,
    credentials: HTTPAuthorizationCredentials | None,
    cookie: str | None,
) -> Response | LeaseOut:
    state = request.app.state
    settings: Settings = state.settings
    now = clock_of(request)()
    base_url = base_url_of(request)
    limit = ratelimit.leases(settings)
    hot: HotPath | None = getattr(state, "hot_path", None)
    key = bearer_key(request.headers.get("authorization")) if hot is not None else None
    counted = False
    if hot is not None and key is not None:
        done = hot.lease(
            key,
            project_id,
            now=now,
            limit=limit,
            max_live_leases=settings.max_live_leases_per_worker,
            image_store=state.image_store,
            base_url=base_url,
        )
        if done.response is not None:
            code, content = done.response
            if code == status.HTTP_204_NO_CONTENT:
                return Response(status_code=code)
            return Response(content, status_code=code, media_type="application/json")
        counted = done.counted
    with state.sessionmaker() as session:
        worker = require_role(
            resolve_caller(request, session, now, credentials, cookie).account, Role.worker
        )
        if not counted:
            ratelimit.take(session, limit, worker.id, now=now, what="leases")
        lease = work_service.lease_next(
            session,
            worker,
            project_id,
            now=now,
            max_live_leases=settings.max_live_leases_per_worker,
        )
    if lease is None:
        return Response(status_code=status.HTTP_204_NO_CONTENT)
    a = lease.assignment
    task = LeasedTask(
        id=lease.task.id,
        image_url=state.image_store.url_for(
            lease.image, viewer_id=worker.id, expires_at=a.expires_at, base_url=base_url
        ),
        width=lease.image.width,
        height=lease.image.height,
        annotation=lease.project.annotation,
        instructions=lease.project.instructions,
        pre_annotation=lease.task.pre_annotation,
    )
    return LeaseOut(
        id=a.id, project_id=a.project_id, task=task, reward=a.reward_micros, expires_at=a.expires_at
    )


@router.post(
    "/assignments/{assignment_id}/submit",
    response_model=AssignmentOut,
    responses=problems(ratelimit.RateLimited, LeaseExpired, AssignmentClosed),
    dependencies=[Depends(authenticated_inside)],
)
async def submit(
    assignment_id: str,
    body: SubmitIn,
    request: Request,
    credentials: BearerCredentials,
    cookie: SessionCookie,
    idempotency_key: IdempotencyKey = None,
) -> Any:
    """Submit the answer for a leased task; it is checked against the project's schema.

    With an `Idempotency-Key`, a retry (say after a lost connection) gets the first response."""
    return await run_in_threadpool(
        _submit, request, assignment_id, body, credentials, cookie, idempotency_key
    )


def _submit(
    request: Request,
    assignment_id: str,
    body: SubmitIn,
    credentials: HTTPAuthorizationCredentials | None,
    cookie: str | None,
    idempotency_key: str | None,
) -> Response | AssignmentOut | JSONResponse:
    state = request.app.state
    now = clock_of(request)()
    limit = ratelimit.answers(state.settings)
    hot: HotPath | None = getattr(state, "hot_path", None)
    key = bearer_key(request.headers.get("authorization")) if hot is not None else None
    counted = False
    if hot is not None and key is not None and idempotency_key is None:
        done = hot.submit(
            key, assignment_id, body.answer, now=now, limit=limit, sessionmaker=state.sessionmaker
        )
        if done.response is not None:
            return Response(
                done.response[1], status_code=done.response[0], media_type="application/json"
            )
        counted = done.counted
    with state.sessionmaker() as session:
        worker = require_role(
            resolve_caller(request, session, now, credentials, cookie).account, Role.worker
        )
        if not counted:
            ratelimit.take(session, limit, worker.id, now=now, what="answers")
        if idempotency_key is None:
            return AssignmentOut.of(
                work_service.submit(session, worker, assignment_id, body.answer, now=now)
            )

        def action() -> tuple[int, AssignmentOut]:
            done = work_service.submit(session, worker, assignment_id, body.answer, now=now)
            return status.HTTP_200_OK, AssignmentOut.of(done)

        request_hash = idempotency.fingerprint("POST", request.url.path, body.model_dump())
        return idempotency.run_once(session, worker, idempotency_key, request_hash, action, now=now)


@router.post(
    "/assignments/{assignment_id}/release",
    response_model=AssignmentOut,
    responses=problems(LeaseExpired, AssignmentClosed),
)
def release(
    assignment_id: str,
    worker: Worker,
    session: SessionDep,
    now: Now,
    body: ReleaseIn | None = None,
) -> AssignmentOut:
    """Give a leased task back, unpaid; `{"reason": "broken_image"}` also reports its image."""
    reason = body.reason if body is not None else "skipped"
    return AssignmentOut.of(
        work_service.release(
            session, worker, assignment_id, now=now, broken_image=reason == "broken_image"
        )
    )


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
    "/images/{image_id}",
    response_class=Response,
    responses={
        200: {"content": {"image/*": {}}},
        307: {"description": "With an object store: its presigned URL of the image."},
        **problems(Unauthorized, ImageNotAvailable),
    },
)
def get_image(
    image_id: str,
    request: Request,
    session: SessionDep,
    now: Now,
    credentials: BearerCredentials,
    cookie: SessionCookie,
    v: Annotated[str | None, Query(max_length=32, description="Signed URL: the viewer.")] = None,
    exp: Annotated[int | None, Query(ge=0, lt=2**40, description="Signed URL: expiry.")] = None,
    sig: Annotated[str | None, Query(max_length=64, description="Signed URL: HMAC.")] = None,
    w: Annotated[
        int | None,
        Query(
            ge=1,
            le=4096,
            description="A WebP thumbnail about this wide (snapped up to 64, 128, 256, 512 or "
            "1024 px, never enlarged), made once and cached by the image's content.",
        ),
    ] = None,
) -> Response:
    """Image bytes, by a signed URL (as handed out in leases and results; no header needed) or
    with the caller's credentials: for its requester, and for a worker holding a live lease on a
    task showing it. A changed, expired or foreign signature is a 404."""
    if sig is None or v is None or exp is None:
        viewer = resolve_caller(request, session, now, credentials, cookie).account.id
    else:
        if not request.app.state.url_signer.is_valid(image_id, v, exp, sig, now=now):
            raise ImageNotAvailable(f"No image {image_id} that you can see.")
        viewer = v
        if credentials is not None or cookie is not None:
            # A signed-in caller sees what it may see itself, whoever the URL was made for
            # (so a worker's URL shows nothing to another worker); stale credentials next to a
            # good signature are no reason to refuse it.
            with contextlib.suppress(Unauthorized):
                viewer = resolve_caller(request, session, now, credentials, cookie).account.id
    image = work_service.image_for(session, viewer, image_id, now=now)
    store = request.app.state.image_store
    if w is None and isinstance(store, S3ImageStore):
        # The bytes come from the object store, not through us: a presigned URL that ends when
        # the signed one does (or in the requester's hour, for the header form).
        until = requester_expiry(now) if exp is None else datetime.fromtimestamp(exp, UTC)
        url = store.url_for(image, viewer_id=viewer, expires_at=until, base_url="")
        return RedirectResponse(url, status_code=status.HTTP_307_TEMPORARY_REDIRECT)
    try:
        if w is None:
            data, media_type, etag = store.get(image.sha256), image.media_type, image.sha256
        else:
            width = snap_width(w)
            data = request.app.state.thumbnails.get_or_make(
                image.sha256, width, lambda: store.get(image.sha256)
            )
            media_type, etag = THUMBNAIL_TYPE, f"{image.sha256}-{width}"
    except ImageNotFound:
        raise ImageNotAvailable(f"Image {image_id} is missing from the store.") from None
    headers = {"Cache-Control": "private, max-age=300", "ETag": f'"{etag}"'}
    return Response(content=data, media_type=media_type, headers=headers)
