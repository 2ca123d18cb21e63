"""Reading and checking a person file (xlsx, xls, ods, csv): resolve columns → clean cells → plan.

The pipeline (after pretix's modelimport) is split in two passes so that memory stays flat:

1. :meth:`PersonFileValidator.validate` streams the file once, checks every cell and collects every
   problem as (row, column, value, message). Rows that pass are cleaned into compact
   :class:`PersonRow` tuples and spooled to a temporary file in chunks; nothing per row is
   kept in memory except 12 bytes for the duplicate-SSN check.
2. The write service (``shebao.people.services.persons_import``) reads the spool back chunk
   by chunk inside one transaction, but only when pass 1 found no problem.

Everything here is free of database writes; reference data (units, townships, banks) is
loaded once into dicts.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import functools
import hashlib
import io
import marshal
import re
import struct
import tempfile
import unicodedata
from array import array
from collections.abc import Callable, Generator, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, NamedTuple, Protocol

from shebao.core.errors import ValidationError
from shebao.core.values.bank import parse_bank_account
from shebao.core.values.names import names_equal, validate_person_name
from shebao.core.values.period import parse_period
from shebao.core.values.ssn import parse_ssn, ssn_check_digit
from shebao.people.models import BenefitCategory, PaymentAccount

SPREADSHEET_SUFFIXES = (".xlsx", ".xls", ".ods")
SUPPORTED_SUFFIXES = (*SPREADSHEET_SUFFIXES, ".csv")
CHUNK_ROWS = 2000


# --- columns -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Column:
    header: str
    required: bool
    help: str
    example: str


SSN = "社会保障号码"
NAME = "姓名"
ETHNICITY = "民族"
PHONE = "联系电话"
ADDRESS = "住址"
EMPLOYER = "单位编号"
TOWNSHIP = "乡镇代码"
RESIDENCE = "居住地"
CATEGORIES = "人员类别"
DEATH_DATE = "死亡日期"
BANK_CODE = "开户银行代码"
BANK_NAME = "开户行名称"
ACCOUNT_NO = "银行账号"
ACCOUNT_NAME = "账户户名"
ACCOUNT_KIND = "账户类型"
VALID_FROM = "启用期"
# The column our own error file adds; a corrected error file can be imported as it is.
ERROR_NOTE = "错误说明"

_CATEGORY_LABELS = "、".join(str(label) for label in BenefitCategory.labels)
_KIND_LABELS = "、".join(str(label) for label in PaymentAccount.Kind.labels)

COLUMNS: tuple[Column, ...] = (
    Column(
        SSN,
        True,
        "18位号码（15位旧号码自动升位）；性别和出生日期由号码得出。请设置为文本格式",
        "",
    ),
    Column(NAME, True, "最多50个字；少数民族姓名的间隔号统一为“·”", "王小明"),
    Column(ETHNICITY, False, "如：汉族", "汉族"),
    Column(PHONE, False, "手机或固定电话", "13800000000"),
    Column(ADDRESS, False, "最多200个字", "寿县寿春镇东大街1号"),
    Column(EMPLOYER, False, "须为已登记的参保单位编号", "U000001"),
    Column(TOWNSHIP, False, "须为已登记的乡镇（街道）代码", "341521100"),
    Column(RESIDENCE, False, "区内 或 区外，空白为区内", "区内"),
    Column(CATEGORIES, False, f"可填多个，用顿号或逗号分隔：{_CATEGORY_LABELS}", "企业退休人员"),
    Column(DEATH_DATE, False, "YYYY-MM-DD，未死亡留空", ""),
    Column(BANK_CODE, False, "须为已登记的合作银行代码", "B001"),
    Column(BANK_NAME, False, "开户网点名称", "寿县支行"),
    Column(ACCOUNT_NO, False, "16-19位数字，请设置为文本格式", ""),
    Column(ACCOUNT_NAME, False, "一般与姓名相同", "王小明"),
    Column(ACCOUNT_KIND, False, _KIND_LABELS, "社保卡账户"),
    Column(VALID_FROM, False, "YYYYMM，从该月起用此账户发放", "202601"),
)
KNOWN_HEADERS = frozenset(c.header for c in COLUMNS)
REQUIRED_HEADERS = tuple(c.header for c in COLUMNS if c.required)
ACCOUNT_HEADERS = (BANK_CODE, BANK_NAME, ACCOUNT_NO, ACCOUNT_NAME, ACCOUNT_KIND, VALID_FROM)
# Filled together or not at all; bank code and branch name stay optional (passbooks of old banks).
ACCOUNT_REQUIRED = (ACCOUNT_NO, ACCOUNT_NAME, ACCOUNT_KIND, VALID_FROM)


# --- problems ------------------------------------------------------------------------------------


class Problem(NamedTuple):
    """One finding, addressed the way the clerk sees the spreadsheet (row 1 is the first line)."""

    row: int | None
    column: str
    value: str
    message: str

    def __str__(self) -> str:
        where = f"第{self.row}行" if self.row else "文件"
        col = f"【{self.column}】" if self.column else ""
        val = f"“{self.value}”" if self.value else ""
        return f"{where}{col}{val}：{self.message}"


class ImportRejected(ValidationError):
    """The file has problems; nothing was written. Carries every problem and warning."""

    def __init__(
        self,
        problems: list[Problem],
        *,
        warnings: list[Problem] | None = None,
        row_count: int = 0,
        total: int | None = None,
    ):
        self.problems = problems
        self.warnings = warnings or []
        self.row_count = row_count
        self.total = max(total or 0, len(problems))  # problems beyond MAX_PROBLEMS are only counted
        head = f"文件有 {self.total} 个问题，未导入任何数据"
        if len(problems) == 1:
            head = f"{head}：{problems[0]}"
        super().__init__(head)


class FileUnreadable(ValidationError):
    """The file as a whole cannot be read (not a spreadsheet, unknown encoding, no header...)."""


# --- reading -------------------------------------------------------------------------------------

Cell = Any  # str, float, int, bool, date, datetime, time, timedelta (calamine) or str (csv)
RowIter = Generator[tuple[int, list[Cell]], None, None]


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def detect_csv_encoding(path: Path) -> str:
    """UTF-8 (with or without BOM) when the whole file decodes strictly, else GB18030 (a superset of GBK)."""
    for encoding in ("utf-8-sig", "gb18030"):
        decoder = codecs.getincrementaldecoder(encoding)("strict")
        try:
            with path.open("rb") as fh:
                for block in iter(lambda: fh.read(1 << 20), b""):  # noqa: B023 - fh is the loop's own handle
                    decoder.decode(block)
                decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            continue
        return encoding
    raise FileUnreadable("无法识别 CSV 文件的编码，请用 Excel 或 WPS 另存为“CSV UTF-8”或 GBK 编码的 CSV 文件")


def _sniff(path: Path) -> bytes:
    with path.open("rb") as fh:
        return fh.read(8)


def _csv_rows(path: Path) -> RowIter:
    head = _sniff(path)
    if head.startswith((b"PK\x03\x04", b"\xd0\xcf\x11\xe0")):
        raise FileUnreadable(
            "该文件是 Excel/ODS 工作簿而不是 CSV 文本，请使用 .xlsx、.xls 或 .ods 扩展名上传"
        )
    encoding = detect_csv_encoding(path)
    with path.open(encoding=encoding, newline="") as fh:
        reader = csv.reader(fh)
        try:
            # A record number, not a line number: that is what a spreadsheet shows for a CSV file.
            yield from enumerate(reader, start=1)
        except csv.Error as exc:
            raise FileUnreadable(f"CSV 文件格式错误（第{reader.line_num}行附近）：{exc}") from None


def _is_reader_failure(exc: BaseException) -> bool:
    """calamine's own errors, and the Rust panics a damaged file can trigger: pyo3 raises those as
    PanicException, which derives from BaseException and would otherwise kill the worker."""
    from python_calamine import CalamineError

    return (
        isinstance(exc, CalamineError | OSError | ValueError | IndexError)
        or type(exc).__name__ == "PanicException"
    )


def _calamine_rows(path: Path) -> RowIter:
    from python_calamine import CalamineWorkbook, PasswordError

    kind = path.suffix.lstrip(".").upper()
    try:
        workbook = CalamineWorkbook.from_path(str(path))
    except PasswordError:
        raise FileUnreadable("文件已设置密码，请取消密码后重新上传") from None
    except BaseException as exc:
        if not _is_reader_failure(exc):
            raise
        raise FileUnreadable(
            f"无法读取文件：它不是有效的 {kind} 表格（可能已损坏，或扩展名与实际格式不符）"
        ) from None
    with workbook:
        if not workbook.sheet_names:
            raise FileUnreadable("工作簿中没有工作表")
        try:
            sheet = workbook.get_sheet_by_index(0)
            # calamine yields rows from the first row of the sheet (row 1 in the spreadsheet),
            # columns from the first used column: index + 1 is the row number the clerk sees.
            for index, cells in enumerate(sheet.iter_rows()):
                yield index + 1, cells
        except BaseException as exc:
            if not _is_reader_failure(exc):
                raise
            raise FileUnreadable(f"读取 {kind} 工作表失败，文件可能已损坏：{exc}") from None


def read_rows(path: Path) -> RowIter:
    """Every row of the first sheet (or the CSV file) as (row number, cells), empty rows included."""
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return _csv_rows(path)
    if suffix in SPREADSHEET_SUFFIXES:
        return _calamine_rows(path)
    raise FileUnreadable(f"不支持的文件类型“{suffix or '无扩展名'}”，请上传 .xlsx、.xls、.ods 或 .csv 文件")


def data_rows(path: Path, required: Iterable[str]) -> Iterator[tuple[int, Callable[[str], object]]]:
    """The rows under the header line, blank ones skipped, as (row number, cell getter by column name).

    A column the file lacks reads as "". A header without one of the `required` columns refuses the
    whole file (ImportRejected) before any row is read."""
    header: dict[str, int] | None = None
    for number, cells in read_rows(path):
        texts = [cell_text(c) for c in cells]
        if header is None:
            header = {t: i for i, t in enumerate(texts) if t}
            missing = [h for h in required if h not in header]
            if missing:
                raise ImportRejected([Problem(None, "", "", f"表头缺少列：{'、'.join(missing)}")])
            continue
        if not any(texts):
            continue

        def cell(name: str, cells: list = cells, header: dict[str, int] = header) -> object:  # type: ignore[type-arg]
            i = header.get(name)
            return cells[i] if i is not None and i < len(cells) else ""

        yield number, cell


def count_data_lines(path: Path) -> int:
    """A quick estimate of the number of rows, for the progress bar before pass 1 has counted them."""
    if path.suffix.lower() == ".csv":
        n = 0
        with path.open("rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):  # noqa: B023
                n += block.count(b"\n")
        return max(n, 1)
    return 0


# --- cells ---------------------------------------------------------------------------------------

_NUMERIC = (int, float)
_SCIENTIFIC = re.compile(r"^\d+(\.\d+)?[eE][+-]?\d+$")
_PHONE_RE = re.compile(r"^[+(]?[0-9][0-9 ()\-]{2,28}(转[0-9]{1,6})?$")
_CATEGORY_SPLIT = re.compile(r"[,，、;；/\s]+")
_DATE_RE = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")
_TEXT_FORMAT = "该单元格是数字格式，长号码会丢失末几位，请将该列设置为文本格式后重新填写"
_FREE_TEXT_BAD_START = ("=", "@")
# Markup, C0/C1 controls and the format characters copy-paste leaves behind (zero-width, bidi).
_MARKUP_OR_CONTROL = re.compile("[<>\x00-\x1f\x7f-\x9f\xad\u200b-\u200f\u202a-\u202e\u2060-\u2064\ufeff]")

RESIDENCE_VALUES = {"区内": True, "统筹区内": True, "区外": False, "统筹区外": False}
CATEGORY_BY_LABEL = {str(label): value for value, label in BenefitCategory.choices}
KIND_BY_LABEL = {str(label): value for value, label in PaymentAccount.Kind.choices}


class CellError(Exception):
    """A cell that cannot be accepted; the message is for the clerk."""


def _memo(check: Callable[[str], Any], size: int = 20_000) -> Callable[[str], tuple[Any, str]]:
    """(value, "") or (None, message) of `check(text)`, remembered for the `size` latest texts."""

    @functools.lru_cache(maxsize=size)
    def call(text: str) -> tuple[Any, str]:
        try:
            return check(text), ""
        except CellError as exc:
            return None, str(exc)
        except ValidationError as exc:
            return None, exc.message

    return call


def cell_text(value: Cell) -> str:
    """Cell value as the clerk typed it: text stripped, whole numbers without ".0", dates ISO."""
    if isinstance(value, str):
        return value.strip()
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value).strip()


def clean_identifier_cell(value: Cell) -> str:
    """Text of a long-number column (SSN, account): a numeric cell has already lost digits."""
    if isinstance(value, _NUMERIC) and not isinstance(value, bool):
        raise CellError(_TEXT_FORMAT)
    text = cell_text(value)
    if _SCIENTIFIC.match(text):
        raise CellError("号码被表格软件转成了科学计数法，请将该列设置为文本格式后重新填写")
    return text


def clean_free_text(text: str, *, max_length: int, what: str) -> str:
    """Ethnicity, address, branch name: printable text of bounded length, never a formula or markup."""
    if not unicodedata.is_normalized("NFKC", text):
        text = unicodedata.normalize("NFKC", text).strip()
    if len(text) > max_length:
        raise CellError(f"{what}最多{max_length}个字，当前为{len(text)}个")
    if text.startswith(_FREE_TEXT_BAD_START):
        raise CellError(f"{what}不能以“{text[0]}”开头（可能是公式）")
    if _MARKUP_OR_CONTROL.search(text):
        if "<" in text or ">" in text:
            raise CellError(f"{what}不能包含“<”或“>”")
        raise CellError(f"{what}包含不可见的控制字符")
    return text


def clean_phone(text: str) -> str:
    if not text.isascii():
        text = unicodedata.normalize("NFKC", text).strip()
    if not _PHONE_RE.match(text):
        raise CellError("联系电话只能包含数字、空格、括号、“+”和“-”，最多30位")
    return text


def parse_residence(text: str) -> bool:
    try:
        return RESIDENCE_VALUES[text]
    except KeyError:
        raise CellError("居住地只能填写“区内”或“区外”") from None


def parse_categories(text: str) -> tuple[str, ...]:
    values: list[str] = []
    for label in _CATEGORY_SPLIT.split(text):
        if not label:
            continue
        value = CATEGORY_BY_LABEL.get(label)
        if value is None:
            raise CellError(f"未知的人员类别“{label}”，可填：{_CATEGORY_LABELS}")
        if value not in values:
            values.append(value)
    return tuple(sorted(values))


def parse_account_kind(text: str) -> str:
    try:
        return KIND_BY_LABEL[text]
    except KeyError:
        raise CellError(f"账户类型只能填写：{_KIND_LABELS}") from None


def parse_day(value: Cell) -> dt.date:
    """A date cell, or text YYYY-MM-DD. A number (an Excel serial shown as a date) is refused."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    text = cell_text(value)
    match = _DATE_RE.match(text)
    if match is None or isinstance(value, _NUMERIC):
        raise CellError("日期格式应为 YYYY-MM-DD（如 2024-03-15）")
    try:
        return dt.date(int(match[1]), int(match[2]), int(match[3]))
    except ValueError:
        raise CellError("不是有效的日期") from None


