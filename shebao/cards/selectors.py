"""Card reads, bounded by the user's data scope. Stock is always derived from the ledger here."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.db.models import Case, Count, Exists, IntegerField, OuterRef, Q, QuerySet, Sum, Value, When

from shebao.accounts.roles import CENTRE_ROLES, Role
from shebao.cards.models import (
    INFLOW_KINDS,
    Card,
    CardIssue,
    CardLocation,
    CardMovement,
    CardNotice,
    CardState,
    Shipment,
    UnitHandover,
    VaultClosing,
)
from shebao.core.errors import PermissionDenied
from shebao.orgs.models import Employer, Outlet
from shebao.orgs.selectors import outlets_visible_to, region_ids_under
from shebao.people.selectors import persons_visible_to


def delta_expr() -> Case:
    """+1 for a movement that brings a card into a location's custody, -1 for one that takes it out."""
    return Case(When(kind__in=INFLOW_KINDS, then=Value(1)), default=Value(-1), output_field=IntegerField())


def card_ids_in_stock(location_ids: Any, *, before: datetime | None = None) -> QuerySet:
    """Ids of the cards whose ledger balance at one of these locations (None: any) is 1 (a values queryset);
    with `before`, the balance of the lines posted before that moment (a month-end stock)."""
    qs = (
        CardMovement.objects.all()
        if location_ids is None
        else CardMovement.objects.filter(location_id__in=location_ids)
    )
    if before is not None:
        qs = qs.filter(at__lt=before)
    return (
        qs.values("card_id", "location_id")
        .annotate(balance=Sum(delta_expr()))
        .filter(balance__gt=0)
        .values("card_id")
    )


def card_balance_at(card_id: int, location_id: int) -> int:
    got = CardMovement.objects.filter(card_id=card_id, location_id=location_id).aggregate(b=Sum(delta_expr()))
    return int(got["b"] or 0)


def card_location_now(card_id: int) -> CardLocation | None:
    """The location whose custody the card is in, or None (with the holder, in transit, destroyed)."""
    row = (
        CardMovement.objects.filter(card_id=card_id)
        .values("location_id")
        .annotate(balance=Sum(delta_expr()))
        .filter(balance__gt=0)
        .order_by("location_id")
        .first()
    )
    return CardLocation.objects.filter(pk=row["location_id"]).first() if row else None


def bank_scope_hook(user: Any) -> Q:
    """Registered in people.selectors.BANK_SCOPE_HOOKS: a bank clerk also sees holders of their bank's cards."""
    return Q(pk__in=Card.objects.filter(bank_id=user.bank_id).values("person_id"))


def _locations_of_outlets(user: Any) -> QuerySet:
    return CardLocation.objects.filter(outlet__in=outlets_visible_to(user)).values("pk")


def cards_visible_to(user: Any) -> QuerySet[Card]:
    qs = Card.objects.all()
    if not user.is_authenticated or not user.is_active:
        return qs.none()
    if user.is_superuser:
        return qs
    role = user.role
    if role in CENTRE_ROLES:
        return qs.filter(person__region_id__in=region_ids_under(user.region_id))
    if role == Role.BANK_CLERK:
        scope = Q(bank_id=user.bank_id)
        if user.outlet_id:
            # A service window or station keeps other banks' cards too: what lies in its vault is its business.
            scope |= Q(
                pk__in=card_ids_in_stock(CardLocation.objects.filter(outlet_id=user.outlet_id).values("pk"))
            )
        return qs.filter(scope)
    if role == Role.UNIT_CLERK:
        return qs.filter(person__employer_id=user.employer_id)
    if role == Role.TOWNSHIP_CLERK:
        return qs.filter(person__township_id=user.township_id)
    if role == Role.CARDHOLDER:
        return qs.filter(person_id=user.person_id)
    return qs.none()


def card_get(user: Any, pk: int) -> Card:
    """One card, or PermissionDenied when outside the user's scope (also for ids that do not exist)."""
    card = (
        cards_visible_to(user)
        .select_related("person", "person__employer", "person__township", "bank", "application", "replaces")
        .filter(pk=pk)
        .first()
    )
    if card is None:
        raise PermissionDenied("该社保卡不在您的管辖范围内，或不存在")
    return card


