"""Triggers of automatic.py, connected when the app is ready.

Each runs after the triggering transaction has committed, in its own transaction: the return import or the
entitlement stands whatever happens here, and `shebao switching_sweep` catches up anything missed. A failure
here is logged, never shown to the clerk whose own work has just been saved.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from django.db import transaction
from django.db.models.signals import post_save
from django.utils import timezone

log = logging.getLogger(__name__)


def _after_commit(what: str, fn: Callable[[], Any]) -> None:
    def run() -> None:
        try:
            fn()
        except Exception:  # the triggering change is committed; the sweep retries this later
            log.exception("账户切换自动处理失败：%s", what)

    transaction.on_commit(run)


def return_file_imported(sender: Any, instance: Any, created: bool, **kwargs: Any) -> None:
    """A bank return file was imported: failed payments into switched accounts go back to the units."""
    if not created:
        return
    from shebao.switching.automatic import switch_failures_from_returns

    _after_commit(
        f"回盘文件#{instance.pk}",
        lambda: switch_failures_from_returns(
            actor=instance.imported_by, bank_file_ids=[instance.bank_file_id]
        ),
    )


def payroll_was_filed(sender: Any, payroll: Any, actor: Any, **kwargs: Any) -> None:
    """A payroll was filed: lines the pre-flight held back from a switched card account (name differs, card
    lost or being replaced) go back to the units, as a bank rejection would. Once per payroll."""
    from shebao.switching.automatic import switch_failures_from_returns

    payroll_id = payroll.pk
    _after_commit(
        f"发放表#{payroll_id}",
        lambda: switch_failures_from_returns(actor=actor, payroll_ids=[payroll_id]),
    )


def entitlement_saved(sender: Any, instance: Any, created: bool, **kwargs: Any) -> None:
    """A benefit starts: a person without any account takes their activated card account (河南)."""
    if not created:
        return
    from shebao.switching.automatic import new_beneficiary_take_card

    _after_commit(
        f"待遇资格#{instance.pk}",
        lambda: new_beneficiary_take_card(
            actor=instance.created_by, person_id=instance.person_id, period=instance.from_period
        ),
    )


def card_account_offered(sender: Any, instance: Any, created: bool, **kwargs: Any) -> None:
    """A card was financially activated: a beneficiary still waiting for an account (the follow-up list)
    takes it from the first period of their benefit, or this month when no benefit has a start on record."""
    if not created:
        return
    from shebao.core.values.period import period_of
    from shebao.switching.automatic import new_beneficiary_take_card

    def take() -> None:
        from django.db.models import Min

        from shebao.payments.models import Entitlement

        start = (
            Entitlement.objects.filter(person_id=instance.person_id)
            .exclude(state=Entitlement.State.TERMINATED)
            .aggregate(m=Min("from_period"))["m"]
        )
        new_beneficiary_take_card(
            actor="系统", person_id=instance.person_id, period=start or period_of(timezone.localdate())
        )

    _after_commit(f"社保卡账户#{instance.pk}", take)


def connect() -> None:
    from shebao.cards.models import CardAccountOffer
    from shebao.payments.models import Entitlement, ReturnFile
    from shebao.payments.signals import payroll_filed

    post_save.connect(return_file_imported, sender=ReturnFile, dispatch_uid="switching.return_file_imported")
    payroll_filed.connect(payroll_was_filed, dispatch_uid="switching.payroll_was_filed")
    post_save.connect(entitlement_saved, sender=Entitlement, dispatch_uid="switching.entitlement_saved")
    post_save.connect(
        card_account_offered, sender=CardAccountOffer, dispatch_uid="switching.card_account_offered"
    )
