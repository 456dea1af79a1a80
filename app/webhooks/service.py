"""Webhooks: register, list, delete and ping an account's endpoints; list their deliveries."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from app.core.db import read_only, transaction
from app.core.ids import new_id
from app.core.pagination import PageParams
from app.images import FetchFailed, UnsafeURL
from app.images.fetch import check_url, parse_url
from app.images.netguard import Resolver, default_resolver
from app.models import Account, Role, Webhook, WebhookDelivery, WebhookSubscription
from app.webhooks import events
from app.webhooks.errors import (
    EventNotForRole,
    TooManyWebhooks,
    WebhookNotFound,
    WebhookURLRefused,
)

MAX_WEBHOOKS = 20
"""Per account: a receiver is called once per event per webhook."""

PING = "ping"

_EVENTS_FOR = {Role.requester: events.REQUESTER_EVENTS, Role.worker: events.WORKER_EVENTS}


def new_secret() -> str:
    return "whsec_" + secrets.token_urlsafe(32)


def check_webhook_url(
    url: str, *, resolver: Resolver = default_resolver, private_hosts: bool = False
) -> None:
    """The image fetcher's SSRF rule: http(s), no credentials, a public host (by every address
    it resolves to). Called at registration; the deliverer checks again at every call.
    ``private_hosts`` (``TESSERA_WEBHOOK_PRIVATE_HOSTS``) lets a private or loopback host
    through; the form is still checked."""
    try:
        if private_hosts:
            parse_url(url)
        else:
            check_url(url, resolver=resolver)
    except (UnsafeURL, FetchFailed) as exc:
        raise WebhookURLRefused(
            f"{exc.detail}", errors=[{"loc": ["body", "url"], "msg": exc.detail}]
        ) from None


def create(
    session: Session,
    account: Account,
    *,
    url: str,
    event_types: Sequence[str],
    secret: str | None,
    now: datetime,
    resolver: Resolver = default_resolver,
    private_hosts: bool = False,
) -> tuple[Webhook, list[str]]:
    """A new webhook of ``account`` for ``event_types``; its secret is ``secret`` or a new one."""
    allowed = _EVENTS_FOR.get(Role(account.role), ())
    refused = [e for e in event_types if e not in allowed]
    if refused:
        raise EventNotForRole(
            f"A {account.role} account cannot subscribe to {', '.join(refused)}; "
            f"its events are: {', '.join(allowed) or 'none'}.",
            errors=[{"loc": ["body", "events"], "msg": f"not for a {account.role}"}],
        )
    check_webhook_url(
        url, resolver=resolver, private_hosts=private_hosts
    )  # DNS: before the transaction, not inside it
    chosen = list(dict.fromkeys(event_types))
    with transaction(session):
        # Lock the account row: two concurrent registrations count one after the other.
        session.scalar(select(Account.id).where(Account.id == account.id).with_for_update())
        held = session.scalar(
            select(func.count()).select_from(Webhook).where(Webhook.account_id == account.id)
        )
        if (held or 0) >= MAX_WEBHOOKS:
            raise TooManyWebhooks(
                f"An account has at most {MAX_WEBHOOKS} webhooks; delete one first."
            )
        webhook = Webhook(
            id=new_id("whk"),
            account_id=account.id,
            url=url,
            secret=secret or new_secret(),
            created_at=now,
        )
        session.add(webhook)
        session.flush()
        session.add_all(
            WebhookSubscription(webhook_id=webhook.id, event_type=e, account_id=account.id)
            for e in chosen
        )
    return webhook, chosen


def list_own(
    session: Session, account: Account, page: PageParams
) -> list[tuple[Webhook, list[str]]]:
    """The account's webhooks, newest first, ``page.limit + 1`` of them at most."""
    stmt = select(Webhook).where(Webhook.account_id == account.id)
    if page.after:
        stmt = stmt.where(Webhook.id < page.after)
    with read_only(session):
        rows = session.scalars(stmt.order_by(Webhook.id.desc()).limit(page.limit + 1)).all()
        subscribed = _events_of(session, [w.id for w in rows])
    return [(w, subscribed.get(w.id, [])) for w in rows]


def get_own(session: Session, account: Account, webhook_id: str) -> tuple[Webhook, list[str]]:
    with read_only(session):
        webhook = _own(session, account, webhook_id)
        return webhook, _events_of(session, [webhook.id]).get(webhook.id, [])


def remove(session: Session, account: Account, webhook_id: str) -> None:
    """Delete the webhook; its deliveries not yet made are dropped with it."""
    with transaction(session):
        webhook = _own(session, account, webhook_id, for_update=True)
        session.execute(delete(WebhookDelivery).where(WebhookDelivery.webhook_id == webhook.id))
        session.execute(
            delete(WebhookSubscription).where(WebhookSubscription.webhook_id == webhook.id)
        )
        session.delete(webhook)


def ping(session: Session, account: Account, webhook_id: str, *, now: datetime) -> str:
    """Queue a ``ping`` event for this webhook alone (delivered like any other); its id."""
    with transaction(session):
        webhook = _own(session, account, webhook_id)
        event_id = new_id("evt")
        session.add(
            WebhookDelivery(
                webhook_id=webhook.id,
                event_id=event_id,
                event_type=PING,
                order_key=event_id,
                payload={"webhook_id": webhook.id},
                created_at=now,
                status="pending",
                attempts=0,
                next_attempt_at=now,
            )
        )
    return event_id


def deliveries(
    session: Session, account: Account, webhook_id: str, page: PageParams
) -> Sequence[WebhookDelivery]:
    """The webhook's deliveries, newest event first, ``page.limit + 1`` at most."""
    with read_only(session):
        webhook = _own(session, account, webhook_id)
        stmt = select(WebhookDelivery).where(WebhookDelivery.webhook_id == webhook.id)
        if page.after:
            stmt = stmt.where(WebhookDelivery.event_id < page.after)
        return session.scalars(
            stmt.order_by(WebhookDelivery.event_id.desc()).limit(page.limit + 1)
        ).all()


def _own(
    session: Session, account: Account, webhook_id: str, *, for_update: bool = False
) -> Webhook:
    stmt = select(Webhook).where(Webhook.id == webhook_id, Webhook.account_id == account.id)
    webhook = session.scalar(stmt.with_for_update() if for_update else stmt)
    if webhook is None:
        raise WebhookNotFound(f"No webhook {webhook_id} among yours.")
    return webhook


def _events_of(session: Session, webhook_ids: list[str]) -> dict[str, list[str]]:
    if not webhook_ids:
        return {}
    rows = session.execute(
        select(WebhookSubscription.webhook_id, WebhookSubscription.event_type).where(
            WebhookSubscription.webhook_id.in_(webhook_ids)
        )
    ).all()
    order = {e: i for i, e in enumerate(events.EVENT_TYPES)}
    found: dict[str, list[str]] = {}
    for webhook_id, event_type in sorted(rows, key=lambda r: order.get(r[1], 99)):
        found.setdefault(webhook_id, []).append(event_type)
    return found
