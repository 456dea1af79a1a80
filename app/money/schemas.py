from __future__ import annotations

from pydantic import Field

from app.core.schemas import InputModel, MoneyOut, OutputModel, PositiveMoney, Timestamp


class DepositIn(InputModel):
    amount: PositiveMoney = Field(description='Dollars as a decimal string, e.g. "25.00".')


class DepositOut(OutputModel):
    id: str
    amount: MoneyOut
    balance: dict[str, MoneyOut]


class LedgerEntryOut(OutputModel):
    id: int
    transaction_id: str
    kind: str
    reference: str
    account: str
    owner: str
    amount: MoneyOut
    created_at: Timestamp


class LedgerPage(OutputModel):
    items: list[LedgerEntryOut]
    next_cursor: str | None


class PayoutIn(InputModel):
    amount: PositiveMoney | None = Field(
        default=None, description="Omit to withdraw everything available."
    )


class PayoutOut(OutputModel):
    id: str
    amount: MoneyOut
    status: str
    failure_reason: str | None
    created_at: Timestamp
    settled_at: Timestamp | None
