"""Every write to replacement campaigns. Each service checks the role and scope, changes the rows and
writes its audit rows in one transaction."""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone

from shebao.audit.services import audit_record, audit_record_many
from shebao.campaigns import actions
from shebao.campaigns.models import (
    CAMPAIGN_TRANSITIONS,
    MEDICAL_TRANSFER_TRANSITIONS,
    Campaign,
    CampaignMember,
    CampaignPhase,
    MedicalTransfer,
    TargetGroup,
)
from shebao.cards.models import LIVE_STATES, Card, CardState, Generation
from shebao.cards.services import actor_region
from shebao.core.errors import PermissionDenied, StateError, ValidationError
from shebao.core.values.period import parse_period
from shebao.orgs.models import Bank, Employer, Outlet
from shebao.orgs.selectors import region_ids_under

_CHUNK = 2000

logger = logging.getLogger("shebao.campaigns")

# The old card is "in the holder's hands" in these states; only such a card is replaced by a campaign.
HELD_STATES = (CardState.ISSUED, CardState.TEMPORARILY_LOST)


def _require(actor: Any, action: str, message: str) -> None:
    if not actor.can(action):
        raise PermissionDenied(message)


def _require_campaign_scope(actor: Any, campaign: Campaign) -> None:
    if getattr(actor, "is_superuser", False):
        return
    if not actor.region_id or campaign.region_id not in region_ids_under(actor.region_id):
        raise PermissionDenied("该换卡批次不在您的管辖范围内")


def _check(table: dict[str, frozenset[str]], labels: dict[str, str], old: str, new: str) -> None:
    if new not in table.get(old, frozenset()):
        raise StateError(f"当前状态为“{labels.get(old, old)}”，不能办理为“{labels.get(new, new)}”")


def parse_amount(raw: str | Decimal) -> Decimal:
    """An amount in yuan with at most two places; anything unparseable is an error, never zero."""
    try:
        amount = Decimal(str(raw).strip().replace(",", "").replace("，", ""))
    except InvalidOperation:
        raise ValidationError(f"金额“{raw}”无法识别，请填写如 1234.56", field="amount") from None
    if not amount.is_finite() or amount < 0:
        raise ValidationError("金额不能为负数", field="amount")
    if amount != amount.quantize(Decimal("0.01")):
        raise ValidationError("金额最多保留两位小数（到分）", field="amount")
    return amount.quantize(Decimal("0.01"))


# ---------------------------------------------------------------- campaigns and phases


def campaign_create(
    *,
    name: str,
    transition_end: dt.date,
    actor: Any,
    bank: Bank | None = None,
    old_generation: int = Generation.FIRST,
    new_generation: int = Generation.SECOND,
    note: str = "",
) -> Campaign:
    """A replacement campaign in the actor's region: every old card works until `transition_end`."""
    _require(actor, "campaign.manage", "您的角色不能组织换卡")
    if not name.strip():
        raise ValidationError("请填写批次名称", field="name")
    if new_generation <= old_generation:
        raise ValidationError("新卡代别须高于原卡代别", field="new_generation")
    with transaction.atomic():
        campaign = Campaign.objects.create(
            name=name.strip()[:100],
            region=actor_region(actor),
            bank=bank,
            old_generation=old_generation,
            new_generation=new_generation,
            transition_end=transition_end,
            note=note[:300],
            created_by=actor,
        )
        audit_record(
            actor=actor,
            action=actions.CAMPAIGN_CREATE,
            obj=campaign,
            new={
                "name": campaign.name,
                "generations": [old_generation, new_generation],
                "transition_end": transition_end,
            },
        )
    return campaign


def parse_units(text: str, campaign: Campaign) -> list[Employer]:
    """Units named one a line by 单位编号 or by their exact name (the 附表 list); unknown ones are refused."""
    wanted = [w.strip() for w in re.split(r"[\r\n]+", text) if w.strip()]
    regions = region_ids_under(campaign.region_id)
    found: dict[str, Employer] = {}
    for unit in Employer.objects.filter(region_id__in=regions):
        found.setdefault(unit.code, unit)
        found.setdefault(unit.name, unit)
    missing = [w for w in wanted if w not in found]
    if missing:
        raise ValidationError(f"以下单位在本统筹区中不存在：{'、'.join(missing[:20])}", field="units")
    return list({found[w].pk: found[w] for w in wanted}.values())