def card_search(user: Any, query: str = "", state: str = "") -> QuerySet[Card]:
    """By card number, SSN (exact or prefix) or name (contains)."""
    qs = cards_visible_to(user).select_related("person", "bank")
    if state:
        qs = qs.filter(state=state)
    q = (query or "").strip().upper()
    if not q:
        return qs
    if len(q) == 18 and q[:17].isdigit():
        return qs.filter(person__ssn=q)
    if len(q) == 9 and q.isalnum():
        return qs.filter(Q(card_no=q) | Q(person__ssn__startswith=q))
    if q.isdigit():
        return qs.filter(person__ssn__startswith=q)
    return qs.filter(person__name__contains=query.strip())


def card_ledger(card: Card) -> QuerySet[CardMovement]:
    return card.movements.select_related("location", "actor", "shipment").order_by("at", "id")


def card_issues(card: Card) -> QuerySet[CardIssue]:
    return card.issues.select_related("outlet", "handover", "created_by").order_by("-issued_at", "-id")


def locations_visible_to(user: Any) -> QuerySet[CardLocation]:
    qs = CardLocation.objects.select_related("outlet", "region")
    if user.is_superuser:
        return qs
    if user.role in CENTRE_ROLES:
        return qs.filter(region_id__in=region_ids_under(user.region_id))
    if user.role in (Role.BANK_CLERK, Role.TOWNSHIP_CLERK):
        return qs.filter(pk__in=_locations_of_outlets(user))
    return qs.none()


def location_get(user: Any, pk: int) -> CardLocation:
    loc = locations_visible_to(user).filter(pk=pk).first()
    if loc is None:
        raise PermissionDenied("该库位不在您的管辖范围内，或不存在")
    return loc


def stock_by_location(user: Any) -> list[dict[str, Any]]:
    """Per visible location: cards in stock, derived from the ledger (never a stored counter)."""
    locations = list(locations_visible_to(user).order_by("kind", "name"))
    balances = dict(
        CardMovement.objects.filter(location__in=locations)
        .values("location_id")
        .annotate(n=Sum(delta_expr()))
        .values_list("location_id", "n")
    )
    return [{"location": loc, "in_stock": int(balances.get(loc.pk) or 0)} for loc in locations]


def stock_cards(location: CardLocation) -> QuerySet[Card]:
    return (
        Card.objects.filter(pk__in=card_ids_in_stock([location.pk]))
        .select_related("person", "person__employer", "bank")
        .order_by("person__employer__name", "card_no")
    )


def stock_by_employer(outlet: Outlet) -> list[tuple[Employer, int]]:
    """Units whose members' cards wait in this outlet's stock, with how many."""
    location = CardLocation.objects.filter(outlet=outlet).first()
    if location is None:
        return []
    counts = dict(
        Card.objects.filter(pk__in=card_ids_in_stock([location.pk]), person__employer__isnull=False)
        .values("person__employer_id")
        .annotate(n=Count("id"))
        .order_by()
        .values_list("person__employer_id", "n")
    )
    return [(e, counts[e.pk]) for e in Employer.objects.filter(pk__in=counts).order_by("name")]


def notices_for(outlet_id: int, employer_id: int) -> QuerySet[CardNotice]:
    return CardNotice.objects.filter(outlet_id=outlet_id, employer_id=employer_id).order_by("-sent_at", "-id")


def issue_get(user: Any, pk: int) -> CardIssue:
    issue = (
        CardIssue.objects.select_related("card", "card__person", "card__bank", "outlet").filter(pk=pk).first()
    )
    if issue is None or not cards_visible_to(user).filter(pk=issue.card_id).exists():
        raise PermissionDenied("该领卡登记不在您的管辖范围内，或不存在")
    return issue


def handover_get(user: Any, pk: int) -> UnitHandover:
    handover = UnitHandover.objects.select_related("outlet", "employer", "notice").filter(pk=pk).first()
    if handover is None:
        visible = False
    elif user.role == Role.UNIT_CLERK:
        visible = handover.employer_id == user.employer_id
    elif user.role == Role.CARDHOLDER:
        visible = False
    else:
        visible = outlets_visible_to(user).filter(pk=handover.outlet_id).exists()
    if handover is None or not visible:
        raise PermissionDenied("该移交单不在您的管辖范围内，或不存在")
    return handover


def closings_visible_to(user: Any) -> QuerySet[VaultClosing]:
    return VaultClosing.objects.filter(location__in=locations_visible_to(user)).select_related("location")


def closing_get(user: Any, pk: int) -> VaultClosing:
    closing = closings_visible_to(user).select_related("closed_by").filter(pk=pk).first()
    if closing is None:
        raise PermissionDenied("该盘点记录不在您的管辖范围内，或不存在")
    return closing