# --- rows ----------------------------------------------------------------------------------------


class AccountRow(NamedTuple):
    bank_id: int | None
    bank_name: str
    account_no: str
    account_name: str
    kind: str
    valid_from: int


class PersonRow(NamedTuple):
    """A clean row. None means "blank in the file": an existing person keeps that value."""

    row: int
    ssn: str
    name: str
    sex: str
    birth_date: dt.date
    ethnicity: str | None
    phone: str | None
    address: str | None
    lives_in_region: bool | None
    employer_id: int | None
    township_id: int | None
    death_date: dt.date | None
    categories: tuple[str, ...] | None
    account: AccountRow | None


@dataclass(frozen=True)
class References:
    """Reference data by code, limited to what the importing region may use."""

    employers: dict[str, int]
    townships: dict[str, int]
    banks: dict[str, int]


class ProgressLike(Protocol):
    def set_total(self, total: int) -> None: ...
    def advance(self, done: int, message: str = "", *, force: bool = False) -> None: ...


@dataclass
class ValidatedFile:
    """Pass 1's result. `chunks()` replays the clean rows; `close()` removes the spool."""

    headers: list[str]
    header_row: int
    row_count: int = 0
    problems: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    problem_total: int = 0
    spool: IO[bytes] | None = None

    def chunks(self) -> Iterator[list[PersonRow]]:
        if self.spool is None:
            return
        self.spool.seek(0)
        while head := self.spool.read(4):
            (size,) = struct.unpack("<I", head)
            yield _unpack(self.spool.read(size))

    def close(self) -> None:
        if self.spool is not None:
            self.spool.close()
            self.spool = None

    def __enter__(self) -> ValidatedFile:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _pack(rows: list[PersonRow]) -> bytes:
    """A chunk of clean rows for the spool: marshal of plain tuples is about twice as fast as
    pickling named tuples and dates, and only our own process ever reads it back."""
    data = marshal.dumps(
        [
            (
                *r[:4],
                r.birth_date.toordinal(),
                *r[5:11],
                r.death_date.toordinal() if r.death_date else None,
                r.categories,
                tuple(r.account) if r.account else None,
            )
            for r in rows
        ]
    )
    return struct.pack("<I", len(data)) + data


