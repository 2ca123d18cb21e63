"""Every write to cards: each service checks the transition table, locks the card, posts the ledger
and writes its audit row in one transaction."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from shebao.accounts.roles import Role
from shebao.audit.services import audit_record, audit_record_many
from shebao.cards import actions
from shebao.cards.models import (
    CARD_TRANSITIONS,
    INFLOW_KINDS,
    LIVE_STATES,
    Card,
    CardAccountOffer,
    CardApplication,
    CardIssue,
    CardLocation,
    CardMovement,
    CardNotice,
    CardRecall,
    CardState,
    DeliveryMode,
    FinancialChannel,
    Generation,
    ProductionBatch,
    Shipment,
    SocialChannel,
    UnitHandover,
    VaultClosing,
    VaultDifference,
)
from shebao.cards.selectors import (
    card_balance_at,
    card_ids_in_stock,
    card_location_now,
    cards_visible_to,
    locations_visible_to,
)
from shebao.core.errors import PermissionDenied, StateError, ValidationError
from shebao.core.values.bank import parse_card_no
from shebao.core.values.names import names_equal, normalize_name
from shebao.core.values.period import parse_period, period_of
from shebao.core.values.ssn import parse_ssn
from shebao.orgs.models import Bank, Employer, Outlet, Region
from shebao.orgs.selectors import outlets_visible_to
from shebao.people.models import Person
from shebao.people.selectors import persons_visible_to

if TYPE_CHECKING:
    from shebao.cards.importers import ReturnResult

_STATE_LABELS = dict(CardState.choices)

# 直系亲属: who may collect a card without a reserved agent, against the household register (户口本).
DIRECT_RELATIVES = frozenset(
    {
        CardApplication.Relation.SPOUSE,
        CardApplication.Relation.PARENT,
        CardApplication.Relation.CHILD,
        CardApplication.Relation.GRANDPARENT,
        CardApplication.Relation.GRANDCHILD,
    }
)


class Outcome(NamedTuple):
    """The card after an idempotent request, and whether anything changed ("already so" is normal)."""

    card: Card
    changed: bool


@dataclass(frozen=True)
class Receiver:
    """The person standing at the counter: the holder, an agent, or a unit clerk."""

    name: str
    ssn: str
    relation: str = ""  # an agent's relation to the holder
    household_register: bool = False  # 户口本原件 shown (an agent who was not reserved)
    phone: str = ""
    address: str = ""


# ---------------------------------------------------------------- the transition table and the ledger


def state_label(state: str) -> str:
    return str(_STATE_LABELS.get(state, state))


def check_transition(old: str, new: str) -> None:
    """Refuse any change of state that the table does not list."""
    if new not in CARD_TRANSITIONS.get(old, frozenset()):
        raise StateError(f"社保卡当前状态为“{state_label(old)}”，不能办理为“{state_label(new)}”")


def _lock_card(card: Card | int) -> Card:
    pk = card if isinstance(card, int) else card.pk
    # of=("self",): PostgreSQL refuses FOR UPDATE on the nullable side of the joins.
    return (
        Card.objects.select_for_update(of=("self",))
        .select_related("person", "bank", "application")
        .get(pk=pk)
    )


def _lock_cards(ids: Sequence[int]) -> list[Card]:
    # A fixed order, so two clerks locking overlapping sets cannot deadlock.
    cards = list(
        Card.objects.select_for_update(of=("self",))
        .select_related("person", "bank")
        .filter(pk__in=list(ids))
        .order_by("pk")
    )
    if len(cards) != len(set(ids)):
        raise ValidationError("部分社保卡不存在，请刷新后重试")
    return cards


def _transition(card: Card, new: str, *, actor: Any, action: str, reason: str = "", **fields: Any) -> None:
    """Compare-and-swap the state of a locked card, then write the audit row."""
    old = card.state
    check_transition(old, new)
    now = timezone.now()
    changed = Card.objects.filter(pk=card.pk, state=old).update(state=new, updated_at=now, **fields)
    if changed != 1:
        raise StateError("该卡状态已被他人修改，请刷新后重试")
    old_values = {"state": old, **{k: getattr(card, k) for k in fields}}
    card.state = new
    for k, v in fields.items():
        setattr(card, k, v)
    audit_record(
        actor=actor, action=action, obj=card, old=old_values, new={"state": new, **fields}, reason=reason
    )


def _require_card_scope(actor: Any, card: Card) -> None:
    if not cards_visible_to(actor).filter(pk=card.pk).exists():
        raise PermissionDenied("该社保卡不在您的管辖范围内")


def _require_outlet_scope(actor: Any, outlet: Outlet) -> None:
    if not outlets_visible_to(actor).filter(pk=outlet.pk).exists():
        raise PermissionDenied(f"您无权在“{outlet.name}”办理业务")


def actor_region(actor: Any) -> Region:
    region_id = getattr(actor, "region_id", None)
    if region_id:
        return Region.objects.get(pk=region_id)
    region = Region.objects.filter(code=settings.SHEBAO_REGION_CODE).first()
    if region is None:
        raise ValidationError("未设置本中心的统筹区，无法确定中心库房")
    return region


def centre_location(region: Region) -> CardLocation:
    loc, _ = CardLocation.objects.get_or_create(
        kind=CardLocation.Kind.CENTRE, region=region, defaults={"name": f"{region.name}社保卡中心库房"}
    )
    return loc


def outlet_location(outlet: Outlet) -> CardLocation:
    loc, _ = CardLocation.objects.get_or_create(
        outlet=outlet,
        defaults={"kind": CardLocation.Kind.OUTLET, "region_id": outlet.region_id, "name": outlet.name},
    )
    return loc


def _post(
    card: Card,
    location: CardLocation,
    kind: str,
    *,
    custodian: str,
    actor: Any,
    counterparty: str = "",
    batch_ref: str = "",
    shipment: Shipment | None = None,
    at: dt.datetime | None = None,
) -> CardMovement:
    """Post one ledger line for a locked card. A card is in one place at most; stock never goes negative."""
    if not custodian.strip():
        raise ValidationError("请填写保管责任人", field="custodian")
    if kind in INFLOW_KINDS:
        where = card_location_now(card.pk)
        if where is not None:
            raise StateError(f"卡号 {card.card_no} 已在“{where.name}”库存中，不能重复入库")
    elif card_balance_at(card.pk, location.pk) < 1:
        raise StateError(f"卡号 {card.card_no} 不在“{location.name}”的库存中")
    return CardMovement.objects.create(
        card=card,
        location=location,
        kind=kind,
        custodian=custodian.strip(),
        counterparty=counterparty[:100],
        batch_ref=batch_ref[:60],
        shipment=shipment,
        at=at or timezone.now(),
        actor=actor if getattr(actor, "pk", None) else None,
    )


def _post_many(
    cards: list[Card],
    location: CardLocation,
    kind: str,
    new_state: str,
    *,
    custodian: str,
    actor: Any,
    action: str,
    reason: str,
    at: dt.datetime,
    counterparty: str = "",
    batch_ref: str = "",
    shipment: Shipment | None = None,
) -> None:
    """`_post` and `_transition` for many locked cards at once (one old state), set-based."""
    ids = [c.pk for c in cards]
    olds = {c.state for c in cards}
    if len(olds) != 1:
        raise StateError("所选社保卡的状态不一致，请分开办理")
    old = olds.pop()
    check_transition(old, new_state)
    if kind in INFLOW_KINDS:
        if card_ids_in_stock(None).filter(card_id__in=ids).exists():
            raise StateError("有社保卡已在库存中，不能重复入库，请核对后再办理")
    else:
        here = set(card_ids_in_stock([location.pk]).filter(card_id__in=ids).values_list("card_id", flat=True))
        missing = [c for c in cards if c.pk not in here]
        if missing:
            raise StateError(f"卡号 {missing[0].card_no} 不在“{location.name}”的库存中")
    user = actor if getattr(actor, "pk", None) else None
    CardMovement.objects.bulk_create(
        CardMovement(
            card=c,
            location=location,
            kind=kind,
            custodian=custodian[:50],
            counterparty=counterparty[:100],
            batch_ref=batch_ref[:60],
            shipment=shipment,
            at=at,
            actor=user,
        )
        for c in cards
    )
    moved = Card.objects.filter(pk__in=ids, state=old).update(state=new_state, updated_at=at)
    if moved != len(ids):
        raise StateError("有社保卡的状态已被他人修改，请刷新后重试")
    audit_record_many(
        actor=actor,
        action=action,
        object_type="cards.card",
        rows=(
            {
                "object_id": c.pk,
                "object_repr": str(c.card_no),
                "old": {"state": old},
                "new": {"state": new_state},
            }
            for c in cards
        ),
        reason=reason,
    )
    for c in cards:
        c.state = new_state


def _require_cards_scope(actor: Any, cards: list[Card]) -> None:
    visible = cards_visible_to(actor).filter(pk__in=[c.pk for c in cards]).count()
    if visible != len(cards):
        raise PermissionDenied("所选社保卡中有不在您管辖范围内的卡")


def _custodian_of(actor: Any) -> str:
    return getattr(actor, "display_name", "") or str(actor)


# ---------------------------------------------------------------- applications


def card_apply(
    *,
    person: Person,
    bank: Bank,
    delivery: str,
    actor: Any,
    generation: int = Generation.THIRD,
    outlet: Outlet | None = None,
    agent_name: str = "",
    agent_ssn: str = "",
    agent_relation: str = "",
    mail_address: str = "",
    mail_phone: str = "",
    reason: str = CardApplication.Reason.NEW,
    replaces: Card | None = None,
) -> Card:
    """Accept an application at a window and open the card in state 已申领."""
    if not persons_visible_to(actor).filter(pk=person.pk).exists():
        raise PermissionDenied("该人员不在您的管辖范围内")
    if person.is_deceased:
        raise ValidationError("该人员已登记死亡，不能申领社保卡")
    if delivery not in DeliveryMode.values:
        raise ValidationError("请选择领卡方式", field="delivery")
    if generation not in Generation.values:
        raise ValidationError("卡代别只能是第一、二、三代", field="generation")
    if delivery == DeliveryMode.OUTLET_PICKUP and outlet is None:
        raise ValidationError("网点领取须选择领卡网点", field="outlet")
    if outlet is not None:
        _require_outlet_scope(actor, outlet)
        if outlet.kind == Outlet.Kind.BANK_BRANCH and outlet.bank_id != bank.pk:
            raise ValidationError(f"“{outlet.name}”不是{bank.name}的网点，不能领取该行社保卡", field="outlet")
    if delivery == DeliveryMode.MAIL and not (mail_address.strip() and mail_phone.strip()):
        raise ValidationError("邮寄领卡须填写邮寄地址和收件电话", field="mail_address")
    if agent_ssn or agent_name:
        agent = parse_ssn(agent_ssn)
        agent_ssn = agent.value
        if agent_ssn == person.ssn:
            raise ValidationError("代办人不能是申领人本人", field="agent_ssn")
        if not normalize_name(agent_name):
            raise ValidationError("请填写预留代办人姓名", field="agent_name")
        if agent_relation not in CardApplication.Relation.values:
            raise ValidationError("请选择代办人与申领人的关系", field="agent_relation")
    live = Card.objects.filter(person=person, generation=generation, state__in=LIVE_STATES).first()
    if live is not None:
        raise StateError(
            f"{person.name}已有一张{Generation(generation).label}社保卡（{state_label(live.state)}），"
            "不能重复申领；如卡已遗失，请先正式挂失再补卡"
        )
    try:
        with transaction.atomic():
            application = CardApplication.objects.create(
                person=person,
                bank=bank,
                generation=generation,
                reason=reason,
                agent_name=normalize_name(agent_name) if agent_ssn else "",
                agent_ssn=agent_ssn,
                agent_relation=agent_relation if agent_ssn else "",
                delivery=delivery,
                outlet=outlet,
                mail_address=mail_address.strip(),
                mail_phone=mail_phone.strip(),
                created_by=actor,
            )
            card = Card.objects.create(
                person=person, bank=bank, generation=generation, application=application, replaces=replaces
            )
            audit_record(
                actor=actor,
                action=actions.CARD_APPLY,
                obj=card,
                new={
                    "application": application.pk,
                    "bank": bank.code,
                    "delivery": delivery,
                    "generation": generation,
                },
            )
    except IntegrityError:
        # Two windows accepting the same person at once: the database constraint lets one through.
        raise StateError(
            f"{person.name}已有一张有效的{Generation(generation).label}社保卡，不能重复申领"
        ) from None
    return card


def application_resubmit(*, application: CardApplication, actor: Any) -> Card:
    """A corrected application whose production failed goes back to the production queue."""
    with transaction.atomic():
        app = CardApplication.objects.select_for_update().get(pk=application.pk)
        if app.state != CardApplication.State.RETURNED:
            raise StateError("只有制卡失败退回的申领可以重新提交")
        card = app.cards.filter(state=CardState.PRODUCTION_FAILED).first()
        if card is None:
            raise StateError("该申领没有制卡失败的卡")
        card = _lock_card(card)
        _require_card_scope(actor, card)
        _transition(
            card,
            CardState.APPLIED,
            actor=actor,
            action=actions.CARD_APPLICATION_RESUBMIT,
            failure_stage="",
            failure_reason="",
        )
        CardApplication.objects.filter(pk=app.pk).update(state=CardApplication.State.ACCEPTED)
    return card


# ---------------------------------------------------------------- production


def production_file_write(*, actor: Any, fmt: str = "csv", directory: Path | None = None) -> ProductionBatch:
    """Write the list of applied cards for the card factory and move them to 制卡中."""
    from shebao.cards.exporters import ProductionFileExporter

    if fmt not in ("csv", "xlsx"):
        raise ValidationError("制卡文件格式只能是 csv 或 xlsx", field="fmt")
    ids = list(
        cards_visible_to(actor).filter(state=CardState.APPLIED).order_by("pk").values_list("pk", flat=True)
    )
    if not ids:
        raise ValidationError("没有待制卡的申领")
    directory = directory or production_dir()
    directory.mkdir(parents=True, exist_ok=True)
    stamp = timezone.localtime().strftime("%Y%m%d%H%M%S")
    name = f"制卡数据_{stamp}_{len(ids)}.{fmt}"
    path = directory / name
    exporter = ProductionFileExporter(ids)
    if fmt == "xlsx":
        exporter.write_xlsx(path)
    else:
        with path.open("w", encoding="utf-8-sig", newline="") as fh:
            exporter.write_csv(fh)
    try:
        with transaction.atomic():
            batch = ProductionBatch.objects.create(file_name=name, card_count=len(ids), created_by=actor)
            moved = Card.objects.filter(pk__in=ids, state=CardState.APPLIED).update(
                state=CardState.IN_PRODUCTION, production_batch=batch, updated_at=timezone.now()
            )
            if moved != len(ids):
                raise StateError("制卡期间有申领被他人修改，请重新生成制卡文件")
            audit_record_many(
                actor=actor,
                action=actions.CARD_PRODUCTION_FILE,
                object_type="cards.card",
                rows=(
                    {
                        "object_id": pk,
                        "old": {"state": CardState.APPLIED},
                        "new": {"state": CardState.IN_PRODUCTION},
                    }
                    for pk in ids
                ),
                reason=name,
            )
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return batch


def production_dir() -> Path:
    return Path(settings.DATA_DIR) / "cards" / "production"


def production_return_import(*, path: Path, actor: Any, custodian: str = "") -> ReturnResult:
    """Read a factory/bank return file: validate every row first, then write everything or nothing.

    Produced cards enter the centre's vault (ledger `received`); failed records go back to the
    application with their stage and reason. The same file read twice changes nothing.
    """
    from shebao.cards.importers import apply_return_file

    return apply_return_file(path=path, actor=actor, custodian=custodian or _custodian_of(actor))


# ---------------------------------------------------------------- shipments


def shipment_create(
    *,
    card_ids: Sequence[int],
    outlet: Outlet,
    handed_over_by: str,
    received_by: str,
    actor: Any,
    boxes: str = "",
) -> Shipment:
    """Hand cards over from the centre's vault to an outlet (合作银行社保卡领卡登记表, 附件2)."""
    if not card_ids:
        raise ValidationError("请选择要配送的社保卡")
    if not handed_over_by.strip() or not received_by.strip():
        raise ValidationError("交接双方的姓名都要填写", field="received_by")
    _require_outlet_scope(actor, outlet)
    source = centre_location(actor_region(actor))
    with transaction.atomic():
        destination = outlet_location(outlet)
        cards = _lock_cards(card_ids)
        _require_cards_scope(actor, cards)
        for card in cards:
            if card.state != CardState.PRODUCED:
                raise StateError(f"卡号 {card.card_no} 不在中心库房（{state_label(card.state)}），不能配送")
            if outlet.kind == Outlet.Kind.BANK_BRANCH and card.bank_id != outlet.bank_id:
                raise ValidationError(
                    f"卡号 {card.card_no} 是{card.bank.name}的卡，不能配送到“{outlet.name}”"
                )
        shipment = Shipment.objects.create(
            source=source,
            destination=destination,
            boxes=boxes.strip(),
            card_count=len(cards),
            handed_over_by=handed_over_by.strip(),
            received_by=received_by.strip(),
            created_by=actor,
        )
        _post_many(
            cards,
            source,
            CardMovement.Kind.HANDED_OVER,
            CardState.SHIPPED,
            custodian=handed_over_by.strip(),
            counterparty=f"{outlet.name} {received_by.strip()}",
            batch_ref=boxes.strip(),
            shipment=shipment,
            actor=actor,
            action=actions.CARD_SHIP,
            reason=f"配送#{shipment.pk}至{outlet.name}",
            at=timezone.now(),
        )
    return shipment


