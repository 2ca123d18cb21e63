"""The co-brand bank's report of financial activations (金融功能激活报送文件).

A bank that activated cards at its counters or mobile terminals reports them in one file (卡号, 社会保障号码,
姓名, 激活日期, 激活网点). The whole file is validated first and every problem is listed by row and column;
then every activation, its payment-account offer and its audit row are written in one transaction, or
nothing. Cards already activated count as unchanged, so the same file read twice changes nothing.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.db import transaction
from django.utils import timezone

from shebao.accounts.roles import Role
from shebao.audit.services import audit_record_many
from shebao.cards import actions
from shebao.cards.importers import MAX_PROBLEMS, Problem, _chunks, _parse_date, _raw_rows
from shebao.cards.models import Card, CardAccountOffer, CardState, FinancialChannel
from shebao.cards.selectors import cards_visible_to
from shebao.core.errors import DomainError, PermissionDenied, StateError, ValidationError
from shebao.core.values.bank import parse_card_no
from shebao.core.values.names import names_equal

COLUMNS: dict[str, str] = {
    "card_no": "卡号",
    "ssn": "社会保障号码",
    "name": "姓名",
    "activated_on": "激活日期",
    "place": "激活网点",
}
REQUIRED = ("card_no", "ssn", "activated_on")
_CHUNK = 900  # card numbers matched per query (SQLite's parameter limit)


class ActivationFileInvalid(ValidationError):
    """The file has problems; nothing was written."""

    def __init__(self, problems: list[Problem]):
        super().__init__(f"激活报送文件有{len(problems)}处错误，未写入任何数据，请修改后重新读入")
        self.problems = problems


@dataclass
class ActivationResult:
    rows: int = 0
    activated: int = 0
    unchanged: int = 0


@dataclass(frozen=True)
class _Change:
    card_id: int
    person_id: int
    account: str
    card_no: str
    on: dt.date
    place: str


def _parse_rows(path: Path, problems: list[Problem]) -> Any:
    raw = _raw_rows(path)
    header = next(raw, None)
    if header is None:
        problems.append(Problem(0, "文件", "文件是空的"))
        return
    index = {key: header.index(label) for key, label in COLUMNS.items() if label in header}
    for key in REQUIRED:
        if key not in index:
            problems.append(
                Problem(1, COLUMNS[key], "缺少该列（表头须为：卡号、社会保障号码、姓名、激活日期、激活网点）")
            )
    if problems:
        return
    for line, values in enumerate(raw, start=2):
        if any(values):
            yield line, {key: values[i] if i < len(values) else "" for key, i in index.items()}


def financial_activation_import(*, path: Path, actor: Any) -> ActivationResult:
    """Read a bank's activation report: validate every row, then activate everything or nothing."""
    if getattr(actor, "role", None) != Role.BANK_CLERK or not getattr(actor, "bank_id", None):
        raise PermissionDenied("金融功能激活只能由联名银行报送")
    bank_name = actor.bank.name
    today = timezone.localdate()
    problems: list[Problem] = []
    changes: list[_Change] = []
    result = ActivationResult()
    first_line: dict[str, int] = {}
    visible = cards_visible_to(actor)
    for chunk in _chunks(_parse_rows(path, problems), _CHUNK):
        parsed: list[tuple[int, dict[str, str], str]] = []
        for line, cells in chunk:
            result.rows += 1
            try:
                card_no = parse_card_no(cells["card_no"])
            except DomainError as exc:
                problems.append(Problem(line, COLUMNS["card_no"], exc.message))
                continue
            if card_no in first_line:
                problems.append(Problem(line, COLUMNS["card_no"], f"与第{first_line[card_no]}行重复"))
                continue
            first_line[card_no] = line
            parsed.append((line, cells, card_no))
        found = {
            c["card_no"]: c
            for c in visible.filter(card_no__in=[p[2] for p in parsed])
            .order_by("pk")
            .values(
                "pk",
                "card_no",
                "person_id",
                "person__ssn",
                "person__name",
                "bank_id",
                "state",
                "bank_account",
                "fin_activated_at",
            )
        }
        for line, cells, card_no in parsed:
            card = found.get(card_no)
            if card is None or card["bank_id"] != actor.bank_id:
                problems.append(Problem(line, COLUMNS["card_no"], f"卡号 {card_no} 不是{bank_name}的社保卡"))
                continue
            if cells["ssn"].strip().upper() != card["person__ssn"]:
                problems.append(Problem(line, COLUMNS["ssn"], "社会保障号码与该卡持卡人不符"))
                continue
            if cells.get("name") and not names_equal(cells["name"], card["person__name"]):
                problems.append(
                    Problem(line, COLUMNS["name"], f"姓名与该卡持卡人（{card['person__name']}）不符")
                )
                continue
            try:
                on = _parse_date(cells["activated_on"])
            except DomainError as exc:
                problems.append(Problem(line, COLUMNS["activated_on"], exc.message))
                continue
            if on > today:
                problems.append(Problem(line, COLUMNS["activated_on"], "激活日期不能晚于今天"))
                continue
            if card["fin_activated_at"] is not None:
                result.unchanged += 1
                continue
            if card["state"] != CardState.ISSUED:
                label = CardState(card["state"]).label
                problems.append(Problem(line, COLUMNS["card_no"], f"该卡状态为“{label}”，不能激活金融功能"))
                continue
            if not card["bank_account"]:
                problems.append(Problem(line, COLUMNS["card_no"], "该卡没有金融账号，不能激活金融功能"))
                continue
            place = (cells.get("place") or f"{bank_name}（银行报送）")[:100]
            changes.append(_Change(card["pk"], card["person_id"], card["bank_account"], card_no, on, place))
        if len(problems) >= MAX_PROBLEMS:
            break
    if not result.rows and not problems:
        problems.append(Problem(0, "文件", "文件中没有数据行"))
    if problems:
        raise ActivationFileInvalid(sorted(problems, key=lambda p: (p.row, p.column))[:MAX_PROBLEMS])
    _write(changes, actor)
    result.activated = len(changes)
    return result


