"""Every read a user can see: campaigns (centre only) and card progress figures (scoped by role).

Counts are computed in the database (grouped aggregates over the cards the user may see), never by
loading cards into Python.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db.models import Count, Exists, OuterRef, Q, QuerySet, Subquery, Sum
from django.utils import timezone

from shebao.accounts.roles import CENTRE_ROLES
from shebao.campaigns.models import Campaign, CampaignMember, CampaignPhase, MedicalTransfer
from shebao.cards.models import (
    INFLOW_KINDS,
    LIVE_STATES,
    Card,
    CardIssue,
    CardMovement,
    CardRecall,
    CardState,
)
from shebao.cards.selectors import cards_visible_to
from shebao.core.errors import PermissionDenied
from shebao.orgs.models import Employer, Outlet, Township
from shebao.orgs.selectors import region_ids_under

# ---------------------------------------------------------------- campaigns

_NOT_PRODUCED = (CardState.APPLIED, CardState.IN_PRODUCTION, CardState.PRODUCTION_FAILED)
# The holder has the card (lost or not): it counts as issued.
ISSUED_STATES = (CardState.ISSUED, CardState.TEMPORARILY_LOST, CardState.FORMALLY_LOST)
# The old cards the transition-end cancellation cancels in bulk; other live ones (a temporary loss, which
# the holder may still lift) are handled card by card from the card's page.
OLD_CARD_BULK_CANCEL_STATES = (CardState.ISSUED, CardState.FORMALLY_LOST)


def campaigns_visible_to(user: Any) -> QuerySet[Campaign]:
    qs = Campaign.objects.select_related("region", "bank")
    if not user.is_authenticated or not user.is_active:
        return qs.none()
    if user.is_superuser:
        return qs
    if user.role in CENTRE_ROLES:
        return qs.filter(region_id__in=region_ids_under(user.region_id))
    return qs.none()


def campaign_get(user: Any, pk: int) -> Campaign:
    campaign = campaigns_visible_to(user).filter(pk=pk).first()
    if campaign is None:
        raise PermissionDenied("该换卡批次不在您的管辖范围内，或不存在")
    return campaign


def phase_get(user: Any, pk: int) -> CampaignPhase:
    phase = (
        CampaignPhase.objects.select_related("campaign", "outlet")
        .filter(campaign__in=campaigns_visible_to(user), pk=pk)
        .first()
    )
    if phase is None:
        raise PermissionDenied("该换卡阶段不在您的管辖范围内，或不存在")
    return phase


PHASE_COLUMNS: tuple[tuple[str, str], ...] = (
    ("members", "分配人数"),
    ("produced", "新卡已制成"),
    ("issued", "新卡已领取"),
    ("social", "人社功能已启用"),
    ("financial", "金融功能已激活"),
    ("transferred", "医保余额已转移"),
    ("old_live", "原卡未注销"),
)


def _member_flags(campaign: Campaign) -> dict[str, Any]:
    new_cards = Card.objects.filter(person_id=OuterRef("person_id"), generation=campaign.new_generation)
    return {
        "produced": Exists(new_cards.exclude(state__in=_NOT_PRODUCED)),
        "issued": Exists(new_cards.filter(state__in=ISSUED_STATES)),
        "social": Exists(new_cards.filter(ss_activated_at__isnull=False)),
        "financial": Exists(new_cards.filter(fin_activated_at__isnull=False)),
        "transferred": Exists(
            MedicalTransfer.objects.filter(member_id=OuterRef("pk"), state=MedicalTransfer.State.DONE)
        ),
        "old_live": Q(old_card__state__in=LIVE_STATES),
    }


def phase_progress(campaign: Campaign) -> list[dict[str, Any]]:
    """One row per phase (in month order) with the counts of PHASE_COLUMNS, plus a total row."""
    flags = _member_flags(campaign)
    counts: dict[int, dict[str, Any]] = {
        row["phase_id"]: dict(row)
        for row in CampaignMember.objects.filter(campaign=campaign)
        .values("phase_id")
        .annotate(
            members=Count("pk"),
            **{name: Count("pk", filter=condition) for name, condition in flags.items()},
        )
        .order_by()
    }
    rows = []
    total = {name: 0 for name, _ in PHASE_COLUMNS}
    for phase in campaign.phases.select_related("outlet").order_by("month", "pk"):
        got = counts.get(phase.pk, {})
        row: dict[str, Any] = {"phase": phase, **{name: got.get(name, 0) for name, _ in PHASE_COLUMNS}}
        for name in total:
            total[name] += row[name]
        rows.append(row)
    return [*rows, {"phase": None, **total}]


@dataclass(frozen=True)
class TransferSummary:
    done: int
    amount: Decimal
    pending: int
    requested: int


def campaign_transfer_summary(campaign: Campaign) -> TransferSummary:
    """Balance transfers of a campaign: how many moved and how much (summed from the rows), how many wait."""
    State = MedicalTransfer.State
    got = MedicalTransfer.objects.filter(member__campaign=campaign).aggregate(
        done=Count("pk", filter=Q(state=State.DONE)),
        amount=Sum("amount", filter=Q(state=State.DONE)),
        pending=Count("pk", filter=Q(state=State.PENDING)),
        requested=Count("pk", filter=Q(state=State.REQUESTED)),
    )
    return TransferSummary(
        done=got["done"],
        amount=got["amount"] or Decimal("0.00"),
        pending=got["pending"],
        requested=got["requested"],
    )


def campaign_transfers_recent(campaign: Campaign, limit: int = 20) -> list[MedicalTransfer]:
    """The latest balance transfers of a campaign, newest first (for the campaign page)."""
    return list(
        MedicalTransfer.objects.filter(member__campaign=campaign)
        .exclude(state=MedicalTransfer.State.REJECTED)
        .select_related("member__person", "member__phase", "old_card", "new_card")
        .order_by("-requested_at", "-pk")[:limit]
    )


def campaign_old_cards_left(campaign: Campaign) -> QuerySet[CampaignMember]:
    """Members whose old card is still live but not one the bulk cancellation takes (e.g. temporarily
    lost): after the transition end a clerk handles each on the card's page."""
    return (
        CampaignMember.objects.filter(campaign=campaign, old_card__state__in=LIVE_STATES)
        .exclude(old_card__state__in=OLD_CARD_BULK_CANCEL_STATES)
        .select_related("person", "old_card", "phase")
        .order_by("person__ssn")
    )


