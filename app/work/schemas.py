from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from app.core.schemas import InputModel, MoneyOut, OutputModel, Timestamp


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


class AssignmentPage(OutputModel):
    items: list[AssignmentOut]
    next_cursor: str | None