def closing_summary(closing: VaultClosing) -> dict[str, int]:
    """帐存 at the count = counted − found-but-not-in-ledger + in-ledger-but-not-found."""
    diffs = list(closing.differences.values_list("kind", "explanation"))
    missing = sum(1 for k, _ in diffs if k == "missing")
    extra = sum(1 for k, _ in diffs if k == "extra")
    return {
        "ledger": closing.counted_cards - extra + missing,
        "counted": closing.counted_cards,
        "missing": missing,
        "extra": extra,
        "unexplained": sum(1 for _, e in diffs if not e),
    }


def production_overview(user: Any) -> dict[str, Any]:
    from shebao.cards.models import CardApplication, ProductionBatch, ProductionReturnFile

    cards = cards_visible_to(user)
    return {
        "applied": cards.filter(state="applied").count(),
        "waiting_for_photo": applications_waiting_for_photo(user)[:50],
        "waiting_for_photo_count": applications_waiting_for_photo(user).count(),
        "in_production": cards.filter(state="in_production").count(),
        "batches": ProductionBatch.objects.filter(cards__in=cards).distinct().order_by("-created_at")[:10],
        "return_files": ProductionReturnFile.objects.order_by("-created_at")[:10],
        "returned": CardApplication.objects.filter(
            state=CardApplication.State.RETURNED, cards__in=cards
        ).select_related("person", "bank")[:50],
    }


def batch_get(user: Any, pk: int):  # type: ignore[no-untyped-def]
    from shebao.cards.models import ProductionBatch

    batch = ProductionBatch.objects.filter(pk=pk, cards__in=cards_visible_to(user)).distinct().first()
    if batch is None:
        raise PermissionDenied("该制卡批次不在您的管辖范围内，或不存在")
    return batch


def batch_visible_to(user: Any, batch: Any) -> bool:
    return bool(batch.cards.filter(pk__in=cards_visible_to(user).values("pk")).exists())


def applications_waiting_for_photo(user: Any) -> Any:
    """Applied cards the factory cannot print yet: their application has no photo (待补采相片)."""
    from django.db.models import Q

    return (
        cards_visible_to(user)
        .filter(state="applied")
        .filter(Q(application__isnull=True) | Q(application__photo=""))
        .select_related("person", "bank", "application")
        .order_by("pk")
    )


def application_get(user: Any, pk: int):  # type: ignore[no-untyped-def]
    from shebao.cards.models import CardApplication

    app = CardApplication.objects.filter(pk=pk, person__in=persons_visible_to(user)).first()
    if app is None:
        raise PermissionDenied("该申领不在您的管辖范围内，或不存在")
    return app


def shipments_visible_to(user: Any) -> QuerySet[Shipment]:
    return Shipment.objects.filter(destination__in=locations_visible_to(user)).select_related(
        "source", "destination", "destination__outlet", "created_by"
    )


def shipment_get(user: Any, pk: int) -> Shipment:
    shipment = shipments_visible_to(user).filter(pk=pk).first()
    if shipment is None:
        raise PermissionDenied("该配送交接不在您的管辖范围内，或不存在")
    return shipment


def shipment_missing_cards(shipment: Shipment) -> QuerySet[Card]:
    """Cards handed over in the shipment that the outlet has not signed in (短缺, still in transit)."""
    signed = CardMovement.objects.filter(shipment=shipment, kind=CardMovement.Kind.RECEIVED).values("card_id")
    sent = CardMovement.objects.filter(shipment=shipment, kind=CardMovement.Kind.HANDED_OVER).values(
        "card_id"
    )
    return (
        Card.objects.filter(pk__in=sent).exclude(pk__in=signed).select_related("person").order_by("card_no")
    )


def vault_cards_for(user: Any, outlet: Outlet) -> QuerySet[Card]:
    """Cards in the centre vault that may go to this outlet (a bank branch only takes its bank's cards)."""
    qs = cards_visible_to(user).filter(
        state="produced",
        pk__in=card_ids_in_stock(CardLocation.objects.filter(kind=CardLocation.Kind.CENTRE).values("pk")),
    )
    if outlet.kind == Outlet.Kind.BANK_BRANCH and outlet.bank_id is not None:
        qs = qs.filter(bank_id=outlet.bank_id)
    if outlet.kind == Outlet.Kind.GRASSROOTS_STATION and outlet.township_id:
        qs = qs.filter(person__township_id=outlet.township_id)
    return qs.select_related("person", "bank").order_by("box_position", "card_no")


