"""Working days in mainland China (法定节假日 and 调休 make-up working weekends).

Backed by ``chinese_calendar``, which only knows the years the State Council has
published (2004 up to the current one, usually announced each November). Outside
that range we fall back to Monday-Friday; an agency can correct any single day with
an override (e.g. a newly announced holiday before the package is upgraded).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, timedelta

import chinese_calendar

from shebao.core.errors import ValidationError
from shebao.core.values.period import period_last_day

# Guard for loops: no real calendar has this many non-working days in a row.
_MAX_DAYS_OFF_IN_A_ROW = 60


def _as_date(day: date) -> date:
    return day.date() if isinstance(day, datetime) else day


class WorkdayCalendar:
    """Which days are working days, with per-day overrides (True = working day)."""

    def __init__(self, overrides: Mapping[date, bool] | None = None) -> None:
        self._overrides: dict[date, bool] = {_as_date(d): bool(v) for d, v in (overrides or {}).items()}

    def covers(self, day: date) -> bool:
        """Whether the official holiday data covers ``day`` (otherwise Monday-Friday is assumed)."""
        try:
            chinese_calendar.is_workday(_as_date(day))
        except NotImplementedError:
            return False
        return True

    def is_workday(self, day: date) -> bool:
        """Override first, then the official calendar, then Monday-Friday."""
        day = _as_date(day)
        override = self._overrides.get(day)
        if override is not None:
            return override
        try:
            return bool(chinese_calendar.is_workday(day))
        except NotImplementedError:
            return day.weekday() < 5

    def next_workday_on_or_after(self, day: date) -> date:
        """``day`` itself when it is a working day, else the next one."""
        start = _as_date(day)
        for offset in range(_MAX_DAYS_OFF_IN_A_ROW + 1):
            candidate = start + timedelta(days=offset)
            if self.is_workday(candidate):
                return candidate
        raise ValidationError(f"{start} 起连续{_MAX_DAYS_OFF_IN_A_ROW}天都不是工作日，请检查工作日设置")

    def add_workdays(self, day: date, n: int) -> date:
        """The ``n``-th working day after ``day`` (``day`` itself is not counted).

        ``n == 0`` returns ``day`` unchanged; a negative ``n`` counts backwards.
        """
        day = _as_date(day)
        step = timedelta(days=1 if n >= 0 else -1)
        remaining = abs(n)
        idle = 0
        while remaining:
            day += step
            if self.is_workday(day):
                remaining -= 1
                idle = 0
            else:
                idle += 1
                if idle > _MAX_DAYS_OFF_IN_A_ROW:
                    raise ValidationError(
                        f"{day} 附近连续{_MAX_DAYS_OFF_IN_A_ROW}天都不是工作日，请检查工作日设置"
                    )
        return day

    def workdays_between(self, a: date, b: date) -> int:
        """Working days in ``(a, b]``, so that ``workdays_between(a, add_workdays(a, n)) == n``.

        When ``b`` is before ``a`` the working days in ``[b, a)`` are counted negatively,
        which keeps that identity for negative ``n`` too.
        """
        a, b = _as_date(a), _as_date(b)
        if b < a:
            return -sum(1 for offset in range((a - b).days) if self.is_workday(b + timedelta(days=offset)))
        return sum(1 for offset in range(1, (b - a).days + 1) if self.is_workday(a + timedelta(days=offset)))


def monthly_deadline(period: int, day: int = 15, cal: WorkdayCalendar | None = None) -> date:
    """The ``day``-th of the month ``period``, postponed to the next working day if needed.

    "每月15日前" deadlines move over weekends and holidays. A ``day`` past the end of
    the month (e.g. 31 in February) means the last day of the month.
    """
    if isinstance(day, bool) or not isinstance(day, int) or not 1 <= day <= 31:
        raise ValidationError("截止日应为1-31之间的日期", field="day")
    last = period_last_day(period)
    deadline = last.replace(day=min(day, last.day))
    return (cal or WorkdayCalendar()).next_workday_on_or_after(deadline)
