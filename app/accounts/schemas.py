from __future__ import annotations

from typing import Literal

from pydantic import ConfigDict, Field, model_validator

from app.auth.schemas import Email, Password
from app.core.schemas import InputModel, OutputModel, Timestamp, schema_rules

_BOTH_OR_NEITHER = {
    "anyOf": [
        {
            "required": ["email", "password"],
            "properties": {"email": {"type": "string"}, "password": {"type": "string"}},
        },
        {"properties": {"email": {"type": "null"}, "password": {"type": "null"}}},
    ]
}


class AccountCreate(InputModel):
    model_config = ConfigDict(json_schema_extra=schema_rules(_BOTH_OR_NEITHER))

    role: Literal["requester", "worker"] = Field(
        description="Operators are made with `tessera create-operator`."
    )
    name: str = Field(min_length=1, max_length=200)
    email: Email | None = Field(
        default=None, description="With a password: the account can sign in from the browser."
    )
    password: Password | None = Field(
        default=None, min_length=10, description="At least 10 characters; stored with argon2id."
    )

    @model_validator(mode="after")
    def _both_or_neither(self) -> AccountCreate:
        if (self.email is None) != (self.password is None):
            raise ValueError("give both an email and a password, or neither")
        return self


class AccountCreated(OutputModel):
    id: str
    role: str
    name: str
    email: str | None = None
    api_key: str = Field(description="Shown once; store it now. Only a hash is kept.")
    created_at: Timestamp


class Me(OutputModel):
    id: str
    role: str
    name: str
    email: str | None = None
    created_at: Timestamp
    balance: dict[str, str]
