"""Sending the outbox: claim due deliveries, call the receiver, record what it answered.

At least once, in order per batch: a delivery is claimable only when no earlier event of the
same batch (``order_key``) for the same webhook is still pending, so a later event is never sent
before an earlier one succeeded or finally failed. A claim pushes ``next_attempt_at`` ahead
(a lease), commits, and only then is the receiver called, with no lock or transaction held;
a deliverer killed mid-call leaves the row to be claimed again once the lease passes.

Each call is guarded like an image fetch (``app.images.netguard``): the URL's host is resolved,
every address must be public, and the connection goes to that checked address (the name
travels in ``Host`` and TLS SNI), so a DNS answer that changed since registration cannot steer a
call inside. Short connect and read timeouts; redirects are not followed; the answer's body is
never read.

Failures back off exponentially with jitter (30 s, 1 min, 2 min, … capped at 6 h) until 72 hours
after the event, then the delivery is ``failed``.
"""

from __future__ import annotations

import ipaddress
import json
import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

import httpx
from sqlalchemy import exists, select
from sqlalchemy.orm import Session, aliased

from app.core import signatures
from app.core.clock import rfc3339
from app.core.db import transaction
from app.images import FetchFailed, UnsafeURL
from app.images.netguard import IPAddress, default_resolver, resolve_public
from app.models import Webhook, WebhookDelivery

CLAIM_SECONDS = 120
"""A claimed delivery is left alone this long (longer than a call can take)."""
GIVE_UP_AFTER = timedelta(hours=72)
BASE_BACKOFF_S = 30.0
MAX_BACKOFF_S = 6 * 3600.0
TIMEOUT = httpx.Timeout(connect=3.0, read=5.0, write=5.0, pool=5.0)
"""A receiver that does not answer in seconds is a failed attempt, retried later."""
USER_AGENT = "Tessera-Webhooks/1"

Guard = Callable[[str], IPAddress]
"""Maps a URL's host to the address to connect to, or raises UnsafeURL/FetchFailed."""


def public_guard(host: str) -> IPAddress:
    return resolve_public(host, default_resolver)


def any_host_guard(host: str) -> IPAddress:
    """``TESSERA_WEBHOOK_PRIVATE_HOSTS``: the host's first address, whatever it is."""
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return ipaddress.ip_address(default_resolver(host)[0].split("%", 1)[0])


@dataclass(frozen=True)
class Attempt:
    webhook_id: str
    event_id: str
    event_type: str
    url: str
    secret: str
    body: bytes
    number: int


@dataclass(frozen=True)
class Outcome:
    delivered: bool
    status: int | None = None
    error: str | None = None


def event_body(delivery: WebhookDelivery) -> bytes:
    """The JSON the receiver gets: the same bytes on every attempt."""
    return json.dumps(
        {
            "id": delivery.event_id,
            "type": delivery.event_type,
            "created_at": rfc3339(delivery.created_at),
            "data": delivery.payload,
        },
        separators=(",", ":"),
        sort_keys=True,
        ensure_ascii=False,
    ).encode()


def claim_due(
    session: Session,
    *,
    now: datetime,
    limit: int = 20,
    webhook_id: str | None = None,
    skip_webhooks: frozenset[str] = frozenset(),
) -> list[Attempt]:
    """Claim up to ``limit`` due deliveries, each the earliest pending one of its batch for its
    webhook (SKIP LOCKED: several deliverers share the work). Commits the claim."""
    d = WebhookDelivery
    earlier = aliased(WebhookDelivery)
    blocked = exists().where(
        earlier.webhook_id == d.webhook_id,
        earlier.order_key == d.order_key,
        earlier.event_id < d.event_id,
        earlier.status == "pending",
    )
    stmt = (
        select(d, Webhook.url, Webhook.secret)
        .join(Webhook, Webhook.id == d.webhook_id)
        .where(d.status == "pending", d.next_attempt_at <= now, ~blocked)
        .order_by(d.next_attempt_at, d.event_id)
        .limit(limit)
        .with_for_update(of=d, skip_locked=True)
    )
    if webhook_id is not None:
        stmt = stmt.where(d.webhook_id == webhook_id)
    if skip_webhooks:
        stmt = stmt.where(d.webhook_id.not_in(skip_webhooks))
    attempts = []
    with transaction(session):
        for delivery, url, secret in session.execute(stmt).all():
            delivery.attempts += 1
            delivery.last_attempt_at = now
            delivery.next_attempt_at = now + timedelta(seconds=CLAIM_SECONDS)
            attempts.append(
                Attempt(
                    delivery.webhook_id,
                    delivery.event_id,
                    delivery.event_type,
                    url,
                    secret,
                    event_body(delivery),
                    delivery.attempts,
                )
            )
    return attempts


