from __future__ import annotations

from typing import Literal

from pydantic import Field

from app.core.schemas import InputModel, OutputModel, Timestamp

EventType = Literal[
    "batch.launched",
    "task.completed",
    "batch.completed",
    "assignment.submitted",
    "appeal.opened",
    "payout.paid",
]


class WebhookIn(InputModel):
    url: str = Field(
        min_length=1,
        max_length=2048,
        description="An http(s) URL on the public internet (private and local addresses are "
        "refused, here and at every delivery).",
    )
    events: list[EventType] = Field(
        min_length=1,
        max_length=6,
        description="Requesters: batch.launched, task.completed, batch.completed, "
        "assignment.submitted, appeal.opened. Workers: payout.paid.",
    )
    secret: str | None = Field(
        default=None,
        min_length=16,
        max_length=128,
        pattern=r"^[\x21-\x7e]+$",
        description="The signing secret (printable ASCII, no spaces); made and shown once "
        "when not given.",
    )


class WebhookOut(OutputModel):
    id: str
    url: str
    events: list[str]
    created_at: Timestamp
    secret: str | None = Field(
        default=None, description="Only in the response that created the webhook."
    )


class WebhookPage(OutputModel):
    items: list[WebhookOut]
    next_cursor: str | None


class DeliveryOut(OutputModel):
    event_id: str = Field(description="The event's id: the receiver's dedupe key.")
    event_type: str
    status: Literal["pending", "delivered", "failed"]
    attempts: int
    created_at: Timestamp
    next_attempt_at: Timestamp | None = Field(description="While pending: the next try.")
    last_attempt_at: Timestamp | None
    response_status: int | None = Field(description="The receiver's last HTTP status.")
    error: str | None = Field(description="Why the last attempt failed.")
    delivered_at: Timestamp | None


class DeliveryPage(OutputModel):
    items: list[DeliveryOut]
    next_cursor: str | None


class PingOut(OutputModel):
    event_id: str
    status: Literal["pending"]
