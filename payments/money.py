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
        raise MoneyError('amount must be a decimal string such as "0.015"')
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


# --- fee rates -------------------------------------------------------------------------------
# A rate is an integer in parts per million (ppm): "0.2" -> 200_000. Six decimals, like money,
# so any fraction an operator can type as a decimal string is held exactly.
PPM = 1_000_000


def parse_rate(value: object) -> int:
    """A fee rate from a decimal fraction string (``"0.2"``) to parts per million; 0 <= rate < 1."""
    try:
        ppm = parse_usd(value)  # same grammar: a decimal string with at most 6 places
    except MoneyError as exc:
        raise MoneyError(str(exc).replace("amount", "rate")) from None
    if not 0 <= ppm < PPM:
        raise MoneyError("rate must be at least 0 and below 1")
    return ppm


def format_rate(ppm: int) -> str:
    return format_usd(ppm)


def fee_for(amount: Micros, rate_ppm: int) -> tuple[Micros, int]:
    """The fee on ``amount`` at ``rate_ppm``, as ``(fee, remainder)``.

    The one rounding rule for fees: round **down** to a whole micro-dollar. ``remainder`` is the
    part dropped, in millionths of a micro-dollar (``0 <= remainder < 1_000_000``). It is never
    charged, so it stays with the payer: no money is created or lost, because the ledger only
    ever moves the whole micro-dollars that were charged. Fees are computed per paid amount (one
    reward, one bonus), so a batch's escrow of ``n × (reward + fee)`` is spent exactly by ``n``
    accepted answers, and there is no fee penalty for redundancy.
    """
    if amount < 0 or not 0 <= rate_ppm < PPM:
        raise MoneyError("fee needs a non-negative amount and a rate in [0, 1)")
    return divmod(amount * rate_ppm, PPM)
