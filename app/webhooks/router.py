from __future__ import annotations

from fastapi import APIRouter, Depends, Request, Response, status

from app.auth.deps import AnyAccount
from app.core.deps import Now, SessionDep, SettingsDep
from app.core.openapi import problems
from app.core.pagination import PageParams, next_cursor, page_params
from app.images.netguard import default_resolver
from app.models import Webhook, WebhookDelivery
from app.webhooks import service as webhook_service
from app.webhooks.errors import (
    EventNotForRole,
    TooManyWebhooks,
    WebhookNotFound,
    WebhookURLRefused,
)
from app.webhooks.schemas import (
    DeliveryOut,
    DeliveryPage,
    PingOut,
    WebhookIn,
    WebhookOut,
    WebhookPage,
)

router = APIRouter(prefix="/v1/webhooks", tags=["webhooks"])


def _out(webhook: Webhook, events: list[str], *, secret: str | None = None) -> WebhookOut:
    return WebhookOut(
        id=webhook.id,
        url=webhook.url,
        events=events,
        created_at=webhook.created_at,
        secret=secret,
    )


def _delivery(d: WebhookDelivery) -> DeliveryOut:
    return DeliveryOut(
        event_id=d.event_id,
        event_type=d.event_type,
        status=d.status,
        attempts=d.attempts,
        created_at=d.created_at,
        next_attempt_at=d.next_attempt_at if d.status == "pending" else None,
        last_attempt_at=d.last_attempt_at,
        response_status=d.response_status,
        error=d.error,
        delivered_at=d.delivered_at,
    )


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=WebhookOut,
    responses=problems(WebhookURLRefused, EventNotForRole, TooManyWebhooks),
)
def create_webhook(
    body: WebhookIn,
    request: Request,
    account: AnyAccount,
    session: SessionDep,
    now: Now,
    settings: SettingsDep,
) -> WebhookOut:
    """Register an endpoint for some events; the signing secret is in this response only."""
    webhook, events = webhook_service.create(
        session,
        account,
        url=body.url,
        event_types=body.events,
        secret=body.secret,
        now=now,
        resolver=getattr(request.app.state, "url_resolver", default_resolver),
        private_hosts=settings.webhook_private_hosts,
    )
    return _out(webhook, events, secret=webhook.secret)


@router.get("", response_model=WebhookPage)
def list_webhooks(
    account: AnyAccount, session: SessionDep, page: PageParams = Depends(page_params)
) -> WebhookPage:
    """The caller's webhooks, newest first (without their secrets)."""
    rows = webhook_service.list_own(session, account, page)
    return WebhookPage(
        items=[_out(w, e) for w, e in rows[: page.limit]],
        next_cursor=next_cursor([w.id for w, _ in rows], page.limit),
    )


@router.get("/{webhook_id}", response_model=WebhookOut, responses=problems(WebhookNotFound))
def get_webhook(webhook_id: str, account: AnyAccount, session: SessionDep) -> WebhookOut:
    """One of the caller's webhooks."""
    return _out(*webhook_service.get_own(session, account, webhook_id))


@router.delete(
    "/{webhook_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    responses=problems(WebhookNotFound),
)
def delete_webhook(webhook_id: str, account: AnyAccount, session: SessionDep) -> Response:
    """Delete the webhook; deliveries still pending are dropped."""
    webhook_service.remove(session, account, webhook_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/{webhook_id}/ping",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=PingOut,
    responses=problems(WebhookNotFound),
)
def ping_webhook(webhook_id: str, account: AnyAccount, session: SessionDep, now: Now) -> PingOut:
    """Queue a signed ``ping`` event to this webhook; its fate shows in the deliveries."""
    event_id = webhook_service.ping(session, account, webhook_id, now=now)
    return PingOut(event_id=event_id, status="pending")


@router.get(
    "/{webhook_id}/deliveries", response_model=DeliveryPage, responses=problems(WebhookNotFound)
)
def list_deliveries(
    webhook_id: str,
    account: AnyAccount,
    session: SessionDep,
    page: PageParams = Depends(page_params),
) -> DeliveryPage:
    """The webhook's deliveries, newest event first: status, attempts, the last answer."""
    rows = webhook_service.deliveries(session, account, webhook_id, page)
    return DeliveryPage(
        items=[_delivery(d) for d in rows[: page.limit]],
        next_cursor=next_cursor([d.event_id for d in rows], page.limit),
    )