def _write(changes: list[_Change], actor: Any) -> None:
    """Set-based: one UPDATE per activation day and place, the offers and audit rows in bulk."""
    groups: dict[tuple[dt.date, str], list[_Change]] = defaultdict(list)
    for c in changes:
        groups[(c.on, c.place)].append(c)
    user = actor if getattr(actor, "pk", None) else None
    with transaction.atomic():
        for (on, place), members in groups.items():
            at = timezone.make_aware(dt.datetime.combine(on, dt.time(12, 0)))
            for part in _chunks(members, _CHUNK):
                moved = Card.objects.filter(
                    pk__in=[c.card_id for c in part], state=CardState.ISSUED, fin_activated_at__isnull=True
                ).update(
                    fin_activated_at=at,
                    fin_activated_place=place,
                    fin_activated_channel=FinancialChannel.BANK_REPORT,
                    fin_activated_by=user,
                )
                if moved != len(part):
                    raise StateError(
                        "读入期间有社保卡被他人激活或变更状态，请重新读入（已激活的卡会自动跳过）"
                    )
                # Offered, not written: the account-switching app decides when the card account starts paying.
                CardAccountOffer.objects.bulk_create(
                    CardAccountOffer(
                        person_id=c.person_id,
                        card_id=c.card_id,
                        bank_id=actor.bank_id,
                        account_no=c.account,
                        offered_at=at,
                    )
                    for c in part
                )
                audit_record_many(
                    actor=actor,
                    action=actions.CARD_ACTIVATE_FINANCIAL,
                    object_type="cards.card",
                    rows=(
                        {
                            "object_id": c.card_id,
                            "object_repr": c.card_no,
                            "new": {
                                "channel": FinancialChannel.BANK_REPORT,
                                "place": place,
                                "at": at,
                                "account": c.account,
                            },
                        }
                        for c in part
                    ),
                    reason="银行报送金融功能激活",
                )
