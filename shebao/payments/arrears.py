"""补差: an amount change whose first month lies in months already paid at the old amount owes the
difference for those months. It is recorded as a BackPay over the months whose payrolls have been run,
and the next payroll of the benefit type pays one arrears line per month still short (see
`services._insert_back_pay`)."""

from __future__ import annotations

from typing import Any

from shebao.payments.models import BackPay, Entitlement


def arrears_open(*, entitlement: Entitlement, valid_from: int, actor: Any) -> BackPay | None:
    """Inside the caller's transaction: when `valid_from` is a month whose payroll has already been run,
    the months from it to the last one run are owed again at the new amount."""
    from shebao.payments.services import _last_payroll_run

    last = _last_payroll_run(entitlement)
    if entitlement.to_period is not None:
        last = min(last, entitlement.to_period)
    if last < valid_from:
        return None
    return BackPay.objects.create(
        entitlement=entitlement,
        from_period=valid_from,
        to_period=last,
        reason=f"待遇金额自{valid_from}起调整，补发已发放月份的差额",
        created_by=actor,
    )
