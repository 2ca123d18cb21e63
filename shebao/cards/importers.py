"""The card factory's / bank's production return file (制卡回盘).

Columns are found by their Chinese header. The whole file is validated first and every problem is
reported by row and column; then everything is written in one transaction, or nothing. A file whose
checksum was read before changes nothing, and a row already applied by another file counts as unchanged.

The file is streamed in chunks: the validation pass parses, matches (three queries a chunk) and
spools the changes to a temporary file; the write pass loads each chunk of changes into a
temporary table and applies it with set-based statements (UPDATE … FROM, INSERT … SELECT for the
ledger and the audit rows). Memory stays flat as files grow: besides one chunk, only 12 bytes a row
are kept for the duplicate check.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import functools
import hashlib
import re
import tempfile
from array import array
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from shebao.audit.models import AuditLog
from shebao.audit.services import audit_record
from shebao.cards import actions
from shebao.cards.conf import default_expiry
from shebao.cards.models import (
    INFLOW_KINDS,
    Card,
    CardApplication,
    CardLocation,
    CardMovement,
    CardState,
    FailureStage,
    ProductionReturnFile,
)
from shebao.core.errors import DomainError, StateError, ValidationError
from shebao.core.values.bank import (
    BANK_ACCOUNT_MAX_LENGTH,
    BANK_ACCOUNT_MIN_LENGTH,
    CARD_NO_LENGTH,
    CARD_UID_LENGTH,
    CARD_UID_MIDDLE,
    parse_bank_account,
    parse_card_no,
    parse_card_uid,
)
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
_CHUNK = 900  # rows matched per query (SQLite's limit on query parameters)
_WRITE_CHUNK = 10_000  # rows written per set-based statement (no parameter lists: the stage is joined)


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


class CardRef(NamedTuple):
    """The columns of a card the matching needs (a tuple: 200,000 model instances would dominate)."""

    pk: int
    person_id: int
    bank_id: int
    bank_name: str
    state: str
    card_no: str | None
    card_uid: str
    bank_account: str
    failure_reason: str
    application_id: int | None


_CARD_REF_FIELDS = (
    "pk",
    "person_id",
    "bank_id",
    "bank__name",
    "state",
    "card_no",
    "card_uid",
    "bank_account",
    "failure_reason",
    "application_id",
)


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
    card: CardRef | None = None
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


def _raw_rows(path: Path) -> Iterator[list[str]]:
    """The file's rows as lists of stripped cell texts."""
    if path.suffix.lower() in (".xlsx", ".xls"):
        from python_calamine import CalamineWorkbook

        for cells in CalamineWorkbook.from_path(str(path)).get_sheet_by_index(0).iter_rows():
            yield [_cell_text(v) for v in cells]
        return
    with path.open(encoding=_csv_encoding(path), newline="") as fh:
        for values in csv.reader(fh):
            yield [v.strip() for v in values]


