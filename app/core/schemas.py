"""Pydantic bases and the edge types shared by every domain's schemas."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, PlainSerializer, WithJsonSchema

from app.core.clock import rfc3339
from payments.money import MoneyError, format_usd, parse_usd


class InputModel(BaseModel):
    """Request bodies: unknown fields are an error, not silently dropped."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class OutputModel(BaseModel):
    model_config = ConfigDict(from_attributes=True)


def _to_micros(value: Any) -> int:
    if isinstance(value, float):
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