def _unpack(data: bytes) -> list[PersonRow]:
    day = dt.date.fromordinal
    return [
        PersonRow(
            t[0],
            t[1],
            t[2],
            t[3],
            day(t[4]),
            t[5],
            t[6],
            t[7],
            t[8],
            t[9],
            t[10],
            day(t[11]) if t[11] else None,
            t[12],
            AccountRow(*t[13]) if t[13] else None,
        )
        for t in marshal.loads(data)  # noqa: S302 - our own spool file, written moments ago
    ]


MAX_PROBLEMS = 100_000  # beyond this only the count grows: a whole file of bad rows stays bounded


class _DuplicateFinder:
    """Finds repeated SSNs with 12 bytes per row: the first 17 digits (the 18th is derived) and
    the row number, in 256 buckets of arrays so that the final scan only holds one small dict."""

    BUCKETS = 256

    def __init__(self) -> None:
        self.keys = [array("q") for _ in range(self.BUCKETS)]
        self.rows = [array("i") for _ in range(self.BUCKETS)]

    def add(self, ssn: str, row: int) -> None:
        key = int(ssn[:17])
        bucket = key & 0xFF
        self.keys[bucket].append(key)
        self.rows[bucket].append(row)

    def duplicates(self) -> Iterator[tuple[str, int, int]]:
        """(SSN, first row, repeated row) triples."""
        for keys, rows in zip(self.keys, self.rows, strict=True):
            first: dict[int, int] = {}
            for key, row in zip(keys, rows, strict=True):
                seen = first.setdefault(key, row)
                if seen != row:
                    first17 = f"{key:017d}"
                    yield first17 + ssn_check_digit(first17), seen, row


