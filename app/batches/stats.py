"""A batch's figures for its dashboard, each one aggregate query (no result rows leave the
database): completions over time, the confidence distribution, answers per completed task
against what fixed overlap would have used, and each worker's answers, verdicts and agreement.

Written in portable SQL (CASE and GROUP BY; no date functions, which SQLite and PostgreSQL
spell differently): time buckets are edges computed here and counted with one CASE each."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from app.models import Assignment, AssignmentStatus, Batch, Task, TaskStatus

CONFIDENCE_BINS = 10
TIME_POINTS = 48
TOP_WORKERS = 20
ANSWERED = (AssignmentStatus.submitted, AssignmentStatus.accepted, AssignmentStatus.rejected)


def _aware(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


def batch_stats(session: Session, batch: Batch, *, now: datetime) -> dict[str, Any]:
    """The figures (the caller owns the transaction: ``batch_service.stats``)."""
    completed = Task.batch_id == batch.id, Task.status == TaskStatus.completed
    first, last, done = session.execute(
        select(func.min(Task.completed_at), func.max(Task.completed_at), func.count()).where(
            *completed
        )
    ).one()
    points: list[dict[str, Any]] = []
    bucket_s = 0
    if done and first is not None and last is not None:
        start = _aware(batch.launched_at or first)
        end = _aware(batch.completed_at or batch.cancelled_at or max(_aware(last), now))
        span = max(math.ceil((end - start).total_seconds()), 1)
        bucket_s = -(-span // TIME_POINTS)
        n = -(-span // bucket_s)  # ≤ TIME_POINTS edges, the last one at or after `end`
        edges = [start + timedelta(seconds=bucket_s * i) for i in range(n + 1)]
        counts = session.execute(
            select(*(func.sum(case((Task.completed_at <= e, 1), else_=0)) for e in edges)).where(
                *completed
            )
        ).one()
        points = [{"at": e, "completed": int(k or 0)} for e, k in zip(edges, counts, strict=True)]

    # Confidence in tenths: bin k holds k/10 ≤ c < (k+1)/10, the last one includes 1.
    bin_of = case(
        *((Task.confidence < (k + 1) / CONFIDENCE_BINS, k) for k in range(CONFIDENCE_BINS - 1)),
        else_=CONFIDENCE_BINS - 1,
    )
    confidence = [0] * CONFIDENCE_BINS
    for k, n in session.execute(
        select(bin_of, func.count())
        .where(*completed, Task.confidence.is_not(None))
        .group_by(bin_of)
    ).all():
        confidence[int(k)] = int(n)

    fixed_each = batch.overlap_max or 1
    histogram = [0] * (fixed_each + 1)
    used = 0
    for answers, n in session.execute(
        select(Task.answer_count, func.count()).where(*completed).group_by(Task.answer_count)
    ).all():
        histogram[min(int(answers), fixed_each)] += int(n)
        used += int(answers) * int(n)
    fixed = int(done) * fixed_each

    answered = Assignment.status.in_(ANSWERED)
    n_answers = func.count()
    accepted = func.sum(case((Assignment.status == AssignmentStatus.accepted, 1), else_=0))
    rejected = func.sum(case((Assignment.status == AssignmentStatus.rejected, 1), else_=0))
    workers = [
        {
            "worker_id": w,
            "answers": int(n),
            "accepted": int(a or 0),
            "rejected": int(r or 0),
            "agreement": None if g is None else round(float(g), 4),
        }
        for w, n, a, r, g in session.execute(
            select(
                Assignment.worker_id, n_answers, accepted, rejected, func.avg(Assignment.agreement)
            )
            .where(Assignment.batch_id == batch.id, answered)
            .group_by(Assignment.worker_id)
            .order_by(n_answers.desc(), Assignment.worker_id)
            .limit(TOP_WORKERS)
        ).all()
    ]
    n_workers = session.scalar(
        select(func.count(func.distinct(Assignment.worker_id))).where(
            Assignment.batch_id == batch.id, answered
        )
    )
    return {
        "completed_tasks": int(done),
        "tasks": batch.task_count,
        "completions": {"bucket_s": bucket_s, "points": points},
        "confidence": confidence,
        "answers_per_task": {
            "histogram": histogram,
            "used": used,
            "fixed": fixed,
            "saved": None if not fixed else round(1 - used / fixed, 4),
        },
        "workers": workers,
        "worker_count": int(n_workers or 0),
    }