def phase_create(
    *,
    campaign: Campaign,
    month: int | str,
    group: str,
    actor: Any,
    outlet: Outlet | None = None,
    units: Sequence[Employer] = (),
    note: str = "",
) -> CampaignPhase:
    """One month's target group (五月单位代领……七月扫尾). A unit-proxy phase lists its units."""
    _require(actor, "campaign.manage", "您的角色不能组织换卡")
    _require_campaign_scope(actor, campaign)
    if campaign.state != Campaign.State.RUNNING:
        raise StateError("该换卡批次的过渡期已结束，不能再增加阶段")
    period = parse_period(month)
    if group not in TargetGroup.values:
        raise ValidationError("请选择换卡对象", field="group")
    if group == TargetGroup.UNIT_PROXY and not units:
        raise ValidationError("单位代领阶段须列出代领单位", field="units")
    try:
        with transaction.atomic():
            phase = CampaignPhase.objects.create(
                campaign=campaign, month=period, group=group, outlet=outlet, note=note[:300]
            )
            phase.units.set(units)
            audit_record(
                actor=actor,
                action=actions.PHASE_CREATE,
                obj=phase,
                new={
                    "campaign": campaign.pk,
                    "month": period,
                    "group": group,
                    "units": [u.pk for u in units],
                },
            )
    except IntegrityError:
        raise ValidationError("该月份已有相同对象的换卡阶段", field="group") from None
    return phase


def campaign_close(*, campaign: Campaign, actor: Any, today: dt.date | None = None) -> int:
    """End the transition period. Returns how many old cards are still live: they are now expected to be
    cancelled (the bank account behind them keeps working, 文登: 可更换为普通卡或办理注销)."""
    _require(actor, "campaign.manage", "您的角色不能组织换卡")
    today = today or timezone.localdate()
    with transaction.atomic():
        campaign = Campaign.objects.select_for_update().get(pk=campaign.pk)
        _require_campaign_scope(actor, campaign)
        _check(CAMPAIGN_TRANSITIONS, dict(Campaign.State.choices), campaign.state, Campaign.State.CLOSED)
        if today <= campaign.transition_end:
            raise StateError(
                f"过渡期至{campaign.transition_end:%Y年%m月%d日}，期间原卡仍可正常使用，不能提前结束"
            )
        live = CampaignMember.objects.filter(campaign=campaign, old_card__state__in=LIVE_STATES).count()
        now = timezone.now()
        Campaign.objects.filter(pk=campaign.pk, state=Campaign.State.RUNNING).update(
            state=Campaign.State.CLOSED, closed_at=now
        )
        audit_record(
            actor=actor,
            action=actions.CAMPAIGN_CLOSE,
            obj=campaign,
            old={"state": Campaign.State.RUNNING},
            new={"state": Campaign.State.CLOSED, "old_cards_to_cancel": live},
        )
        campaign.state, campaign.closed_at = Campaign.State.CLOSED, now
    return live


# ---------------------------------------------------------------- assignment


@dataclass
class AssignResult:
    assigned: int = 0
    # SSNs typed by the clerk that could not be assigned, with the reason
    refused: list[tuple[str, str]] = field(default_factory=list)


