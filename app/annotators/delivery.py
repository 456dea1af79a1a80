"""Asking each ``http`` model for a prediction of each task: the model-call reconciler's use case.

Level-triggered, like the image fetches: (1) every open task of the project (a launched batch;
gold included, so the model can be measured on gold) that has no call yet for a live ``http``
model gets a ``model_calls`` row; (2) due calls are claimed in a batch (SKIP LOCKED; the next
attempt pushed past the call's timeout, so a caller killed mid-call is retried later); (3) the
calls are made outside any transaction, a few at once; (4) each outcome is recorded: a valid
answer becomes the task's prediction (``service.record_prediction``); a timeout, a connection
error, a 429 or 5xx is retried with exponential backoff up to ``MAX_ATTEMPTS``; anything else
(a malformed reply, an answer that does not fit the project, a refused URL) fails at once, with
the reason kept and no prediction.
"""

from __future__ import annotations

import math
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from app.annotations import AnnotationSpec, AnswerInvalid, validate_answer
from app.annotators.calls import CallFailed, call_model
from app.annotators.service import record_prediction
from app.core.db import insert_ignore, transaction
from app.images import ImageStore, Resolver, default_resolver
from app.models import AnnotatorKind, AnnotatorModel, Image, ModelCall, Project, Task, TaskStatus

MAX_ATTEMPTS = 5
BACKOFF = timedelta(seconds=15)
"""The first retry's delay; each later one doubles it (15 s, 30 s, 1 min, 2 min)."""
CLAIM_MARGIN = timedelta(seconds=30)
IMAGE_URL_LIFETIME = timedelta(hours=1)
PARALLEL_CALLS = 8
ENQUEUE_LIMIT = 500


@dataclass(frozen=True)
class DueCall:
    task_id: str
    model_id: str
    url: str
    secret: str
    timeout_s: float
    payload: dict[str, Any]


@dataclass(frozen=True)
class CallSettings:
    base_url: str = ""
    """Put before ``/v1/images/…`` in the image URL sent (``TESSERA_PUBLIC_URL``)."""
    resolver: Resolver = default_resolver
    private_hosts: bool = False
    client: httpx.Client | None = None


def call_due(
    session: Session,
    store: ImageStore,
    *,
    now: datetime,
    options: CallSettings | None = None,
    limit: int = 16,
) -> int:
    """One pass: queue new calls, claim up to ``limit`` due ones, make them, record them."""
    options = options or CallSettings()
    enqueue(session, now=now)
    due = _claim(session, store, options.base_url, now=now, limit=limit)
    if not due:
        return 0

    def make(call: DueCall) -> Any:
        try:
            return call_model(
                call.url,
                call.secret,
                call.payload,
                timeout_s=call.timeout_s,
                timestamp=math.floor(now.timestamp()),
                resolver=options.resolver,
                private_hosts=options.private_hosts,
                client=options.client,
            )
        except CallFailed as failed:
            return failed

    with ThreadPoolExecutor(max_workers=min(PARALLEL_CALLS, len(due))) as pool:
        outcomes = list(pool.map(make, due))
    for call, outcome in zip(due, outcomes, strict=True):
        _record(session, call, outcome, now=now)
    return len(due)


def enqueue(session: Session, *, now: datetime, limit: int = ENQUEUE_LIMIT) -> int:
    """A pending call for each (open task, live http model of its project) without one."""
    with transaction(session):
        pairs = session.execute(
            select(Task.id, AnnotatorModel.id, Task.project_id)
            .join(AnnotatorModel, AnnotatorModel.project_id == Task.project_id)
            .where(
                AnnotatorModel.kind == AnnotatorKind.http,
                AnnotatorModel.deleted_at.is_(None),
                Task.status == TaskStatus.open,
                ~exists().where(
                    ModelCall.task_id == Task.id, ModelCall.model_id == AnnotatorModel.id
                ),
            )
            .limit(limit)
        ).all()
        for task_id, model_id, project_id in pairs:
            insert_ignore(
                session,
                ModelCall,
                {
                    "task_id": task_id,
                    "model_id": model_id,
                    "project_id": project_id,
                    "status": "pending",
                    "attempts": 0,
                    "next_attempt_at": now,
                    "created_at": now,
                    "updated_at": now,
                },
                conflict=["task_id", "model_id"],
            )
        return len(pairs)