def send(client: httpx.Client, attempt: Attempt, *, guard: Guard, now: datetime) -> Outcome:
    """One signed POST of the attempt's body to its URL, pinned to a checked public address."""
    try:
        url = httpx.URL(attempt.url)
        host = url.raw_host.decode("ascii")
        address = guard(host)
    except (UnsafeURL, FetchFailed) as exc:
        return Outcome(False, error=f"refused: {exc.detail}")
    except (httpx.InvalidURL, UnicodeError, ValueError):
        return Outcome(False, error="refused: not a valid URL")
    headers = {
        "Host": url.netloc.decode("ascii"),
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "Tessera-Event-Id": attempt.event_id,
        "Tessera-Event-Type": attempt.event_type,
        "Tessera-Delivery-Attempt": str(attempt.number),
        signatures.HEADER: signatures.sign(attempt.secret, int(now.timestamp()), attempt.body),
    }
    extensions = {"sni_hostname": host} if url.scheme == "https" and host != str(address) else {}
    request = client.build_request(
        "POST",
        url.copy_with(host=str(address)),
        content=attempt.body,
        headers=headers,
        extensions=extensions,
    )
    try:
        response = client.send(request, stream=True, follow_redirects=False)
        response.close()  # the status is the answer; the body is never read
    except httpx.TimeoutException:
        return Outcome(False, error="the receiver did not answer in time")
    except httpx.HTTPError as exc:
        return Outcome(False, error=f"the call failed ({type(exc).__name__})")
    if response.is_success:
        return Outcome(True, status=response.status_code)
    note = " (redirects are not followed)" if response.is_redirect else ""
    return Outcome(False, status=response.status_code, error=f"HTTP {response.status_code}{note}")


def backoff_s(attempts: int, *, jitter: Callable[[], float] = random.random) -> float:
    """Seconds before the next try after ``attempts`` failures: doubling from 30 s, capped at
    6 h, the upper half jittered (receivers that failed together do not retry in step)."""
    base: float = min(BASE_BACKOFF_S * 2.0 ** max(attempts - 1, 0), MAX_BACKOFF_S)
    return base / 2 + jitter() * base / 2


def record(session: Session, attempt: Attempt, outcome: Outcome, *, now: datetime) -> str:
    """Store the outcome; the delivery's status after it (``gone`` if the webhook was deleted)."""
    with transaction(session):
        delivery = session.scalar(
            select(WebhookDelivery)
            .where(
                WebhookDelivery.webhook_id == attempt.webhook_id,
                WebhookDelivery.event_id == attempt.event_id,
            )
            .with_for_update()
            .execution_options(populate_existing=True)
        )
        if delivery is None:
            return "gone"
        if delivery.status != "pending":
            return delivery.status
        delivery.response_status, delivery.error = outcome.status, outcome.error
        if outcome.delivered:
            delivery.status, delivery.delivered_at = "delivered", now
            return delivery.status
        retry_at = now + timedelta(seconds=backoff_s(delivery.attempts))
        if retry_at > delivery.created_at + GIVE_UP_AFTER:
            delivery.status = "failed"
        else:
            delivery.next_attempt_at = retry_at
        return delivery.status
