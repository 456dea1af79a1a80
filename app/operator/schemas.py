from __future__ import annotations

from pydantic import Field

from app.core.schemas import InputModel, MoneyOut, OutputModel, PositiveMoney


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
