"""The card factory's / bank's production return file (制卡回盘).

Columns are found by their Chinese header. The whole file is validated first and every problem is
reported by row and column; then everything is written in one transaction, or nothing. A file whose
checksum was read before changes nothing, and a row already applied by another file counts as unchanged.

The file is streamed twice in chunks (validate, then write), so memory stays flat as files grow:
only the SSNs and card numbers seen so far are kept, to report duplicates.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import hashlib
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from shebao.audit.services import audit_record, audit_record_many
from shebao.cards import actions
from shebao.cards.conf import default_expiry
from shebao.cards.models import (
    Card,
    CardApplication,
    CardLocation,
    CardMovement,
    CardState,
    FailureStage,
    ProductionReturnFile,
)
from shebao.core.errors import DomainError, StateError, ValidationError
from shebao.core.values.bank import parse_bank_account, parse_card_no, parse_card_uid
from shebao.core.values.names import names_equal
from shebao.core.values.ssn import parse_ssn
from shebao.orgs.models import Bank
from shebao.people.models import Person

COLUMNS: dict[str, str] = {
    "card_no": "卡号",
    "ssn": "社会保障号码",
    "name": "姓名",
    "issue_date": "发卡日期",
    "expiry_date": "有效期至",
    "card_uid": "卡识别码",
    "bank_code": "银行代码",
    "bank_account": "银行账号",
    "box_position": "装箱位置",
    "failure_stage": "失败环节",
    "failure_reason": "失败原因",
}
REQUIRED_HEADERS = ("ssn", "name", "card_no", "issue_date", "card_uid", "bank_code", "bank_account")
_STAGES = {
    "银行": FailureStage.BANK,
    "银行开户": FailureStage.BANK,
    "bank": FailureStage.BANK,
    "卡厂": FailureStage.FACTORY,
    "制卡厂": FailureStage.FACTORY,
    "卡厂制卡": FailureStage.FACTORY,
    "factory": FailureStage.FACTORY,
}
_CHUNK = 900


@dataclass(frozen=True)
class Problem:
    row: int
    column: str
    message: str

    def __str__(self) -> str:
        return (
            f"第{self.row}行【{self.column}】{self.message}"
            if self.row
            else f"【{self.column}】{self.message}"
        )


class ReturnFileInvalid(ValidationError):
    """The file has problems; nothing was written."""

    def __init__(self, problems: list[Problem]):
        super().__init__(f"回盘文件有{len(problems)}处错误，未写入任何数据，请修改后重新读入")
        self.problems = problems


@dataclass
class ReturnRow:
    line: int
    ssn: str = ""
    name: str = ""
    card_no: str = ""
    card_uid: str = ""
    bank_code: str = ""
    bank_account: str = ""
    issue_date: dt.date | None = None
    expiry_date: dt.date | None = None
    box_position: str = ""
    failure_stage: str = ""
    failure_reason: str = ""
    card: Card | None = None
    outcome: str = ""  # produced / failed / unchanged

    @property
    def failed(self) -> bool:
        return bool(self.failure_stage)


@dataclass
class ReturnResult:
    file: ProductionReturnFile
    already_read: bool = False
    warnings: list[Problem] = field(default_factory=list)


# ---------------------------------------------------------------- reading


def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value).strip()


def _csv_encoding(path: Path) -> str:
    """UTF-8 (with or without BOM), else GB18030: banks still send GBK."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    with path.open("rb") as fh:
        try:
            for block in iter(lambda: fh.read(1 << 20), b""):
                decoder.decode(block)
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            return "gb18030"
    return "utf-8-sig"


def _raw_rows(path: Path) -> Iterator[list[Any]]:
    if path.suffix.lower() in (".xlsx", ".xls"):
        from python_calamine import CalamineWorkbook

        yield from CalamineWorkbook.from_path(str(path)).get_sheet_by_index(0).iter_rows()
        return
    with path.open(encoding=_csv_encoding(path), newline="") as fh:
        yield from csv.reader(fh)


