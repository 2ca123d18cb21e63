"""Benefit rules that are arithmetic only (no database), kept apart so they are easy to check by hand."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from shebao.core.errors import ValidationError
from shebao.core.values.money import round_yuan

MIN_SURVIVOR_MONTHS = Decimal(9)


@dataclass(frozen=True)
class SurvivorAmounts:
    funeral_grant: Decimal
    survivor_months: Decimal
    survivor_pension: Decimal


def survivor_amounts(
    *, base_monthly_income: Decimal, contribution_months: int, pension_months: int = 0
) -> SurvivorAmounts:
    """One-off payments to the family of an insured person who dies (人社部发〔2021〕18号, from 2021-09-01).

    base: the province's previous-year urban per-capita monthly disposable income.
    funeral grant = 2 × base. survivor pension = base × months, months = 9 + (contribution years − 15),
    years counted by month; for a retiree minus one month per year of pension received; never below 9.
    """
    if base_monthly_income <= 0:
        raise ValidationError("上年度城镇居民月人均可支配收入应大于0", field="base_monthly_income")
    if contribution_months < 0 or pension_months < 0:
        raise ValidationError("缴费月数和领取养老金月数不能为负数")
    months = MIN_SURVIVOR_MONTHS + Decimal(contribution_months - 15 * 12) / 12 - Decimal(pension_months) / 12
    months = max(MIN_SURVIVOR_MONTHS, months)
    return SurvivorAmounts(
        funeral_grant=round_yuan(base_monthly_income * 2),
        survivor_months=months.quantize(Decimal("0.01")),
        survivor_pension=round_yuan(base_monthly_income * months),
    )
