"""Pydantic bases and the edge types shared by every domain's schemas."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any, get_args

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    PlainSerializer,
    ValidationInfo,
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


NO_CONTROL_CHARACTERS_PATTERN = r"^[^\x00-\x08\x0b-\x1f\x7f-\x9f]*$"
"""The same rule as CONTROL_CHARACTERS, as the schema of every text field of a request body."""


_TEXT = r"[^\x00-\x08\x0b-\x1f\x7f-\x9f]"
_BLANK = r"\t\n \xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
NONBLANK_TEXT_PATTERN = rf"^{_TEXT}*[^\x00-\x08\x0b-\x1f\x7f-\x9f{_BLANK}]{_TEXT}*$"
"""The control-character rule for a required text (``minLength`` 1) of an InputModel, which
strips whitespace before it counts: at least one character that is neither a control character
nor whitespace as ``str.strip`` sees it (spelt out, not ``\\s``, whose meaning differs between
regex dialects). Without it, ``" "`` would be valid by the schema and refused by the server."""


def _mark_text(node: dict[str, Any]) -> None:
    if node.get("type") == "string" and not {"pattern", "format"} & set(node):
        node["pattern"] = (
            NONBLANK_TEXT_PATTERN if node.get("minLength") == 1 else NO_CONTROL_CHARACTERS_PATTERN
        )
    for variant in node.get("anyOf", []):
        _mark_text(variant)
    if isinstance(node.get("items"), dict):
        _mark_text(node["items"])


def text_fields_refuse_control_characters(schema: dict[str, Any]) -> None:
    """A model's ``json_schema_extra``: each text field (and list of texts) of the model gets
    the pattern of the control-character rule its validation applies."""
    for prop in schema.get("properties", {}).values():
        _mark_text(prop)


def schema_rules(rules: dict[str, Any]) -> Callable[[dict[str, Any]], None]:
    """``json_schema_extra`` for an InputModel with rules across its fields (``oneOf``,
    ``anyOf``) that its validators check: the text rule of every InputModel, and these."""

    def extra(schema: dict[str, Any]) -> None:
        text_fields_refuse_control_characters(schema)
        schema.update(rules)

    return extra


def _takes_bool(annotation: Any) -> bool:
    if annotation is bool or annotation is Any:
        return True
    return any(_takes_bool(arg) for arg in get_args(annotation))


def _validates_itself(annotation: Any) -> bool:
    """Whether ``annotation`` holds a model, which checks its own texts (so an error names the
    nested field, ``images.0.name``, not the whole ``images``)."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return True
    return any(_validates_itself(arg) for arg in get_args(annotation))


class InputModel(BaseModel):
    """Request bodies: unknown fields are an error, not silently dropped; no text anywhere in a
    body (nested answers and specs too) carries a control character (the schema of each text
    field says so); true and false are not numbers (JSON Schema's integer is not a boolean)."""

    model_config = ConfigDict(
        extra="forbid",
        str_strip_whitespace=True,
        json_schema_extra=text_fields_refuse_control_characters,
    )

    @field_validator("*", mode="before")
    @classmethod
    def _no_control_characters(cls, value: Any, info: ValidationInfo) -> Any:
        if isinstance(value, bool) and info.field_name is not None:
            field = cls.model_fields.get(info.field_name)
            if field is not None and not _takes_bool(field.annotation):
                raise ValueError("must be a number, not true or false")
        field = cls.model_fields.get(info.field_name or "")
        if field is not None and _validates_itself(field.annotation):
            return value
        return refuse_control_characters(value)


class OutputModel(BaseModel):
    """A response body. Every field is sent, those with a default too (nothing is excluded), so
    the document lists them all as required: a client may rely on ``"appeal_until": null``
    being there rather than absent."""

    model_config = ConfigDict(
        from_attributes=True, json_schema_serialization_defaults_required=True
    )


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


_RFC3339 = re.compile(r"\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})")


def _rfc3339_text(value: Any) -> Any:
    if isinstance(value, str) and not _RFC3339.fullmatch(value):
        raise ValueError("must be an RFC 3339 date-time with an offset, e.g. 2026-01-05T12:00:00Z")
    if not isinstance(value, str | datetime):
        raise ValueError("must be an RFC 3339 date-time string")
    return value


DateTimeIn = Annotated[datetime, BeforeValidator(_rfc3339_text)]
"""A date-time given by a client: RFC 3339 with an offset, as the schema's ``date-time`` says
(pydantic alone would also take a number of seconds, or no offset)."""