def _header_name(value: Cell) -> str:
    # Templates often mark required columns with "*"; spreadsheets leave stray spaces.
    text = unicodedata.normalize("NFKC", cell_text(value))
    return "".join(text.split()).rstrip("*")


class PersonFileValidator:
    """Pass 1: check every row of a person file, spool the clean rows."""

    def __init__(self, references: References, *, today: dt.date | None = None):
        self.refs = references
        self.today = today or dt.date.today()
        self.problems: list[Problem] = []
        self.problem_total = 0
        self.warnings: list[Problem] = []
        self.ignored: list[int] = []  # positions of our own 错误说明 column

    def problem(self, row: int | None, column: str, value: str, message: str) -> None:
        self.problem_total += 1
        if len(self.problems) < MAX_PROBLEMS:
            self.problems.append(Problem(row, column, value[:200], message))

    def warning(self, row: int, column: str, value: str, message: str) -> None:
        if len(self.warnings) < MAX_PROBLEMS:
            self.warnings.append(Problem(row, column, value[:200], message))

    # -- header --

    def _resolve_header(self, row_no: int, cells: list[Cell]) -> dict[str, int]:
        index: dict[str, int] = {}
        for i, raw in enumerate(cells):
            name = _header_name(raw)
            if not name:
                continue
            if name == ERROR_NOTE:
                self.ignored.append(i)
                continue
            if name not in KNOWN_HEADERS:
                self.problem(
                    row_no, name, "", f"未知的列“{name}”，可用的列：{'、'.join(c.header for c in COLUMNS)}"
                )
            elif name in index:
                self.problem(row_no, name, "", f"列“{name}”出现了两次")
            else:
                index[name] = i
        for name in REQUIRED_HEADERS:
            if name not in index:
                self.problem(row_no, name, "", f"缺少必需的列“{name}”")
        present = [h for h in ACCOUNT_REQUIRED if h in index]
        if present and len(present) < len(ACCOUNT_REQUIRED):
            missing = "、".join(h for h in ACCOUNT_REQUIRED if h not in index)
            self.problem(
                row_no, missing, "", f"发放账户的列不完整：有“{'、'.join(present)}”但缺少“{missing}”"
            )
        elif not present and any(h in index for h in ACCOUNT_HEADERS):
            self.problem(
                row_no,
                "、".join(ACCOUNT_REQUIRED),
                "",
                f"填写发放账户时须同时有“{'、'.join(ACCOUNT_REQUIRED)}”这几列",
            )
        return index

    # -- the file --

    def validate(
        self, path: Path, *, progress: ProgressLike | None = None, progress_scale: float = 1.0
    ) -> ValidatedFile:
        """Check the whole file. Raises FileUnreadable when it cannot be read at all; otherwise the
        result lists every problem, or (when there is none) replays the clean rows."""
        rows = read_rows(path)
        try:
            return self._validate(rows, progress=progress, progress_scale=progress_scale)
        finally:
            rows.close()

    def _validate(
        self, rows: RowIter, *, progress: ProgressLike | None, progress_scale: float
    ) -> ValidatedFile:
        header_row = 0
        header_cells: list[Cell] = []
        for row_no, cells in rows:
            if any(cell_text(c) for c in cells):
                header_row, header_cells = row_no, cells
                break
        if not header_row:
            raise FileUnreadable("文件是空的：第一张工作表没有任何内容")
        index = self._resolve_header(header_row, header_cells)
        result = ValidatedFile(headers=[_header_name(c) for c in header_cells], header_row=header_row)
        if self.problems:
            # Without the right columns every row would fail the same way: report the header only.
            result.problems, result.problem_total = self.problems, self.problem_total
            return result

        width = len(header_cells)
        spool: IO[bytes] = tempfile.TemporaryFile(prefix="shebao-import-")  # noqa: SIM115 - closed by ValidatedFile
        result.spool = spool
        try:
            self._check_rows(rows, result, index, width, progress, progress_scale)
        except BaseException:
            result.close()
            raise
        if result.problems:
            result.close()
        return result

    def _check_rows(
        self,
        rows: RowIter,
        result: ValidatedFile,
        index: dict[str, int],
        width: int,
        progress: ProgressLike | None,
        progress_scale: float,
    ) -> None:
        spool = result.spool
        assert spool is not None
        blank = width  # absent columns read the padding cell after the last one
        col = {name: index.get(name, blank) for name in KNOWN_HEADERS}
        dups = _DuplicateFinder()
        buffer: list[PersonRow] = []
        count = 0
        clean_row = self._row_cleaner(col, has_account=any(h in index for h in ACCOUNT_HEADERS), dups=dups)
        pad = width + 1
        ignored = self.ignored
        for row_no, cells in rows:
            if len(cells) < pad:
                cells.extend([""] * (pad - len(cells)))
            for i in ignored:
                cells[i] = ""
            texts = [c.strip() if type(c) is str else cell_text(c) for c in cells]
            if not any(texts):
                continue
            count += 1
            person = clean_row(row_no, cells, texts)
            if person is not None and self.problem_total == 0:
                buffer.append(person)
                if len(buffer) >= CHUNK_ROWS:
                    spool.write(_pack(buffer))
                    buffer = []
            if progress is not None and count % CHUNK_ROWS == 0:
                progress.advance(int(count * progress_scale), f"正在检查：已检查 {count} 行")
        if buffer and self.problem_total == 0:
            spool.write(_pack(buffer))
        for ssn, first, again in dups.duplicates():
            self.problem(again, SSN, ssn, f"社会保障号码与第{first}行重复（第{first}行和第{again}行）")
        if count == 0:
            self.problem(None, "", "", "文件只有表头，没有人员数据")
        result.row_count = count
        result.problems = sorted(self.problems, key=lambda p: p.row or 0)
        result.problem_total = self.problem_total
        result.warnings = self.warnings

    def _row_cleaner(
        self, col: dict[str, int], *, has_account: bool, dups: _DuplicateFinder
    ) -> Callable[[int, list[Cell], list[str]], PersonRow | None]:
        """One closure per file with the column positions bound, called once per row."""
        i_ssn, i_name = col[SSN], col[NAME]
        i_eth, i_phone, i_addr = col[ETHNICITY], col[PHONE], col[ADDRESS]
        i_emp, i_town, i_res, i_cat, i_death = (
            col[EMPLOYER],
            col[TOWNSHIP],
            col[RESIDENCE],
            col[CATEGORIES],
            col[DEATH_DATE],
        )
        account_cols = tuple((h, col[h]) for h in ACCOUNT_HEADERS)
        employers, townships = self.refs.employers, self.refs.townships
        problem = self.problem
        today = self.today
        # Names, ethnicities, categories and residences repeat a lot: check each distinct text once.
        check_name = _memo(validate_person_name)
        check_ethnicity = _memo(lambda t: clean_free_text(t, max_length=20, what="民族"))
        check_residence = _memo(parse_residence)
        check_categories = _memo(parse_categories)

        def clean(row_no: int, cells: list[Cell], texts: list[str]) -> PersonRow | None:
            before = self.problem_total
            raw = cells[i_ssn]
            ssn = sex = birth = None
            try:
                ssn_text = clean_identifier_cell(raw)
                if not ssn_text:
                    raise CellError("社会保障号码不能为空")
                parsed = parse_ssn(ssn_text, today=today)
                ssn, sex, birth = parsed.value, parsed.sex, parsed.birth_date
                dups.add(ssn, row_no)
            except CellError as exc:
                problem(row_no, SSN, texts[i_ssn], str(exc))
            except ValidationError as exc:
                problem(row_no, SSN, texts[i_ssn], exc.message)

            text = texts[i_name]
            name, error = check_name(text)
            if error:
                problem(row_no, NAME, text, error)

            ethnicity = phone = address = None
            text = texts[i_eth]
            if text:
                ethnicity, error = check_ethnicity(text)
                if error:
                    problem(row_no, ETHNICITY, text, error)
            text = texts[i_phone]
            if text:
                try:
                    phone = clean_phone(text)
                except CellError as exc:
                    problem(row_no, PHONE, text, str(exc))
            text = texts[i_addr]
            if text:
                try:
                    address = clean_free_text(text, max_length=200, what="住址")
                except CellError as exc:
                    problem(row_no, ADDRESS, text, str(exc))

            employer_id = township_id = None
            text = texts[i_emp]
            if text:
                employer_id = employers.get(text)
                if employer_id is None:
                    problem(row_no, EMPLOYER, text, "单位编号不存在（或不属于本统筹区），请先登记该参保单位")
            text = texts[i_town]
            if text:
                township_id = townships.get(text)
                if township_id is None:
                    problem(row_no, TOWNSHIP, text, "乡镇代码不存在（或不属于本统筹区）")

            lives_in_region = None
            text = texts[i_res]
            if text:
                lives_in_region, error = check_residence(text)
                if error:
                    problem(row_no, RESIDENCE, text, error)

            categories = None
            text = texts[i_cat]
            if text:
                categories, error = check_categories(text)
                if error:
                    problem(row_no, CATEGORIES, text, error)

            death_date = None
            if texts[i_death]:
                try:
                    death_date = parse_day(cells[i_death])
                    if death_date > today:
                        raise CellError("死亡日期不能晚于今天")
                    if birth is not None and death_date < birth:
                        raise CellError("死亡日期早于出生日期（出生日期由社会保障号码得出）")
                except CellError as exc:
                    problem(row_no, DEATH_DATE, texts[i_death], str(exc))

            account = None
            if has_account:
                account = self._account(row_no, cells, texts, account_cols, name or "")

            if self.problem_total != before or ssn is None or sex is None or birth is None:
                return None
            return PersonRow(
                row_no,
                ssn,
                name,
                sex,
                birth,
                ethnicity,
                phone,
                address,
                lives_in_region,
                employer_id,
                township_id,
                death_date,
                categories,
                account,
            )

        return clean

    def _account(
        self,
        row_no: int,
        cells: list[Cell],
        row_texts: list[str],
        account_cols: tuple[tuple[str, int], ...],
        person_name: str,
    ) -> AccountRow | None:
        if not any(row_texts[i] for _, i in account_cols):
            return None
        raw = {h: cells[i] for h, i in account_cols}
        texts = {h: row_texts[i] for h, i in account_cols}
        missing = [h for h in ACCOUNT_REQUIRED if not texts[h]]
        for h in missing:
            self.problem(row_no, h, "", f"填写了发放账户信息时，“{h}”必须填写（账户各列要么都填，要么都空）")
        before = self.problem_total - len(missing)

        bank_id = None
        if texts[BANK_CODE]:
            bank_id = self.refs.banks.get(texts[BANK_CODE])
            if bank_id is None:
                self.problem(row_no, BANK_CODE, texts[BANK_CODE], "开户银行代码不存在，请先登记该合作银行")
        bank_name = ""
        if texts[BANK_NAME]:
            try:
                bank_name = clean_free_text(texts[BANK_NAME], max_length=100, what="开户行名称")
            except CellError as exc:
                self.problem(row_no, BANK_NAME, texts[BANK_NAME], str(exc))
        account_no = ""
        if texts[ACCOUNT_NO]:
            try:
                parsed = parse_bank_account(clean_identifier_cell(raw[ACCOUNT_NO]))
                account_no = parsed.value
                for message in parsed.warnings:
                    self.warning(row_no, ACCOUNT_NO, texts[ACCOUNT_NO], message)
            except CellError as exc:
                self.problem(row_no, ACCOUNT_NO, texts[ACCOUNT_NO], str(exc))
            except ValidationError as exc:
                self.problem(row_no, ACCOUNT_NO, texts[ACCOUNT_NO], exc.message)
        account_name = ""
        if texts[ACCOUNT_NAME]:
            try:
                account_name = validate_person_name(texts[ACCOUNT_NAME], field="account_name")
                if person_name and not names_equal(account_name, person_name):
                    self.warning(
                        row_no, ACCOUNT_NAME, account_name, "账户户名与姓名不一致，银行可能以“户名不符”退回"
                    )
            except ValidationError as exc:
                self.problem(
                    row_no, ACCOUNT_NAME, texts[ACCOUNT_NAME], exc.message.replace("姓名", "账户户名")
                )
        kind = ""
        if texts[ACCOUNT_KIND]:
            try:
                kind = parse_account_kind(texts[ACCOUNT_KIND])
            except CellError as exc:
                self.problem(row_no, ACCOUNT_KIND, texts[ACCOUNT_KIND], str(exc))
        valid_from = 0
        if texts[VALID_FROM]:
            try:
                value = raw[VALID_FROM]
                if isinstance(value, float) and not value.is_integer():
                    raise ValidationError("启用期格式不正确，应为 YYYYMM（如 202601）")
                valid_from = parse_period(texts[VALID_FROM])
            except ValidationError as exc:
                self.problem(row_no, VALID_FROM, texts[VALID_FROM], exc.message.replace("年月", "启用期"))
        if self.problem_total != before:
            return None
        return AccountRow(bank_id, bank_name, account_no, account_name, kind, valid_from)