def shipment_receive(*, shipment: Shipment, custodian: str, actor: Any) -> Shipment:
    """The outlet signs the shipment in: every card gets a `received` line at the outlet, state 网点待领."""
    if not custodian.strip():
        raise ValidationError("请填写入库保管责任人", field="custodian")
    outlet = shipment.destination.outlet
    assert outlet is not None
    _require_outlet_scope(actor, outlet)
    with transaction.atomic():
        now = timezone.now()
        claimed = Shipment.objects.filter(pk=shipment.pk, state=Shipment.State.IN_TRANSIT).update(
            state=Shipment.State.RECEIVED, received_at=now
        )
        if claimed != 1:
            raise StateError("该批社保卡已签收入库，无需重复签收")
        ids = list(
            CardMovement.objects.filter(shipment=shipment, kind=CardMovement.Kind.HANDED_OVER).values_list(
                "card_id", flat=True
            )
        )
        cards = _lock_cards(ids)
        _post_many(
            cards,
            shipment.destination,
            CardMovement.Kind.RECEIVED,
            CardState.IN_STOCK,
            custodian=custodian.strip(),
            counterparty=f"{shipment.source.name} {shipment.handed_over_by}",
            batch_ref=shipment.boxes,
            shipment=shipment,
            actor=actor,
            action=actions.CARD_RECEIVE,
            reason=f"配送#{shipment.pk}签收入库",
            at=now,
        )
    shipment.refresh_from_db()
    return shipment