def error_recalls(user: Any, *, batch: str = "", awaiting: bool = False) -> QuerySet:
    """Error cards recalled at the user's locations: all of them, those of one hand-over batch to the
    centre (附件4 as signed), or those still waiting at an outlet to be handed over."""
    from shebao.cards.models import CardRecall

    qs = CardRecall.objects.filter(kind=CardRecall.Kind.ERROR, location__in=locations_visible_to(user))
    if batch:
        qs = qs.filter(card__movements__batch_ref=batch, card__movements__kind=CardMovement.Kind.HANDED_OVER)
    elif awaiting:
        outlets = locations_visible_to(user).filter(kind=CardLocation.Kind.OUTLET)
        qs = qs.filter(
            location__kind=CardLocation.Kind.OUTLET,
            card__state=CardState.RECALLED,
            card_id__in=card_ids_in_stock(outlets.values("pk")),
        )
    return qs.select_related("card", "card__person", "card__bank", "location").order_by(
        "location__name", "recalled_at"
    )


def error_cards_awaiting_new_card(user: Any) -> QuerySet:
    """Recalled error cards whose holder has no new card applied for yet (信息有误待重新申领)."""
    from shebao.cards.models import CardRecall

    again = Card.objects.filter(replaces_id=OuterRef("card_id")).exclude(state=CardState.CANCELLED)
    return (
        CardRecall.objects.filter(
            kind=CardRecall.Kind.ERROR,
            card__state=CardState.RECALLED,
            card__in=cards_visible_to(user),
            card__person__death_date__isnull=True,
        )
        .exclude(Exists(again))
        .select_related("card", "card__person", "card__bank", "card__application", "location")
        .order_by("recalled_at", "pk")
    )


def open_handovers(outlet: Outlet) -> list[UnitHandover]:
    """This outlet's collective handovers the unit has not yet reported back on, with their cards."""
    handovers = list(
        UnitHandover.objects.filter(outlet=outlet, settled_at__isnull=True)
        .select_related("employer")
        .order_by("created_at")
    )
    issues = CardIssue.objects.filter(handover__in=handovers).select_related("card", "card__person")
    by_handover: dict[int, list[CardIssue]] = {}
    for issue in issues.order_by("card__person__name"):
        by_handover.setdefault(issue.handover_id, []).append(issue)  # type: ignore[arg-type]
    for h in handovers:
        h.open_issues = by_handover.get(h.pk, [])  # type: ignore[attr-defined]
        # once the unit has recorded its list, only what it recorded is pre-ticked as handed out
        h.unit_recorded = any(i.member_received_on for i in h.open_issues)  # type: ignore[attr-defined]
    return handovers


# ---------------------------------------------------------------- notices


def notices_at(user: Any, outlet: Outlet) -> QuerySet[CardNotice]:
    """The outlet's notices with what the sender did, for the outlet's own staff and the centre."""
    if not outlets_visible_to(user).filter(pk=outlet.pk).exists():
        raise PermissionDenied("该网点不在您的管辖范围内")
    return CardNotice.objects.filter(outlet=outlet).select_related("employer", "person", "created_by")


def persons_waiting_at(outlet: Outlet) -> QuerySet[Card]:
    """Cards waiting at the outlet for a person to come (not reserved for a unit's collective pickup)."""
    location = CardLocation.objects.filter(outlet=outlet).first()
    if location is None:
        return Card.objects.none()
    return (
        Card.objects.filter(pk__in=card_ids_in_stock([location.pk]), state="in_stock")
        .exclude(application__delivery="unit_collective")
        .select_related("person", "bank")
        .order_by("person__name")
    )


# ---------------------------------------------------------------- village distribution


def village_sessions_visible_to(user: Any) -> QuerySet:
    from shebao.cards.models import VillageSession

    return VillageSession.objects.filter(outlet__in=outlets_visible_to(user)).select_related(
        "outlet", "township"
    )


def village_session_get(user: Any, pk: int):  # type: ignore[no-untyped-def]
    session = village_sessions_visible_to(user).filter(pk=pk).first()
    if session is None:
        raise PermissionDenied("该进村发放场次不在您的管辖范围内，或不存在")
    return session