def file_checksum(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


@functools.lru_cache(maxsize=4096)
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
    names = header
    index: dict[str, int] = {}
    for key, label in COLUMNS.items():
        if label in names:
            index[key] = names.index(label)
        elif key in REQUIRED_HEADERS:
            problems.append(Problem(1, label, "缺少该列（表头须与制卡回盘格式一致）"))
    if problems:
        return

    # A file holds a handful of issue dates: compute each default expiry once.
    expiry_of: dict[dt.date, dt.date] = {}
    today = dt.date.today()
    positions = [(key, index.get(key, -1)) for key in COLUMNS]

    for line, values in enumerate(raw, start=2):
        texts = values
        if not any(texts):
            continue
        width = len(texts)
        cells = {key: texts[i] if 0 <= i < width else "" for key, i in positions}
        row = ReturnRow(line=line)

        def check(key: str, fn: Any, *, _line: int = line, _cells: dict[str, str] = cells) -> Any:
            try:
                return fn(_cells[key])
            except DomainError as exc:
                problems.append(Problem(_line, COLUMNS[key], exc.message))
                return None

        row.ssn = getattr(check("ssn", lambda text: parse_ssn(text, today=today)), "value", "")
        row.name = cells["name"]
        if not row.name:
            problems.append(Problem(line, COLUMNS["name"], "姓名不能为空"))
        stage = cells["failure_stage"]
        row.failure_reason = cells["failure_reason"][:200]
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
        row.bank_code = cells["bank_code"]
        if not row.bank_code:
            problems.append(Problem(line, COLUMNS["bank_code"], "银行代码不能为空"))
        if not stage:
            row.card_no = _clean_card_no(cells["card_no"]) or check("card_no", parse_card_no) or ""
            row.card_uid = _clean_card_uid(cells["card_uid"]) or check("card_uid", parse_card_uid) or ""
            row.bank_account = _clean_account(cells["bank_account"]) or getattr(
                check("bank_account", parse_bank_account), "value", ""
            )
            row.issue_date = check("issue_date", _parse_date)
            if cells["expiry_date"]:
                row.expiry_date = check("expiry_date", _parse_date)
            elif row.issue_date:
                row.expiry_date = expiry_of.get(row.issue_date)
                if row.expiry_date is None:
                    row.expiry_date = expiry_of.setdefault(row.issue_date, default_expiry(row.issue_date))
            if row.issue_date and row.expiry_date and row.expiry_date <= row.issue_date:
                problems.append(Problem(line, COLUMNS["expiry_date"], "有效期须晚于发卡日期"))
            row.box_position = cells["box_position"][:40]
        yield row


# Already-clean cells (what a factory writes) are accepted as they are: for them the parsers' NFKC
# and whitespace squeeze changes nothing, and it was a third of the validation time. Anything else
# goes through the parser, which normalises it or says what is wrong.
_CARD_UID_CLEAN = re.compile(r"\d{6}" + CARD_UID_MIDDLE + r"[0-9A-F]{16}")


def _clean_card_no(text: str) -> str:
    return (
        text if len(text) == CARD_NO_LENGTH and text.isascii() and text.isalnum() and text.isupper() else ""
    )


def _clean_card_uid(text: str) -> str:
    return text if len(text) == CARD_UID_LENGTH and _CARD_UID_CLEAN.fullmatch(text) else ""


def _clean_account(text: str) -> str:
    ok = BANK_ACCOUNT_MIN_LENGTH <= len(text) <= BANK_ACCOUNT_MAX_LENGTH and text.isascii() and text.isdigit()
    return text if ok else ""


# ---------------------------------------------------------------- matching against the database


def _chunks(items: Iterable[Any], size: int = 0) -> Iterator[list[Any]]:
    size = size or _CHUNK
    chunk: list[Any] = []
    for item in items:
        chunk.append(item)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


class _Seen:
    """SSNs and card numbers met in the file, with their line numbers, for the duplicate check.

    12 bytes a row (the SSN's first 17 digits or the card number read in base 36, and the line), in
    256 buckets of arrays, so that the final scan holds one small dict at a time: memory stays flat
    where a dict of strings took ~200 bytes a row.
    """

    BUCKETS = 256

    def __init__(self) -> None:
        self.keys = {kind: [array("q") for _ in range(self.BUCKETS)] for kind in ("ssn", "card_no")}
        self.lines = {kind: [array("i") for _ in range(self.BUCKETS)] for kind in ("ssn", "card_no")}

    def add(self, row: ReturnRow) -> None:
        if row.ssn:
            self._add("ssn", int(row.ssn[:17]), row.line)
        if row.card_no:
            self._add("card_no", int(row.card_no, 36), row.line)

    def _add(self, kind: str, key: int, line: int) -> None:
        bucket = key & 0xFF
        self.keys[kind][bucket].append(key)
        self.lines[kind][bucket].append(line)

    def problems(self) -> Iterator[Problem]:
        for kind, template in (("ssn", "与第{}行重复"), ("card_no", "卡号与第{}行重复")):
            for keys, lines in zip(self.keys[kind], self.lines[kind], strict=True):
                first: dict[int, int] = {}
                for key, line in zip(keys, lines, strict=True):
                    seen = first.setdefault(key, line)
                    if seen != line:
                        yield Problem(line, COLUMNS[kind], template.format(seen))


def match_rows(rows: list[ReturnRow], problems: list[Problem], seen: _Seen, banks: dict[str, Bank]) -> None:
    """Find each row's card and decide produced / failed / unchanged, or add a problem.

    `seen` collects the SSNs and card numbers of the file; its duplicates are listed after the pass.
    """
    for row in rows:
        seen.add(row)

    ssns = sorted({r.ssn for r in rows if r.ssn})
    persons: dict[str, tuple[int, str]] = {}
    cards_of: dict[int, list[CardRef]] = {}
    for chunk in _chunks(ssns):
        # One join for the usual case (every person has a card); persons without one are looked up after.
        found = (
            Card.objects.filter(person__ssn__in=chunk)
            .order_by("pk")
            .values_list("person__ssn", "person__name", *_CARD_REF_FIELDS)
        )
        for ssn, name, *values in found.iterator():
            ref = CardRef(*values)
            persons[ssn] = (ref.person_id, name)
            cards_of.setdefault(ref.person_id, []).append(ref)
        cardless = [ssn for ssn in chunk if ssn not in persons]
        if cardless:
            for ssn, pk, name in Person.objects.filter(ssn__in=cardless).values_list("ssn", "pk", "name"):
                persons[ssn] = (pk, name)
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
        person_id, person_name = person
        # Most names are spelled exactly as registered; only the others need the normalising compare.
        if row.name and row.name != person_name and not names_equal(row.name, person_name):
            problems.append(Problem(row.line, COLUMNS["name"], f"与系统中的姓名“{person_name}”不一致"))
        bank = banks.get(row.bank_code)
        if row.bank_code and bank is None:
            problems.append(Problem(row.line, COLUMNS["bank_code"], f"银行代码 {row.bank_code} 不存在"))
        mine = cards_of.get(person_id, [])
        card = _pick(row, mine, bank)
        if card is None:
            problems.append(
                Problem(row.line, COLUMNS["ssn"], "该人员没有制卡中的社保卡（可能尚未送制卡或已处理）")
            )
            continue
        if not isinstance(card, CardRef):
            problems.append(Problem(row.line, *card))
            continue
        row.card = card
        if bank is not None and card.bank_id != bank.pk:
            problems.append(
                Problem(row.line, COLUMNS["bank_code"], f"与申领时选择的银行（{card.bank_name}）不一致")
            )
        if row.card_no:
            other = owner_of_no.get(row.card_no)
            if other is not None and other != card.pk:
                problems.append(
                    Problem(row.line, COLUMNS["card_no"], f"卡号 {row.card_no} 已被其他社保卡使用")
                )


def _pick(row: ReturnRow, mine: list[CardRef], bank: Bank | None) -> CardRef | tuple[str, str] | None:
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


class _Change(NamedTuple):
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
        problems.extend(seen.problems())
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
                with _Stage() as stage:
                    for chunk in _chunks(changes, _WRITE_CHUNK):
                        stage.write(
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


# The stage: one chunk of spooled changes at a time, in a temporary table without indexes. Every write
# of the chunk is then one set-based statement joining it (UPDATE … FROM, INSERT … SELECT), so no
# row goes through Python more than once.
_STAGE = "cards_return_stage"
_STAGE_COLUMNS = (
    "card_id",
    "application_id",
    "state",
    "card_no",
    "card_uid",
    "bank_account",
    "issue_date",
    "expiry_date",
    "box_position",
    "failure_stage",
    "failure_reason",
)


class _Stage:
    def __enter__(self) -> _Stage:
        with connection.cursor() as cursor:
            cursor.execute(f"DROP TABLE IF EXISTS {_STAGE}")
            cursor.execute(
                f"CREATE TEMPORARY TABLE {_STAGE} (card_id integer PRIMARY KEY, application_id integer, "
                "state varchar(20), card_no varchar(9), card_uid varchar(32), bank_account varchar(19), "
                "issue_date date, expiry_date date, box_position varchar(40), failure_stage varchar(20), "
                "failure_reason varchar(200))"
            )
        return self

    def __exit__(self, exc_type: object, *exc: object) -> None:
        # On an error the transaction rolls back, and the table's creation with it (PostgreSQL refuses
        # any statement in an aborted transaction, so do not try).
        if exc_type is None:
            with connection.cursor() as cursor:
                cursor.execute(f"DROP TABLE IF EXISTS {_STAGE}")

    def write(
        self,
        changes: list[_Change],
        *,
        vault: CardLocation | None,
        actor: Any,
        custodian: str,
        at: dt.datetime,
        source: str,
    ) -> None:
        from shebao.cards.services import check_transition

        check_transition(CardState.IN_PRODUCTION, CardState.PRODUCED)
        check_transition(CardState.IN_PRODUCTION, CardState.PRODUCTION_FAILED)
        ops = connection.ops
        q = ops.quote_name
        stamp = ops.adapt_datetimefield_value(at)
        cards, apps = q(Card._meta.db_table), q(CardApplication._meta.db_table)
        moves, audit = q(CardMovement._meta.db_table), q(AuditLog._meta.db_table)
        user_id = actor.pk if getattr(actor, "pk", None) else None
        label = getattr(actor, "username", str(actor)) if actor is not None else "系统"
        pg = connection.vendor == "postgresql"
        produced = [c for c in changes if c.state == CardState.PRODUCED]
        with connection.cursor() as cursor:
            # TRUNCATE on PostgreSQL: DELETE would leave every earlier chunk behind as dead rows to scan.
            cursor.execute(f"{'TRUNCATE' if pg else 'DELETE FROM'} {_STAGE}")
            staged = (
                (
                    c.card_id,
                    c.application_id,
                    c.state,
                    c.card_no or None,
                    c.card_uid,
                    c.bank_account,
                    ops.adapt_datefield_value(c.issue_date),
                    ops.adapt_datefield_value(c.expiry_date),
                    c.box_position,
                    c.failure_stage,
                    c.failure_reason,
                )
                for c in changes
            )
            if pg:
                # COPY: on PostgreSQL an executemany of the stage cost as much as the whole bare insert.
                with cursor.cursor.copy(f"COPY {_STAGE} ({', '.join(_STAGE_COLUMNS)}) FROM STDIN") as copy:
                    for values in staged:
                        copy.write_row(values)
            else:
                cursor.executemany(
                    f"INSERT INTO {_STAGE} ({', '.join(_STAGE_COLUMNS)}) "
                    f"VALUES ({', '.join(['%s'] * len(_STAGE_COLUMNS))})",
                    list(staged),
                )
            if pg:
                cursor.execute(f"ANALYZE {_STAGE}")  # a temporary table has no statistics otherwise
            if produced:
                # A card is in one place at most: none of these may already sit in a vault.
                cursor.execute(
                    f"SELECT m.card_id FROM {moves} m WHERE m.card_id IN "
                    f"(SELECT card_id FROM {_STAGE} WHERE state = %s) "
                    "GROUP BY m.card_id, m.location_id "
                    "HAVING SUM(CASE WHEN m.kind IN (%s, %s, %s) THEN 1 ELSE -1 END) > 0 LIMIT 1",
                    [CardState.PRODUCED, *INFLOW_KINDS],
                )
                if cursor.fetchone() is not None:
                    raise StateError("有社保卡已在库存中，不能重复入库，请核对后再读入")
            sets = ", ".join(f"{q(col)} = s.{col}" for col in _STAGE_COLUMNS[2:])
            # Compare-and-swap: the cards were in production when validated; the UPDATE locks them and
            # changes only those still in production. Any other count means someone moved a card since.
            cursor.execute(
                f"UPDATE {cards} SET {sets}, {q('updated_at')} = %s FROM {_STAGE} s WHERE {cards}.id = s.card_id "
                # the IN makes SQLite look the cards up by id instead of scanning the whole table
                f"AND {cards}.id IN (SELECT card_id FROM {_STAGE}) AND {cards}.state = %s",
                [stamp, CardState.IN_PRODUCTION],
            )
            if cursor.rowcount != len(changes):
                raise StateError("读入期间有社保卡状态被他人修改，请重新读入该文件")
            cursor.execute(
                f"UPDATE {apps} SET state = %s WHERE id IN "
                f"(SELECT application_id FROM {_STAGE} WHERE state = %s AND application_id IS NOT NULL)",
                [CardApplication.State.COMPLETED, CardState.PRODUCED],
            )
            cursor.execute(
                f"UPDATE {apps} SET state = %s, failure_stage = s.failure_stage, failure_reason = s.failure_reason "
                f"FROM {_STAGE} s WHERE {apps}.id = s.application_id AND s.state = %s "
                f"AND {apps}.id IN (SELECT application_id FROM {_STAGE} WHERE state = %s)",
                [CardApplication.State.RETURNED, CardState.PRODUCTION_FAILED, CardState.PRODUCTION_FAILED],
            )
            if produced:
                assert vault is not None
                cursor.execute(
                    f"INSERT INTO {moves} (card_id, location_id, kind, custodian, counterparty, batch_ref, "
                    "shipment_id, at, actor_id, note) "
                    f"SELECT card_id, %s, %s, %s, %s, box_position, NULL, %s, %s, '' FROM {_STAGE} "
                    "WHERE state = %s ORDER BY card_id",
                    [
                        vault.pk,
                        CardMovement.Kind.RECEIVED,
                        custodian[:50],
                        f"卡厂回盘 {source}"[:100],
                        stamp,
                        user_id,
                        CardState.PRODUCED,
                    ],
                )
            # One audit row per card, as audit_record_many writes them (the same columns and values).
            build = "jsonb_build_object" if pg else "json_object"
            cursor.execute(
                f"INSERT INTO {audit} (at, actor_id, actor_label, action, object_type, object_id, object_repr, "
                "old, new, reason) "
                f"SELECT %s, %s, %s, %s, %s, CAST(card_id AS varchar(20)), COALESCE(card_no, ''), "
                f"{build}('state', CAST(%s AS varchar(20))), "
                f"{build}('state', state, 'card_no', COALESCE(card_no, ''), 'failure_reason', failure_reason), "
                f"%s FROM {_STAGE} ORDER BY card_id",
                [
                    stamp,
                    user_id,
                    label,
                    actions.CARD_PRODUCTION_RETURN,
                    "cards.card",
                    CardState.IN_PRODUCTION,
                    source,
                ],
            )