def members_assign(*, phase: CampaignPhase, actor: Any, ssns: Iterable[str] = ()) -> AssignResult:
    """Assign people holding an old-generation card to `phase`, set-based.

    - with `ssns`: those people (each one that cannot be assigned is reported with the reason);
    - else a unit-proxy phase takes the retirees of its listed units, and the sweep phase takes everyone
      in the region who still holds an old card and is in no phase yet.
    A person already in another phase of the campaign stays there.
    """
    _require(actor, "campaign.manage", "您的角色不能组织换卡")
    campaign = phase.campaign
    _require_campaign_scope(actor, campaign)
    if campaign.state != Campaign.State.RUNNING:
        raise StateError("该换卡批次的过渡期已结束，不能再分配人员")
    wanted = sorted({s.strip().upper() for s in ssns if s.strip()})
    old_cards = Card.objects.filter(
        generation=campaign.old_generation,
        state__in=HELD_STATES,
        person__region_id__in=region_ids_under(campaign.region_id),
        person__death_date__isnull=True,
    ).exclude(person_id__in=CampaignMember.objects.filter(campaign=campaign).values("person_id"))
    result = AssignResult()
    if wanted:
        old_cards = old_cards.filter(person__ssn__in=wanted)
    elif phase.group == TargetGroup.UNIT_PROXY:
        old_cards = old_cards.filter(person__employer__in=phase.units.all())
    elif phase.group != TargetGroup.SWEEP:
        raise ValidationError("请填写要分配到该阶段的人员社会保障号码", field="ssns")
    # The newest held card of each person (one per generation is live by constraint, but be safe).
    pairs = old_cards.values("person_id").annotate(card_id=Max("pk")).values_list("person_id", "card_id")
    now = timezone.now()
    with transaction.atomic():
        batch: list[CampaignMember] = []
        for person_id, card_id in pairs.iterator(chunk_size=_CHUNK):
            batch.append(
                CampaignMember(
                    campaign=campaign,
                    phase=phase,
                    person_id=person_id,
                    old_card_id=card_id,
                    assigned_at=now,
                    assigned_by=actor,
                )
            )
            if len(batch) >= _CHUNK:
                result.assigned += _create_members(batch, actor, phase)
                batch = []
        result.assigned += _create_members(batch, actor, phase)
    if wanted:
        result.refused = _refusals(wanted, campaign, phase)
    return result


def _create_members(batch: list[CampaignMember], actor: Any, phase: CampaignPhase) -> int:
    if not batch:
        return 0
    CampaignMember.objects.bulk_create(batch)
    audit_record_many(
        actor=actor,
        action=actions.MEMBERS_ASSIGN,
        object_type="people.person",
        rows=(
            {
                "object_id": m.person_id,
                "object_repr": "",
                "new": {"campaign": phase.campaign_id, "phase": phase.pk, "old_card": m.old_card_id},
            }
            for m in batch
        ),
        reason=str(phase),
    )
    return len(batch)


def _refusals(wanted: list[str], campaign: Campaign, phase: CampaignPhase) -> list[tuple[str, str]]:
    from shebao.people.models import Person

    refused: list[tuple[str, str]] = []
    for start in range(0, len(wanted), _CHUNK):
        chunk = wanted[start : start + _CHUNK]
        persons = dict(
            Person.objects.filter(
                ssn__in=chunk, region_id__in=region_ids_under(campaign.region_id)
            ).values_list("ssn", "pk")
        )
        placed = dict(
            CampaignMember.objects.filter(campaign=campaign, person_id__in=persons.values()).values_list(
                "person_id", "phase_id"
            )
        )
        for ssn in chunk:
            pk = persons.get(ssn)
            if pk is None:
                refused.append((ssn, "本统筹区没有该人员"))
            elif pk not in placed:
                refused.append((ssn, f"该人员没有在手的第{campaign.old_generation}代社保卡（或已死亡）"))
            elif placed[pk] != phase.pk:
                refused.append((ssn, "该人员已分配在本批次的其他阶段"))
    return refused


# ---------------------------------------------------------------- medical-account balance transfer

_LIVE_TRANSFER_STATES = (
    MedicalTransfer.State.PENDING,
    MedicalTransfer.State.REQUESTED,
    MedicalTransfer.State.DONE,
)


def new_card_of(member: CampaignMember) -> Card | None:
    """The member's newest card of the campaign's new generation whose social function is enabled."""
    return (
        Card.objects.filter(
            person_id=member.person_id,
            generation=member.campaign.new_generation,
            ss_activated_at__isnull=False,
        )
        .order_by("-pk")
        .first()
    )


def on_social_function_enabled(
    sender: Any, *, card: Card, actor: Any, at: dt.datetime, **kwargs: Any
) -> None:
    """Receiver of `shebao.cards.signals.social_function_enabled` (connected in `CampaignsConfig.ready`)."""
    medical_transfer_open(card=card, actor=actor, at=at)


