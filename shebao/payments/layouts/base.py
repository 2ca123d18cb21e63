"""The layout contract and the helpers the built-in record layouts share."""

from __future__ import annotations

import datetime as dt
import io
import re
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import IO, BinaryIO, NamedTuple

from shebao.core.errors import ValidationError
from shebao.core.values.money import from_fen

BATCH_NO_RE = re.compile(r"^[A-Za-z0-9-]{1,32}$")
AMOUNT_RE = re.compile(r"^(0|[1-9][0-9]{0,11})\.[0-9]{2}$")
COUNT_RE = re.compile(r"^(0|[1-9][0-9]{0,9})$")


@dataclass(frozen=True)
class FileHeader:
    batch_no: str
    business_date: dt.date
    payer_code: str


@dataclass(frozen=True)
class DetailRow:
    seq: int
    account_no: str
    account_name: str
    amount: Decimal
    id_no: str
    benefit_code: str
    period: int
    id_type: str = "01"  # resident identity card


@dataclass(frozen=True)
class ReturnHeader:
    batch_no: str
    business_date: str
    payer_code: str
    total_count: int
    total_amount: Decimal
    ok_count: int
    ok_amount: Decimal
    fail_count: int
    fail_amount: Decimal


class ReturnRow(NamedTuple):
    """One detail line of a return file (a NamedTuple: a return file has one per payment line)."""

    line_no: int  # line of the return file, for messages
    seq: int
    account_no: str
    account_name: str
    amount: Decimal
    paid: bool
    reason_code: str
    reason_text: str
    failure: str  # a FailureReason value, "" when paid
    fen: int = -1  # the amount in whole fen when the layout read it so (-1: take it from `amount`)


class ReturnFileRefused(ValidationError):
    """A return file that cannot be applied; `problems` names every line that is wrong."""

    def __init__(self, problems: list[str]):
        shown = "；".join(problems[:20])
        more = f"；另有{len(problems) - 20}处问题" if len(problems) > 20 else ""
        super().__init__(f"回盘文件被拒绝，未做任何更改：{shown}{more}")
        self.problems = problems


# A return file as the importer hands it over: the bytes, or a readable binary file (an upload, an
# open file), read once front to back by `iter_return` (or as a whole by a layout that needs bytes).
ReturnSource = bytes | IO[bytes]


def source_bytes(data: ReturnSource) -> bytes:
    """The whole return file as bytes (for layouts that parse it at once)."""
    return data if isinstance(data, bytes) else data.read()


def source_stream(data: ReturnSource) -> IO[bytes]:
    """The return file as a readable binary stream (bytes are wrapped, never copied to disk)."""
    return io.BytesIO(data) if isinstance(data, bytes) else data


# A detail row as the database streams it: (seq, account_no, account_name, amount in fen, id_no,
# benefit_code, period, id_type). Plain tuples, so rendering 1,000,000 lines creates no row objects.
Record = tuple[int, str, str, int, str, str, int, str]


def record_of(row: DetailRow) -> Record:
    """A DetailRow as a Record (its amount checked: positive, at most two decimals)."""
    fen = int(Decimal(format_amount(row.amount)) * 100)
    return (
        row.seq,
        row.account_no,
        row.account_name,
        fen,
        row.id_no,
        row.benefit_code,
        row.period,
        row.id_type,
    )


def fen_text(fen: int) -> str:
    """Whole fen as yuan with two decimals, like f"{Decimal:.2f}" for a positive amount: 234560 → "2345.60"."""
    return f"{fen // 100}.{fen % 100:02d}"


class Layout:
    """Base of every layout. `render` must be deterministic: the same rows give the same bytes.

    `render_records` takes Records (what `bank_file_render` streams from the database); by default it
    turns them into DetailRows for `render`. A layout may override it to format chunks of plain tuples.
    """

    name: str = ""
    label: str = ""
    extension: str = ""
    content_type: str = "application/octet-stream"
    reads_returns: bool = False

    def render(self, header: FileHeader, rows: Iterable[DetailRow], out: BinaryIO) -> tuple[int, Decimal]:
        raise NotImplementedError

    def render_records(
        self, header: FileHeader, records: Iterable[Record], out: BinaryIO
    ) -> tuple[int, Decimal]:
        rows = (
            DetailRow(
                seq=seq,
                account_no=account_no,
                account_name=account_name,
                amount=from_fen(fen),
                id_no=id_no,
                benefit_code=benefit_code,
                period=period,
                id_type=id_type,
            )
            for seq, account_no, account_name, fen, id_no, benefit_code, period, id_type in records
        )
        return self.render(header, rows, out)

    def parse_return(self, data: bytes) -> tuple[ReturnHeader, list[ReturnRow]]:
        raise ValidationError(f"“{self.label}”格式不支持读取回盘文件")

    def iter_return(self, data: ReturnSource) -> tuple[ReturnHeader, Iterator[ReturnRow | str]]:
        """Like parse_return, streaming: problems come as strings among the rows (override to stream;
        this default reads the whole file into memory for `parse_return`)."""
        header, rows = self.parse_return(source_bytes(data))
        return header, iter(rows)


def check_batch_no(batch_no: str) -> None:
    if not BATCH_NO_RE.match(batch_no):
        raise ValidationError(f"批次号“{batch_no}”无效：最多32位，只能含字母、数字和“-”")


def format_amount(amount: Decimal) -> str:
    q = Decimal(amount).quantize(Decimal("0.01"))
    if q != amount or q <= 0:
        raise ValidationError(f"金额{amount}不是正的两位小数")
    return f"{q:.2f}"


def parse_amount(text: str) -> Decimal | None:
    return Decimal(text) if AMOUNT_RE.match(text) else None


def parse_count(text: str) -> int | None:
    return int(text) if COUNT_RE.match(text) else None


def spool() -> BinaryIO:
    """Detail lines are written here first: the header needs their count and total, memory stays flat."""
    return tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024)  # type: ignore[return-value]


def copy_spool(src: BinaryIO, out: BinaryIO) -> None:
    src.seek(0)
    while chunk := src.read(1024 * 1024):
        out.write(chunk)
