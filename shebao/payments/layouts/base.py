"""The layout contract and the helpers the built-in record layouts share."""

from __future__ import annotations

import datetime as dt
import re
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import BinaryIO

from shebao.core.errors import ValidationError

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


@dataclass(frozen=True)
class ReturnRow:
    line_no: int  # line of the return file, for messages
    seq: int
    account_no: str
    account_name: str
    amount: Decimal
    paid: bool
    reason_code: str
    reason_text: str
    failure: str  # a FailureReason value, "" when paid


class ReturnFileRefused(ValidationError):
    """A return file that cannot be applied; `problems` names every line that is wrong."""

    def __init__(self, problems: list[str]):
        shown = "；".join(problems[:20])
        more = f"；另有{len(problems) - 20}处问题" if len(problems) > 20 else ""
        super().__init__(f"回盘文件被拒绝，未做任何更改：{shown}{more}")
        self.problems = problems


class Layout:
    """Base of every layout. `render` must be deterministic: the same rows give the same bytes."""

    name: str = ""
    label: str = ""
    extension: str = ""
    content_type: str = "application/octet-stream"
    reads_returns: bool = False

    def render(self, header: FileHeader, rows: Iterable[DetailRow], out: BinaryIO) -> tuple[int, Decimal]:
        raise NotImplementedError

    def parse_return(self, data: bytes) -> tuple[ReturnHeader, list[ReturnRow]]:
        raise ValidationError(f"“{self.label}”格式不支持读取回盘文件")

    def iter_return(self, data: bytes) -> tuple[ReturnHeader, Iterator[ReturnRow | str]]:
        """Like parse_return, streaming: problems come as strings among the rows (override to stream)."""
        header, rows = self.parse_return(data)
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
