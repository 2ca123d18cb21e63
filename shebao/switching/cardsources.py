"""Where the card-system side of a comparison comes from.

A `CardSource` yields raw rows (one dict per card record, keyed by the fields of `CARD_FIELDS`) and knows
its checksum and a description. Today there is `FileCardSource` (an extract of the card system as
xlsx/xls/ods/csv). To compare with shebao's own card records, add a source whose `raw_rows()` reads
them (set-based, chunked) and whose checksum is derived from their latest change.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path
from typing import Protocol

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


def problem(row_no: int, field: str, message: str) -> Problem:
    return Problem(row_no, header_label(field), message)