# ---------------------------------------------------------------- notices and issuing


def card_notice_record(
    *,
    outlet: Outlet,
    channel: str,
    actor: Any,
    employer: Employer | None = None,
    person: Person | None = None,
    sent_at: dt.datetime | None = None,
    note: str = "",
) -> CardNotice:
    """Record that an outlet told a unit or a person that cards are waiting (phone, SMS, fax, written)."""
    _require_outlet_scope(actor, outlet)
    if channel not in CardNotice.Channel.values:
        raise ValidationError("请选择通知方式", field="channel")
    if employer is None and person is None:
        raise ValidationError("请选择被通知的单位或个人", field="employer")
    with transaction.atomic():
        notice = CardNotice.objects.create(
            outlet=outlet,
            employer=employer,
            person=person,
            channel=channel,
            sent_at=sent_at or timezone.now(),
            note=note.strip()[:200],
            created_by=actor,
        )
        audit_record(
            actor=actor,
            action=actions.CARD_NOTICE,
            obj=notice,
            new={"outlet": outlet.code, "employer": employer.pk if employer else None, "channel": channel},
        )
    return notice


def _social_channel_of(outlet: Outlet) -> str:
    channels: dict[str, str] = {
        Outlet.Kind.SERVICE_WINDOW: SocialChannel.WINDOW,
        Outlet.Kind.GRASSROOTS_STATION: SocialChannel.TOWNSHIP_STATION,
    }
    return channels.get(outlet.kind, SocialChannel.BANK_OUTLET)