def medical_transfer_open(*, card: Card, actor: Any, at: dt.datetime) -> MedicalTransfer | None:
    """文登: 二代卡社保功能启用后，原一代卡医保个人账户余额自动转到二代卡上，一代卡医保功能自动失效.

    Called inside the transaction that enables `card`'s social function, whatever the channel. If the
    holder is a member of a campaign whose new generation is `card`'s, the old card's medical function
    stops now and a transfer is opened, both audited; the balance is asked of the medical system after
    commit (`medical_transfer_fetch`). It runs in the activation's transaction on purpose: a new card
    enabled while the old one still spends the same medical account must never be committed, so a
    failure here fails the activation. Returns None (and writes nothing) for a person who is not a
    member, or whose transfer is already open or done: enabling twice, or enabling a replacement of
    the new card, moves nothing twice.
    """
    member = (
        CampaignMember.objects.select_for_update(of=("self",))
        .select_related("campaign", "old_card")
        .filter(person_id=card.person_id, campaign__new_generation=card.generation)
        .order_by("-pk")
        .first()
    )
    if member is None or member.transfers.filter(state__in=_LIVE_TRANSFER_STATES).exists():
        return None
    user = actor if getattr(actor, "pk", None) else None
    transfer = MedicalTransfer.objects.create(
        member=member,
        old_card_id=member.old_card_id,
        new_card=card,
        amount=None,
        state=MedicalTransfer.State.PENDING,
        requested_by=user,
        requested_at=at,
        old_medical_stopped_at=at,
    )
    audit_record(
        actor=actor,
        action=actions.MEDICAL_TRANSFER_OPEN,
        obj=transfer,
        new={"person": member.person_id, "old_card": member.old_card_id, "new_card": card.pk},
        reason=member.campaign.name,
    )
    audit_record(
        actor=actor,
        action=actions.OLD_CARD_MEDICAL_STOP,
        obj=member.old_card,
        old={"medical_function": "active"},
        new={"medical_function": "stopped", "balance_moves_to": card.card_no, "at": at},
        reason=f"{member.campaign.name}：新卡人社功能已启用",
    )
    transaction.on_commit(lambda: medical_transfer_fetch(transfer_id=transfer.pk))
    return transfer


def medical_transfer_fetch(*, transfer_id: int) -> MedicalTransfer:
    """Ask the medical system for the balance of a pending transfer; with a figure the transfer is done.

    An outside call, so it runs after commit and never fails the activation: no figure, or a failing
    system, leaves the transfer pending for a clerk. Running it again changes nothing once it is done.
    """
    from shebao.campaigns.medical import MedicalSystemError, get_source

    transfer = MedicalTransfer.objects.select_related("member__person", "old_card", "new_card").get(
        pk=transfer_id
    )
    if transfer.state != MedicalTransfer.State.PENDING:
        return transfer
    try:
        source = get_source()
        raw = source.balance(
            person_ssn=transfer.member.person.ssn,
            old_card_no=transfer.old_card.card_no or "",
            new_card_no=transfer.new_card.card_no or "",
        )
    except MedicalSystemError as exc:
        logger.warning("余额转移#%s：医保系统未返回余额（%s），待经办录入", transfer.pk, exc)
        return transfer
    if raw is None:
        return transfer
    if not isinstance(raw, Decimal):
        # A float from a careless interface would be off by fractions of a fen: refuse it.
        logger.warning("余额转移#%s：医保系统返回的余额不是 Decimal（%r），待经办录入", transfer.pk, raw)
        return transfer
    try:
        amount = parse_amount(raw)
    except ValidationError as exc:
        logger.warning("余额转移#%s：医保系统返回的余额无效（%s），待经办录入", transfer.pk, exc.message)
        return transfer
    with transaction.atomic():
        now = timezone.now()
        changed = MedicalTransfer.objects.filter(pk=transfer.pk, state=MedicalTransfer.State.PENDING).update(
            state=MedicalTransfer.State.DONE,
            amount=amount,
            source=MedicalTransfer.Source.MEDICAL_SYSTEM,
            decided_at=now,
        )
        if changed != 1:  # a clerk entered it meanwhile
            transfer.refresh_from_db()
            return transfer
        audit_record(
            actor=source.name,
            action=actions.MEDICAL_TRANSFER_FROM_SYSTEM,
            obj=transfer,
            old={"state": MedicalTransfer.State.PENDING},
            new={
                "state": MedicalTransfer.State.DONE,
                "amount": amount,
                "from_card": transfer.old_card.card_no,
                "to_card": transfer.new_card.card_no,
            },
        )
    transfer.state, transfer.amount, transfer.decided_at = MedicalTransfer.State.DONE, amount, now
    transfer.source = MedicalTransfer.Source.MEDICAL_SYSTEM
    return transfer