def village_cards(session: Any) -> QuerySet[Card]:
    """Cards of the session's township waiting in the station's stock."""
    location = CardLocation.objects.filter(outlet_id=session.outlet_id).first()
    if location is None:
        return Card.objects.none()
    return (
        Card.objects.filter(
            pk__in=card_ids_in_stock([location.pk]), state="in_stock", person__township_id=session.township_id
        )
        .select_related("person", "bank")
        .order_by("person__name")
    )


# ---------------------------------------------------------------- mail delivery


def mail_requests_visible_to(user: Any) -> QuerySet:
    """A holder sees their own requests; the centre sees its region's; nobody else reviews them."""
    from shebao.cards.models import MailRequest

    qs = MailRequest.objects.select_related("card", "person", "card__bank", "reviewed_by")
    if not user.is_authenticated:
        return qs.none()
    if user.role == Role.CARDHOLDER:
        return qs.filter(person_id=user.person_id)
    if user.is_superuser or user.role in CENTRE_ROLES:
        return qs.filter(card__in=cards_visible_to(user))
    return qs.none()


def mail_request_get(user: Any, pk: int):  # type: ignore[no-untyped-def]
    req = mail_requests_visible_to(user).filter(pk=pk).first()
    if req is None:
        raise PermissionDenied("该邮寄申请不在您的管辖范围内，或不存在")
    return req


def mailable_cards(user: Any) -> QuerySet[Card]:
    """The holder's own cards that are not yet in anybody's hands."""
    from shebao.cards.models import OPEN_MAIL_STATES

    return (
        cards_visible_to(user)
        .filter(state__in=["applied", "in_production", "produced", "shipped", "in_stock"])
        .exclude(mail_requests__state__in=OPEN_MAIL_STATES)
        .select_related("bank")
    )


def mail_to_prepare(user: Any) -> QuerySet[Card]:
    """Cards whose application chose mail (邮寄) at the window, produced and not yet asked to be mailed:
    the centre's queue of mail requests to prepare for the holder."""
    from shebao.cards.models import OPEN_MAIL_STATES, DeliveryMode, MailState

    if not user.is_authenticated or not (user.is_superuser or user.role in CENTRE_ROLES):
        return Card.objects.none()
    return (
        cards_visible_to(user)
        .filter(
            application__delivery=DeliveryMode.MAIL,
            state__in=[CardState.PRODUCED, CardState.SHIPPED, CardState.IN_STOCK],
        )
        .exclude(mail_requests__state__in=[*OPEN_MAIL_STATES, MailState.DISPATCHED])
        .select_related("person", "bank", "application")
        .order_by("application__created_at", "pk")
    )


# ---------------------------------------------------------------- temporary cards