def _check_in_outlet_stock(card: Card, location: CardLocation, outlet: Outlet) -> None:
    if card.state != CardState.IN_STOCK or card_balance_at(card.pk, location.pk) < 1:
        raise StateError(f"卡号 {card.card_no or '（未制卡）'} 不在“{outlet.name}”的库存中，不能在此发放")
    if card.person.is_deceased:
        raise StateError(f"持卡人{card.person.name}已登记死亡，不能发放，请按废卡回收")


def card_issue(
    *,
    card: Card,
    outlet: Outlet,
    mode: str,
    receiver: Receiver,
    actor: Any,
    activate_social: bool = False,
    activate_financial: bool = False,
) -> CardIssue:
    """Hand a card over the counter to its holder (本人领取) or an agent (代办人领取).

    The card must be in this outlet's stock. An agent is either the reserved one (same ID number) or a
    direct relative with the household register. An agent may have the social function enabled, never
    the financial one (the holder goes to the bank in person).
    """
    _require_outlet_scope(actor, outlet)
    if mode not in (CardIssue.Mode.PERSONAL, CardIssue.Mode.AGENT):
        raise ValidationError("请选择本人领取或代办人领取", field="mode")
    name = normalize_name(receiver.name)
    if not name:
        raise ValidationError("请填写领取人姓名", field="receiver_name")
    receiver_ssn = parse_ssn(receiver.ssn).value
    with transaction.atomic():
        card = _lock_card(card)
        location = outlet_location(outlet)
        _check_in_outlet_stock(card, location, outlet)
        holder = card.person
        application = card.application
        reserved = False
        if mode == CardIssue.Mode.PERSONAL:
            if receiver_ssn != holder.ssn or not names_equal(name, holder.name):
                raise ValidationError("领取人证件与持卡人不符，不能按本人领取办理", field="receiver_ssn")
        else:
            if receiver_ssn == holder.ssn:
                raise ValidationError("领取人是持卡人本人，请按本人领取办理", field="mode")
            if application is not None and application.agent_ssn:
                if receiver_ssn != application.agent_ssn or not names_equal(name, application.agent_name):
                    raise ValidationError(
                        f"领取人不是申领时预留的代办人（预留代办人：{application.agent_name}），不能代领",
                        field="receiver_ssn",
                    )
                reserved = True
            else:
                if receiver.relation not in DIRECT_RELATIVES:
                    raise ValidationError("未预留代办人的，只能由直系亲属代领", field="relation")
                if not receiver.household_register:
                    raise ValidationError(
                        "未预留代办人的，须查验证明直系亲属关系的户口本原件", field="household_register"
                    )
            if activate_financial:
                raise ValidationError(
                    "代办人领卡不能激活金融功能，须由持卡人本人持身份证到联名银行网点办理",
                    field="activate_financial",
                )
        now = timezone.now()
        _post(
            card,
            location,
            CardMovement.Kind.ISSUED,
            custodian=_custodian_of(actor),
            actor=actor,
            counterparty=name if mode == CardIssue.Mode.PERSONAL else f"{name}（代办）",
            at=now,
        )
        issue = CardIssue.objects.create(
            card=card,
            outlet=outlet,
            mode=mode,
            receiver_name=name,
            receiver_ssn=receiver_ssn,
            relation=receiver.relation if mode == CardIssue.Mode.AGENT and not reserved else "",
            reserved_agent=reserved,
            household_register=receiver.household_register and mode == CardIssue.Mode.AGENT,
            phone=receiver.phone.strip(),
            address=receiver.address.strip(),
            issued_at=now,
            created_by=actor,
        )
        _transition(
            card,
            CardState.ISSUED,
            actor=actor,
            action=actions.CARD_ISSUE,
            reason=f"{issue.get_mode_display()}：{name}",
        )
        if activate_social:
            _activate_social(card, channel=_social_channel_of(outlet), place=outlet.name, actor=actor, at=now)
        if activate_financial:
            _activate_financial(
                card, channel=FinancialChannel.COUNTER, place=outlet.name, actor=actor, at=now
            )
    return issue


