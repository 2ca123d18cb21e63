from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shebao.core.errors import ValidationError
from shebao.core.values.money import (
    MAX_YUAN,
    format_yuan,
    format_yuan_display,
    from_fen,
    parse_yuan,
    round_yuan,
    to_fen,
)

DETERMINISTIC = settings(derandomize=True, database=None, deadline=None, max_examples=100)

two_place_amounts = st.decimals(
    min_value=-MAX_YUAN, max_value=MAX_YUAN, places=2, allow_nan=False, allow_infinity=False
)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("1234", "1234.00"),
        ("1234.5", "1234.50"),
        ("1234.56", "1234.56"),
        ("0", "0.00"),
        ("007.10", "7.10"),
        (" 2345.60 ", "2345.60"),
        ("１２３４．５６", "1234.56"),
        (1234, "1234.00"),
        (Decimal("12.3"), "12.30"),
        (Decimal("1.230"), "1.23"),
    ],
)
def test_it_parses_plain_amounts(raw: str | int | Decimal, expected: str) -> None:
    result = parse_yuan(raw)

    assert result == Decimal(expected)
    assert str(result) == expected


def test_it_accepts_negative_amounts_only_when_allowed() -> None:
    assert parse_yuan("-12.30", allow_negative=True) == Decimal("-12.30")
    assert parse_yuan(-5, allow_negative=True) == Decimal("-5.00")
    assert parse_yuan("\u221212.30", allow_negative=True) == Decimal("-12.30")  # typographic minus
    for raw in ("-12.30", -5, Decimal("-0.01")):
        with pytest.raises(ValidationError, match="不能为负数"):
            parse_yuan(raw)


def test_it_never_returns_negative_zero() -> None:
    result = parse_yuan("-0.00", allow_negative=True)

    assert str(result) == "0.00"
    assert format_yuan(result) == "0.00"


def test_it_accepts_thousands_separators_only_when_allowed() -> None:
    assert parse_yuan("1,234,567.89", allow_separators=True) == Decimal("1234567.89")
    assert parse_yuan("-1,234", allow_separators=True, allow_negative=True) == Decimal("-1234.00")
    with pytest.raises(ValidationError, match="千位分隔符"):
        parse_yuan("1,234.56")


@pytest.mark.parametrize("raw", ["12,34", "1,2345", ",123", "1,234,56"])
def test_it_rejects_misplaced_separators(raw: str) -> None:
    with pytest.raises(ValidationError, match="千位分隔符位置有误"):
        parse_yuan(raw, allow_separators=True)


def test_it_rejects_floats() -> None:
    with pytest.raises(ValidationError, match="浮点数"):
        parse_yuan(12.5)  # type: ignore[arg-type]


def test_it_rejects_booleans() -> None:
    with pytest.raises(ValidationError):
        parse_yuan(True)


@pytest.mark.parametrize("raw", ["1.234", "0.001", Decimal("1.235"), Decimal("0.001")])
def test_it_rejects_more_than_two_decimals(raw: str | Decimal) -> None:
    with pytest.raises(ValidationError, match="金额最多两位小数"):
        parse_yuan(raw)


@pytest.mark.parametrize("raw", ["", "   ", "\u3000"])
def test_it_rejects_empty_text(raw: str) -> None:
    with pytest.raises(ValidationError, match="金额不能为空"):
        parse_yuan(raw)


@pytest.mark.parametrize(
    "raw", ["NaN", "nan", "sNaN", "Infinity", "-inf", Decimal("NaN"), Decimal("Infinity")]
)
def test_it_rejects_nan_and_infinity(raw: str | Decimal) -> None:
    with pytest.raises(ValidationError, match="有限的数字"):
        parse_yuan(raw, allow_negative=True)


@pytest.mark.parametrize("raw", ["1e3", "1E+3", "1.5e-2", "2.E5"])
def test_it_rejects_exponent_notation(raw: str) -> None:
    with pytest.raises(ValidationError, match="科学计数法"):
        parse_yuan(raw)


@pytest.mark.parametrize("raw", ["¥12", "12元", "12.", ".5", "+12", "1 234", "12..3", "abc", "١٢"])
def test_it_rejects_anything_else(raw: str) -> None:
    with pytest.raises(ValidationError, match="金额格式不正确"):
        parse_yuan(raw)


def test_it_rejects_amounts_above_the_maximum() -> None:
    assert parse_yuan(str(MAX_YUAN)) == MAX_YUAN
    with pytest.raises(ValidationError, match="金额过大"):
        parse_yuan("1000000000000")
    with pytest.raises(ValidationError, match="金额过大"):
        parse_yuan(Decimal("1E+40"))


def test_it_passes_the_field_name_on() -> None:
    with pytest.raises(ValidationError) as error:
        parse_yuan("x", field="amount")

    assert error.value.field == "amount"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("0.005", "0.01"),
        ("0.004", "0.00"),
        ("2.345", "2.35"),
        ("2.335", "2.34"),
        ("-0.005", "-0.01"),
        ("-0.004", "0.00"),
        ("10", "10.00"),
    ],
)
def test_it_rounds_half_up(raw: str, expected: str) -> None:
    assert str(round_yuan(Decimal(raw))) == expected


def test_it_round_yuan_rejects_floats() -> None:
    with pytest.raises(TypeError):
        round_yuan(0.1)  # type: ignore[arg-type]


def test_it_formats_for_bank_files_and_screens() -> None:
    assert format_yuan(Decimal("2345.6")) == "2345.60"
    assert format_yuan(Decimal("-12.3")) == "-12.30"
    assert format_yuan(7) == "7.00"
    assert format_yuan_display(Decimal("2345.6")) == "2,345.60"
    assert format_yuan_display(Decimal("-1234567.8")) == "-1,234,567.80"
    assert format_yuan_display(Decimal("0")) == "0.00"


def test_it_refuses_to_format_unrounded_amounts() -> None:
    with pytest.raises(ValueError, match="round_yuan"):
        format_yuan(Decimal("1.005"))
    with pytest.raises(TypeError):
        format_yuan(1.5)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        format_yuan(Decimal("NaN"))


def test_it_converts_to_and_from_fen() -> None:
    assert to_fen(Decimal("12.34")) == 1234
    assert to_fen(Decimal("-0.05")) == -5
    assert to_fen(3) == 300
    assert from_fen(1234) == Decimal("12.34")
    assert str(from_fen(0)) == "0.00"
    assert str(from_fen(-5)) == "-0.05"
    with pytest.raises(TypeError):
        from_fen(1.5)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        to_fen(Decimal("0.001"))


@DETERMINISTIC
@given(two_place_amounts)
def test_it_parses_what_it_formats(amount: Decimal) -> None:
    assert parse_yuan(format_yuan(amount), allow_negative=True) == amount
    assert parse_yuan(format_yuan_display(amount), allow_negative=True, allow_separators=True) == amount


@DETERMINISTIC
@given(two_place_amounts)
def test_it_round_trips_fen(amount: Decimal) -> None:
    assert from_fen(to_fen(amount)) == amount


@DETERMINISTIC
@given(st.integers(min_value=-(10**20), max_value=10**20))
def test_it_round_trips_integer_fen(fen: int) -> None:
    assert to_fen(from_fen(fen)) == fen


@DETERMINISTIC
@given(st.decimals(min_value=-(10**9), max_value=10**9, places=6, allow_nan=False, allow_infinity=False))
def test_it_rounding_is_within_half_a_fen(amount: Decimal) -> None:
    rounded = round_yuan(amount)

    assert abs(rounded - amount) <= Decimal("0.005")
    assert rounded == rounded.quantize(Decimal("0.01"))
