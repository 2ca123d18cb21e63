from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shebao.core.errors import ValidationError
from shebao.core.values.period import (
    format_period,
    is_valid_period,
    months_between,
    next_period,
    parse_period,
    period_first_day,
    period_last_day,
    period_of,
    period_range,
    prev_period,
)

DETERMINISTIC = settings(derandomize=True, database=None, deadline=None, max_examples=100)

periods = st.builds(
    lambda year, month: year * 100 + month,
    st.integers(min_value=1900, max_value=2200),
    st.integers(min_value=1, max_value=12),
)


@pytest.mark.parametrize(
    "raw",
    [202611, "202611", " 202611 ", "2026-11", "2026/11", "2026.11", "2026年11月", "2026年11", "２０２６１１"],
)
def test_it_parses_common_spellings(raw: str | int) -> None:
    assert parse_period(raw) == 202611


def test_it_parses_single_digit_months_with_a_separator() -> None:
    assert parse_period("2026-3") == 202603
    assert parse_period("2026年3月") == 202603


@pytest.mark.parametrize("raw", ["202600", "202613", 202613, "2026-00", "2026年13月"])
def test_it_rejects_invalid_months(raw: str | int) -> None:
    with pytest.raises(ValidationError, match="月份应为01-12") as error:
        parse_period(raw)

    assert error.value.field == "period"


@pytest.mark.parametrize("raw", ["189912", "220101", 189912])
def test_it_rejects_years_out_of_range(raw: str | int) -> None:
    with pytest.raises(ValidationError, match="1900-2200"):
        parse_period(raw)


@pytest.mark.parametrize(
    "raw", ["2026", "20261", "2026111", "26-11", "2026-11-01", "abc", "２０２６年十一月"]
)
def test_it_rejects_other_text(raw: str) -> None:
    with pytest.raises(ValidationError, match="应为 YYYYMM"):
        parse_period(raw)


def test_it_rejects_empty_and_non_text_input() -> None:
    with pytest.raises(ValidationError, match="不能为空"):
        parse_period(" ")
    with pytest.raises(ValidationError):
        parse_period(True)
    with pytest.raises(ValidationError):
        parse_period(2026.11)  # type: ignore[arg-type]


def test_it_knows_valid_periods() -> None:
    assert is_valid_period(202611)
    assert not is_valid_period(202613)
    assert not is_valid_period(189912)
    assert not is_valid_period("202611")
    assert not is_valid_period(True)


def test_it_takes_the_period_of_a_date() -> None:
    assert period_of(date(2026, 11, 15)) == 202611
    assert period_of(date(2027, 1, 1)) == 202701


def test_it_steps_over_year_ends() -> None:
    assert next_period(202612) == 202701
    assert next_period(202611, 3) == 202702
    assert next_period(202611, 0) == 202611
    assert next_period(202601, -1) == 202512
    assert prev_period(202601) == 202512
    assert prev_period(202603, 14) == 202501


def test_it_rejects_malformed_periods_in_arithmetic() -> None:
    with pytest.raises(ValidationError):
        next_period(202613)
    with pytest.raises(ValidationError):
        months_between(202611, 20261)
    with pytest.raises(ValidationError):
        next_period("202611")  # type: ignore[arg-type]


def test_it_counts_months_between() -> None:
    assert months_between(202601, 202703) == 14
    assert months_between(202611, 202611) == 0
    assert months_between(202703, 202601) == -14


def test_it_ranges_inclusively() -> None:
    assert list(period_range(202611, 202702)) == [202611, 202612, 202701, 202702]
    assert list(period_range(202611, 202611)) == [202611]
    assert list(period_range(202612, 202611)) == []


def test_it_validates_a_range_before_iterating() -> None:
    with pytest.raises(ValidationError):
        period_range(202611, 202613)


def test_it_gives_first_and_last_days() -> None:
    assert period_first_day(202611) == date(2026, 11, 1)
    assert period_last_day(202611) == date(2026, 11, 30)
    assert period_last_day(202612) == date(2026, 12, 31)
    assert period_last_day(202602) == date(2026, 2, 28)
    assert period_last_day(202802) == date(2028, 2, 29)
    assert period_last_day(190002) == date(1900, 2, 28)


def test_it_formats_in_chinese() -> None:
    assert format_period(202611) == "2026年11月"
    assert format_period(202603) == "2026年3月"


@DETERMINISTIC
@given(periods)
def test_it_next_undoes_prev(period: int) -> None:
    assert next_period(prev_period(period)) == period
    assert prev_period(next_period(period)) == period


@DETERMINISTIC
@given(periods, st.integers(min_value=-3000, max_value=3000))
def test_it_counts_what_it_stepped(period: int, n: int) -> None:
    assert months_between(period, next_period(period, n)) == n


@DETERMINISTIC
@given(periods, st.integers(min_value=0, max_value=60))
def test_it_ranges_over_months_between_plus_one(period: int, n: int) -> None:
    end = next_period(period, n)
    months = list(period_range(period, end))

    assert len(months) == n + 1
    assert months == sorted(months)
    assert all(parse_period(str(p)) == p for p in months if is_valid_period(p))


@DETERMINISTIC
@given(periods)
def test_it_period_contains_its_first_and_last_day(period: int) -> None:
    assert period_of(period_first_day(period)) == period
    assert period_of(period_last_day(period)) == period
    assert (period_last_day(period) - period_first_day(period)).days in (27, 28, 29, 30)
    assert parse_period(format_period(period)) == period