def card_issue_collective(
    *,
    card_ids: Sequence[int],
    outlet: Outlet,
    employer: Employer,
    notice: CardNotice,
    letter_no: str,
    clerks: tuple[Receiver, Receiver],
    actor: Any,
    today: dt.date | None = None,
) -> UnitHandover:
    """单位集中领卡: two unit clerks with a letter of introduction, within the working days after the notice."""
    from shebao.cards.conf import unit_pickup_workdays
    from shebao.core.selectors import workday_calendar

    _require_outlet_scope(actor, outlet)
    if notice.outlet_id != outlet.pk or notice.employer_id != employer.pk:
        raise ValidationError("领卡通知不是本网点发给该单位的通知", field="notice")
    today = today or timezone.localdate()
    days = unit_pickup_workdays()
    deadline = workday_calendar().add_workdays(timezone.localtime(notice.sent_at).date(), days)
    if today > deadline:
        raise ValidationError(
            f"已超过领卡通知后{days}个工作日的期限（截止{deadline:%Y-%m-%d}），请重新通知单位", field="notice"
        )
    if not letter_no.strip():
        raise ValidationError("请填写单位介绍信编号", field="letter_no")
    (c1, c2) = clerks
    names = [normalize_name(c1.name), normalize_name(c2.name)]
    if not all(names):
        raise ValidationError("请填写两名单位经办人的姓名", field="clerks")
    ssns = [parse_ssn(c1.ssn).value, parse_ssn(c2.ssn).value]
    if ssns[0] == ssns[1]:
        raise ValidationError("集中领卡须由两名不同的单位经办人办理", field="clerks")
    if not card_ids:
        raise ValidationError("请选择要领取的社保卡")
    with transaction.atomic():
        location = outlet_location(outlet)
        cards = _lock_cards(card_ids)
        for card in cards:
            if card.person.employer_id != employer.pk:
                raise ValidationError(f"{card.person.name}不是{employer.name}的人员，不能由该单位集中领取")
            if card.state != CardState.IN_STOCK:
                raise StateError(f"卡号 {card.card_no} 不在“{outlet.name}”的库存中，不能在此发放")
            if card.person.is_deceased:
                raise StateError(f"持卡人{card.person.name}已登记死亡，不能发放，请按废卡回收")
        handover = UnitHandover.objects.create(
            outlet=outlet,
            employer=employer,
            notice=notice,
            letter_no=letter_no.strip(),
            clerk1_name=names[0],
            clerk1_ssn=ssns[0],
            clerk2_name=names[1],
            clerk2_ssn=ssns[1],
            card_count=len(cards),
            created_by=actor,
        )
        now = timezone.now()
        _post_many(
            cards,
            location,
            CardMovement.Kind.ISSUED,
            CardState.ISSUED,
            custodian=_custodian_of(actor),
            counterparty=f"{employer.name}（{names[0]}、{names[1]}）",
            batch_ref=f"移交单#{handover.pk}",
            actor=actor,
            action=actions.CARD_ISSUE_COLLECTIVE,
            reason=f"移交单#{handover.pk}",
            at=now,
        )
        CardIssue.objects.bulk_create(
            CardIssue(
                card=card,
                outlet=outlet,
                mode=CardIssue.Mode.UNIT_COLLECTIVE,
                receiver_name=names[0],
                receiver_ssn=ssns[0],
                handover=handover,
                issued_at=now,
                created_by=actor,
            )
            for card in cards
        )
    return handover


