from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

from pydantic import Field

from app.core.schemas import InputModel, MoneyOut, OutputModel, Timestamp

if TYPE_CHECKING:
    from app.models import Assignment


class LeasedTask(OutputModel):
    id: str
    image_url: str
    width: int
    height: int
    annotation: dict[str, Any]
    instructions: str
    pre_annotation: dict[str, Any] | None = None


class LeaseOut(OutputModel):
    id: str
    project_id: str
    task: LeasedTask
    reward: MoneyOut
    expires_at: Timestamp


class SubmitIn(InputModel):
    answer: Any = Field(
        description="The answer in the shape of the project's annotation type (API.md)."
    )


class ReleaseIn(InputModel):
    reason: Literal["skipped", "broken_image"] = Field(
        default="skipped", description="Why the task is given back; a broken image is reported."
    )


class AssignmentOut(OutputModel):
    id: str
    project_id: str
    task_id: str
    status: str
    reward: MoneyOut
    leased_at: Timestamp
    expires_at: Timestamp
    submitted_at: Timestamp | None
    reason: str | None
    appeal_until: Timestamp | None = None
    appeal_message: str | None = None
    appeal_outcome: str | None = None

    @classmethod
    def of(cls, assignment: Assignment) -> AssignmentOut:
        """The assignment as its worker (or its requester, after a verdict) sees it.

        The reason is shown once the verdict is final, never while the answer waits for one: a
        gold answer is judged at submit and a real one when its task completes, so a reason that
        appeared at submit would tell the worker the task was gold, and its known answer.
        """
        final = assignment.status not in ("submitted", "leased")
        return cls(
            id=assignment.id,
            project_id=assignment.project_id,
            task_id=assignment.task_id,
            status=assignment.status,
            reward=assignment.reward_micros,
            leased_at=assignment.leased_at,
            expires_at=assignment.expires_at,
            submitted_at=assignment.submitted_at,
            reason=assignment.reason if final else None,
            appeal_until=assignment.appeal_until if assignment.appealed_at is None else None,
            appeal_message=assignment.appeal_message,
            appeal_outcome=assignment.appeal_outcome,
        )


class AssignmentPage(OutputModel):
    items: list[AssignmentOut]
    next_cursor: str | None


class StandingOut(OutputModel):
    """A worker's standing on one project; the figures move only when a verdict is final."""

    project_id: str
    accuracy: float = Field(description="Estimated share of answers that agree (0..1).")
    accuracy_upper: float = Field(description="Upper 90% credible bound of the accuracy.")
    graded_answers: int = Field(description="Answers with a final verdict that were graded.")
    qualified: bool
    qualification_retry_at: Timestamp | None
    banned: bool
    ban_reason: str | None


class StandingPage(OutputModel):
    items: list[StandingOut]