def temp_reconcile_date(period: int) -> date:
    """The 15th of the month (configurable), or the next working day when it is not one."""
    from shebao.cards.conf import temp_card_reconcile_day
    from shebao.core.selectors import workday_calendar

    return workday_calendar().next_workday_on_or_after(
        date(period // 100, period % 100, temp_card_reconcile_day())
    )


def temp_cards_visible_to(user: Any) -> QuerySet:
    from shebao.cards.models import TempCard

    return TempCard.objects.filter(person__in=persons_visible_to(user)).select_related("person", "outlet")


def temp_reconciliations_visible_to(user: Any) -> QuerySet:
    from shebao.cards.models import TempCardReconciliation

    return TempCardReconciliation.objects.filter(outlet__in=outlets_visible_to(user)).select_related("outlet")


def temp_reconciliation_get(user: Any, pk: int):  # type: ignore[no-untyped-def]
    rec = temp_reconciliations_visible_to(user).filter(pk=pk).first()
    if rec is None:
        raise PermissionDenied("该核对记录不在您的管辖范围内，或不存在")
    return rec


def temp_reconciliation_report(rec: Any) -> dict[str, Any]:
    """Counts and fee total summed from the temporary-card rows (never a stored figure)."""
    from shebao.cards.models import TempCard

    rows = rec.temp_cards.select_related("person").order_by("settled_at", "id")
    figures = rows.aggregate(
        recovered=Count("id", filter=Q(state=TempCard.State.RECOVERED)),
        charged=Count("id", filter=~Q(state=TempCard.State.RECOVERED)),
        fees=Sum("fee"),
    )
    return {
        "rows": rows,
        "recovered": figures["recovered"],
        "charged": figures["charged"],
        "fees": figures["fees"] or Decimal("0.00"),
    }


def temp_unreconciled_by_outlet(user: Any) -> list[dict[str, Any]]:
    """Per outlet: settled temporary cards and fees not yet in a reconciliation."""
    from shebao.cards.models import TempCard

    rows = (
        TempCard.objects.filter(outlet__in=outlets_visible_to(user), reconciliation__isnull=True)
        .exclude(state=TempCard.State.OUTSTANDING)
        .values("outlet_id", "outlet__name")
        .annotate(
            recovered=Count("id", filter=Q(state=TempCard.State.RECOVERED)),
            charged=Count("id", filter=~Q(state=TempCard.State.RECOVERED)),
            fees=Sum("fee"),
        )
        .order_by("outlet__name")
    )
    return [{**r, "fees": r["fees"] or Decimal("0.00")} for r in rows]


# ---------------------------------------------------------------- destruction


def waste_candidates(user: Any) -> QuerySet[Card]:
    """Recalled or cancelled cards lying in one of the user's locations, not yet handed to the province."""
    ids = card_ids_in_stock(locations_visible_to(user).filter(kind=CardLocation.Kind.OUTLET).values("pk"))
    centre_ids = card_ids_in_stock(
        locations_visible_to(user).filter(kind=CardLocation.Kind.CENTRE).values("pk")
    )
    return (
        cards_visible_to(user)
        .filter(Q(pk__in=ids) | Q(pk__in=centre_ids), state__in=["recalled", "cancelled"])
        .filter(destruction_item__isnull=True)
        .select_related("person", "bank", "recall")
        .order_by("recall__cause", "card_no")
    )


def destructions_visible_to(user: Any) -> QuerySet:
    from shebao.cards.models import CardDestruction

    qs = CardDestruction.objects.select_related("created_by", "destroyed_by", "region")
    if user.is_superuser:
        return qs
    if user.role in CENTRE_ROLES:
        return qs.filter(region_id__in=region_ids_under(user.region_id))
    return qs.none()


def destruction_get(user: Any, pk: int):  # type: ignore[no-untyped-def]
    obj = destructions_visible_to(user).filter(pk=pk).first()
    if obj is None:
        raise PermissionDenied("该废卡销毁记录不在您的管辖范围内，或不存在")
    return obj


def disposals_visible_to(user: Any) -> QuerySet:
    from shebao.cards.models import DocumentDisposal

    qs = DocumentDisposal.objects.select_related("outlet", "region")
    if user.is_superuser:
        return qs
    if user.role in CENTRE_ROLES:
        return qs.filter(region_id__in=region_ids_under(user.region_id))
    return qs.filter(outlet__in=outlets_visible_to(user))


def handovers_of_unit(user: Any) -> list[UnitHandover]:
    """A unit clerk's collective pickups with their cards (the unit's own, nothing else)."""
    if user.role != Role.UNIT_CLERK or not user.employer_id:
        return []
    handovers = list(
        UnitHandover.objects.filter(employer_id=user.employer_id)
        .select_related("outlet")
        .order_by("-created_at")[:20]
    )
    issues = CardIssue.objects.filter(handover__in=handovers).select_related("card", "card__person")
    by_handover: dict[int, list[CardIssue]] = {}
    for issue in issues.order_by("card__person__name"):
        by_handover.setdefault(issue.handover_id, []).append(issue)  # type: ignore[arg-type]
    for h in handovers:
        h.unit_issues = by_handover.get(h.pk, [])  # type: ignore[attr-defined]
    return handovers


def settled_handovers_to_activate(user: Any, outlet: Outlet) -> list[dict[str, Any]]:
    """Settled handovers at the outlet with handed-out cards of the user's bank still to enable (either
    function: 按发卡名单启用)."""
    if user.role != Role.BANK_CLERK:
        return []
    rows = (
        CardIssue.objects.filter(
            handover__outlet=outlet,
            handover__settled_at__isnull=False,
            card__state="issued",
            card__bank_id=user.bank_id,
        )
        .filter(Q(card__fin_activated_at__isnull=True) | Q(card__ss_activated_at__isnull=True))
        .values("handover_id", "handover__employer__name")
        .annotate(n=Count("id"))
        .order_by("handover_id")
    )
    return [dict(r) for r in rows]


def reported_activations(user: Any) -> QuerySet[Card]:
    """Cards whose financial activation the user's bank reported by file, newest first."""
    from shebao.cards.models import FinancialChannel

    return (
        cards_visible_to(user)
        .filter(
            bank_id=getattr(user, "bank_id", None) or 0, fin_activated_channel=FinancialChannel.BANK_REPORT
        )
        .select_related("person")
        .order_by("-fin_activated_at", "-pk")
    )
