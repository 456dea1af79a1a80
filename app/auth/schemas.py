from __future__ import annotations

from typing import Annotated

from pydantic import Field, StringConstraints

from app.core.schemas import InputModel, OutputModel, Timestamp

Email = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True,
        max_length=254,
        pattern=r"^[^@\s\x00-\x1f\x7f-\x9f]+@[^@\s\x00-\x1f\x7f-\x9f]+\.[^@\s\x00-\x1f\x7f-\x9f]+$",
    ),
]
"""An email address: something@domain.tld, lower-cased before it is stored."""

Password = Annotated[str, StringConstraints(strip_whitespace=False, max_length=1000)]
"""Taken as typed: leading or trailing spaces are part of it."""


class SessionCreate(InputModel):
    email: Email
    password: Password


class SessionAccount(OutputModel):
    id: str
    role: str
    name: str
    email: str | None


class SessionOut(OutputModel):
    account: SessionAccount
    csrf_token: str = Field(description="Send it as `X-CSRF-Token` with every state change.")
    expires_at: Timestamp


class ApiKeyCreate(InputModel):
    name: str = Field(min_length=1, max_length=100)


class ApiKeyOut(OutputModel):
    id: str
    name: str
    prefix: str = Field(description="The key's first characters, to recognise it by.")
    created_at: Timestamp


class ApiKeyCreated(ApiKeyOut):
    api_key: str = Field(description="Shown once; store it now. Only a hash is kept.")


class ApiKeyPage(OutputModel):
    items: list[ApiKeyOut]
    next_cursor: str | None = None
