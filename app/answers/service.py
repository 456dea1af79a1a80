"""Verdicts on submitted answers, and the money that follows them.

An accepted answer is paid from its batch's escrow in the same transaction that records the
verdict (``payments.pay_accepted``, unique per assignment, so never twice); a rejected one is
paid nothing. The assignment row is locked first, so an accept racing a reject (or the
auto-accept reconciler) sees the other's verdict and stops.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

import payments
from app.answers.errors import AnswerNotFound, AppealNotAllowed, VerdictConflict
from app.core.db import transaction
from app.core.ids import new_id
from app.models import Account, Assignment, AssignmentStatus, Batch, Bonus, Project
from app.webhooks import events as webhook_events

AUTO_ACCEPT_REASON = "accepted automatically: the review window ended"


def _submitted_for_requester(
    session: Session, requester: Account, assignment_id: str
) -> Assignment:
    assignment = session.scalar(
        select(Assignment)
        .join(Batch, Batch.id == Assignment.batch_id)
        .where(Assignment.id == assignment_id, Batch.requester_id == requester.id)
        .with_for_update(of=Assignment)
    )
    if assignment is None:
        raise AnswerNotFound(f"No assignment {assignment_id} in your batches.")
    return assignment


def accept(
    session: Session, requester: Account, assignment_id: str, *, now: datetime
) -> Assignment:
    with transaction(session):
        assignment = _submitted_for_requester(session, requester, assignment_id)
        _require_submitted(assignment)
        record_accept(session, assignment, reason=None, now=now)
    return assignment


def reject(
    session: Session, requester: Account, assignment_id: str, reason: str, *, now: datetime
) -> Assignment:
    with transaction(session):
        assignment = _submitted_for_requester(session, requester, assignment_id)
        _require_submitted(assignment)
        record_reject(session, assignment, reason, now=now)
    return assignment


def bonus(
    session: Session,
    requester: Account,
    assignment_id: str,
    amount: int,
    reason: str,
    *,
    now: datetime,
) -> Bonus:
    """A bonus to the answer's worker from the requester's available balance, fee applies."""
    with transaction(session):
        assignment = _submitted_for_requester(session, requester, assignment_id)
        if assignment.status not in (
            AssignmentStatus.submitted,
            AssignmentStatus.accepted,
            AssignmentStatus.rejected,
        ):
            raise VerdictConflict("Only a submitted answer can earn a bonus.")
        row = Bonus(
            id=new_id("bon"),
            assignment_id=assignment.id,
            worker_id=assignment.worker_id,
            amount_micros=amount,
            reason=reason,
            created_at=now,
        )
        session.add(row)
        payments.pay_bonus(
            session,
            reference=row.id,
            batch_ref=assignment.batch_id,
            worker_ref=assignment.worker_id,
            amount=amount,
            now=now,
        )
    return row


def _require_submitted(assignment: Assignment) -> None:
    if assignment.status != AssignmentStatus.submitted:
        raise VerdictConflict(
            f"Assignment {assignment.id} is {assignment.status}; a verdict is final."
        )


def record_accept(
    session: Session, assignment: Assignment, *, reason: str | None, now: datetime
) -> None:
    """Accept a locked, submitted assignment and pay it, in the caller's transaction."""
    assignment.status, assignment.reason, assignment.decided_at = (
        AssignmentStatus.accepted,
        reason,
        now,
    )
    payments.pay_accepted(
        session,
        assignment_ref=assignment.id,
        batch_ref=assignment.batch_id,
        worker_ref=assignment.worker_id,
        now=now,
    )


def record_reject(session: Session, assignment: Assignment, reason: str, *, now: datetime) -> None:
    """Reject a locked assignment; the worker may appeal until the project's review window ends."""
    window = (
        session.scalar(select(Project.auto_accept_s).where(Project.id == assignment.project_id))
        or 0
    )
    assignment.status, assignment.reason, assignment.decided_at = (
        AssignmentStatus.rejected,
        reason,
        now,
    )
    assignment.appeal_until = now + timedelta(seconds=window)


def appeal(
    session: Session, worker: Account, assignment_id: str, message: str, *, now: datetime
) -> Assignment:
    """The worker contests a rejection, once; the requester has the review window to answer."""
    with transaction(session):
        assignment = session.scalar(
            select(Assignment)
            .where(Assignment.id == assignment_id, Assignment.worker_id == worker.id)
            .with_for_update(key_share=True)
        )
        if assignment is None:
            raise AnswerNotFound(f"No assignment {assignment_id} among yours.")
        if assignment.status != AssignmentStatus.rejected or assignment.appealed_at is not None:
            raise AppealNotAllowed("Only a rejected answer can be appealed, and only once.")
        if assignment.appeal_until is None or now >= assignment.appeal_until:
            raise AppealNotAllowed("The time to appeal this rejection has passed.")
        window, requester_id = session.execute(
            select(Project.auto_accept_s, Project.requester_id).where(
                Project.id == assignment.project_id
            )
        ).one()
        assignment.appeal_message, assignment.appealed_at = message, now
        assignment.appeal_due_at = now + timedelta(seconds=window or 0)
        webhook_events.appeal_opened(session, assignment, requester_id, now=now)
    return assignment


def resolve_appeal(
    session: Session,
    requester: Account,
    assignment_id: str,
    *,
    grant: bool,
    reason: str,
    now: datetime,
) -> Assignment:
    with transaction(session):
        assignment = _submitted_for_requester(session, requester, assignment_id)
        if assignment.appealed_at is None or assignment.appeal_outcome is not None:
            raise VerdictConflict("There is no open appeal on this answer.")
        _settle_appeal(session, assignment, grant=grant, reason=reason, now=now)
    return assignment


def _settle_appeal(
    session: Session, assignment: Assignment, *, grant: bool, reason: str, now: datetime
) -> None:
    assignment.appeal_outcome = "granted" if grant else "denied"
    if grant:
        record_accept(session, assignment, reason=f"appeal granted: {reason}", now=now)
    else:
        assignment.reason = f"appeal denied: {reason}"


def grant_overdue_appeals(session: Session, *, now: datetime, limit: int = 200) -> int:
    """Appeals the requester left unanswered past their deadline are granted, and paid."""
    with transaction(session):
        due = session.scalars(
            select(Assignment)
            .where(
                Assignment.appealed_at.is_not(None),
                Assignment.appeal_outcome.is_(None),
                Assignment.appeal_due_at <= now,
            )
            .limit(limit)
            .with_for_update(skip_locked=True)
        ).all()
        for assignment in due:
            _settle_appeal(
                session,
                assignment,
                grant=True,
                reason="the requester did not answer in time",
                now=now,
            )
    return len(due)


def auto_accept_due(session: Session, *, now: datetime, limit: int = 200) -> int:
    """Make final the verdicts of answers whose review window ended: the consensus's proposal
    when there is one (rejected answers are not paid), else acceptance."""
    with transaction(session):
        due = session.scalars(
            select(Assignment)
            .where(
                Assignment.status == AssignmentStatus.submitted, Assignment.auto_accept_at <= now
            )
            .order_by(Assignment.auto_accept_at)
            .limit(limit)
            .with_for_update(skip_locked=True)
        ).all()
        for assignment in due:
            if assignment.proposed_verdict == AssignmentStatus.rejected:
                record_reject(session, assignment, assignment.reason or "rejected", now=now)
            else:
                record_accept(
                    session, assignment, reason=assignment.reason or AUTO_ACCEPT_REASON, now=now
                )
    return len(due)
