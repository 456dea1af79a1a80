from __future__ import annotations

from typing import Literal

from pydantic import Field

from app.core.schemas import InputModel, OutputModel, Timestamp


class AccountCreate(InputModel):
    role: Literal["requester", "worker"] = Field(
        description="Operators are made with `tessera create-operator`."
    )
    name: str = Field(min_length=1, max_length=200)


class AccountCreated(OutputModel):
    id: str
    role: str
    name: str
    api_key: str = Field(description="Shown once; store it now. Only a hash is kept.")
    created_at: Timestamp


class Me(OutputModel):
    id: str
    role: str
    name: str
    created_at: Timestamp
    balance: dict[str, str]
