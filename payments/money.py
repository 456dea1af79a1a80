"""Money is integer micro-dollars inside and a decimal string at the edge.

``parse_usd("0.015") == 15_000``; ``format_usd(15_000) == "0.015"``. Floats are refused: a binary
float cannot hold most decimal amounts exactly.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

Micros = int
MICROS_PER_USD = 1_000_000
MAX_MICROS = 10**15  # a billion dollars; keeps every sum far inside a signed 64-bit column


class MoneyError(ValueError):
    """An amount that is not a valid decimal string of dollars."""


def parse_usd(value: object) -> Micros:
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise MoneyError("amount must be a decimal string such as \"0.015\"")
    text = str(value).strip()
    try:
        amount = Decimal(text)
    except InvalidOperation:
        raise MoneyError(f"{text!r} is not a decimal amount") from None
    if not amount.is_finite():
        raise MoneyError("amount must be finite")
    micros = amount * MICROS_PER_USD
    if micros != micros.to_integral_value():
        raise MoneyError("amount has more than 6 decimal places")
    if abs(micros) > MAX_MICROS:
        raise MoneyError("amount is too large")
    return int(micros)


def format_usd(micros: Micros) -> str:
    sign = "-" if micros < 0 else ""
    whole, frac = divmod(abs(micros), MICROS_PER_USD)
    if frac == 0:
        return f"{sign}{whole}"
    return f"{sign}{whole}.{frac:06d}".rstrip("0")
