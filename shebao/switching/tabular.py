"""Reading spreadsheet files as saved by Excel, WPS or LibreOffice (xlsx, xls, ods) and CSV (UTF-8 or GBK).

Every problem found in a file is a `Problem` with its row and column; a file with problems is refused
whole through `FileRejected`, so nothing of it is applied.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from python_calamine import CalamineError, CalamineWorkbook

from shebao.core.errors import ValidationError

SPREADSHEET_SUFFIXES = (".xlsx", ".xlsm", ".xls", ".ods")
TABLE_SUFFIXES = (*SPREADSHEET_SUFFIXES, ".csv")
MAX_PROBLEMS_SHOWN = 200


@dataclass(frozen=True)
class Problem:
    row: int  # 1-based row number as the office suite shows it; 0 for the whole file
    column: str  # the column's header as printed in the file, or ""
    message: str

    def __str__(self) -> str:
        where = f"第{self.row}行" if self.row else "文件"
        if self.column:
            where += f"【{self.column}】"
        return f"{where}：{self.message}"


class FileRejected(ValidationError):
    """A file refused whole; `problems` names each bad cell."""

    def __init__(self, problems: list[Problem], *, total: int | None = None):
        self.problems = problems[:MAX_PROBLEMS_SHOWN]
        self.total = total if total is not None else len(problems)
        head = "；".join(str(p) for p in self.problems[:5])
        more = f"（共{self.total}处问题）" if self.total > 5 else ""
        super().__init__(f"文件未导入，请修改后重新上传：{head}{more}")


def cell_text(value: Any) -> str:
    """A cell as the text a clerk sees. Whole floats lose their '.0' (Excel stores typed digits as numbers)."""
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
    if isinstance(value, dt.timedelta):
        return str(value)
    return str(value).strip()


def _csv_encoding(path: Path) -> str:
    """UTF-8 (with or without BOM) when the whole file decodes as such, else GBK (as Excel saves in China)."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        with path.open("rb") as fh:
            while chunk := fh.read(1 << 20):
                decoder.decode(chunk)
            decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return "gb18030"
    return "utf-8-sig"


def read_rows(path: Path, *, suffix: str | None = None) -> Iterator[list[str]]:
    """Rows of the first sheet (or of the CSV) as lists of cell text."""
    suffix = (suffix or path.suffix).lower()
    if suffix not in TABLE_SUFFIXES:
        raise ValidationError(
            f"不支持的文件类型 {suffix or '（无扩展名）'}，请上传 xlsx、xls、ods 或 csv 文件"
        )
    if suffix == ".csv":
        with path.open(encoding=_csv_encoding(path), newline="") as fh:
            for row in csv.reader(fh):
                yield [c.strip() for c in row]
        return
    try:
        workbook = CalamineWorkbook.from_path(str(path))
        sheet = workbook.get_sheet_by_index(0)
        rows = sheet.iter_rows()
    except (CalamineError, OSError, ValueError) as exc:
        raise ValidationError(
            f"无法读取该文件（{type(exc).__name__}），请确认它是 Excel、WPS 或 LibreOffice 保存的表格"
        ) from None
    for cells in rows:
        yield [cell_text(c) for c in cells]