def unit_handover_settle(
    *, handover: UnitHandover, returned_card_ids: Sequence[int], custodian: str, actor: Any
) -> UnitHandover:
    """The unit hands back the cards it could not give to its members (文登: 发卡名单和未发社保卡交回).

    Returned cards go back into the outlet's stock (ledger `returned`); the others stay issued and the
    bank may enable them. A handover is settled once.
    """
    if not custodian.strip():
        raise ValidationError("请填写接收交回卡片的保管责任人", field="custodian")
    _require_outlet_scope(actor, handover.outlet)
    with transaction.atomic():
        locked = UnitHandover.objects.select_for_update().get(pk=handover.pk)
        if locked.settled_at is not None:
            raise StateError("该移交单已办理交回，不能重复办理")
        own = set(CardIssue.objects.filter(handover=locked).values_list("card_id", flat=True))
        stray = set(returned_card_ids) - own
        if stray:
            raise ValidationError("交回的卡中有不属于本移交单的卡，请核对")
        now = timezone.now()
        if returned_card_ids:
            cards = _lock_cards(returned_card_ids)
            _post_many(
                cards,
                outlet_location(locked.outlet),
                CardMovement.Kind.RETURNED,
                CardState.IN_STOCK,
                custodian=custodian.strip(),
                counterparty=f"{locked.employer.name}（未发出）",
                batch_ref=f"移交单#{locked.pk}",
                actor=actor,
                action=actions.CARD_HANDOVER_SETTLE,
                reason=f"移交单#{locked.pk}交回未发卡",
                at=now,
            )
        UnitHandover.objects.filter(pk=locked.pk).update(
            settled_at=now, settled_by=actor, returned_count=len(returned_card_ids)
        )
        audit_record(
            actor=actor,
            action=actions.CARD_HANDOVER_SETTLE,
            obj=locked,
            new={"returned": sorted(returned_card_ids), "handed_out": len(own) - len(returned_card_ids)},
        )
    handover.refresh_from_db()
    return handover


# ---------------------------------------------------------------- activation


def _activate_social(card: Card, *, channel: str, place: str, actor: Any, at: dt.datetime) -> bool:
    if card.ss_activated_at is not None:
        return False
    if card.state != CardState.ISSUED:
        raise StateError(f"社保卡当前状态为“{state_label(card.state)}”，不能启用人社功能")
    if channel not in SocialChannel.values:
        raise ValidationError("请选择人社功能的启用方式", field="channel")
    user = actor if getattr(actor, "pk", None) else None
    Card.objects.filter(pk=card.pk, ss_activated_at__isnull=True).update(
        ss_activated_at=at, ss_activated_place=place[:100], ss_activated_channel=channel, ss_activated_by=user
    )
    card.ss_activated_at, card.ss_activated_place, card.ss_activated_channel = at, place, channel
    audit_record(
        actor=actor,
        action=actions.CARD_ACTIVATE_SOCIAL,
        obj=card,
        new={"channel": channel, "place": place, "at": at},
    )
    return True


def _activate_financial(card: Card, *, channel: str, place: str, actor: Any, at: dt.datetime) -> bool:
    if card.fin_activated_at is not None:
        return False
    if card.state != CardState.ISSUED:
        raise StateError(f"社保卡当前状态为“{state_label(card.state)}”，不能激活金融功能")
    if channel not in FinancialChannel.values:
        raise ValidationError("请选择金融功能的激活方式", field="channel")
    if not card.bank_account:
        raise StateError("该卡没有金融账号，不能激活金融功能")
    user = actor if getattr(actor, "pk", None) else None
    Card.objects.filter(pk=card.pk, fin_activated_at__isnull=True).update(
        fin_activated_at=at,
        fin_activated_place=place[:100],
        fin_activated_channel=channel,
        fin_activated_by=user,
    )
    card.fin_activated_at, card.fin_activated_place, card.fin_activated_channel = at, place, channel
    # Offered, not written: the account-switching app decides when the card account starts paying.
    CardAccountOffer.objects.create(
        person_id=card.person_id, card=card, bank_id=card.bank_id, account_no=card.bank_account, offered_at=at
    )
    audit_record(
        actor=actor,
        action=actions.CARD_ACTIVATE_FINANCIAL,
        obj=card,
        new={"channel": channel, "place": place, "at": at, "account": card.bank_account},
    )
    return True


def card_activate_social(
    *, card: Card, channel: str, place: str, actor: Any, at: dt.datetime | None = None
) -> Outcome:
    """Enable the social-insurance function (window, township station, bank outlet, or centrally for mail)."""
    with transaction.atomic():
        card = _lock_card(card)
        _require_card_scope(actor, card)
        changed = _activate_social(card, channel=channel, place=place, actor=actor, at=at or timezone.now())
    return Outcome(card, changed)


