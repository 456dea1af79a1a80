"""Downloading the images a batch names by URL: the fetch reconciler's use case.

A due fetch is claimed (SKIP LOCKED, and its next attempt pushed past a lease, so a fetcher
killed mid-download is retried), downloaded outside any transaction, then recorded: the image is
checked like any upload, stored, and becomes a task of its batch, still a draft. A failed
download is retried with backoff; past ``MAX_ATTEMPTS``, or when the image itself is refused,
the fetch fails and the batch's upload report says why.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from app.annotations import AnnotationSpec, AnswerInvalid, validate_answer
from app.batches.service import CheckedImage, image_rows
from app.core.db import transaction
from app.core.ids import new_id
from app.images import FetchFailed, ImageError, ImageLimits, ImageStore, inspect_image
from app.images.names import with_extension
from app.models import Account, Batch, BatchStatus, ImageFetch, Project, Task, TaskStatus

Fetcher = Callable[[str, ImageLimits], bytes]
LEASE = timedelta(minutes=2)
MAX_ATTEMPTS = 3


def fetch_due(
    session: Session,
    store: ImageStore,
    limits: ImageLimits,
    fetch: Fetcher,
    *,
    now: datetime,
    limit: int = 8,
) -> int:
    claimed = _claim(session, now=now, limit=limit)
    for fetch_id, url in claimed:
        try:
            data, error = fetch(url, limits), None
        except ImageError as exc:
            data, error = None, exc
        _record(session, store, limits, fetch_id, data, error, now=now)
    return len(claimed)


def _claim(session: Session, *, now: datetime, limit: int) -> list[tuple[str, str]]:
    with transaction(session):
        due = session.scalars(
            select(ImageFetch)
            .where(ImageFetch.status == "pending", ImageFetch.next_attempt_at <= now)
            .order_by(ImageFetch.next_attempt_at)
            .limit(limit)
            .with_for_update(skip_locked=True)
        ).all()
        for row in due:
            row.attempts += 1
            row.next_attempt_at = now + LEASE
        return [(row.id, row.url) for row in due]


def _record(
    session: Session,
    store: ImageStore,
    limits: ImageLimits,
    fetch_id: str,
    data: bytes | None,
    error: ImageError | None,
    *,
    now: datetime,
) -> None:
    with transaction(session):
        row = session.get(ImageFetch, fetch_id, with_for_update={"key_share": True})
        if row is None or row.status != "pending":
            return
        batch = session.get_one(Batch, row.batch_id, with_for_update={"key_share": True})
        if batch.status != BatchStatus.draft:
            _fail(row, batch, "the batch left draft before the download finished")
            return
        if error is None and data is not None:
            try:
                _add_task(session, store, limits, row, batch, data, now=now)
                row.status = "done"
                return
            except ImageError as exc:
                error = exc
            except AnswerInvalid as exc:
                _fail(row, batch, f"pre_annotation: {exc.detail}")
                return
        assert error is not None
        if isinstance(error, FetchFailed) and row.attempts < MAX_ATTEMPTS:
            row.next_attempt_at = now + timedelta(
                seconds=30 * 2**row.attempts
            )  # transient: try again
            return
        _fail(row, batch, error.detail)


def _add_task(
    session: Session,
    store: ImageStore,
    limits: ImageLimits,
    row: ImageFetch,
    batch: Batch,
    data: bytes,
    *,
    now: datetime,
) -> None:
    info = inspect_image(data, limits)
    project = session.get_one(Project, batch.project_id)
    pre: dict[str, Any] | None = None
    if row.pre_annotation is not None:
        spec = AnnotationSpec.model_validate(project.annotation)
        pre = validate_answer(spec, row.pre_annotation, width=info.width, height=info.height)
    store.put(data)
    requester = session.get_one(Account, batch.requester_id)
    image_id = image_rows(session, requester, [CheckedImage(row.name, data, info)], now)[
        info.sha256
    ]
    duplicate = session.scalar(
        select(exists().where(Task.batch_id == batch.id, Task.image_id == image_id))
    )
    if duplicate:
        _report(batch, "duplicates", {"name": row.name, "same_as": "an image already in the batch"})
        return
    session.add(
        Task(
            id=new_id("tsk"),
            batch_id=batch.id,
            project_id=batch.project_id,
            image_id=image_id,
            image_name=with_extension(row.name, info.media_type),
            status=TaskStatus.draft,
            pre_annotation=pre,
            answer_count=0,
            created_at=now,
        )
    )
    batch.task_count += 1


def _fail(row: ImageFetch, batch: Batch, reason: str) -> None:
    row.status, row.error = "failed", reason
    _report(batch, "skipped", {"name": row.url, "reason": reason})


def _report(batch: Batch, key: str, entry: dict[str, str]) -> None:
    # A new dict, not an in-place change: the JSON column only notices reassignment.
    report = dict(batch.upload_report)
    report[key] = [*report.get(key, []), entry]
    batch.upload_report = report
