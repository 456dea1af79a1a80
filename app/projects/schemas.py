from __future__ import annotations

from typing import Annotated, Any

from pydantic import AfterValidator, Field, StrictBool, model_validator

from app.annotations import AnnotationSpec
from app.core.schemas import (
    MONEY_FRACTION,
    POSITIVE_MONEY_FRACTION,
    InputModel,
    MoneyOut,
    OutputModel,
    Timestamp,
    money_schema,
    money_validator,
)

MAX_REWARD_MICROS = 100_000_000  # $100 per answer: above that a typo is likelier than intent
DAY = 86_400


class Overlap(InputModel):
    """How many answers a task takes: it stops early once confident, after at least ``min``;
    ``min`` must not exceed ``max``."""

    min: int = Field(default=3, ge=1, le=50, description="Default: 3, or max when that is lower.")
    max: int = Field(default=5, ge=1, le=50, description="Default: 5, or min when that is higher.")

    @model_validator(mode="before")
    @classmethod
    def _defaults(cls, data: Any) -> Any:
        # Only one bound given: the other follows it, so {"max": 1} means exactly one answer.
        # An explicit null is not "not given": it stays, and is refused as not an integer.
        if isinstance(data, dict):
            lo, hi = data.get("min"), data.get("max")
            if "min" not in data and isinstance(hi, int):
                data = {**data, "min": min(3, hi)}
            elif "max" not in data and isinstance(lo, int):
                data = {**data, "max": max(5, lo)}
        return data

    @model_validator(mode="after")
    def _ordered(self) -> Overlap:
        if self.min > self.max:
            raise ValueError(f"overlap.min ({self.min}) must not exceed overlap.max ({self.max})")
        return self


class Qualification(InputModel):
    gold_tasks: int = Field(
        default=0, ge=0, le=100, description="Gold tasks a new worker answers first; 0 = none."
    )
    min_accuracy: float = Field(default=0.8, ge=0, le=1)


def _reward_in_range(value: int) -> int:
    if value <= 0:
        raise ValueError("reward must be more than 0")
    if value > MAX_REWARD_MICROS:
        raise ValueError("reward must be at most 100 (dollars per answer)")
    return value


REWARD_PATTERN = rf"^(?:100(?:\.0{{1,6}})?|[1-9]\d?{MONEY_FRACTION}|0\.{POSITIVE_MONEY_FRACTION})$"
"""More than 0, at most 100 dollars per answer."""

Reward = Annotated[
    int,
    money_validator(REWARD_PATTERN, "more than 0 and at most 100"),
    AfterValidator(_reward_in_range),
    money_schema(REWARD_PATTERN),
]


class _Tunables(InputModel):
    """Fields a requester may set at creation and change later."""

    name: str = Field(min_length=1, max_length=200)
    instructions: str = Field(default="", max_length=20_000)
    reward: Reward = Field(
        default=20_000,
        json_schema_extra={"default": "0.02"},
        description='Per accepted answer, e.g. "0.02".',
    )
    overlap: Overlap = Field(default_factory=lambda: Overlap(min=3, max=5))
    confidence: float = Field(
        default=0.9, gt=0.5, lt=1, description="Consensus confidence that completes a task early."
    )
    gold_rate: float = Field(default=0.1, ge=0, le=0.5)
    qualification: Qualification = Field(default_factory=Qualification)
    ban_below_accuracy: float = Field(default=0.5, ge=0, le=1)
    assignment_duration_s: int = Field(default=600, ge=30, le=DAY)
    auto_accept_s: int = Field(default=3 * DAY, ge=0, le=30 * DAY)
    min_answer_s: int = Field(
        default=0, ge=0, le=3600, description="Answers quicker than this are too fast; 0 = off."
    )
    fast_answers_to_ban: int = Field(
        default=5, ge=1, le=1000, description="Too-fast answers that ban a worker."
    )
    auto_label: StrictBool = Field(
        default=False,
        description="Auto-labelling: a task whose attached models' predictions alone reach the "
        "confidence target (weighted by the models' measured reliability) completes with no "
        "human answer, except the audit share. Off: a model's answer is one more vote, never "
        "counted toward overlap.min.",
    )
    auto_label_audit: float = Field(
        default=0.1,
        ge=0,
        le=1,
        description="The share of would-be auto-labelled tasks drawn at random to go to people "
        "anyway, which keeps the models' measured accuracy honest.",
    )


class ProjectCreate(_Tunables):
    annotation: AnnotationSpec


class ProjectUpdate(InputModel):
    """Every field optional; reward, overlap and confidence apply to batches launched afterwards."""

    name: str | None = Field(default=None, min_length=1, max_length=200)
    instructions: str | None = Field(default=None, max_length=20_000)
    annotation: AnnotationSpec | None = Field(
        default=None, description="Only while the project has no batch."
    )
    reward: Reward | None = None
    overlap: Overlap | None = None
    confidence: float | None = Field(default=None, gt=0.5, lt=1)
    gold_rate: float | None = Field(default=None, ge=0, le=0.5)
    qualification: Qualification | None = None
    ban_below_accuracy: float | None = Field(default=None, ge=0, le=1)
    assignment_duration_s: int | None = Field(default=None, ge=30, le=DAY)
    auto_accept_s: int | None = Field(default=None, ge=0, le=30 * DAY)
    min_answer_s: int | None = Field(default=None, ge=0, le=3600)
    fast_answers_to_ban: int | None = Field(default=None, ge=1, le=1000)
    auto_label: StrictBool | None = None
    auto_label_audit: float | None = Field(default=None, ge=0, le=1)
    status: str | None = Field(default=None, pattern="^(active|paused|archived)$")


class ProjectOut(OutputModel):
    id: str
    name: str
    instructions: str
    annotation: dict[str, Any]
    reward: MoneyOut
    overlap: dict[str, int]
    confidence: float
    gold_rate: float
    qualification: dict[str, Any]
    ban_below_accuracy: float
    assignment_duration_s: int
    auto_accept_s: int
    min_answer_s: int
    fast_answers_to_ban: int
    auto_label: bool
    auto_label_audit: float
    status: str
    export_formats: list[str] = Field(
        description="The `format` values GET /v1/batches/{id}/results takes for this project's "
        "type besides json (and `images`), in the order a client should offer them."
    )
    created_at: Timestamp
    updated_at: Timestamp


class OpenProjectOut(OutputModel):
    """What a worker sees of a project: enough to choose, nothing of the requester's settings."""

    id: str
    name: str
    instructions: str
    annotation: dict[str, Any]
    reward: MoneyOut
    assignment_duration_s: int
    available_tasks: int
    qualification_gold_tasks: int = Field(
        default=0, description="Gold tasks a new worker answers first to qualify (0: none)."
    )


class ProjectPage(OutputModel):
    items: list[ProjectOut] | list[OpenProjectOut]
    next_cursor: str | None
