from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shebao.core.errors import ValidationError
from shebao.core.values.workdays import WorkdayCalendar, monthly_deadline

DETERMINISTIC = settings(derandomize=True, database=None, deadline=None, max_examples=100)

CAL = WorkdayCalendar()


def test_it_knows_public_holidays_and_make_up_working_days() -> None:
    assert not CAL.is_workday(date(2026, 10, 1))  # National Day, Thursday
    assert not CAL.is_workday(date(2026, 2, 17))  # Spring Festival, Tuesday
    assert CAL.is_workday(date(2026, 10, 10))  # Saturday worked in exchange
    assert CAL.is_workday(date(2026, 2, 28))  # Saturday worked in exchange
    assert not CAL.is_workday(date(2026, 11, 14))  # ordinary Saturday
    assert CAL.is_workday(date(2026, 11, 16))  # ordinary Monday


def test_it_lets_an_override_win() -> None:
    cal = WorkdayCalendar({date(2026, 11, 16): False, date(2026, 10, 1): True})

    assert not cal.is_workday(date(2026, 11, 16))
    assert cal.is_workday(date(2026, 10, 1))
    assert cal.is_workday(date(2026, 11, 17))


def test_it_falls_back_to_monday_to_friday_outside_the_official_data() -> None:
    assert not CAL.covers(date(2099, 6, 15))
    assert CAL.covers(date(2026, 6, 15))
    assert not CAL.is_workday(date(2099, 6, 13))  # Saturday
    assert CAL.is_workday(date(2099, 6, 15))  # Monday
    assert CAL.is_workday(date(2003, 12, 31))  # Wednesday before the data starts
    assert not WorkdayCalendar({date(2099, 6, 15): False}).is_workday(date(2099, 6, 15))


def test_it_accepts_datetimes() -> None:
    cal = WorkdayCalendar({datetime(2026, 11, 16, 9, 30): False})

    assert not cal.is_workday(datetime(2026, 11, 16, 18, 0))
    assert cal.next_workday_on_or_after(datetime(2026, 11, 14, 8, 0)) == date(2026, 11, 17)


def test_it_moves_to_the_next_working_day() -> None:
    assert CAL.next_workday_on_or_after(date(2026, 11, 16)) == date(2026, 11, 16)
    assert CAL.next_workday_on_or_after(date(2026, 11, 14)) == date(2026, 11, 16)
    assert CAL.next_workday_on_or_after(date(2026, 10, 1)) == date(2026, 10, 8)


def test_it_adds_working_days_without_counting_the_start() -> None:
    assert CAL.add_workdays(date(2026, 9, 30), 1) == date(2026, 10, 8)
    assert CAL.add_workdays(date(2026, 11, 13), 1) == date(2026, 11, 16)
    assert CAL.add_workdays(date(2026, 11, 16), 5) == date(2026, 11, 23)
    assert CAL.add_workdays(date(2026, 11, 14), 0) == date(2026, 11, 14)
    assert CAL.add_workdays(date(2026, 10, 8), -1) == date(2026, 9, 30)


def test_it_counts_working_days_between() -> None:
    assert CAL.workdays_between(date(2026, 9, 30), date(2026, 10, 8)) == 1
    assert CAL.workdays_between(date(2026, 11, 16), date(2026, 11, 16)) == 0
    assert CAL.workdays_between(date(2026, 11, 9), date(2026, 11, 16)) == 5
    assert CAL.workdays_between(date(2026, 11, 16), date(2026, 11, 9)) == -5


def test_it_stops_on_a_calendar_without_working_days() -> None:
    start = date(2026, 11, 1)
    no_work = WorkdayCalendar({start + timedelta(days=i): False for i in range(400)})

    with pytest.raises(ValidationError, match="都不是工作日"):
        no_work.next_workday_on_or_after(start)
    with pytest.raises(ValidationError, match="都不是工作日"):
        no_work.add_workdays(start, 1)


def test_it_postpones_the_15th_over_weekends_and_holidays() -> None:
    assert monthly_deadline(202610) == date(2026, 10, 15)  # Thursday
    assert monthly_deadline(202611) == date(2026, 11, 16)  # Sunday → Monday
    assert monthly_deadline(202602) == date(2026, 2, 24)  # Spring Festival
    assert monthly_deadline(202610, 1) == date(2026, 10, 8)  # National Day


def test_it_uses_the_given_calendar() -> None:
    cal = WorkdayCalendar({date(2026, 10, 15): False})

    assert monthly_deadline(202610, 15, cal) == date(2026, 10, 16)
    assert monthly_deadline(202610, cal=cal) == date(2026, 10, 16)


def test_it_treats_a_day_past_month_end_as_the_last_day() -> None:
    assert monthly_deadline(202602, 31) == date(2026, 2, 28)  # a Saturday worked in exchange
    assert monthly_deadline(202604, 31) == date(2026, 4, 30)


@pytest.mark.parametrize("day", [0, 32, -1])
def test_it_rejects_impossible_deadline_days(day: int) -> None:
    with pytest.raises(ValidationError, match="1-31"):
        monthly_deadline(202611, day)


def test_it_rejects_malformed_periods() -> None:
    with pytest.raises(ValidationError):
        monthly_deadline(202613)


@DETERMINISTIC
@given(
    start=st.dates(min_value=date(2024, 1, 1), max_value=date(2027, 12, 31)),
    n=st.integers(min_value=-40, max_value=40),
)
def test_it_counts_back_what_it_added(start: date, n: int) -> None:
    end = CAL.add_workdays(start, n)

    assert CAL.workdays_between(start, end) == n
    if n:
        assert CAL.is_workday(end)


@DETERMINISTIC
@given(
    period=st.integers(min_value=2020, max_value=2030)
    .map(lambda y: y * 100)
    .flatmap(lambda base: st.integers(min_value=1, max_value=12).map(lambda m: base + m))
)
def test_it_deadline_is_a_working_day_not_before_the_15th(period: int) -> None:
    deadline = monthly_deadline(period)

    assert CAL.is_workday(deadline)
    assert deadline >= date(period // 100, period % 100, 15)
    assert CAL.workdays_between(date(period // 100, period % 100, 14), deadline) == 1