def _claim(
    session: Session, store: ImageStore, base_url: str, *, now: datetime, limit: int
) -> list[DueCall]:
    with transaction(session):
        calls = session.scalars(
            select(ModelCall)
            .where(ModelCall.status == "pending", ModelCall.next_attempt_at <= now)
            .order_by(ModelCall.next_attempt_at)
            .limit(limit)
            .with_for_update(skip_locked=True)
        ).all()
        due: list[DueCall] = []
        for call in calls:
            model = session.get_one(AnnotatorModel, call.model_id)
            task = session.get_one(Task, call.task_id)
            if model.deleted_at is not None or task.status != TaskStatus.open:
                call.status, call.updated_at = "skipped", now
                call.error = "the model was detached" if model.deleted_at else "the task closed"
                continue
            call.attempts += 1
            call.next_attempt_at = now + timedelta(seconds=model.timeout_s) + CLAIM_MARGIN
            call.updated_at = now
            project = session.get_one(Project, task.project_id)
            image = session.get_one(Image, task.image_id)
            url = store.url_for(
                image,
                viewer_id=project.requester_id,
                expires_at=now + IMAGE_URL_LIFETIME,
                base_url=base_url.rstrip("/"),
            )
            assert model.url is not None
            assert model.signing_secret is not None
            due.append(
                DueCall(
                    task_id=task.id,
                    model_id=model.id,
                    url=model.url,
                    secret=model.signing_secret,
                    timeout_s=model.timeout_s,
                    payload=request_body(task, project, image, url, model.id, call.attempts),
                )
            )
        return due


def request_body(
    task: Task, project: Project, image: Image, image_url: str, model_id: str, attempt: int
) -> dict[str, Any]:
    """What a model server receives (docs/MODELS.md)."""
    annotation = project.annotation
    return {
        "task_id": task.id,
        "project_id": project.id,
        "model_id": model_id,
        "attempt": attempt,
        "image_url": image_url,
        "width": image.width,
        "height": image.height,
        "type": project.annotation_type,
        "labels": list(annotation.get("labels", [])),
        "annotation": annotation,
    }


def parse_reply(
    reply: Any, spec: AnnotationSpec, *, width: int, height: int
) -> tuple[dict[str, Any], float]:
    """``{"answer": <the project's answer shape>, "score": 0..1}`` → (answer, score), or
    ValueError saying what is wrong."""
    if not isinstance(reply, dict) or "answer" not in reply or "score" not in reply:
        raise ValueError('the reply is not an object with "answer" and "score"')
    score = reply["score"]
    if isinstance(score, bool) or not isinstance(score, int | float) or not 0 <= score <= 1:
        raise ValueError('"score" is not a number from 0 to 1')
    try:
        answer = validate_answer(spec, reply["answer"], width=width, height=height)
    except AnswerInvalid as exc:
        raise ValueError(f'"answer" does not fit the project: {exc.detail}') from None
    return answer, float(score)


def _record(session: Session, due: DueCall, outcome: Any, *, now: datetime) -> None:
    with transaction(session):
        call = session.get(ModelCall, (due.task_id, due.model_id), with_for_update=True)
        if call is None or call.status != "pending":
            return
        call.updated_at = now
        if isinstance(outcome, CallFailed):
            if outcome.transient and call.attempts < MAX_ATTEMPTS:
                call.error = outcome.reason
                call.next_attempt_at = now + BACKOFF * 2 ** (call.attempts - 1)
            else:
                call.status, call.error = "failed", outcome.reason
            return
        task = session.scalars(select(Task).where(Task.id == due.task_id).with_for_update()).one()
        model = session.get_one(AnnotatorModel, due.model_id)
        if model.deleted_at is not None:
            call.status, call.error = "skipped", "the model was detached"
            return
        spec = AnnotationSpec.model_validate(session.get_one(Project, task.project_id).annotation)
        image = session.get_one(Image, task.image_id)
        try:
            answer, score = parse_reply(outcome, spec, width=image.width, height=image.height)
        except ValueError as exc:
            call.status, call.error = "failed", f"malformed reply: {exc}"
            return
        record_prediction(session, model, task, answer, score, now=now)
        call.status, call.error = "done", None
