from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.core.models import Base, id_column


class Webhook(Base):
    """An endpoint an account registered to be told of its events (``app.webhooks``)."""

    __tablename__ = "webhooks"

    id: Mapped[str] = id_column()
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id"), index=True)
    url: Mapped[str] = mapped_column(Text)
    secret: Mapped[str] = mapped_column(String(128))
    """The HMAC key of the signatures: kept as given, since every delivery signs with it."""
    created_at: Mapped[datetime]


class WebhookSubscription(Base):
    """One event type a webhook wants: the row an event's fan-out finds by (account, type)."""

    __tablename__ = "webhook_subscriptions"
    __table_args__ = (
        Index("ix_webhook_subscriptions_account_id_event_type", "account_id", "event_type"),
    )

    webhook_id: Mapped[str] = mapped_column(
        ForeignKey("webhooks.id", ondelete="CASCADE"), primary_key=True
    )
    event_type: Mapped[str] = mapped_column(String(32), primary_key=True)
    account_id: Mapped[str] = mapped_column(String(32))


class WebhookDelivery(Base):
    """The outbox: one event for one webhook, written in the transaction of the change that
    caused it, then delivered (at least once) by the ``webhooks.deliver`` reconciler.

    ``pending`` until the receiver answers 2xx (``delivered``) or the retries run out
    (``failed``). The event id is the receiver's dedupe key: the same on every attempt and for
    every webhook that receives the event."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        Index("ix_webhook_deliveries_status_next_attempt_at", "status", "next_attempt_at"),
        Index(
            "ix_webhook_deliveries_webhook_id_order_key_event_id",
            "webhook_id",
            "order_key",
            "event_id",
        ),
    )

    webhook_id: Mapped[str] = mapped_column(
        ForeignKey("webhooks.id", ondelete="CASCADE"), primary_key=True
    )
    event_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    """``evt_…``: time-ordered, so the events of one batch are delivered in this order."""
    event_type: Mapped[str] = mapped_column(String(32))
    order_key: Mapped[str] = mapped_column(String(32))
    """The batch the event is about (delivered in order within it), else the event id itself."""
    payload: Mapped[dict[str, Any]]
    """The event's ``data`` object."""
    created_at: Mapped[datetime]
    """When the event happened (the body's ``created_at``)."""
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime]
    """When it is due; a claim pushes it ahead, so a deliverer killed mid-call is retried."""
    last_attempt_at: Mapped[datetime | None]
    response_status: Mapped[int | None] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(Text)
    delivered_at: Mapped[datetime | None]