def phase_members(phase: CampaignPhase) -> QuerySet[CampaignMember]:
    """The members of a phase, each with its flags and the id of its open transfer (for the page)."""
    open_transfer = MedicalTransfer.objects.filter(
        member_id=OuterRef("pk"),
        state__in=[
            MedicalTransfer.State.PENDING,
            MedicalTransfer.State.REQUESTED,
            MedicalTransfer.State.DONE,
        ],
    ).order_by("-pk")
    flags = _member_flags(phase.campaign)
    flags.pop("old_live")
    return (
        CampaignMember.objects.filter(phase=phase)
        .select_related("person", "person__employer", "old_card")
        .annotate(
            **flags,
            transfer_state=Subquery(open_transfer.values("state")[:1]),
            transfer_amount=Subquery(open_transfer.values("amount")[:1]),
        )
        .order_by("person__ssn")
    )


def transfers_pending(user: Any) -> QuerySet[MedicalTransfer]:
    return (
        MedicalTransfer.objects.filter(
            state=MedicalTransfer.State.REQUESTED, member__campaign__in=campaigns_visible_to(user)
        )
        .select_related("member__person", "member__campaign", "old_card", "new_card", "requested_by")
        .order_by("requested_at", "pk")
    )


def transfers_waiting(user: Any) -> QuerySet[MedicalTransfer]:
    """New cards enabled whose old card's balance has not come yet (待录入余额), oldest first."""
    return (
        MedicalTransfer.objects.filter(
            state=MedicalTransfer.State.PENDING, member__campaign__in=campaigns_visible_to(user)
        )
        .select_related("member__person", "member__campaign", "member__phase", "old_card", "new_card")
        .order_by("requested_at", "pk")
    )


def transfers_waiting_by_phase(user: Any) -> list[dict[str, Any]]:
    """Per phase: how many transfers wait for a balance, for the 'ask again for the whole phase' button."""
    from django.db.models import Count

    counts = dict(
        transfers_waiting(user)
        .order_by()
        .values("member__phase")
        .annotate(n=Count("pk"))
        .values_list("member__phase", "n")
    )
    phases = (
        CampaignPhase.objects.select_related("campaign").filter(pk__in=counts).order_by("campaign", "month")
    )
    return [{"phase": p, "waiting": counts[p.pk]} for p in phases]


def transfer_get(user: Any, pk: int) -> MedicalTransfer:
    transfer = MedicalTransfer.objects.filter(member__campaign__in=campaigns_visible_to(user), pk=pk).first()
    if transfer is None:
        raise PermissionDenied("该余额转移不在您的管辖范围内，或不存在")
    return transfer


def member_get(user: Any, pk: int) -> CampaignMember:
    member = (
        CampaignMember.objects.select_related("campaign", "person", "phase")
        .filter(campaign__in=campaigns_visible_to(user), pk=pk)
        .first()
    )
    if member is None:
        raise PermissionDenied("该换卡人员不在您的管辖范围内，或不存在")
    return member


# ---------------------------------------------------------------- card progress figures (item 13)

BY_OUTLET, BY_UNIT, BY_TOWNSHIP = "outlet", "unit", "township"
GROUPINGS = {BY_OUTLET: "服务网点", BY_UNIT: "参保单位", BY_TOWNSHIP: "乡镇（街道）"}

