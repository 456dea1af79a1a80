"""Events into the webhook outbox, in the transaction of the change that causes them.

``emit`` is one ``INSERT … SELECT`` from the subscriptions of the account the event is for:
a delivery row per webhook that wants this event type, none (and no other write) when no
webhook does. Called inside a use case's transaction, so the rows exist if and only if the
change commits. The PostgreSQL submit function (migration 0023) writes the same rows itself.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import insert, literal, select
from sqlalchemy.orm import Session

from app.core.clock import rfc3339
from app.core.ids import new_id
from app.core.models import JSONType, UTCDateTime
from app.models import Assignment, Batch, Task, WebhookDelivery, WebhookSubscription

BATCH_LAUNCHED = "batch.launched"
TASK_COMPLETED = "task.completed"
BATCH_COMPLETED = "batch.completed"
ASSIGNMENT_SUBMITTED = "assignment.submitted"
APPEAL_OPENED = "appeal.opened"
PAYOUT_PAID = "payout.paid"

REQUESTER_EVENTS = (
    BATCH_LAUNCHED,
    TASK_COMPLETED,
    BATCH_COMPLETED,
    ASSIGNMENT_SUBMITTED,
    APPEAL_OPENED,
)
WORKER_EVENTS = (PAYOUT_PAID,)
EVENT_TYPES = REQUESTER_EVENTS + WORKER_EVENTS

_COLUMNS = [
    "webhook_id",
    "event_id",
    "event_type",
    "order_key",
    "payload",
    "created_at",
    "status",
    "attempts",
    "next_attempt_at",
]


def emit(
    session: Session,
    event_type: str,
    *,
    account_id: str,
    data: dict[str, Any],
    now: datetime,
    batch_id: str | None = None,
) -> str:
    """Queue ``event_type`` for every webhook of ``account_id`` that subscribes to it; the
    event's id. Events of one batch are delivered in the order of their ids."""
    event_id = new_id("evt")
    subscribers = select(
        WebhookSubscription.webhook_id,
        literal(event_id),
        literal(event_type),
        literal(batch_id or event_id),
        literal(data, JSONType),
        literal(now, UTCDateTime()),
        literal("pending"),
        literal(0),
        literal(now, UTCDateTime()),
    ).where(
        WebhookSubscription.account_id == account_id,
        WebhookSubscription.event_type == event_type,
    )
    session.execute(insert(WebhookDelivery).from_select(_COLUMNS, subscribers))
    return event_id


def batch_launched(session: Session, batch: Batch, *, now: datetime) -> None:
    emit(
        session,
        BATCH_LAUNCHED,
        account_id=batch.requester_id,
        batch_id=batch.id,
        now=now,
        data={
            "batch_id": batch.id,
            "project_id": batch.project_id,
            "task_count": batch.task_count,
            "launched_at": rfc3339(now),
        },
    )


def batch_completed(session: Session, batch: Batch, *, now: datetime) -> None:
    emit(
        session,
        BATCH_COMPLETED,
        account_id=batch.requester_id,
        batch_id=batch.id,
        now=now,
        data={
            "batch_id": batch.id,
            "project_id": batch.project_id,
            "task_count": batch.task_count,
            "completed_at": rfc3339(now),
        },
    )


def task_completed(session: Session, task: Task, requester_id: str, *, now: datetime) -> None:
    emit(
        session,
        TASK_COMPLETED,
        account_id=requester_id,
        batch_id=task.batch_id,
        now=now,
        data={
            "task_id": task.id,
            "batch_id": task.batch_id,
            "project_id": task.project_id,
            "answer": task.consensus,
            "confidence": task.confidence,
            "answer_count": task.answer_count,
            "completed_at": rfc3339(now),
        },
    )


def assignment_submitted(
    session: Session, assignment: Assignment, requester_id: str, *, now: datetime
) -> None:
    emit(
        session,
        ASSIGNMENT_SUBMITTED,
        account_id=requester_id,
        batch_id=assignment.batch_id,
        now=now,
        data=_assignment_data(assignment) | {"submitted_at": rfc3339(now)},
    )


def appeal_opened(
    session: Session, assignment: Assignment, requester_id: str, *, now: datetime
) -> None:
    emit(
        session,
        APPEAL_OPENED,
        account_id=requester_id,
        batch_id=assignment.batch_id,
        now=now,
        data=_assignment_data(assignment)
        | {"message": assignment.appeal_message, "appealed_at": rfc3339(now)},
    )


def payout_paid(
    session: Session, *, payout_id: str, worker_id: str, amount: str, now: datetime
) -> None:
    emit(
        session,
        PAYOUT_PAID,
        account_id=worker_id,
        now=now,
        data={"payout_id": payout_id, "amount": amount, "paid_at": rfc3339(now)},
    )


def _assignment_data(assignment: Assignment) -> dict[str, Any]:
    return {
        "assignment_id": assignment.id,
        "task_id": assignment.task_id,
        "batch_id": assignment.batch_id,
        "project_id": assignment.project_id,
        "worker_id": assignment.worker_id,
    }
