"""Links from cards to payments.

1. A pre-flight rule (`card_state_hook`, appended to `shebao.payments.preflight.PREFLIGHT_HOOKS`):
   a payment line whose card cannot receive money is caught before the bank file is written. The card
   is the person's card whose bank account is the line's account; when none matches and the line pays
   a card account, the person's newest produced card. Lines paying a passbook or another bank card are
   not affected by the state of a social security card.

   Routing (佛山: 挂失, 换卡中 were most of the failures a bank returned):
   - temporarily or formally lost, replaced (换卡中), not yet financially activated → FALLBACK: paid
     into the previous account inside its 6 months, otherwise held for a clerk;
   - cancelled, recalled (error or waste card), destroyed → held for a clerk: the account behind such a
     card may be closed, and only a clerk can tell.

2. Card account offers: when the bank reports a financial activation, the cards service writes a
   `CardAccountOffer` in the same transaction. `card_account_offer_accept` turns an offer into a row
   of the payment-account history (kind 社保卡账户, source 社保卡金融激活) from a period the
   account-switching flow chooses; `card_account_offer_reject` records that it will not be used.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from django.db import transaction
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from shebao.audit.services import audit_record
from shebao.campaigns import actions
from shebao.cards.models import Card, CardAccountOffer, CardState
from shebao.core.errors import PermissionDenied, StateError, ValidationError
from shebao.core.values.period import parse_period
from shebao.payments.models import PaymentLine
from shebao.payments.preflight import FALLBACK
from shebao.people.models import PaymentAccount
from shebao.people.selectors import persons_visible_to

CARD_LOST = "card_lost"
CARD_REPLACING = "card_replacing"
CARD_NOT_ACTIVATED = "card_not_activated"
CARD_CANCELLED = "card_cancelled"
CARD_RECALLED = "card_recalled"

_CHUNK = 2000

# The card states that tell the bank would refuse the money (or that the card has no account yet).
_NOT_USABLE_STATES = (
    CardState.APPLIED,
    CardState.IN_PRODUCTION,
    CardState.PRODUCTION_FAILED,
    CardState.PRODUCED,
    CardState.SHIPPED,
    CardState.IN_STOCK,
    CardState.TEMPORARILY_LOST,
    CardState.FORMALLY_LOST,
    CardState.REPLACED,
    CardState.CANCELLED,
    CardState.RECALLED,
    CardState.DESTROYED,
)
_PRODUCED_STATES = tuple(
    s
    for s in CardState.values
    if s not in (CardState.APPLIED, CardState.IN_PRODUCTION, CardState.PRODUCTION_FAILED)
)


def card_problem(state: str, fin_activated: bool, card_no: str) -> tuple[str, str, bool] | None:
    """(hold code, reason for the clerk, may fall back) for a card in `state`, or None if it can be paid."""
    no = f"（卡号 {card_no}）" if card_no else ""
    if state == CardState.TEMPORARILY_LOST:
        return CARD_LOST, f"社保卡已临时挂失{no}，银行将拒绝入账", True
    if state == CardState.FORMALLY_LOST:
        return CARD_LOST, f"社保卡已正式挂失{no}，待补卡后发放", True
    if state == CardState.REPLACED:
        return CARD_REPLACING, f"社保卡已补换（换卡中）{no}，原卡账户可能停用", True
    if state == CardState.CANCELLED:
        return CARD_CANCELLED, f"社保卡已注销{no}，请核实发放账户", False
    if state in (CardState.RECALLED, CardState.DESTROYED):
        return CARD_RECALLED, f"社保卡已回收或销毁{no}，请核实发放账户", False
    if state != CardState.ISSUED:
        return CARD_NOT_ACTIVATED, f"社保卡尚未发放到本人{no}，金融功能未激活", True
    if not fin_activated:
        return CARD_NOT_ACTIVATED, f"社保卡金融功能未激活{no}，请持卡人到合作银行激活", True
    return None


def card_state_hook(lines: QuerySet[PaymentLine]) -> Iterator[tuple[Any, ...]]:
    """The pre-flight rule for card states (see the module docstring). Reads only; two queries a chunk."""
    troubled = Card.objects.filter(person_id=OuterRef("person_id")).filter(
        Q(state__in=_NOT_USABLE_STATES) | Q(fin_activated_at__isnull=True)
    )
    candidates = (
        lines.exclude(account_no="")
        .filter(Exists(troubled))
        .values_list("pk", "person_id", "account_no", "account__kind")
        .order_by("pk")
        .iterator(chunk_size=_CHUNK)
    )
    batch: list[tuple[int, int, str, str | None]] = []
    for row in candidates:
        batch.append(row)
        if len(batch) >= _CHUNK:
            yield from _judge(batch)
            batch = []
    if batch:
        yield from _judge(batch)


def _judge(batch: list[tuple[int, int, str, str | None]]) -> Iterable[tuple[Any, ...]]:
    cards: dict[int, list[tuple[int, str, str, bool, str]]] = {}
    rows = (
        Card.objects.filter(person_id__in={r[1] for r in batch}, state__in=_PRODUCED_STATES)
        .order_by("pk")
        .values_list("person_id", "pk", "bank_account", "state", "fin_activated_at", "card_no")
    )
    for person_id, pk, account, state, fin_at, card_no in rows:
        cards.setdefault(person_id, []).append((pk, account, state, fin_at is not None, card_no or ""))
    for line_id, person_id, account_no, kind in batch:
        mine = cards.get(person_id, [])
        matching = [c for c in mine if c[1] and c[1] == account_no]
        if matching:
            card = matching[-1]
        elif kind == PaymentAccount.Kind.CARD and mine:
            card = mine[-1]  # the newest produced card: the account was taken from a card
        else:
            continue
        problem = card_problem(card[2], card[3], card[4])
        if problem is None:
            continue
        code, reason, fallback = problem
        yield (line_id, code, reason, FALLBACK) if fallback else (line_id, code, reason)


# ---------------------------------------------------------------- card account offers


def card_account_offers_pending(user: Any) -> QuerySet[CardAccountOffer]:
    """Offers not yet decided, for the persons the user may see."""
    return (
        CardAccountOffer.objects.filter(
            state=CardAccountOffer.State.OFFERED, person__in=persons_visible_to(user).values("pk")
        )
        .select_related("person", "bank", "card")
        .order_by("offered_at", "pk")
    )


def _lock_offer(offer: CardAccountOffer, actor: Any) -> CardAccountOffer:
    if not actor.can("switching.change_prepare"):
        raise PermissionDenied("您的角色不能变更发放账户")
    locked = (
        CardAccountOffer.objects.select_for_update(of=("self",))
        .select_related("person", "bank")
        .get(pk=offer.pk)
    )
    if not persons_visible_to(actor).filter(pk=locked.person_id).exists():
        raise PermissionDenied("该人员不在您的管辖范围内")
    if locked.state != CardAccountOffer.State.OFFERED:
        raise StateError(f"该社保卡账户已处理（{locked.get_state_display()}）")
    return locked


def card_account_offer_accept(
    *, offer: CardAccountOffer, valid_from: int | str, actor: Any
) -> PaymentAccount:
    """The activated card's account becomes the person's paying account from `valid_from` (YYYYMM)."""
    period = parse_period(valid_from)
    with transaction.atomic():
        offer = _lock_offer(offer, actor)
        changed = CardAccountOffer.objects.filter(pk=offer.pk, state=CardAccountOffer.State.OFFERED).update(
            state=CardAccountOffer.State.APPLIED
        )
        if changed != 1:
            raise StateError("该社保卡账户已被他人处理，请刷新后重试")
        account = PaymentAccount.objects.create(
            person=offer.person,
            bank=offer.bank,
            bank_name=offer.bank.name,
            account_no=offer.account_no,
            account_name=offer.person.name,
            kind=PaymentAccount.Kind.CARD,
            valid_from=period,
            source=PaymentAccount.Source.CARD_ACTIVATION,
            note=f"社保卡金融功能已激活（{timezone.localtime(offer.offered_at):%Y-%m-%d}）",
        )
        audit_record(
            actor=actor,
            action=actions.CARD_ACCOUNT_OFFER_ACCEPT,
            obj=offer.person,
            old={"offer": offer.pk, "state": CardAccountOffer.State.OFFERED},
            new={"state": CardAccountOffer.State.APPLIED, "account": account.pk, "valid_from": period},
        )
    return account


def card_account_offer_reject(*, offer: CardAccountOffer, reason: str, actor: Any) -> CardAccountOffer:
    """The card account will not be used for payments (the person keeps another account)."""
    if not reason.strip():
        raise ValidationError("请填写不采用该社保卡账户的原因", field="reason")
    with transaction.atomic():
        offer = _lock_offer(offer, actor)
        CardAccountOffer.objects.filter(pk=offer.pk).update(state=CardAccountOffer.State.REJECTED)
        audit_record(
            actor=actor,
            action=actions.CARD_ACCOUNT_OFFER_REJECT,
            obj=offer.person,
            old={"offer": offer.pk, "state": CardAccountOffer.State.OFFERED},
            new={"state": CardAccountOffer.State.REJECTED},
            reason=reason.strip(),
        )
        offer.state = CardAccountOffer.State.REJECTED
    return offer


def register() -> None:
    from shebao.payments.preflight import PREFLIGHT_HOOKS

    if card_state_hook not in PREFLIGHT_HOOKS:
        PREFLIGHT_HOOKS.append(card_state_hook)
