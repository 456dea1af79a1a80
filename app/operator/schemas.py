from __future__ import annotations

from pydantic import Field

from app.core.schemas import InputModel, MoneyOut, OutputModel, PositiveMoney, Timestamp


class SettingsOut(OutputModel):
    platform_fee: str = Field(description='A fraction as a decimal string, e.g. "0.1" for 10%.')
    min_payout: MoneyOut
    payout_hold_s: int
    benefit_of_doubt_below: float = Field(
        description="Below this consensus confidence no answer is rejected."
    )
    qualification_retry_s: int


class SettingsPatch(InputModel):
    platform_fee: str | None = Field(
        default=None, pattern=r"^0(\.\d{1,6})?$", description="0 ≤ fee < 1"
    )
    min_payout: PositiveMoney | None = None
    payout_hold_s: int | None = Field(default=None, ge=0, le=90 * 86_400)
    benefit_of_doubt_below: float | None = Field(default=None, ge=0, le=1)
    qualification_retry_s: int | None = Field(default=None, ge=0, le=365 * 86_400)


class VerifyOut(OutputModel):
    ok: bool
    accounts: int
    total: MoneyOut
    violations: list[str]


class SettingsChangeOut(OutputModel):
    id: str
    setting: str
    old_value: str
    new_value: str
    changed_at: Timestamp
    actor_id: str
    actor_name: str


class AdminPayoutOut(OutputModel):
    id: str
    worker_id: str
    worker_name: str | None = Field(description="None if the worker's account is gone.")
    amount: MoneyOut
    status: str = Field(
        description="requested (not sent yet), pending (sent, outcome unknown), paid or failed"
    )
    provider: str
    attempts: int = Field(description="How many times the provider has been called.")
    failure_reason: str | None
    created_at: Timestamp
    next_attempt_at: Timestamp | None = Field(
        description="When the payout reconciler next tries it (requested and pending only)."
    )
    settled_at: Timestamp | None


class AdminPayoutPage(OutputModel):
    items: list[AdminPayoutOut]
    next_cursor: str | None
    counts: dict[str, int] = Field(description="Every payout by status, whatever the filter.")


class SettingsHistoryPage(OutputModel):
    items: list[SettingsChangeOut]
    next_cursor: str | None


class StatsWindow(OutputModel):
    since: Timestamp
    until: Timestamp
    window_s: int
    bucket_s: int


class StatsFigures(OutputModel):
    answers: int
    leases: int
    answers_per_minute: float
    leases_per_minute: float
    completed_tasks: int
    average_confidence: float | None = Field(description="Of tasks completed in the window.")
    decided: int = Field(description="Answers whose verdict became final in the window.")
    rejected: int
    rejection_rate: float | None
    spend: MoneyOut = Field(description="Rewards and bonuses paid by requesters, fees included.")
    fees: MoneyOut = Field(description="The platform's fee income.")
    refunds: MoneyOut = Field(description="Unspent escrow returned to requesters.")
    deposits: MoneyOut
    payouts_paid: MoneyOut
    payouts_failed: MoneyOut


class StatsBucket(StatsFigures):
    start: Timestamp


class StatsOut(OutputModel):
    accounts: dict[str, int]
    projects: int
    batches: dict[str, int]
    tasks: dict[str, int]
    tasks_waiting: int
    assignments: dict[str, int]
    window: StatsWindow
    totals: StatsFigures
    series: list[StatsBucket]


class ProjectSkill(OutputModel):
    project_id: str
    accuracy: float
    accuracy_upper: float
    graded_answers: int
    gold_answers: int
    qualified: bool
    qualification_retry_at: Timestamp | None
    banned: bool
    ban_reason: str | None


class WorkerRow(OutputModel):
    id: str
    name: str
    created_at: Timestamp
    answers: int
    accepted: int
    earnings: MoneyOut
    banned: bool
    ban_reason: str | None
    projects: list[ProjectSkill]


class BanIn(InputModel):
    reason: str = Field(min_length=1, max_length=2000)
    project_id: str | None = Field(
        default=None, description="Only this project; omit to ban everywhere."
    )


class UnbanIn(InputModel):
    project_id: str | None = None


class WorkerPage(OutputModel):
    items: list[WorkerRow]
    next_cursor: str | None
