"""The card factory's / bank's production return file (制卡回盘).

Columns are found by their Chinese header. The whole file is validated first and every problem is
reported by row and column; then everything is written in one transaction, or nothing. A file whose
checksum was read before changes nothing, and a row already applied by another file counts as unchanged.

The file is streamed in chunks into a temporary table (the stage); the validation pass then finds
duplicates and matches the usual rows with set-based statements, and only the other rows (failures,
rows read before, mismatches) a chunk at a time in Python; it writes the changes to a second
temporary table. The write pass applies them with set-based statements (UPDATE … FROM, INSERT …
SELECT for the ledger and the audit rows). Memory stays flat as files grow: Python holds one chunk.
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import datetime as dt
import functools
import hashlib
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

from django.db import DatabaseError, IntegrityError, connection, transaction
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
    CARD_UID_MIDDLE,
    parse_bank_account,
    parse_card_no,
    parse_card_uid,
)
from shebao.core.values.names import names_equal
from shebao.core.values.ssn import clean_ssn_checker, parse_ssn
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
_CHUNK = 900  # rows staged per statement; matched per query on the general path (SQLite's parameter limit)


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

    @classmethod
    def from_stage(cls, values: tuple[Any, ...]) -> ReturnRow:
        """The row back from the stage, for the general path of the matching."""
        line, ssn, name, card_no, card_uid, bank_code, bank_account, issue, expiry, box, stage, reason = (
            values
        )
        return cls(
            line=line,
            ssn=ssn,
            name=name,
            card_no=card_no,
            card_uid=card_uid,
            bank_code=bank_code,
            bank_account=bank_account,
            issue_date=_as_date(issue),
            expiry_date=_as_date(expiry),
            box_position=box,
            failure_stage=stage,
            failure_reason=reason,
        )

    def staged(self) -> tuple[Any, ...]:
        """The row as the stage holds it (`_ROW_COLUMNS`)."""
        return (
            self.line,
            self.ssn,
            self.name,
            self.card_no,
            self.card_uid,
            self.bank_code,
            self.bank_account,
            _iso(self.issue_date),
            _iso(self.expiry_date),
            self.box_position,
            self.failure_stage,
            self.failure_reason,
        )


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


def _raw_rows(path: Path, *, strip: bool = True) -> Iterator[list[str]]:
    """The file's rows as lists of cell texts (stripped unless asked not to: a spreadsheet's always are)."""
    if path.suffix.lower() in (".xlsx", ".xls"):
        from python_calamine import CalamineWorkbook

        for cells in CalamineWorkbook.from_path(str(path)).get_sheet_by_index(0).iter_rows():
            yield [_cell_text(v) for v in cells]
        return
    with path.open(encoding=_csv_encoding(path), newline="") as fh:
        if not strip:
            yield from csv.reader(fh)
            return
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


class _GeneralRow:
    """The general path for one row: every cell through its parser, each problem added by row and column."""

    def __init__(self, index: dict[str, int], problems: list[Problem], today: dt.date) -> None:
        self.positions = [(key, index.get(key, -1)) for key in COLUMNS]
        self.problems = problems
        self.today = today
        # A file holds a handful of issue dates: compute each default expiry once.
        self.expiry_of: dict[dt.date, dt.date] = {}

    def parse(self, line: int, values: list[str]) -> ReturnRow | None:
        """The row, or None for a blank one."""
        texts = [v.strip() for v in values]
        if not any(texts):
            return None
        problems = self.problems
        width = len(texts)
        cells = {key: texts[i] if 0 <= i < width else "" for key, i in self.positions}
        row = ReturnRow(line=line)

        def check(key: str, fn: Any) -> Any:
            try:
                return fn(cells[key])
            except DomainError as exc:
                problems.append(Problem(line, COLUMNS[key], exc.message))
                return None

        row.ssn = getattr(check("ssn", lambda text: parse_ssn(text, today=self.today)), "value", "")
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
            row.card_no = check("card_no", parse_card_no) or ""
            row.card_uid = check("card_uid", parse_card_uid) or ""
            row.bank_account = getattr(check("bank_account", parse_bank_account), "value", "")
            row.issue_date = check("issue_date", _parse_date)
            if cells["expiry_date"]:
                row.expiry_date = check("expiry_date", _parse_date)
            elif row.issue_date:
                row.expiry_date = self.expiry_of.get(row.issue_date)
                if row.expiry_date is None:
                    row.expiry_date = self.expiry_of.setdefault(
                        row.issue_date, default_expiry(row.issue_date)
                    )
            if row.issue_date and row.expiry_date and row.expiry_date <= row.issue_date:
                problems.append(Problem(line, COLUMNS["expiry_date"], "有效期须晚于发卡日期"))
            row.box_position = cells["box_position"][:40]
        return row


# The three number cells of a clean row in one regex call: exactly what parse_card_no, parse_card_uid
# and parse_bank_account return for them (no space, no lower case, nothing for NFKC to change).
_CLEAN_NUMBERS = re.compile(
    rf"[0-9A-Z]{{{CARD_NO_LENGTH}}}\|[0-9]{{6}}{CARD_UID_MIDDLE}[0-9A-F]{{16}}"
    rf"\|[0-9]{{{BANK_ACCOUNT_MIN_LENGTH},{BANK_ACCOUNT_MAX_LENGTH}}}"
)
_CACHE_LIMIT = 4096  # distinct date cells remembered (a file holds a handful)


def staged_rows(path: Path, problems: list[Problem]) -> Iterator[tuple[Any, ...]]:
    """The file's data rows as stage tuples (`_ROW_COLUMNS`); each cell problem is added to `problems`.

    A row whose cells are already clean (what a factory writes) is accepted after a few C-level checks
    that are strict enough to guarantee the parsers would return the cells unchanged: a produced
    card's row is about 2 µs instead of 20. Any other row (a failure, a space, a lower-case x, a
    date in another format, a bad cell) goes through `_GeneralRow`, so every message stays the
    parsers'.
    """
    raw = _raw_rows(path, strip=False)
    header = next(raw, None)
    if header is None:
        problems.append(Problem(0, "文件", "文件是空的"))
        return
    names = [h.strip() for h in header]
    index: dict[str, int] = {}
    for key, label in COLUMNS.items():
        if label in names:
            index[key] = names.index(label)
        elif key in REQUIRED_HEADERS:
            problems.append(Problem(1, label, "缺少该列（表头须与制卡回盘格式一致）"))
    if problems:
        return

    today = dt.date.today()
    general = _GeneralRow(index, problems, today)
    ssn_clean = clean_ssn_checker(today=today)
    numbers_clean = _CLEAN_NUMBERS.fullmatch
    ncols = len(names)
    # A missing optional column reads as the empty cell appended to the row.
    pad = any(key not in index for key in COLUMNS)
    i_ssn, i_name, i_no, i_uid, i_code, i_account, i_issue, i_expiry, i_box, i_stage, i_reason = (
        index.get(key, ncols)
        for key in (
            "ssn",
            "name",
            "card_no",
            "card_uid",
            "bank_code",
            "bank_account",
            "issue_date",
            "expiry_date",
            "box_position",
            "failure_stage",
            "failure_reason",
        )
    )
    iso_of: dict[str, str] = {}  # date cell -> ISO date, "" when _parse_date refuses it
    default_of: dict[str, str] = {}  # ISO issue date -> ISO default expiry

    def iso(text: str) -> str:
        value = ""
        if text == text.strip():
            with contextlib.suppress(ValidationError):
                value = _parse_date(text).isoformat()
        if len(iso_of) < _CACHE_LIMIT:
            iso_of[text] = value
        return value

    def default_expiry_of(issue: str) -> str:
        value = default_expiry(dt.date.fromisoformat(issue)).isoformat()
        if len(default_of) < _CACHE_LIMIT:
            default_of[issue] = value
        return value

    for line, texts in enumerate(raw, start=2):
        if len(texts) == ncols:
            if pad:
                texts.append("")
            ssn, card_no, card_uid, account = texts[i_ssn], texts[i_no], texts[i_uid], texts[i_account]
            if (
                not texts[i_stage]
                and not texts[i_reason]
                and ssn_clean(ssn)
                and numbers_clean(f"{card_no}|{card_uid}|{account}")
            ):
                name, bank_code = texts[i_name].strip(), texts[i_code].strip()
                issue_text, expiry_text = texts[i_issue], texts[i_expiry]
                issue = iso_of.get(issue_text)
                if issue is None:
                    issue = iso(issue_text)
                if name and bank_code and issue:
                    if expiry_text:
                        expiry = iso_of.get(expiry_text)
                        if expiry is None:
                            expiry = iso(expiry_text)
                    else:
                        expiry = default_of.get(issue) or default_expiry_of(issue)
                    if expiry > issue:  # ISO dates compare as text; "" (refused) never passes
                        box = texts[i_box].strip()[:40]
                        yield (
                            line,
                            ssn,
                            name,
                            card_no,
                            card_uid,
                            bank_code,
                            account,
                            issue,
                            expiry,
                            box,
                            "",
                            "",
                        )
                        continue
        row = general.parse(line, texts)
        if row is not None:
            yield row.staged()


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


def match_rows(rows: list[ReturnRow], problems: list[Problem], banks: dict[str, Bank]) -> None:
    """Find each row's card and decide produced / failed / unchanged, or add a problem.

    The general path of the matching, for the rows `_match_plain` left (failures, rows read before,
    mismatches): a few hundred rows at a time, with every case told apart.
    """
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


# ---------------------------------------------------------------- the stage


MAX_PROBLEMS = 1000

# Two temporary tables without foreign keys: the file's rows as read (one per data row, by line), and
# the changes to write (one per card, as the validation decided). Every step after the reading is a
# set-based statement joining them, so no row goes through Python twice.
_ROWS = "cards_return_rows"
_STAGE = "cards_return_stage"
_ROW_COLUMNS = (
    "line",
    "ssn",
    "name",
    "card_no",
    "card_uid",
    "bank_code",
    "bank_account",
    "issue_date",
    "expiry_date",
    "box_position",
    "failure_stage",
    "failure_reason",
)
_STAGE_COLUMNS = (
    "card_id",
    "line",
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


def _as_date(value: Any) -> dt.date | None:
    return dt.date.fromisoformat(value) if isinstance(value, str) else value


class _Stage:
    """The two temporary tables of one import (created on enter, dropped on exit)."""

    def __enter__(self) -> _Stage:
        self.pg = connection.vendor == "postgresql"
        # SQLite would turn a declared date back into a date object; the text is what it stores anyway.
        day = "date" if self.pg else "text"
        with connection.cursor() as cursor:
            cursor.execute(f"DROP TABLE IF EXISTS {_ROWS}")
            cursor.execute(f"DROP TABLE IF EXISTS {_STAGE}")
            cursor.execute(
                f"CREATE TEMPORARY TABLE {_ROWS} (line integer PRIMARY KEY, ssn varchar(18), name text, "
                "card_no text, card_uid text, bank_code text, bank_account text, "
                f"issue_date {day}, expiry_date {day}, box_position text, failure_stage text, failure_reason text)"
            )
            cursor.execute(
                f"CREATE TEMPORARY TABLE {_STAGE} (card_id integer PRIMARY KEY, line integer NOT NULL, "
                "application_id integer, state varchar(20), card_no varchar(9), card_uid varchar(32), "
                f"bank_account varchar(19), issue_date {day}, expiry_date {day}, box_position varchar(40), "
                "failure_stage varchar(20), failure_reason varchar(200))"
            )
        return self

    def __exit__(self, *exc: object) -> None:
        try:
            with connection.cursor() as cursor:
                cursor.execute(f"DROP TABLE IF EXISTS {_ROWS}")
                cursor.execute(f"DROP TABLE IF EXISTS {_STAGE}")
        except DatabaseError:
            # PostgreSQL refuses every statement in an aborted transaction: the error on its way out
            # matters more, and the tables go with the rollback or the next import's DROP.
            if exc[0] is None:
                raise

    def load_rows(self, rows: list[tuple[Any, ...]]) -> None:
        """Append a chunk of staged rows (COPY on PostgreSQL; the driver's own executemany on SQLite)."""
        if self.pg:
            columns = ", ".join(_ROW_COLUMNS)
            with (
                connection.cursor() as cursor,
                cursor.cursor.copy(f"COPY {_ROWS} ({columns}) FROM STDIN") as copy,
            ):
                for values in rows:
                    copy.write_row(values)
            return
        connection.ensure_connection()
        db = connection.connection
        # Outside a transaction SQLite would commit every row on its own (half the loading time). A
        # deferred transaction that writes only the temporary table locks nothing of the main database.
        own = not db.in_transaction
        raw = db.cursor()
        try:
            if own:
                raw.execute("BEGIN DEFERRED")
            placeholders = ", ".join("?" * len(_ROW_COLUMNS))
            raw.executemany(f"INSERT INTO {_ROWS} ({', '.join(_ROW_COLUMNS)}) VALUES ({placeholders})", rows)
            if own:
                raw.execute("COMMIT")
        except BaseException:
            if own and db.in_transaction:
                raw.execute("ROLLBACK")
            raise
        finally:
            raw.close()

    def add_changes(self, rows: list[ReturnRow]) -> None:
        """Stage the changes the general path decided (a card matched twice is a duplicate, listed anyway)."""
        values = []
        for r in rows:
            assert r.card is not None
            produced = r.outcome == "produced"
            values.append(
                (
                    r.card.pk,
                    r.line,
                    r.card.application_id,
                    CardState.PRODUCED if produced else CardState.PRODUCTION_FAILED,
                    r.card_no if produced else None,
                    r.card_uid if produced else "",
                    r.bank_account if produced else "",
                    _iso(r.issue_date) if produced else None,
                    _iso(r.expiry_date) if produced else None,
                    r.box_position if produced else "",
                    r.failure_stage,
                    r.failure_reason,
                )
            )
        if values:
            with connection.cursor() as cursor:
                cursor.executemany(
                    f"INSERT INTO {_STAGE} ({', '.join(_STAGE_COLUMNS)}) "
                    f"VALUES ({', '.join(['%s'] * len(_STAGE_COLUMNS))}) ON CONFLICT DO NOTHING",
                    values,
                )

    def counts(self) -> dict[str, int]:
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT state, COUNT(*) FROM {_STAGE} GROUP BY state")
            return dict(cursor.fetchall())


def _iso(day: dt.date | None) -> str | None:
    return day.isoformat() if day else None


def match_staged(stage: _Stage, problems: list[Problem], banks: dict[str, Bank]) -> None:
    """Match every staged row against the persons and their cards; add a problem for each mismatch.

    Duplicates and the usual row (the person and their one card in production at that bank, the
    name exactly as registered, a card number no other card has) are found by set-based statements;
    the rows left go through `match_rows` a chunk at a time.
    """
    q = connection.ops.quote_name
    cards, persons, bank_table = q(Card._meta.db_table), q(Person._meta.db_table), q(Bank._meta.db_table)
    with connection.cursor() as cursor:
        if stage.pg:
            cursor.execute(f"ANALYZE {_ROWS}")  # a temporary table has no statistics otherwise
        for key, template in (("ssn", "与第{}行重复"), ("card_no", "卡号与第{}行重复")):
            # Beyond MAX_PROBLEMS lines the list is cut anyway (it is sorted by line).
            cursor.execute(
                f"SELECT r.line, f.first FROM {_ROWS} r JOIN (SELECT {key}, MIN(line) AS first FROM {_ROWS} "
                f"WHERE {key} <> '' GROUP BY {key} HAVING COUNT(*) > 1) f ON r.{key} = f.{key} "
                "WHERE r.line <> f.first ORDER BY r.line LIMIT %s",
                [MAX_PROBLEMS],
            )
            problems.extend(
                Problem(line, COLUMNS[key], template.format(first)) for line, first in cursor.fetchall()
            )
        # CROSS JOIN keeps SQLite reading the file's rows first and looking each up by index (left to
        # itself it may scan the rows once per card in production). A person with two cards in
        # production at that bank, or a card number already in use, is left to the general path.
        cursor.execute(
            f"INSERT INTO {_STAGE} ({', '.join(_STAGE_COLUMNS)}) "
            "SELECT c.id, r.line, c.application_id, %s, r.card_no, r.card_uid, r.bank_account, "
            "r.issue_date, r.expiry_date, r.box_position, '', '' "
            f"FROM {_ROWS} r CROSS JOIN {persons} p CROSS JOIN {bank_table} b CROSS JOIN {cards} c "
            "WHERE p.ssn = r.ssn AND p.name = r.name AND b.code = r.bank_code "
            "AND c.person_id = p.id AND c.bank_id = b.id AND c.state = %s "
            "AND r.failure_stage = '' AND r.card_no <> '' "
            f"AND NOT EXISTS (SELECT 1 FROM {cards} o WHERE o.person_id = p.id AND o.bank_id = b.id "
            "AND o.state = %s AND o.id <> c.id) "
            f"AND NOT EXISTS (SELECT 1 FROM {cards} o WHERE o.card_no = r.card_no AND o.id <> c.id) "
            # two rows of one card are duplicates of one SSN, listed above
            "ON CONFLICT DO NOTHING",
            [CardState.PRODUCED, CardState.IN_PRODUCTION, CardState.IN_PRODUCTION],
        )
        cursor.execute(f"CREATE INDEX {_STAGE}_line ON {_STAGE} (line)")
        after = 0
        while True:
            cursor.execute(
                f"SELECT {', '.join(_ROW_COLUMNS)} FROM {_ROWS} r WHERE r.line > %s "
                f"AND NOT EXISTS (SELECT 1 FROM {_STAGE} s WHERE s.line = r.line) ORDER BY r.line LIMIT %s",
                [after, _CHUNK],
            )
            rows = [ReturnRow.from_stage(values) for values in cursor.fetchall()]
            if not rows:
                break
            after = rows[-1].line
            match_rows(rows, problems, banks)
            if len(problems) >= MAX_PROBLEMS:
                break  # the file is refused; the list shows the first MAX_PROBLEMS anyway
            stage.add_changes([r for r in rows if r.outcome in ("produced", "failed") and r.card is not None])
        if stage.pg:
            cursor.execute(f"ANALYZE {_STAGE}")


def apply_return_file(*, path: Path, actor: Any, custodian: str) -> ReturnResult:
    from shebao.cards.services import actor_region, centre_location

    checksum = file_checksum(path)
    previous = ProductionReturnFile.objects.filter(checksum=checksum).first()
    if previous is not None:
        return ReturnResult(file=previous, already_read=True)

    with _Stage() as stage:
        # Pass 1: read and check every cell into the stage, then match it against the database.
        problems: list[Problem] = []
        row_count = 0
        for chunk in _chunks(staged_rows(path, problems), _CHUNK):
            stage.load_rows(chunk)
            row_count += len(chunk)
            if len(problems) >= MAX_PROBLEMS:
                break
        if row_count:
            match_staged(stage, problems, {b.code: b for b in Bank.objects.all()})
        elif not problems:
            problems.append(Problem(0, "文件", "文件中没有数据行"))
        if problems:
            raise ReturnFileInvalid(sorted(problems, key=lambda p: (p.row, p.column))[:MAX_PROBLEMS])
        counts = stage.counts()
        produced, failed = counts.get(CardState.PRODUCED, 0), counts.get(CardState.PRODUCTION_FAILED, 0)

        # Pass 2: one transaction of set-based statements, compare-and-swap on the cards' state.
        try:
            with transaction.atomic():
                record = ProductionReturnFile.objects.create(
                    file_name=path.name[:255],
                    checksum=checksum,
                    row_count=row_count,
                    produced_count=produced,
                    failed_count=failed,
                    unchanged_count=row_count - produced - failed,
                    created_by=actor,
                )
                if produced or failed:
                    _write(
                        produced=produced,
                        failed=failed,
                        vault=centre_location(actor_region(actor)) if produced else None,
                        actor=actor,
                        custodian=custodian,
                        at=timezone.now(),
                        source=path.name,
                    )
                audit_record(
                    actor=actor,
                    action=actions.CARD_PRODUCTION_RETURN,
                    obj=record,
                    new={"rows": row_count, "produced": produced, "failed": failed},
                )
        except IntegrityError:
            # The same file read at the same moment by another clerk: theirs counts.
            existing = ProductionReturnFile.objects.filter(checksum=checksum).first()
            if existing is None:
                raise StateError("读入失败：卡号与现有社保卡冲突，请核对后重新读入") from None
            return ReturnResult(file=existing, already_read=True)
    return ReturnResult(file=record)


def _write(
    *,
    produced: int,
    failed: int,
    vault: CardLocation | None,
    actor: Any,
    custodian: str,
    at: dt.datetime,
    source: str,
) -> None:
    """Apply the staged changes: cards, applications, ledger lines and one audit row per card."""
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
    with connection.cursor() as cursor:
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
        sets = ", ".join(f"{q(col)} = s.{col}" for col in _STAGE_COLUMNS[3:])
        # Compare-and-swap: the cards were in production when validated; the UPDATE locks them and
        # changes only those still in production. Any other count means someone moved a card since.
        cursor.execute(
            f"UPDATE {cards} SET {sets}, {q('updated_at')} = %s FROM {_STAGE} s WHERE {cards}.id = s.card_id "
            # the IN makes SQLite look the cards up by id instead of scanning the whole table
            f"AND {cards}.id IN (SELECT card_id FROM {_STAGE}) AND {cards}.state = %s",
            [stamp, CardState.IN_PRODUCTION],
        )
        if cursor.rowcount != produced + failed:
            raise StateError("读入期间有社保卡状态被他人修改，请重新读入该文件")
        if produced:
            cursor.execute(
                f"UPDATE {apps} SET state = %s WHERE id IN "
                f"(SELECT application_id FROM {_STAGE} WHERE state = %s AND application_id IS NOT NULL)",
                [CardApplication.State.COMPLETED, CardState.PRODUCED],
            )
        if failed:
            cursor.execute(
                f"UPDATE {apps} SET state = %s, failure_stage = s.failure_stage, "
                f"failure_reason = s.failure_reason FROM {_STAGE} s WHERE {apps}.id = s.application_id "
                f"AND s.state = %s AND {apps}.id IN (SELECT application_id FROM {_STAGE} WHERE state = %s)",
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
