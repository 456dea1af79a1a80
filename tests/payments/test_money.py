from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from payments.money import PPM, MoneyError, fee_for, format_rate, format_usd, parse_rate, parse_usd


class TestParseFormat:
    @pytest.mark.parametrize(
        ("text", "micros"),
        [("0.015", 15_000), ("1", 1_000_000), ("-2.5", -2_500_000), ("0.000001", 1)],
    )
    def test_examples(self, text: str, micros: int) -> None:
        assert parse_usd(text) == micros
        assert format_usd(micros) == text

    @pytest.mark.parametrize("bad", [0.1, "0.0000001", "abc", "NaN", True, None, "1e30"])
    def test_refuses(self, bad: object) -> None:
        with pytest.raises(MoneyError):
            parse_usd(bad)

    @settings(database=None, max_examples=200)
    @given(st.integers(min_value=-(10**15), max_value=10**15))
    def test_round_trip(self, micros: int) -> None:
        assert parse_usd(format_usd(micros)) == micros


class TestRate:
    def test_parse_and_format(self) -> None:
        assert parse_rate("0.2") == 200_000
        assert parse_rate("0.000125") == 125
        assert format_rate(125_000) == "0.125"

    @pytest.mark.parametrize("bad", ["1", "-0.1", "0.0000001", "1.5"])
    def test_refuses_out_of_range(self, bad: str) -> None:
        with pytest.raises(MoneyError):
            parse_rate(bad)


class TestFee:
    def test_rounds_down_and_reports_remainder(self) -> None:
        assert fee_for(40_000, 200_000) == (8_000, 0)
        assert fee_for(15, 333_333) == (4, 999_995)  # 4.999995 micro-dollars: 4 charged

    @settings(database=None, max_examples=300)
    @given(st.integers(min_value=0, max_value=10**12), st.integers(min_value=0, max_value=PPM - 1))
    def test_nothing_lost(self, amount: int, rate: int) -> None:
        fee, remainder = fee_for(amount, rate)
        assert fee * PPM + remainder == amount * rate  # exact: the remainder is all that is dropped
        assert 0 <= remainder < PPM
        assert 0 <= fee <= amount
