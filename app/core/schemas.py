"""Pydantic bases and the edge types shared by every domain's schemas."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    PlainSerializer,
    WithJsonSchema,
    field_validator,
)

from app.core.clock import rfc3339
from payments.money import MoneyError, format_usd, parse_usd

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
"""C0 and C1 control characters but tab and newline: never meaningful in a name, label or
prose, and PostgreSQL refuses NUL in text (a 500 there that SQLite would hide)."""


def _refuse_control_characters(value: Any) -> Any:
    if isinstance(value, str):
        if _CONTROL.search(value):
            raise ValueError("must not contain control characters (only tab and newline)")
    elif isinstance(value, dict):
        for key, item in value.items():
            _refuse_control_characters(key)
            _refuse_control_characters(item)
    elif isinstance(value, list):
        for item in value:
            _refuse_control_characters(item)
    return value


class InputModel(BaseModel):
    """Request bodies: unknown fields are an error, not silently dropped, and no text anywhere in
    a body (nested answers and specs too) carries a control character."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    @field_validator("*", mode="before")
    @classmethod
    def _no_control_characters(cls, value: Any) -> Any:
        return _refuse_control_characters(value)


class OutputModel(BaseModel):
    model_config = ConfigDict(from_attributes=True)


def _to_micros(value: Any) -> int:
    if not isinstance(value, str):
        # A JSON number is refused, integers too: a float cannot hold every amount exactly, and
        # accepting 5 but not 0.1 would be a rule no client could guess (API.md: decimal strings).
        raise ValueError('money must be a decimal string such as "0.04", not a number')
    try:
        return parse_usd(value)
    except MoneyError as exc:
        raise ValueError(str(exc)) from None


_MONEY_SCHEMA = WithJsonSchema(
    {"type": "string", "pattern": r"^-?\d+(\.\d{1,6})?$", "examples": ["0.04"]}
)

Money = Annotated[int, BeforeValidator(_to_micros), _MONEY_SCHEMA]
"""Parsed from a decimal string into integer micro-dollars."""

MoneyOut = Annotated[int, PlainSerializer(format_usd, return_type=str), _MONEY_SCHEMA]
"""Micro-dollars rendered as a decimal string."""

Timestamp = Annotated[datetime, PlainSerializer(rfc3339, return_type=str)]