def card_activate_financial(
    *, card: Card, channel: str, place: str, actor: Any, at: dt.datetime | None = None
) -> Outcome:
    """The co-brand bank activates the financial function; the card's account is offered for payments."""
    with transaction.atomic():
        card = _lock_card(card)
        _require_card_scope(actor, card)
        if getattr(actor, "role", None) == Role.BANK_CLERK and actor.bank_id != card.bank_id:
            raise PermissionDenied(f"只有联名银行（{card.bank.name}）可以激活该卡的金融功能")
        changed = _activate_financial(
            card, channel=channel, place=place, actor=actor, at=at or timezone.now()
        )
    return Outcome(card, changed)


# ---------------------------------------------------------------- loss, unlock, replacement


class LossKind:
    TEMPORARY = "temporary"
    FORMAL = "formal"


def _require_loss_scope(actor: Any, card: Card) -> None:
    _require_card_scope(actor, card)
    if getattr(actor, "role", None) == Role.BANK_CLERK and actor.bank_id != card.bank_id:
        raise PermissionDenied(f"该卡的挂失、解挂须由联名银行（{card.bank.name}）或社保经办机构办理")


def card_report_loss(*, card: Card, kind: str, actor: Any, reason: str = "") -> Outcome:
    """临时挂失 / 正式挂失. A request for the state the card is already in is a normal answer."""
    if kind not in (LossKind.TEMPORARY, LossKind.FORMAL):
        raise ValidationError("请选择临时挂失或正式挂失", field="kind")
    with transaction.atomic():
        card = _lock_card(card)
        _require_loss_scope(actor, card)
        if kind == LossKind.TEMPORARY:
            if card.state == CardState.TEMPORARILY_LOST:
                return Outcome(card, False)
            if card.state == CardState.FORMALLY_LOST:
                raise StateError("该卡已正式挂失，无需再临时挂失")
            _transition(
                card,
                CardState.TEMPORARILY_LOST,
                actor=actor,
                action=actions.CARD_LOSS_TEMPORARY,
                reason=reason,
            )
        else:
            if card.state == CardState.FORMALLY_LOST:
                return Outcome(card, False)
            _transition(
                card, CardState.FORMALLY_LOST, actor=actor, action=actions.CARD_LOSS_FORMAL, reason=reason
            )
    return Outcome(card, True)


def card_unlock(*, card: Card, actor: Any, reason: str = "") -> Outcome:
    """解挂: only a temporary loss can be lifted; an already normal card is a normal answer."""
    with transaction.atomic():
        card = _lock_card(card)
        _require_loss_scope(actor, card)
        if card.state == CardState.ISSUED:
            return Outcome(card, False)
        if card.state == CardState.FORMALLY_LOST:
            raise StateError("正式挂失的卡不能解挂，请办理补卡")
        if card.state != CardState.TEMPORARILY_LOST:
            raise StateError(f"社保卡当前状态为“{state_label(card.state)}”，无需解挂")
        _transition(card, CardState.ISSUED, actor=actor, action=actions.CARD_UNLOCK, reason=reason)
    return Outcome(card, True)


def card_replace(
    *,
    card: Card,
    actor: Any,
    delivery: str = "",
    outlet: Outlet | None = None,
    reason: str = "",
) -> Card:
    """补卡: the formally lost card becomes 已补换 and a new card (a new number at production) is applied for."""
    with transaction.atomic():
        old = _lock_card(card)
        _require_card_scope(actor, old)
        if old.state != CardState.FORMALLY_LOST:
            raise StateError(f"补卡须先办理正式挂失（该卡当前状态为“{state_label(old.state)}”）")
        _transition(old, CardState.REPLACED, actor=actor, action=actions.CARD_REPLACE, reason=reason)
        previous = old.application
        if not delivery and previous is None:
            raise ValidationError("请选择新卡的领卡方式", field="delivery")
        new = card_apply(
            person=old.person,
            bank=old.bank,
            delivery=delivery or previous.delivery,  # type: ignore[union-attr]
            outlet=outlet or (previous.outlet if previous else None),
            generation=old.generation,
            agent_name=previous.agent_name if previous else "",
            agent_ssn=previous.agent_ssn if previous else "",
            agent_relation=previous.agent_relation if previous else "",
            mail_address=previous.mail_address if previous else "",
            mail_phone=previous.mail_phone if previous else "",
            reason=CardApplication.Reason.REPLACEMENT,
            replaces=old,
            actor=actor,
        )
    return new


# ---------------------------------------------------------------- recall (error cards, waste cards)


def card_recall(
    *, card: Card, kind: str, reason: str, actor: Any, outlet: Outlet | None = None
) -> CardRecall:
    """Take a card back as an error card (信息有误) or a waste card.

    An issued card comes back over the counter of `outlet` (ledger `recalled` there); a card still
    in an outlet's stock or in the centre's vault is recalled where it lies. The person may then
    apply for a new card.
    """
    if kind not in CardRecall.Kind.values:
        raise ValidationError("请选择回收类型", field="kind")
    if not reason.strip():
        raise ValidationError("请填写回收原因（如卡面信息错误的具体内容）", field="reason")
    with transaction.atomic():
        card = _lock_card(card)
        _require_card_scope(actor, card)
        check_transition(card.state, CardState.RECALLED)
        now = timezone.now()
        if card.state == CardState.ISSUED:
            if outlet is None:
                raise ValidationError("请选择收回该卡的网点", field="outlet")
            _require_outlet_scope(actor, outlet)
            location = outlet_location(outlet)
            _post(
                card,
                location,
                CardMovement.Kind.RECALLED,
                custodian=_custodian_of(actor),
                actor=actor,
                counterparty=card.person.name,
                at=now,
            )
        else:
            where = card_location_now(card.pk)
            if where is None:
                raise StateError("该卡不在任何库位中，无法回收")
            if where.outlet_id is not None:
                _require_outlet_scope(actor, where.outlet)  # type: ignore[arg-type]
            location = where
        recall = CardRecall.objects.create(
            card=card,
            kind=kind,
            reason=reason.strip()[:200],
            location=location,
            recalled_at=now,
            created_by=actor,
        )
        _transition(card, CardState.RECALLED, actor=actor, action=actions.CARD_RECALL, reason=reason.strip())
    return recall


