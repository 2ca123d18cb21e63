"""Settings of the cards app, each with a default (a centre overrides them in its settings)."""

from datetime import date

from django.conf import settings


def card_valid_years() -> int:
    """社保卡有效期 in years (10 unless the centre's settings say otherwise)."""
    return int(getattr(settings, "SHEBAO_CARD_VALID_YEARS", 10))


def unit_pickup_workdays() -> int:
    """单位集中领卡: working days after the notice within which the two clerks must come."""
    return int(getattr(settings, "SHEBAO_CARD_UNIT_PICKUP_WORKDAYS", 5))


def default_expiry(issue_date: date) -> date:
    """Expiry when the factory leaves it blank: the same day `card_valid_years()` later (29 Feb → 28 Feb)."""
    year = issue_date.year + card_valid_years()
    try:
        return issue_date.replace(year=year)
    except ValueError:
        return issue_date.replace(year=year, day=28)