# One click asks the medical system at most this many times (one call per person): a larger phase is
# asked again in several clicks, each reporting what is left, so a page never waits on thousands of calls.
REFETCH_LIMIT = 200


@dataclass(frozen=True)
class RefetchResult:
    asked: int
    done: int
    left: int
    last: int = 0  # the highest transfer id asked: the next round starts after it


def medical_transfers_refetch(
    *,
    actor: Any,
    phase: CampaignPhase | None = None,
    transfer: MedicalTransfer | None = None,
    after: int = 0,
    limit: int | None = None,
) -> RefetchResult:
    """再次获取: ask the medical system again for the balance of pending transfers, one or a phase's.

    For the medical system that was down, or had no figure yet, when the new card was enabled. Only
    transfers still waiting for a balance are asked; those it answers are done at once (as after the
    activation), the others stay pending for a clerk. Asking again is harmless: a transfer done or
    entered meanwhile is not asked. The click is audited with what was asked and what came back.
    `after` skips transfers up to that id, so a background job walking a large phase in rounds asks
    each transfer once even while the medical system keeps answering "no balance yet".
    """
    _require(actor, "campaign.transfer_request", "您的角色不能获取医保个人账户余额")
    if (phase is None) == (transfer is None):
        raise ValidationError("请选择要再次获取余额的转移或阶段")
    pending = MedicalTransfer.objects.filter(state=MedicalTransfer.State.PENDING)
    target: Any
    if transfer is not None:
        _require_campaign_scope(actor, transfer.member.campaign)
        pending, target = pending.filter(pk=transfer.pk), transfer
    else:
        assert phase is not None
        _require_campaign_scope(actor, phase.campaign)
        pending, target = pending.filter(member__phase=phase), phase
    limit = limit or REFETCH_LIMIT
    pending = pending.filter(pk__gt=after)
    asked = list(pending.order_by("pk").values_list("pk", flat=True)[:limit])
    left = pending.count() - len(asked) if len(asked) == limit else 0
    if not asked:
        return RefetchResult(asked=0, done=0, left=0, last=after)
    done = [pk for pk in asked if medical_transfer_fetch(transfer_id=pk).state == MedicalTransfer.State.DONE]
    with transaction.atomic():
        audit_record(
            actor=actor,
            action=actions.MEDICAL_TRANSFER_REFETCH,
            obj=target,
            new={"asked": asked, "done": done, "left": left},
        )
    return RefetchResult(asked=len(asked), done=len(done), left=left, last=asked[-1])


def phase_transfers_refetch(*, actor: Any, phase: CampaignPhase, progress: Any = None) -> tuple[int, int]:
    """再次获取 for every pending transfer of a phase, in rounds of `REFETCH_LIMIT` (each round audited
    as a click is). For a phase too large for one click; run as a background job with progress.
    Started again after a crash it asks only what is still pending. Returns (asked, done)."""
    _require(actor, "campaign.transfer_request", "您的角色不能获取医保个人账户余额")
    _require_campaign_scope(actor, phase.campaign)
    total = MedicalTransfer.objects.filter(state=MedicalTransfer.State.PENDING, member__phase=phase).count()
    if progress is not None:
        progress.set_total(total)
    asked = done = last = 0
    while True:
        result = medical_transfers_refetch(actor=actor, phase=phase, after=last)
        if not result.asked:
            break
        asked, done, last = asked + result.asked, done + result.done, result.last
        if progress is not None:
            progress.advance(min(asked, total), f"已获取 {asked} 条，{done} 条已转移")
    return asked, done


