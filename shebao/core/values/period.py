"""Periods (所属年月): plain ``int`` YYYYMM, e.g. ``202611`` for November 2026.

An ``int`` sorts, compares and stores (``PositiveIntegerField``) without help. Input
from clerks and files goes through :func:`parse_period` (years 1900-2200); the
arithmetic helpers accept any year 1-9999 so that they can step past that range.
"""

from __future__ import annotations

import calendar
import re
import unicodedata
from collections.abc import Iterator
from datetime import date

from shebao.core.errors import ValidationError

MIN_YEAR = 1900
MAX_YEAR = 2200

_PERIOD_RE = re.compile(r"(\d{4})(?:(\d{2})|[-/.](\d{1,2})|年(\d{1,2})月?)", re.ASCII)


def _split(period: int) -> tuple[int, int]:
    if isinstance(period, bool) or not isinstance(period, int):
        raise ValidationError(f"年月应为 YYYYMM 形式的整数，收到 {period!r}", field="period")
    year, month = divmod(period, 100)
    if not 1 <= month <= 12 or not 1 <= year <= 9999:
        raise ValidationError(f"年月 {period} 无效：月份应为01-12", field="period")
    return year, month


def _join(year: int, month: int) -> int:
    return year * 100 + month


def parse_period(raw: str | int) -> int:
    """Parse a period typed or imported by a clerk.

    Accepts ``202611``, ``"202611"``, ``"2026-11"``, ``"2026/11"``, ``"2026.11"`` and
    ``"2026年11月"``; the month must be 01-12 and the year 1900-2200.
    """
    if isinstance(raw, bool) or not isinstance(raw, str | int):
        raise ValidationError("年月格式不正确，应为 YYYYMM（如 202611）", field="period")
    text = unicodedata.normalize("NFKC", str(raw)).strip()
    if not text:
        raise ValidationError("年月不能为空", field="period")
    match = _PERIOD_RE.fullmatch(text)
    if match is None:
        raise ValidationError(f"年月格式不正确：“{text}”，应为 YYYYMM（如 202611）", field="period")
    year = int(match.group(1))
    month = int(next(group for group in match.groups()[1:] if group is not None))
    if not 1 <= month <= 12:
        raise ValidationError(f"年月“{text}”中的月份应为01-12", field="period")
    if not MIN_YEAR <= year <= MAX_YEAR:
        raise ValidationError(f"年月“{text}”中的年份应在{MIN_YEAR}-{MAX_YEAR}之间", field="period")
    return _join(year, month)


def is_valid_period(value: object) -> bool:
    """Whether ``value`` is an ``int`` YYYYMM with month 01-12 and year 1900-2200."""
    if isinstance(value, bool) or not isinstance(value, int):
        return False
    year, month = divmod(value, 100)
    return 1 <= month <= 12 and MIN_YEAR <= year <= MAX_YEAR


def period_of(day: date) -> int:
    """The period a date falls in: 2026-11-15 → 202611."""
    return _join(day.year, day.month)


def next_period(period: int, n: int = 1) -> int:
    """The period ``n`` months later (``n`` may be negative)."""
    year, month = _split(period)
    index = year * 12 + (month - 1) + n
    new_year, new_month0 = divmod(index, 12)
    if not 1 <= new_year <= 9999:
        raise ValidationError(f"年月 {period} 加 {n} 个月超出范围", field="period")
    return _join(new_year, new_month0 + 1)


def prev_period(period: int, n: int = 1) -> int:
    """The period ``n`` months earlier."""
    return next_period(period, -n)


def months_between(a: int, b: int) -> int:
    """``b - a`` in months: months_between(202601, 202703) == 14."""
    year_a, month_a = _split(a)
    year_b, month_b = _split(b)
    return (year_b * 12 + month_b) - (year_a * 12 + month_a)


def period_range(a: int, b: int) -> Iterator[int]:
    """Every period from ``a`` to ``b`` inclusive; nothing when ``b`` is before ``a``."""
    count = months_between(a, b)  # validates both ends now, not on the first next()
    return (next_period(a, offset) for offset in range(count + 1))


def period_first_day(period: int) -> date:
    """The first day of the period."""
    year, month = _split(period)
    return date(year, month, 1)


def period_last_day(period: int) -> date:
    """The last day of the period (leap years included)."""
    year, month = _split(period)
    return date(year, month, calendar.monthrange(year, month)[1])


def format_period(period: int) -> str:
    """202611 → ``"2026年11月"``; 202603 → ``"2026年3月"``."""
    year, month = _split(period)
    return f"{year}年{month}月"