FIGURE_COLUMNS: tuple[tuple[str, str], ...] = (
    ("in_stock", "网点待领"),
    ("waiting", "待领超期"),
    ("issued", "已发放"),
    ("social", "人社功能已启用"),
    ("financial", "金融功能已激活"),
    ("errors", "信息有误卡"),
    ("temp_outstanding", "临时卡未收回"),
)


@dataclass
class Figures:
    grouping: str
    wait_days: int
    rows: list[dict[str, Any]] = field(default_factory=list)
    total: dict[str, int] = field(default_factory=dict)


def _annotated_cards(user: Any) -> QuerySet[Card]:
    """The user's cards with the outlet and time of their last arrival, and the outlet that issued them."""
    last_in = CardMovement.objects.filter(card_id=OuterRef("pk"), kind__in=INFLOW_KINDS).order_by(
        "-at", "-pk"
    )
    last_issue = CardIssue.objects.filter(card_id=OuterRef("pk")).order_by("-issued_at", "-pk")
    return cards_visible_to(user).annotate(
        arrived_at=Subquery(last_in.values("at")[:1]),
        stock_outlet=Subquery(last_in.values("location__outlet_id")[:1]),
        issue_outlet=Subquery(last_issue.values("outlet_id")[:1]),
    )


def _counts(qs: QuerySet, key: str, metrics: dict[str, Q]) -> dict[Any, dict[str, int]]:
    out: dict[Any, dict[str, int]] = {}
    aggregates = {m: Count("pk", filter=c or None) for m, c in metrics.items()}
    for row in qs.values(key).annotate(**aggregates).order_by():
        out[row[key]] = {m: row[m] for m in metrics}
    return out


def card_progress(user: Any, grouping: str, wait_days: int, *, today: dt.date | None = None) -> Figures:
    """In stock, waiting longer than `wait_days`, issued, activated (each function), error cards and
    temporary cards outstanding, per outlet, unit or township, over the cards the user may see."""
    from shebao.cards.models import TempCard

    if grouping not in GROUPINGS:
        grouping = BY_OUTLET
    wait_days = max(0, int(wait_days))
    cutoff = timezone.now() - dt.timedelta(days=wait_days)
    cards = _annotated_cards(user)
    in_stock = Q(state=CardState.IN_STOCK)
    stock_metrics = {"in_stock": in_stock, "waiting": in_stock & Q(arrived_at__lt=cutoff)}
    issue_metrics = {
        "issued": Q(state__in=ISSUED_STATES),
        "social": Q(state__in=ISSUED_STATES, ss_activated_at__isnull=False),
        "financial": Q(state__in=ISSUED_STATES, fin_activated_at__isnull=False),
    }
    error_metrics = {"errors": Q(recall__kind=CardRecall.Kind.ERROR)}
    temps = TempCard.objects.filter(state=TempCard.State.OUTSTANDING, person__in=_persons_of(user, cards))
    if grouping == BY_OUTLET:
        merged = _merge(
            _counts(cards, "stock_outlet", stock_metrics),
            _counts(cards, "issue_outlet", issue_metrics),
            _counts(cards.filter(recall__isnull=False), "recall__location__outlet_id", error_metrics),
            _counts(temps, "outlet_id", {"temp_outstanding": Q()}),
        )
        names = dict(Outlet.objects.filter(pk__in=[k for k in merged if k]).values_list("pk", "name"))
    else:
        key = "person__employer_id" if grouping == BY_UNIT else "person__township_id"
        merged = _merge(
            _counts(cards, key, {**stock_metrics, **issue_metrics, **error_metrics}),
            _counts(temps, key, {"temp_outstanding": Q()}),
        )
        model = Employer if grouping == BY_UNIT else Township
        names = dict(model.objects.filter(pk__in=[k for k in merged if k]).values_list("pk", "name"))
    figures = Figures(grouping=grouping, wait_days=wait_days)
    for pk, counts in merged.items():
        if not any(counts.values()):
            continue
        name = names.get(pk, "（未登记）") if pk else "（未登记）"
        figures.rows.append({"key": pk, "name": name, **counts})
    figures.rows.sort(key=lambda r: (r["name"] == "（未登记）", r["name"]))
    figures.total = {m: sum(r[m] for r in figures.rows) for m, _ in FIGURE_COLUMNS}
    return figures


def _persons_of(user: Any, cards: QuerySet[Card]) -> Any:
    from shebao.people.selectors import persons_visible_to

    if getattr(user, "role", None) == "bank_clerk":
        # A bank sees the temporary cards of the people whose cards it holds or issued.
        return cards.values("person_id")
    return persons_visible_to(user).values("pk")


def _merge(*parts: dict[Any, dict[str, int]]) -> dict[Any, dict[str, int]]:
    merged: dict[Any, dict[str, int]] = {}
    for part in parts:
        for key, counts in part.items():
            row = merged.setdefault(key, {m: 0 for m, _ in FIGURE_COLUMNS})
            for m, v in counts.items():
                row[m] += v
    return merged