def medical_transfer_request(*, member: CampaignMember, amount: str | Decimal, actor: Any) -> MedicalTransfer:
    """Maker: record the balance the medical system does not have, for a supervisor to confirm.

    Only once the new card's social function is enabled (文登: 二代卡社保功能启用后……自动转到二代卡上).
    Fills the pending transfer opened at the activation; without one (an earlier entry was rejected, or
    the card was enabled before the person joined the campaign) a new transfer is recorded.
    """
    _require(actor, "campaign.transfer_request", "您的角色不能登记医保个人账户余额转移")
    _require_campaign_scope(actor, member.campaign)
    value = parse_amount(amount)
    new_card = new_card_of(member)
    if new_card is None:
        raise StateError(
            f"{member.person.name}的第{member.campaign.new_generation}代社保卡尚未启用人社功能，不能转移医保个人账户余额"
        )
    now = timezone.now()
    try:
        with transaction.atomic():
            CampaignMember.objects.select_for_update().filter(pk=member.pk).first()
            live = member.transfers.filter(state__in=_LIVE_TRANSFER_STATES).first()
            if live is not None and live.state != MedicalTransfer.State.PENDING:
                raise StateError("该人员已有待复核或已完成的余额转移")
            if live is not None:
                MedicalTransfer.objects.filter(pk=live.pk, state=MedicalTransfer.State.PENDING).update(
                    state=MedicalTransfer.State.REQUESTED,
                    amount=value,
                    source=MedicalTransfer.Source.CLERK,
                    requested_by=actor,
                    requested_at=now,
                )
                transfer = MedicalTransfer.objects.get(pk=live.pk)
            else:
                stopped = (
                    member.transfers.exclude(old_medical_stopped_at=None)
                    .values_list("old_medical_stopped_at", flat=True)
                    .first()
                )
                transfer = MedicalTransfer.objects.create(
                    member=member,
                    old_card_id=member.old_card_id,
                    new_card=new_card,
                    amount=value,
                    source=MedicalTransfer.Source.CLERK,
                    requested_by=actor,
                    requested_at=now,
                    old_medical_stopped_at=stopped,
                )
            audit_record(
                actor=actor,
                action=actions.MEDICAL_TRANSFER_REQUEST,
                obj=transfer,
                old={"state": MedicalTransfer.State.PENDING} if live is not None else None,
                new={
                    "state": MedicalTransfer.State.REQUESTED,
                    "person": member.person_id,
                    "old_card": member.old_card_id,
                    "new_card": transfer.new_card_id,
                    "amount": value,
                },
            )
    except IntegrityError:
        raise StateError("该人员已有待复核或已完成的余额转移") from None
    return transfer


def _lock_transfer(transfer: MedicalTransfer, actor: Any) -> MedicalTransfer:
    locked = (
        MedicalTransfer.objects.select_for_update(of=("self",))
        .select_related("member", "member__campaign", "member__person", "old_card", "new_card")
        .get(pk=transfer.pk)
    )
    _require_campaign_scope(actor, locked.member.campaign)
    return locked


def medical_transfer_approve(*, transfer: MedicalTransfer, actor: Any) -> MedicalTransfer:
    """Checker: the balance is now on the new card, and the old card's medical function has stopped
    (at the activation; a transfer recorded without one stops it now). One transaction, audited."""
    _require(actor, "campaign.transfer_approve", "只有中心复核员可以复核余额转移")
    with transaction.atomic():
        transfer = _lock_transfer(transfer, actor)
        _check(
            MEDICAL_TRANSFER_TRANSITIONS,
            dict(MedicalTransfer.State.choices),
            transfer.state,
            MedicalTransfer.State.DONE,
        )
        if transfer.state != MedicalTransfer.State.REQUESTED:
            raise StateError("该余额转移尚未登记余额，请先由经办人录入")
        if transfer.requested_by_id == actor.pk:
            raise PermissionDenied("登记人不能复核自己登记的余额转移")
        now = timezone.now()
        stopped = transfer.old_medical_stopped_at or now
        changed = MedicalTransfer.objects.filter(
            pk=transfer.pk, state=MedicalTransfer.State.REQUESTED
        ).update(
            state=MedicalTransfer.State.DONE, decided_by=actor, decided_at=now, old_medical_stopped_at=stopped
        )
        if changed != 1:
            raise StateError("该余额转移已被他人处理，请刷新后重试")
        audit_record(
            actor=actor,
            action=actions.MEDICAL_TRANSFER_APPROVE,
            obj=transfer,
            old={"state": MedicalTransfer.State.REQUESTED},
            new={
                "state": MedicalTransfer.State.DONE,
                "amount": transfer.amount,
                "from_card": transfer.old_card.card_no,
                "to_card": transfer.new_card.card_no,
            },
        )
        if transfer.old_medical_stopped_at is None:
            audit_record(
                actor=actor,
                action=actions.OLD_CARD_MEDICAL_STOP,
                obj=transfer.old_card,
                old={"medical_function": "active"},
                new={"medical_function": "stopped", "balance_moved_to": transfer.new_card.card_no},
                reason=str(transfer.member.campaign),
            )
        transfer.state, transfer.decided_by, transfer.decided_at = MedicalTransfer.State.DONE, actor, now
        transfer.old_medical_stopped_at = stopped
    return transfer


