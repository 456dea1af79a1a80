"""Verdicts on submitted answers, and the money that follows them.

An accepted answer is paid from its batch's escrow in the same transaction that records the
verdict (``payments.pay_accepted``, unique per assignment, so never twice); a rejected one is
paid nothing. The assignment row is locked first, so an accept racing a reject (or the
auto-accept reconciler) sees the other's verdict and stops.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

import payments
from app.core.db import transaction
from app.core.errors import Conflict, NotFound
from app.core.ids import new_id
from app.models import Account, Assignment, AssignmentStatus, Batch, Bonus

AUTO_ACCEPT_REASON = "accepted automatically: the review window ended"


class AnswerNotFound(NotFound):
    type, title = "assignment-not-found", "Assignment not found"


class VerdictConflict(Conflict):
    type, title = "verdict-final", "The answer already has a verdict or was never submitted"


def _submitted_for_requester(session: Session, requester: Account, assignment_id: str) -> Assignment:
    assignment = session.scalar(
        select(Assignment)
        .join(Batch, Batch.id == Assignment.batch_id)
        .where(Assignment.id == assignment_id, Batch.requester_id == requester.id)
        .with_for_update(of=Assignment)
    )
    if assignment is None:
        raise AnswerNotFound(f"No assignment {assignment_id} in your batches.")
    return assignment


def accept(session: Session, requester: Account, assignment_id: str, *, now: datetime) -> Assignment:
    with transaction(session):
        assignment = _submitted_for_requester(session, requester, assignment_id)
        _require_submitted(assignment)
        record_accept(session, assignment, reason=None, now=now)
    return assignment


def reject(session: Session, requester: Account, assignment_id: str, reason: str, *, now: datetime) -> Assignment:
    with transaction(session):
        assignment = _submitted_for_requester(session, requester, assignment_id)
        _require_submitted(assignment)
        assignment.status, assignment.reason, assignment.decided_at = AssignmentStatus.rejected, reason, now
    return assignment


def bonus(
    session: Session, requester: Account, assignment_id: str, amount: int, reason: str, *, now: datetime
) -> Bonus:
    """A bonus to the answer's worker from the requester's available balance, fee applies."""
    with transaction(session):
        assignment = _submitted_for_requester(session, requester, assignment_id)
        if assignment.status not in (AssignmentStatus.submitted, AssignmentStatus.accepted, AssignmentStatus.rejected):
            raise VerdictConflict("Only a submitted answer can earn a bonus.")
        row = Bonus(id=new_id("bon"), assignment_id=assignment.id, worker_id=assignment.worker_id,
                    amount_micros=amount, reason=reason, created_at=now)
        session.add(row)
        payments.pay_bonus(session, reference=row.id, batch_ref=assignment.batch_id,
                           worker_ref=assignment.worker_id, amount=amount, now=now)
    return row


def _require_submitted(assignment: Assignment) -> None:
    if assignment.status != AssignmentStatus.submitted:
        raise VerdictConflict(f"Assignment {assignment.id} is {assignment.status}; a verdict is final.")


def record_accept(session: Session, assignment: Assignment, *, reason: str | None, now: datetime) -> None:
    """Accept a locked, submitted assignment and pay it, in the caller's transaction."""
    assignment.status, assignment.reason, assignment.decided_at = AssignmentStatus.accepted, reason, now
    payments.pay_accepted(
        session, assignment_ref=assignment.id, batch_ref=assignment.batch_id, worker_ref=assignment.worker_id,
        now=now,
    )


def auto_accept_due(session: Session, *, now: datetime, limit: int = 200) -> int:
    """Make final the verdicts of answers whose review window ended: the consensus's proposal
    when there is one (rejected answers are not paid), else acceptance."""
    with transaction(session):
        due = session.scalars(
            select(Assignment)
            .where(Assignment.status == AssignmentStatus.submitted, Assignment.auto_accept_at <= now)
            .order_by(Assignment.auto_accept_at)
            .limit(limit)
            .with_for_update(skip_locked=True)
        ).all()
        for assignment in due:
            if assignment.proposed_verdict == AssignmentStatus.rejected:
                assignment.status, assignment.decided_at = AssignmentStatus.rejected, now
            else:
                record_accept(session, assignment, reason=assignment.reason or AUTO_ACCEPT_REASON, now=now)
    return len(due)