def file_checksum(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _parse_date(text: str) -> dt.date:
    for fmt in ("%Y-%m-%d", "%Y%m%d", "%Y/%m/%d", "%Y.%m.%d"):
        try:
            return dt.datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    raise ValidationError(f"日期“{text}”无法识别，请写成 2024-05-16 或 20240516")


def read_rows(path: Path, problems: list[Problem]) -> Iterator[ReturnRow]:
    """Parse the rows one by one; each cell problem is added to `problems` with its row and column."""
    raw = _raw_rows(path)
    header = next(raw, None)
    if header is None:
        problems.append(Problem(0, "文件", "文件是空的"))
        return
    names = [_cell_text(h) for h in header]
    index: dict[str, int] = {}
    for key, label in COLUMNS.items():
        if label in names:
            index[key] = names.index(label)
        elif key in REQUIRED_HEADERS:
            problems.append(Problem(1, label, "缺少该列（表头须与制卡回盘格式一致）"))
    if problems:
        return

    def cell(values: list[Any], key: str) -> str:
        i = index.get(key)
        return _cell_text(values[i]) if i is not None and i < len(values) else ""

    for line, values in enumerate(raw, start=2):
        if not any(_cell_text(v) for v in values):
            continue
        row = ReturnRow(line=line)

        def check(key: str, fn: Any, *, _row: ReturnRow = row, _values: list[Any] = values) -> Any:
            try:
                return fn(cell(_values, key))
            except DomainError as exc:
                problems.append(Problem(_row.line, COLUMNS[key], exc.message))
                return None

        row.ssn = getattr(check("ssn", parse_ssn), "value", "")
        row.name = cell(values, "name")
        if not row.name:
            problems.append(Problem(line, COLUMNS["name"], "姓名不能为空"))
        stage = cell(values, "failure_stage")
        row.failure_reason = cell(values, "failure_reason")[:200]
        if stage:
            row.failure_stage = _STAGES.get(stage.lower(), "")
            if not row.failure_stage:
                problems.append(
                    Problem(line, COLUMNS["failure_stage"], f"“{stage}”无法识别，应为“银行”或“卡厂”")
                )
            if not row.failure_reason:
                problems.append(Problem(line, COLUMNS["failure_reason"], "制卡失败的记录须写明失败原因"))
        elif row.failure_reason:
            problems.append(Problem(line, COLUMNS["failure_stage"], "写了失败原因，但没有写失败环节"))
        row.bank_code = cell(values, "bank_code")
        if not row.bank_code:
            problems.append(Problem(line, COLUMNS["bank_code"], "银行代码不能为空"))
        if not stage:
            row.card_no = check("card_no", parse_card_no) or ""
            row.card_uid = check("card_uid", parse_card_uid) or ""
            row.bank_account = getattr(check("bank_account", parse_bank_account), "value", "")
            row.issue_date = check("issue_date", _parse_date)
            expiry = cell(values, "expiry_date")
            if expiry:
                row.expiry_date = check("expiry_date", _parse_date)
            elif row.issue_date:
                row.expiry_date = default_expiry(row.issue_date)
            if row.issue_date and row.expiry_date and row.expiry_date <= row.issue_date:
                problems.append(Problem(line, COLUMNS["expiry_date"], "有效期须晚于发卡日期"))
            row.box_position = cell(values, "box_position")[:40]
        yield row


# ---------------------------------------------------------------- matching against the database


def _chunks(items: Iterable[Any]) -> Iterator[list[Any]]:
    chunk: list[Any] = []
    for item in items:
        chunk.append(item)
        if len(chunk) >= _CHUNK:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


@dataclass
class _Seen:
    """SSNs and card numbers met so far in the file (line numbers, for the duplicate message)."""

    ssn: dict[str, int] = field(default_factory=dict)
    card_no: dict[str, int] = field(default_factory=dict)


def match_rows(rows: list[ReturnRow], problems: list[Problem], seen: _Seen, banks: dict[str, Bank]) -> None:
    """Find each row's card and decide produced / failed / unchanged, or add a problem.

    `seen` carries the SSNs and card numbers of the earlier chunks of the file.
    """
    for row in rows:
        if row.ssn:
            if row.ssn in seen.ssn:
                problems.append(Problem(row.line, COLUMNS["ssn"], f"与第{seen.ssn[row.ssn]}行重复"))
            seen.ssn.setdefault(row.ssn, row.line)
        if row.card_no:
            if row.card_no in seen.card_no:
                problems.append(
                    Problem(row.line, COLUMNS["card_no"], f"卡号与第{seen.card_no[row.card_no]}行重复")
                )
            seen.card_no.setdefault(row.card_no, row.line)

    ssns = sorted({r.ssn for r in rows if r.ssn})
    persons: dict[str, Person] = {}
    cards_of: dict[int, list[Card]] = {}
    for chunk in _chunks(ssns):
        for p in Person.objects.filter(ssn__in=chunk):
            persons[p.ssn] = p
    person_ids = [p.pk for p in persons.values()]
    for chunk in _chunks(person_ids):
        for c in Card.objects.filter(person_id__in=chunk).select_related("bank").order_by("pk"):
            cards_of.setdefault(c.person_id, []).append(c)
    numbers = sorted({r.card_no for r in rows if r.card_no})
    owner_of_no: dict[str, int] = {}
    for chunk in _chunks(numbers):
        for no, pk in Card.objects.filter(card_no__in=chunk).values_list("card_no", "pk"):
            if no:
                owner_of_no[no] = pk

    for row in rows:
        person = persons.get(row.ssn) if row.ssn else None
        if row.ssn and person is None:
            problems.append(Problem(row.line, COLUMNS["ssn"], "系统中没有这个人员"))
            continue
        if person is None:
            continue
        if row.name and not names_equal(row.name, person.name):
            problems.append(Problem(row.line, COLUMNS["name"], f"与系统中的姓名“{person.name}”不一致"))
        bank = banks.get(row.bank_code)
        if row.bank_code and bank is None:
            problems.append(Problem(row.line, COLUMNS["bank_code"], f"银行代码 {row.bank_code} 不存在"))
        mine = cards_of.get(person.pk, [])
        card = _pick(row, mine, bank)
        if card is None:
            problems.append(
                Problem(row.line, COLUMNS["ssn"], "该人员没有制卡中的社保卡（可能尚未送制卡或已处理）")
            )
            continue
        if isinstance(card, tuple):
            problems.append(Problem(row.line, *card))
            continue
        row.card = card
        if bank is not None and card.bank_id != bank.pk:
            problems.append(
                Problem(row.line, COLUMNS["bank_code"], f"与申领时选择的银行（{card.bank.name}）不一致")
            )
        if row.card_no:
            other = owner_of_no.get(row.card_no)
            if other is not None and other != card.pk:
                problems.append(
                    Problem(row.line, COLUMNS["card_no"], f"卡号 {row.card_no} 已被其他社保卡使用")
                )


def _pick(row: ReturnRow, mine: list[Card], bank: Bank | None) -> Card | tuple[str, str] | None:
    """The row's card: one in production (narrowed by bank), or the card this row was already applied to."""
    if row.failed:
        done = [
            c
            for c in mine
            if c.state == CardState.PRODUCTION_FAILED and c.failure_reason == row.failure_reason
        ]
    else:
        done = [c for c in mine if c.card_no == row.card_no and c.state != CardState.IN_PRODUCTION]
    if done:
        card = done[-1]
        if row.failed or (card.card_uid == row.card_uid and card.bank_account == row.bank_account):
            row.outcome = "unchanged"
            return card
    waiting = [c for c in mine if c.state == CardState.IN_PRODUCTION]
    if bank is not None and len(waiting) > 1:
        waiting = [c for c in waiting if c.bank_id == bank.pk]
    if len(waiting) > 1:
        return COLUMNS["ssn"], "该人员有多张制卡中的社保卡，无法确定对应哪一张"
    if not waiting:
        if done:
            return COLUMNS["card_no"], f"卡号 {row.card_no} 已读入过，但卡识别码或银行账号与本行不一致"
        return None
    row.outcome = "failed" if row.failed else "produced"
    return waiting[0]


# ---------------------------------------------------------------- writing


MAX_PROBLEMS = 1000


@dataclass(frozen=True)
class _Change:
    """One row to write, spooled by the validation pass (so the write pass neither parses nor matches)."""

    card_id: int
    application_id: int | None
    state: str
    card_no: str
    card_uid: str
    bank_account: str
    issue_date: dt.date | None
    expiry_date: dt.date | None
    box_position: str
    failure_stage: str
    failure_reason: str

    def to_csv(self) -> list[str]:
        return [
            str(self.card_id),
            str(self.application_id or ""),
            self.state,
            self.card_no,
            self.card_uid,
            self.bank_account,
            self.issue_date.isoformat() if self.issue_date else "",
            self.expiry_date.isoformat() if self.expiry_date else "",
            self.box_position,
            self.failure_stage,
            self.failure_reason,
        ]

    @classmethod
    def from_csv(cls, v: list[str]) -> _Change:
        return cls(
            card_id=int(v[0]),
            application_id=int(v[1]) if v[1] else None,
            state=v[2],
            card_no=v[3],
            card_uid=v[4],
            bank_account=v[5],
            issue_date=dt.date.fromisoformat(v[6]) if v[6] else None,
            expiry_date=dt.date.fromisoformat(v[7]) if v[7] else None,
            box_position=v[8],
            failure_stage=v[9],
            failure_reason=v[10],
        )

    @classmethod
    def of(cls, r: ReturnRow) -> _Change:
        assert r.card is not None
        produced = r.outcome == "produced"
        return cls(
            card_id=r.card.pk,
            application_id=r.card.application_id,
            state=CardState.PRODUCED if produced else CardState.PRODUCTION_FAILED,
            card_no=r.card_no if produced else "",
            card_uid=r.card_uid if produced else "",
            bank_account=r.bank_account if produced else "",
            issue_date=r.issue_date if produced else None,
            expiry_date=r.expiry_date if produced else None,
            box_position=r.box_position if produced else "",
            failure_stage=r.failure_stage,
            failure_reason=r.failure_reason,
        )


def apply_return_file(*, path: Path, actor: Any, custodian: str) -> ReturnResult:
    from shebao.cards.services import actor_region, centre_location

    checksum = file_checksum(path)
    previous = ProductionReturnFile.objects.filter(checksum=checksum).first()
    if previous is not None:
        return ReturnResult(file=previous, already_read=True)

    with tempfile.TemporaryFile("w+", encoding="utf-8", newline="") as spool:
        # Pass 1: validate everything (cells, duplicates, database), spool the rows to write.
        banks = {b.code: b for b in Bank.objects.all()}
        problems: list[Problem] = []
        seen = _Seen()
        counts = {"rows": 0, "produced": 0, "failed": 0}
        writer = csv.writer(spool)
        for chunk in _chunks(read_rows(path, problems)):
            match_rows(chunk, problems, seen, banks)
            counts["rows"] += len(chunk)
            for r in chunk:
                if r.outcome in ("produced", "failed") and r.card is not None:
                    counts[r.outcome] += 1
                    writer.writerow(_Change.of(r).to_csv())
            if len(problems) >= MAX_PROBLEMS:
                break
        if not counts["rows"] and not problems:
            problems.append(Problem(0, "文件", "文件中没有数据行"))
        if problems:
            raise ReturnFileInvalid(sorted(problems, key=lambda p: (p.row, p.column))[:MAX_PROBLEMS])
        del seen

        # Pass 2: one transaction; each chunk is locked, re-checked and written set-based.
        spool.seek(0)
        now = timezone.now()
        try:
            with transaction.atomic():
                record = ProductionReturnFile.objects.create(
                    file_name=path.name[:255],
                    checksum=checksum,
                    row_count=counts["rows"],
                    produced_count=counts["produced"],
                    failed_count=counts["failed"],
                    unchanged_count=counts["rows"] - counts["produced"] - counts["failed"],
                    created_by=actor,
                )
                vault = centre_location(actor_region(actor)) if counts["produced"] else None
                changes = (_Change.from_csv(v) for v in csv.reader(spool))
                for chunk in _chunks(changes):
                    _write_chunk(
                        chunk, vault=vault, actor=actor, custodian=custodian, at=now, source=path.name
                    )
                audit_record(
                    actor=actor,
                    action=actions.CARD_PRODUCTION_RETURN,
                    obj=record,
                    new={"rows": counts["rows"], "produced": counts["produced"], "failed": counts["failed"]},
                )
        except IntegrityError:
            # The same file read at the same moment by another clerk: theirs counts.
            existing = ProductionReturnFile.objects.filter(checksum=checksum).first()
            if existing is None:
                raise StateError("读入失败：卡号与现有社保卡冲突，请核对后重新读入") from None
            return ReturnResult(file=existing, already_read=True)
    return ReturnResult(file=record)


_CARD_FIELDS = [
    "state",
    "card_no",
    "card_uid",
    "bank_account",
    "issue_date",
    "expiry_date",
    "box_position",
    "failure_stage",
    "failure_reason",
    "updated_at",
]


def _update_many(model: Any, fields: list[str], rows: Iterable[tuple[Any, ...]]) -> None:
    """One executemany of `UPDATE … WHERE id = %s` (each row: the field values, then the pk).

    Django's bulk_update builds a CASE per field over the whole batch, which is quadratic here.
    """
    assignments = ", ".join(f"{connection.ops.quote_name(f)} = %s" for f in fields)
    sql = f"UPDATE {connection.ops.quote_name(model._meta.db_table)} SET {assignments} WHERE id = %s"
    with connection.cursor() as cursor:
        cursor.executemany(sql, list(rows))


def _write_chunk(
    changes: list[_Change],
    *,
    vault: CardLocation | None,
    actor: Any,
    custodian: str,
    at: dt.datetime,
    source: str,
) -> None:
    from shebao.cards.selectors import card_ids_in_stock
    from shebao.cards.services import check_transition

    ids = [c.card_id for c in changes]
    # The cards were in production when validated; lock them and make sure nobody moved them since.
    locked = Card.objects.select_for_update().filter(pk__in=ids, state=CardState.IN_PRODUCTION).count()
    if locked != len(ids):
        raise StateError("读入期间有社保卡状态被他人修改，请重新读入该文件")
    check_transition(CardState.IN_PRODUCTION, CardState.PRODUCED)
    check_transition(CardState.IN_PRODUCTION, CardState.PRODUCTION_FAILED)
    ops = connection.ops
    stamp = ops.adapt_datetimefield_value(at)
    _update_many(
        Card,
        _CARD_FIELDS,
        (
            (
                c.state,
                c.card_no or None,
                c.card_uid,
                c.bank_account,
                ops.adapt_datefield_value(c.issue_date),
                ops.adapt_datefield_value(c.expiry_date),
                c.box_position,
                c.failure_stage,
                c.failure_reason,
                stamp,
                c.card_id,
            )
            for c in changes
        ),
    )
    produced = [c for c in changes if c.state == CardState.PRODUCED]
    CardApplication.objects.filter(pk__in=[c.application_id for c in produced if c.application_id]).update(
        state=CardApplication.State.COMPLETED
    )
    _update_many(
        CardApplication,
        ["state", "failure_stage", "failure_reason"],
        (
            (CardApplication.State.RETURNED, c.failure_stage, c.failure_reason, c.application_id)
            for c in changes
            if c.state == CardState.PRODUCTION_FAILED and c.application_id
        ),
    )
    if produced:
        assert vault is not None
        # A card is in one place at most: none of these may already sit in a vault.
        if card_ids_in_stock(None).filter(card_id__in=[c.card_id for c in produced]).exists():
            raise StateError("有社保卡已在库存中，不能重复入库，请核对后再读入")
        user_id = actor.pk if getattr(actor, "pk", None) else None
        cols = [
            "card_id",
            "location_id",
            "kind",
            "custodian",
            "counterparty",
            "batch_ref",
            "shipment_id",
            "at",
        ]
        cols += ["actor_id", "note"]
        sql = (
            f"INSERT INTO {ops.quote_name(CardMovement._meta.db_table)} ({', '.join(cols)}) "
            f"VALUES ({', '.join(['%s'] * len(cols))})"
        )
        counterparty = f"卡厂回盘 {source}"[:100]
        with connection.cursor() as cursor:
            cursor.executemany(
                sql,
                [
                    (
                        c.card_id,
                        vault.pk,
                        CardMovement.Kind.RECEIVED,
                        custodian[:50],
                        counterparty,
                        c.box_position,
                        None,
                        stamp,
                        user_id,
                        "",
                    )
                    for c in produced
                ],
            )
    audit_record_many(
        actor=actor,
        action=actions.CARD_PRODUCTION_RETURN,
        object_type="cards.card",
        rows=(
            {
                "object_id": c.card_id,
                "object_repr": c.card_no,
                "old": {"state": CardState.IN_PRODUCTION},
                "new": {"state": c.state, "card_no": c.card_no, "failure_reason": c.failure_reason},
            }
            for c in changes
        ),
        reason=source,
    )