def medical_transfer_reject(*, transfer: MedicalTransfer, reason: str, actor: Any) -> MedicalTransfer:
    """Checker: send the transfer back (a wrong amount); the clerk records it again."""
    _require(actor, "campaign.transfer_approve", "只有中心复核员可以复核余额转移")
    if not reason.strip():
        raise ValidationError("请填写退回原因", field="reason")
    with transaction.atomic():
        transfer = _lock_transfer(transfer, actor)
        _check(
            MEDICAL_TRANSFER_TRANSITIONS,
            dict(MedicalTransfer.State.choices),
            transfer.state,
            MedicalTransfer.State.REJECTED,
        )
        now = timezone.now()
        MedicalTransfer.objects.filter(pk=transfer.pk, state=MedicalTransfer.State.REQUESTED).update(
            state=MedicalTransfer.State.REJECTED, decided_by=actor, decided_at=now, reject_reason=reason[:200]
        )
        audit_record(
            actor=actor,
            action=actions.MEDICAL_TRANSFER_REJECT,
            obj=transfer,
            old={"state": MedicalTransfer.State.REQUESTED},
            new={"state": MedicalTransfer.State.REJECTED},
            reason=reason.strip(),
        )
        transfer.state = MedicalTransfer.State.REJECTED
    return transfer


# ---------------------------------------------------------------- new-card applications for a phase

# A phase larger than this gets its applications made by a background job (the page polls its progress).
APPLY_INLINE_LIMIT = 500


def _phase_delivery(phase: CampaignPhase) -> tuple[str, Outlet | None]:
    """A unit-proxy phase collects at the outlet as a unit (集中领卡); the other groups pick up in person."""
    from shebao.cards.models import DeliveryMode

    if phase.group == TargetGroup.UNIT_PROXY:
        return DeliveryMode.UNIT_COLLECTIVE, phase.outlet
    if phase.outlet is None:
        raise ValidationError("该阶段没有设置领卡地点，不能批量申领（网点领取须有领卡网点）", field="outlet")
    return DeliveryMode.OUTLET_PICKUP, phase.outlet


def phase_members_to_apply(phase: CampaignPhase) -> Any:
    """Members of `phase` alive and without a live card of the campaign's new generation."""
    campaign = phase.campaign
    live_new = Card.objects.filter(generation=campaign.new_generation, state__in=LIVE_STATES)
    return (
        CampaignMember.objects.filter(phase=phase, person__death_date__isnull=True)
        .exclude(person_id__in=live_new.values("person_id"))
        .order_by("pk")
    )