# --- the error file ------------------------------------------------------------------------------


def write_error_file(source: Path, problems: Iterable[Problem], target: Path) -> int:
    """The original rows (header and all) with an 错误说明 column, so the clerk corrects the file
    in place and imports it again; the importer ignores that column. Returns rows written."""
    from shebao.core.exporters import ListExporter

    by_row: dict[int, list[str]] = {}
    file_level: list[str] = []
    for p in problems:
        text = f"【{p.column}】{p.message}" if p.column else p.message
        if p.row:
            by_row.setdefault(p.row, []).append(text)
        else:
            file_level.append(text)

    rows = read_rows(source)
    header: list[Cell] = []
    header_row = 0
    for row_no, cells in rows:
        if any(cell_text(c) for c in cells):
            header, header_row = cells, row_no
            break
    names = [_header_name(c) for c in header]
    keep = [i for i, n in enumerate(names) if n != ERROR_NOTE]

    class ErrorFile(ListExporter):
        sheet_name = "错误说明"

        def headers(self) -> list[str]:
            return [names[i] for i in keep] + [ERROR_NOTE]

        def column_widths(self) -> list[int]:
            return [20] * len(keep) + [60]

        def rows(self) -> Iterator[list[Any]]:
            header_note = "；".join(by_row.get(header_row, []) + file_level)
            if header_note:
                yield [""] * len(keep) + [f"（表头）{header_note}"]
            for row_no, cells in rows:
                if not any(cell_text(c) for c in cells):
                    continue
                # Identifiers go back as text, exactly as they were read.
                values = [cell_text(cells[i]) if i < len(cells) else "" for i in keep]
                yield values + ["；".join(by_row.get(row_no, []))]

    target.parent.mkdir(parents=True, exist_ok=True)
    return ErrorFile().write_xlsx(target)


def template_example() -> list[str]:
    """The example row of the template; its SSN and account number pass every check."""
    from django.conf import settings

    from shebao.core.values.bank import luhn_check_digit
    from shebao.core.values.ssn import make_ssn

    examples = {c.header: c.example for c in COLUMNS}
    examples[SSN] = make_ssn(settings.SHEBAO_REGION_CODE, dt.date(1955, 3, 4), 123)
    examples[ACCOUNT_NO] = "621700001000000000" + luhn_check_digit("621700001000000000")
    return [examples[c.header] for c in COLUMNS]


def write_template_file(target: Path | io.BytesIO) -> None:
    """The import template: the header row and one example row, every cell formatted as text."""
    from shebao.core.exporters import ListExporter

    class Template(ListExporter):
        sheet_name = "人员导入模板"

        def headers(self) -> list[str]:
            return [c.header for c in COLUMNS]

        def column_widths(self) -> list[int]:
            return [22 if c.header in (SSN, ACCOUNT_NO) else 14 for c in COLUMNS]

        def rows(self) -> Iterator[list[str]]:
            yield template_example()

    Template().write_xlsx(target)
