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

CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
"""C0 and C1 control characters but tab and newline: never meaningful in a name, label or
prose, and PostgreSQL refuses NUL in text (a 500 there that SQLite would hide)."""


def refuse_control_characters(value: Any) -> Any:
    """``value`` unchanged, or ValueError when a string anywhere in it has a control character."""
    if isinstance(value, str):
        if CONTROL_CHARACTERS.search(value):
            raise ValueError("must not contain control characters (only tab and newline)")
    elif isinstance(value, dict):
        for key, item in value.items():
            refuse_control_characters(key)
            refuse_control_characters(item)
    elif isinstance(value, list):
        for item in value:
            refuse_control_characters(item)
    return value


class InputModel(BaseModel):
    """Request bodies: unknown fields are an error, not silently dropped, and no text anywhere in
    a body (nested answers and specs too) carries a control character."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    @field_validator("*", mode="before")
    @classmethod
    def _no_control_characters(cls, value: Any) -> Any:
        return refuse_control_characters(value)


class OutputModel(BaseModel):
    model_config = ConfigDict(from_attributes=True)


MONEY_FRACTION = r"(?:\.\d{1,6})?"
POSITIVE_MONEY_FRACTION = (
    r"(?:[1-9]\d{0,5}|0[1-9]\d{0,4}|00[1-9]\d{0,3}|000[1-9]\d{0,2}|0000[1-9]\d?|00000[1-9])"
)
MONEY_PATTERN = rf"^(?:0|[1-9]\d{{0,8}}){MONEY_FRACTION}$"
"""Dollars, 0 to below a billion, at most 6 decimals: "0.04", "25", "1000.5"."""
POSITIVE_MONEY_PATTERN = rf"^(?:[1-9]\d{{0,8}}{MONEY_FRACTION}|0\.{POSITIVE_MONEY_FRACTION})$"
"""As MONEY_PATTERN, more than 0."""


def money_validator(pattern: str, rule: str) -> BeforeValidator:
    compiled = re.compile(pattern)

    def to_micros(value: Any) -> int:
        if not isinstance(value, str):
            # A JSON number is refused, integers too: a float cannot hold every amount exactly,
            # and accepting 5 but not 0.1 would be a rule no client could guess (API.md).
            raise ValueError('money must be a decimal string such as "0.04", not a number')
        if not compiled.fullmatch(value):
            raise ValueError(f'must be {rule}, in dollars with at most 6 decimals, e.g. "0.04"')
        try:
            return parse_usd(value)
        except MoneyError as exc:
            raise ValueError(str(exc)) from None

    return BeforeValidator(to_micros)


def money_schema(pattern: str) -> WithJsonSchema:
    return WithJsonSchema({"type": "string", "pattern": pattern, "examples": ["0.04"]})


Money = Annotated[
    int,
    money_validator(MONEY_PATTERN, "a decimal amount from 0 to below a billion"),
    money_schema(MONEY_PATTERN),
]
"""Parsed from a decimal string into integer micro-dollars; the schema's pattern is the rule."""

PositiveMoney = Annotated[
    int,
    money_validator(POSITIVE_MONEY_PATTERN, "more than 0 and below a billion"),
    money_schema(POSITIVE_MONEY_PATTERN),
]
"""As Money, more than 0 (deposits, payouts, bonuses)."""

_MONEY_SCHEMA = WithJsonSchema(
    {"type": "string", "pattern": r"^-?\d+(\.\d{1,6})?$", "examples": ["0.04"]}
)

MoneyOut = Annotated[int, PlainSerializer(format_usd, return_type=str), _MONEY_SCHEMA]
"""Micro-dollars rendered as a decimal string."""

Timestamp = Annotated[datetime, PlainSerializer(rfc3339, return_type=str)]
