"""Where the card-system side of a comparison comes from.

A `CardSource` yields raw rows (one dict per card record, keyed by the fields of `CARD_FIELDS`) and knows
its checksum and a description. `FileCardSource` reads an extract of the card system (xlsx/xls/ods/csv);
`OwnCardSource` reads shebao's own card records (`shebao.cards`), one current card per person, and also
offers typed `records()` so the import need not parse its own data back from text.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Protocol

from shebao.core.errors import ValidationError
from shebao.switching.tabular import Problem, read_rows

# field -> the header names seen in card-system extracts (the first is the one we print)
CARD_FIELDS: dict[str, tuple[str, ...]] = {
    "ssn": ("社会保障号码", "公民身份号码", "身份证号码", "身份证号", "证件号码"),
    "name": ("姓名",),
    "card_no": ("社保卡号", "卡号", "社会保障卡卡号"),
    "bank_code": ("银行代码", "银行编码", "合作银行代码"),
    "bank_account": ("金融账号", "银行账号", "金融账户", "银行卡号"),
    "card_state": ("卡状态", "卡片状态", "应用状态"),
    "fin_activated": ("金融功能已激活", "金融激活", "是否激活金融功能", "金融功能激活状态"),
    "fin_activated_on": ("激活日期", "金融激活日期"),
}
REQUIRED_FIELDS = ("ssn", "name")


class CardSource(Protocol):
    description: str

    def checksum(self) -> str: ...

    def raw_rows(self) -> Iterator[tuple[int, dict[str, str]]]: ...


def header_label(field: str) -> str:
    return CARD_FIELDS[field][0]


class FileCardSource:
    """A card-system extract saved as a spreadsheet or CSV; the first row holds the headers."""

    def __init__(self, path: Path, *, display_name: str | None = None):
        self.path = Path(path)
        self.description = display_name or self.path.name

    def checksum(self) -> str:
        digest = hashlib.sha256()
        with self.path.open("rb") as fh:
            while chunk := fh.read(1 << 20):
                digest.update(chunk)
        return digest.hexdigest()

    def raw_rows(self) -> Iterator[tuple[int, dict[str, str]]]:
        rows = read_rows(self.path, suffix=Path(self.description).suffix or None)
        header = next(rows, None)
        if header is None:
            raise ValidationError("文件是空的，第一行应为表头（社会保障号码、姓名、社保卡号……）")
        positions: dict[str, int] = {}
        for index, title in enumerate(header):
            clean = title.replace(" ", "").replace("\u3000", "")
            for field, names in CARD_FIELDS.items():
                if clean in names and field not in positions:
                    positions[field] = index
        missing = [header_label(f) for f in REQUIRED_FIELDS if f not in positions]
        if missing:
            raise ValidationError(f"表头缺少列：{'、'.join(missing)}（第一行应为表头）")
        for row_no, row in enumerate(rows, start=2):
            if not any(row):
                continue
            yield row_no, {f: (row[i] if i < len(row) else "") for f, i in positions.items()}


# shebao.cards states that are no longer a person's card: never compared.
_GONE_STATES = ("replaced", "cancelled", "recalled", "destroyed")
# made but not yet handed over and enabled (AAZ502 0 封存 until the social-insurance function is enabled)
_NOT_ISSUED_STATES = ("produced", "shipped", "in_stock")
_NOT_MADE_STATES = ("applied", "in_production", "production_failed")
OWN_CARDS_DESCRIPTION = "本系统社保卡记录"
_STATE_LABELS = {
    "normal": "正常",
    "sealed": "封存",
    "lost_formal": "正式挂失",
    "lost_temporary": "临时挂失",
}


def own_card_state(state: str, ss_activated: bool) -> str:
    """The AAZ502-style card state (switching.models.CardState value) of a shebao.cards card state."""
    if state == "temporarily_lost":
        return "lost_temporary"
    if state == "formally_lost":
        return "lost_formal"
    if state in _NOT_ISSUED_STATES or (state == "issued" and not ss_activated):
        return "sealed"
    return "normal"  # issued and enabled, or not made yet (no card number: 尚未制卡)


class OwnCardSource:
    """shebao's own card records: per person of the region, their current card.

    Current means not replaced, cancelled, recalled or destroyed. Of several current cards (one per generation)
    the one to compare is a made card (with a number) before one still in production, then the newest
    generation, then the newest record. The bank account and the financial activation are the card's; a card
    issued without its social-insurance function enabled, or made but not yet issued, counts as 封存.
    The checksum is taken over the rows themselves (activations are written with UPDATE, which leaves
    `updated_at` alone), so an unchanged set of cards is one extract however often it is compared.
    """

    CHUNK = 5000

    def __init__(self, region: Any = None):
        self.region = region
        self.description = OWN_CARDS_DESCRIPTION

    def _current_cards(self) -> Iterator[tuple[Any, ...]]:
        from django.db.models import Case, IntegerField, Value, When

        from shebao.cards.models import Card
        from shebao.orgs.selectors import region_ids_under

        qs = Card.objects.exclude(state__in=_GONE_STATES)
        if self.region is not None:
            qs = qs.filter(person__region_id__in=region_ids_under(getattr(self.region, "pk", self.region)))
        qs = qs.annotate(
            _unmade=Case(
                When(card_no__isnull=True, then=Value(1)), default=Value(0), output_field=IntegerField()
            )
        ).order_by("person_id", "_unmade", "-generation", "-id")
        rows = qs.values_list(
            "person_id",
            "id",
            "person__ssn",
            "person__name",
            "card_no",
            "bank__code",
            "bank_account",
            "state",
            "ss_activated_at",
            "fin_activated_at",
        )
        last_person = None
        for row in rows.iterator(chunk_size=self.CHUNK):
            if row[0] == last_person:
                continue
            last_person = row[0]
            yield row

    def records(self) -> Iterator[tuple[int, dict[str, Any]]]:
        """(row_no, typed fields of a CardSystemRecord); row_no is the card's id."""
        from django.utils import timezone

        for (
            _pid,
            card_id,
            ssn,
            name,
            card_no,
            bank_code,
            account,
            state,
            ss_at,
            fin_at,
        ) in self._current_cards():
            made = state not in _NOT_MADE_STATES and bool(card_no)
            fin = fin_at is not None and made
            yield (
                card_id,
                {
                    "ssn": ssn,
                    "name": name[:50],
                    "card_no": (card_no or "") if made else "",
                    "bank_code": (bank_code or "")[:16],
                    "bank_account": (account or "") if made else "",
                    "card_state": own_card_state(state, ss_at is not None),
                    "fin_activated": fin,
                    "fin_activated_on": timezone.localdate(fin_at) if fin else None,
                },
            )

    def checksum(self) -> str:
        digest = hashlib.sha256(b"shebao.cards/v1\n")
        for row_no, fields in self.records():
            digest.update(f"{row_no}|{'|'.join(str(v) for v in fields.values())}\n".encode())
        return digest.hexdigest()

    def raw_rows(self) -> Iterator[tuple[int, dict[str, str]]]:
        for row_no, fields in self.records():
            yield (
                row_no,
                {
                    **{k: str(v) for k, v in fields.items() if isinstance(v, str)},
                    "card_state": _STATE_LABELS[fields["card_state"]],
                    "fin_activated": "是" if fields["fin_activated"] else "否",
                    "fin_activated_on": fields["fin_activated_on"].isoformat()
                    if fields["fin_activated_on"]
                    else "",
                },
            )


def problem(row_no: int, field: str, message: str) -> Problem:
    return Problem(row_no, header_label(field), message)
