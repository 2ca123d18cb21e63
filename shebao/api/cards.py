"""Card queries for the API: where is my card, is it active, what happened to it. Read through the cards
app's scoped selectors; ID and account numbers masked unless the role needs them or it is the holder's own."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from django.http import HttpRequest
from ninja import Router, Schema
from ninja.errors import HttpError
from ninja.pagination import LimitOffsetPagination, paginate

from shebao.cards.models import Card, CardState
from shebao.cards.selectors import card_get, card_ledger, card_location_now, card_search
from shebao.core.values.masking import mask_account, mask_ssn

router = Router(tags=["社保卡"])


class CardOut(Schema):
    id: int
    person_id: int
    person_name: str
    ssn: str
    generation: int
    state: str
    state_label: str
    card_no: str | None
    bank: str
    bank_account: str
    issue_date: date | None
    expiry_date: date | None
    social_activated: bool
    financial_activated: bool


class ActivationOut(Schema):
    at: datetime | None
    place: str
    channel: str


class MovementOut(Schema):
    at: datetime
    kind: str
    location: str
    note: str


class CardDetailOut(CardOut):
    location: str | None
    social_activation: ActivationOut | None
    financial_activation: ActivationOut | None
    replaces_card_no: str | None
    failure_reason: str
    movements: list[MovementOut]


def _require(request: HttpRequest, action: str) -> None:
    if not request.user.can(action):  # type: ignore[union-attr]
        raise HttpError(403, "您的角色无权进行此操作")


def _full(request: HttpRequest, card: Card) -> bool:
    user: Any = request.user
    return bool(user.sees_full_ids) or getattr(user, "person_id", None) == card.person_id


def card_out(request: HttpRequest, card: Card) -> dict[str, Any]:
    full = _full(request, card)
    return {
        "id": card.pk,
        "person_id": card.person_id,
        "person_name": card.person.name,
        "ssn": card.person.ssn if full else mask_ssn(card.person.ssn),
        "generation": card.generation,
        "state": card.state,
        "state_label": CardState(card.state).label,
        "card_no": card.card_no,
        "bank": card.bank.name,
        "bank_account": card.bank_account if full else mask_account(card.bank_account),
        "issue_date": card.issue_date,
        "expiry_date": card.expiry_date,
        "social_activated": card.ss_activated_at is not None,
        "financial_activated": card.fin_activated_at is not None,
    }


class _LazyCards:
    """Serialise only the page the paginator slices."""

    def __init__(self, request: HttpRequest, qs: Any):
        self.request, self.qs = request, qs

    def __len__(self) -> int:
        return int(self.qs.count())

    def __getitem__(self, item: slice) -> list[dict[str, Any]]:
        return [card_out(self.request, c) for c in self.qs[item]]


@router.get("/cards", response=list[CardOut], summary="社保卡查询（按管辖范围；卡号、社会保障号码或姓名）")
@paginate(LimitOffsetPagination)
def cards_list(request: HttpRequest, q: str = "", state: str = "") -> Any:
    _require(request, "card.view")
    if state and state not in CardState.values:
        raise HttpError(400, f"未知的卡状态：{state}")
    return _LazyCards(request, card_search(request.user, q, state).order_by("-id"))


def _activation(at: Any, place: str, channel_label: str) -> dict[str, Any] | None:
    if at is None:
        return None
    return {"at": at, "place": place, "channel": channel_label}


@router.get(
    "/cards/{card_id}", response=CardDetailOut, summary="社保卡详情：状态、启用情况、所在网点、流转记录"
)
def card_detail(request: HttpRequest, card_id: int) -> Any:
    _require(request, "card.view")
    card = card_get(request.user, card_id)
    out = card_out(request, card)
    location = card_location_now(card.pk)
    out.update(
        location=str(location) if location else None,
        social_activation=_activation(
            card.ss_activated_at, card.ss_activated_place, card.get_ss_activated_channel_display()
        ),
        financial_activation=_activation(
            card.fin_activated_at, card.fin_activated_place, card.get_fin_activated_channel_display()
        ),
        replaces_card_no=card.replaces.card_no if card.replaces_id else None,  # type: ignore[union-attr]
        failure_reason=card.failure_reason,
        movements=[
            {
                "at": m.at,
                "kind": m.get_kind_display(),
                "location": str(m.location),
                "note": m.note,
            }
            for m in card_ledger(card)
        ],
    )
    return out
