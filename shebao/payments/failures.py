"""The failure queue's actions for a lost or replaced card (佛山: wait for the new card, or pay the old
account): record that a failed line waits for the new card, and find the old account a second payment
may still use."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone

from shebao.audit.services import audit_record
from shebao.core.errors import PermissionDenied, StateError
from shebao.core.values.period import period_of
from shebao.payments import actions
from shebao.payments.models import CardWait, FailureReason, PaymentLine, Resolution
from shebao.payments.preflight import FALLBACK_MONTHS, previous_account

CARD_FAILURES = frozenset({FailureReason.LOST, FailureReason.CARD_REPLACING})


def _card_problem(line: PaymentLine) -> bool:
    """A failure the bank gave for the card (挂失, 换卡中), or a line held back for its card."""
    if line.state == PaymentLine.State.FAILED:
        return line.failure_code in CARD_FAILURES
    return line.state == PaymentLine.State.HELD and line.payroll.is_sent


def old_account_for(line: PaymentLine) -> Any:
    """The person's previous account (from the account history) a second payment of this line may go to:
    only for a card problem, and only while the switch away from it is under FALLBACK_MONTHS old."""
    if not _card_problem(line):
        raise StateError("只有挂失、换卡中（或因卡片原因暂缓）的明细可以按原账户支付")
    account = previous_account(line, period_of(timezone.localdate()))
    if account is None or account.bank_id is None:
        raise StateError(
            f"该人员没有可用的原账户，或改用新卡已满{FALLBACK_MONTHS}个月过渡期，请等待新卡或按本人另行提供的账户支付"
        )
    return account


def line_await_card(*, line: PaymentLine, actor: Any, note: str = "") -> CardWait:
    """Record that a failed line (lost card, card being replaced) waits for the new card; it stays in
    the queue, marked 等待新卡, until a clerk resolves it (new account, old account or alternate)."""
    if actor is None or not actor.can("payment.resolve"):
        raise PermissionDenied("您的角色无权进行此操作")
    with transaction.atomic():
        locked = PaymentLine.objects.select_for_update(of=("self",)).select_related("payroll").get(pk=line.pk)
        if not _card_problem(locked):
            raise StateError("只有挂失、换卡中（或因卡片原因暂缓）的明细可以登记等待新卡")
        if Resolution.objects.filter(line=locked).exists():
            raise StateError("该明细已处理，等待二次支付")
        if CardWait.objects.filter(line=locked).exists():
            raise StateError("该明细已登记等待新卡")
        wait = CardWait.objects.create(line=locked, note=note.strip()[:200], created_by=actor)
        audit_record(
            actor=actor, action=actions.LINE_AWAIT_CARD, obj=locked, new={"waiting": True}, reason=note
        )
    return wait
