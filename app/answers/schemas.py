"""Request and response bodies of the review routes (`/v1/assignments/{id}/…`)."""

from __future__ import annotations

from pydantic import Field

from app.core.schemas import InputModel, MoneyOut, OutputModel, PositiveMoney, Timestamp


class RejectIn(InputModel):
    reason: str = Field(min_length=1, max_length=2000, description="Shown to the worker.")


class BonusIn(InputModel):
    amount: PositiveMoney
    reason: str = Field(min_length=1, max_length=2000, description="Shown to the worker.")


class BonusOut(OutputModel):
    id: str
    assignment_id: str
    worker_id: str
    amount: MoneyOut
    reason: str
    created_at: Timestamp


class AppealIn(InputModel):
    message: str = Field(min_length=1, max_length=2000, description="Why the rejection is wrong.")


class AppealAnswerIn(InputModel):
    reason: str = Field(min_length=1, max_length=2000, description="Shown to the worker.")
