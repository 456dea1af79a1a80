"""``/v1/projects/{id}/models``: models attached to a requester's project."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response, status

from app.annotators import service
from app.annotators.errors import AnnotatorModelNotFound, ModelKindNotForProject, UnsafeModelURL
from app.annotators.schemas import (
    ModelCreate,
    ModelCreated,
    ModelOut,
    ModelPage,
    ModelReliability,
)
from app.auth.deps import Requester
from app.core.deps import Now, SessionDep, SettingsDep
from app.core.openapi import problems
from app.core.pagination import PageParams, next_cursor, page_params
from app.images import default_resolver
from app.models import AnnotatorModel
from app.projects.errors import ProjectNotFound

router = APIRouter(prefix="/v1/projects", tags=["models"])

Page = Annotated[PageParams, Depends(page_params)]


def model_out(
    model: AnnotatorModel,
    predictions: int = 0,
    failed: int = 0,
    last_error: str | None = None,
    reliability: service.Reliability | None = None,
) -> ModelOut:
    return ModelOut(
        id=model.id,
        project_id=model.project_id,
        kind=model.kind,
        name=model.name,
        url=model.url,
        timeout_s=model.timeout_s if model.kind == "http" else None,
        trained_on=model.trained_on,
        fitted_at=model.fitted_at,
        predictions=predictions,
        failed_calls=failed,
        last_error=last_error,
        reliability=ModelReliability(**asdict(reliability)) if reliability else None,
        created_at=model.created_at,
    )


@router.post(
    "/{project_id}/models",
    status_code=status.HTTP_201_CREATED,
    response_model=ModelCreated,
    responses=problems(ProjectNotFound, ModelKindNotForProject, UnsafeModelURL),
)
def create_model(
    project_id: str,
    body: ModelCreate,
    request: Request,
    requester: Requester,
    session: SessionDep,
    settings: SettingsDep,
    now: Now,
) -> ModelCreated:
    """Attach a model: `http` (your model server, called for each task; the signing secret is in
    this response only) or `builtin` (a classifier learnt from the project's consensus)."""
    model = service.create(
        session,
        requester,
        project_id,
        body,
        now=now,
        resolver=getattr(request.app.state, "url_resolver", default_resolver),
        private_hosts=settings.model_private_hosts,
    )
    return ModelCreated(**model_out(model).model_dump(), signing_secret=model.signing_secret)


@router.get("/{project_id}/models", response_model=ModelPage, responses=problems(ProjectNotFound))
def list_models(
    project_id: str, requester: Requester, session: SessionDep, page: Page
) -> ModelPage:
    """The project's attached models with how many tasks each has predicted."""
    rows = service.list_models(session, requester, project_id, page)
    return ModelPage(
        items=[
            model_out(r.model, r.predictions, r.failed_calls, r.last_error, r.reliability)
            for r in rows[: page.limit]
        ],
        next_cursor=next_cursor([r.model.id for r in rows], page.limit),
    )


@router.delete(
    "/{project_id}/models/{model_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=problems(ProjectNotFound, AnnotatorModelNotFound),
)
def delete_model(
    project_id: str, model_id: str, requester: Requester, session: SessionDep, now: Now
) -> Response:
    """Detach a model: it predicts no more, and its predictions are no longer shown or used."""
    service.delete(session, requester, project_id, model_id, now=now)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