def phase_applications_create(*, phase: CampaignPhase, actor: Any, progress: Any = None) -> int:
    """换代申领: a new-generation card application for every member of `phase` who has none yet.

    Set-based, in chunks: each chunk's applications, cards and audit rows go in one transaction, so a
    crash leaves whole chunks and running it again carries on where it stopped (members who already
    have a new card are skipped). Returns how many applications were made.
    """
    from shebao.cards import actions as card_actions
    from shebao.cards.models import CardApplication

    _require(actor, "campaign.manage", "您的角色不能组织换卡")
    campaign = phase.campaign
    _require_campaign_scope(actor, campaign)
    if campaign.state != Campaign.State.RUNNING:
        raise StateError("该换卡批次的过渡期已结束，不能再申领新卡")
    delivery, outlet = _phase_delivery(phase)
    branch_bank = outlet.bank_id if outlet is not None and outlet.kind == Outlet.Kind.BANK_BRANCH else None
    if campaign.bank_id and branch_bank and campaign.bank_id != branch_bank:
        raise ValidationError(f"领卡地点“{outlet}”不是承办银行的网点，请调整该阶段的领卡地点", field="outlet")
    pending = phase_members_to_apply(phase)
    if progress is not None:
        progress.set_total(pending.count())
    made = 0
    while True:
        # The old card's application photo goes with the new one: the factory prints it again, and the
        # retiree need not come to a window only to be photographed.
        rows = list(
            pending.values_list(
                "person_id", "old_card_id", "old_card__bank_id", "old_card__application__photo"
            )[:_CHUNK]
        )
        if not rows:
            break
        try:
            with transaction.atomic():
                apps = CardApplication.objects.bulk_create(
                    CardApplication(
                        person_id=person_id,
                        bank_id=campaign.bank_id or branch_bank or old_bank,
                        generation=campaign.new_generation,
                        reason=CardApplication.Reason.GENERATION,
                        delivery=delivery,
                        outlet=outlet,
                        photo=old_photo or "",
                        created_by=actor,
                    )
                    for person_id, _old, old_bank, old_photo in rows
                )
                cards = Card.objects.bulk_create(
                    Card(
                        person_id=app.person_id,
                        bank_id=app.bank_id,
                        generation=campaign.new_generation,
                        application=app,
                        replaces_id=old_card,
                    )
                    for app, (_person, old_card, _bank, _photo) in zip(apps, rows, strict=True)
                )
                audit_record_many(
                    actor=actor,
                    action=card_actions.CARD_APPLY,
                    object_type="cards.card",
                    rows=(
                        {
                            "object_id": card.pk,
                            "object_repr": "",
                            "new": {
                                "application": card.application_id,
                                "bank": card.bank_id,
                                "delivery": delivery,
                                "generation": campaign.new_generation,
                                "campaign": campaign.pk,
                                "phase": phase.pk,
                                "replaces": card.replaces_id,
                            },
                        }
                        for card in cards
                    ),
                    reason=f"{campaign.name} {phase}",
                )
        except IntegrityError:
            # Somebody applied for one of these people at a window meanwhile: the constraint held.
            raise StateError(
                "批量申领期间有人员已在窗口申领新卡，请重新办理（已申领的人员会自动跳过）"
            ) from None
        made += len(rows)
        if progress is not None:
            progress.advance(made, f"已申领 {made} 张新卡")
    return made


# ---------------------------------------------------------------- after the transition end


@dataclass
class CancelResult:
    cancelled: int = 0
    # old cards the table does not let us cancel (e.g. temporarily lost): a clerk handles them one by one
    left: int = 0


def campaign_old_cards_cancel(*, campaign: Campaign, actor: Any) -> CancelResult:
    """注销原卡: once the transition period is over, every old card of the campaign's members that the
    transition table lets go to 已注销 is cancelled, set-based, with one audit row per card."""
    from shebao.campaigns.selectors import OLD_CARD_BULK_CANCEL_STATES
    from shebao.cards import actions as card_actions
    from shebao.cards.services import CANCELLABLE_STATES

    _require(actor, "campaign.manage", "您的角色不能组织换卡")
    _require(actor, "card.cancel", "您的角色不能注销社保卡")
    _require_campaign_scope(actor, campaign)
    if campaign.state != Campaign.State.CLOSED:
        raise StateError(f"过渡期（至{campaign.transition_end:%Y年%m月%d日}）结束并办理结束后，才能注销原卡")
    # Only cards already in the holder's hands or lost; an old-generation application is not ours to end.
    states = [s for s in CANCELLABLE_STATES if s in OLD_CARD_BULK_CANCEL_STATES]
    old_cards = Card.objects.filter(
        pk__in=CampaignMember.objects.filter(campaign=campaign).values("old_card_id")
    )
    result = CancelResult(left=old_cards.filter(state__in=LIVE_STATES).exclude(state__in=states).count())
    reason = f"{campaign.name}过渡期结束，原卡注销"
    for state in states:
        ids = list(old_cards.filter(state=state).order_by("pk").values_list("pk", flat=True))
        for start in range(0, len(ids), _CHUNK):
            chunk = ids[start : start + _CHUNK]
            with transaction.atomic():
                moved = Card.objects.filter(pk__in=chunk, state=state).update(
                    state=CardState.CANCELLED, updated_at=timezone.now()
                )
                if moved != len(chunk):
                    raise StateError("注销期间有原卡状态被他人修改，请重新办理（已注销的卡会自动跳过）")
                audit_record_many(
                    actor=actor,
                    action=card_actions.CARD_CANCEL,
                    object_type="cards.card",
                    rows=(
                        {"object_id": pk, "old": {"state": state}, "new": {"state": CardState.CANCELLED}}
                        for pk in chunk
                    ),
                    reason=reason,
                )
            result.cancelled += len(chunk)
    return result