# ---------------------------------------------------------------- monthly vault closing (月清月结)


def vault_count_submit(
    *,
    location: CardLocation,
    period: int,
    card_nos: Sequence[str],
    counted_by: str,
    actor: Any,
    counted_at: dt.datetime | None = None,
) -> VaultClosing:
    """The custodian's physical count: every card found in the vault, compared with the ledger.

    Cards the ledger holds but nobody found, and cards found that the ledger does not hold, become
    differences that must be explained before the month closes.
    """
    if not locations_visible_to(actor).filter(pk=location.pk).exists():
        raise PermissionDenied(f"您无权盘点“{location.name}”")
    period = parse_period(period)
    if period > period_of(timezone.localdate()):
        raise ValidationError("不能为未来的月份结账", field="period")
    if not counted_by.strip():
        raise ValidationError("请填写盘点人（保管责任人）", field="counted_by")
    counted: set[str] = set()
    bad: list[str] = []
    for raw in card_nos:
        if not raw.strip():
            continue
        try:
            counted.add(parse_card_no(raw))
        except ValidationError:
            bad.append(raw.strip())
    if bad:
        raise ValidationError(f"以下卡号格式有误，请核对：{'、'.join(bad[:20])}", field="card_nos")
    ledger: dict[str, int] = {
        no: pk
        for no, pk in Card.objects.filter(pk__in=card_ids_in_stock([location.pk])).values_list(
            "card_no", "pk"
        )
        if no
    }
    missing = sorted(set(ledger) - counted)
    extra = sorted(counted - set(ledger))
    extra_cards = dict(Card.objects.filter(card_no__in=extra).order_by("pk").values_list("card_no", "pk"))
    try:
        with transaction.atomic():
            closing = VaultClosing.objects.create(
                location=location,
                period=period,
                counted_by=counted_by.strip(),
                counted_at=counted_at or timezone.now(),
                counted_cards=len(counted),
                created_by=actor,
            )
            VaultDifference.objects.bulk_create(
                [
                    *(
                        VaultDifference(
                            closing=closing, kind=VaultDifference.Kind.MISSING, card_no=no, card_id=ledger[no]
                        )
                        for no in missing
                    ),
                    *(
                        VaultDifference(
                            closing=closing,
                            kind=VaultDifference.Kind.EXTRA,
                            card_no=no,
                            card_id=extra_cards.get(no),
                        )
                        for no in extra
                    ),
                ]
            )
            audit_record(
                actor=actor,
                action=actions.VAULT_COUNT,
                obj=closing,
                new={"ledger": len(ledger), "counted": len(counted), "missing": missing, "extra": extra},
            )
    except IntegrityError:
        raise StateError(f"“{location.name}”{period}已盘点，不能重复盘点") from None
    return closing


def vault_difference_explain(*, difference: VaultDifference, explanation: str, actor: Any) -> VaultDifference:
    """Explain one difference (查明原因、分清责任)."""
    explanation = explanation.strip()
    if not explanation:
        raise ValidationError("请填写差异原因", field="explanation")
    with transaction.atomic():
        closing = VaultClosing.objects.select_for_update().get(pk=difference.closing_id)
        if not locations_visible_to(actor).filter(pk=closing.location_id).exists():
            raise PermissionDenied("您无权处理该库位的盘点差异")
        if closing.state != VaultClosing.State.COUNTED:
            raise StateError("该月已结账，差异说明不能再修改")
        old = difference.explanation
        now = timezone.now()
        VaultDifference.objects.filter(pk=difference.pk).update(
            explanation=explanation[:300], explained_by=actor, explained_at=now
        )
        audit_record(
            actor=actor,
            action=actions.VAULT_EXPLAIN,
            obj=closing,
            old={"card_no": difference.card_no, "explanation": old},
            new={"card_no": difference.card_no, "explanation": explanation},
        )
    difference.refresh_from_db()
    return difference


def vault_close(*, closing: VaultClosing, actor: Any) -> VaultClosing:
    """Close the month: only when every difference has been explained (帐卡相符)."""
    with transaction.atomic():
        locked = VaultClosing.objects.select_for_update().get(pk=closing.pk)
        if not locations_visible_to(actor).filter(pk=locked.location_id).exists():
            raise PermissionDenied("您无权为该库位结账")
        if locked.state == VaultClosing.State.CLOSED:
            raise StateError("该月已结账")
        open_diffs = locked.differences.filter(explanation="").count()
        if open_diffs:
            raise StateError(f"还有{open_diffs}处盘点差异未说明原因，不能结账")
        now = timezone.now()
        changed = VaultClosing.objects.filter(pk=locked.pk, state=VaultClosing.State.COUNTED).update(
            state=VaultClosing.State.CLOSED, closed_at=now, closed_by=actor
        )
        if changed != 1:
            raise StateError("该月结账状态已被他人修改，请刷新后重试")
        audit_record(
            actor=actor,
            action=actions.VAULT_CLOSE,
            obj=locked,
            old={"state": VaultClosing.State.COUNTED},
            new={"state": VaultClosing.State.CLOSED, "differences": locked.differences.count()},
        )
    closing.refresh_from_db()
    return closing
