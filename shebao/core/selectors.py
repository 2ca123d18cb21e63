from __future__ import annotations

from shebao.core.models import WorkdayOverride
from shebao.core.values.workdays import WorkdayCalendar


def workday_calendar() -> WorkdayCalendar:
    """China's working-day calendar with this centre's own overrides (local holidays, make-up days)."""
    return WorkdayCalendar(dict(WorkdayOverride.objects.values_list("day", "is_workday")))
